/**
 * Shared by the socket-floor servers (raw-net.mjs on Node and Deno, raw-bun.ts
 * on Bun): how they find request heads and what they answer.
 *
 * @module
 */

/** Counts request heads ("\r\n\r\n") in `chunk`; `state.matched` carries a terminator split across reads. */
export function countHeads(state: { matched: number }, chunk: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    const m = state.matched;
    if ((c === 13 && (m === 0 || m === 2)) || (c === 10 && (m === 1 || m === 3))) {
      state.matched = m + 1;
      if (state.matched === 4) {
        n++;
        state.matched = 0;
      }
    } else state.matched = c === 13 ? 1 : 0;
  }
  return n;
}

let text = "";
let second = -1;

/** The canned response as text, its Date refreshed once a second (as every real server does). */
export function cannedResponse(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== second) {
    second = s;
    text = "HTTP/1.1 200 OK\r\ncontent-type: text/plain;charset=UTF-8\r\ncontent-length: 11\r\n" +
      `date: ${new Date(now).toUTCString()}\r\n\r\nHello World`;
  }
  return text;
}
