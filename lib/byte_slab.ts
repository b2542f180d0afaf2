/**
 * Fresh arrays for small writes (a response head, a head with a small body,
 * a chunk with its framing), carved from a shared slab. On V8 (Node, Deno)
 * every `new Uint8Array(n)` above a few dozen bytes gets its own off-heap
 * backing store, which costs several times the copy into it; a view into a
 * slab is a small on-heap object. A view is never reused: the slab only moves
 * forward and a new one starts when it is full, so what a caller was given
 * stays its own (the sink may hold it until the socket takes it). A held view
 * keeps its slab alive, which bounds what a small write can pin to one slab.
 *
 * @module
 */

/** Bytes per slab: a few dozen hello-world responses. */
const SLAB_SIZE = 8 * 1024;
/** Larger requests get an array of their own (a view would pin a slab for little gain). */
const SLAB_MAX = 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/** A zero-filled array of `n` bytes that nothing else writes to, for the caller to fill and send. */
export function freshBytes(n: number): Uint8Array {
  if (n > SLAB_MAX) return new Uint8Array(n);
  if (used + n > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const view = slab.subarray(used, used + n);
  used += n;
  return view;
}
