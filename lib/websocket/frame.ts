/**
 * RFC 6455 section 5 on the wire: opcodes, close codes and the frame
 * serialiser. Pure; the server sends unmasked frames, and the optional mask
 * exists so that tests (and clients) can build what a client sends.
 *
 * @module
 */

/** Continuation frame. */
export const OP_CONTINUATION = 0x0;
/** Text data frame. */
export const OP_TEXT = 0x1;
/** Binary data frame. */
export const OP_BINARY = 0x2;
/** Close control frame. */
export const OP_CLOSE = 0x8;
/** Ping control frame. */
export const OP_PING = 0x9;
/** Pong control frame. */
export const OP_PONG = 0xa;

/** Largest control-frame payload (RFC 6455 5.5). */
export const MAX_CONTROL_PAYLOAD = 125;

/** Close codes this module names (RFC 6455 7.4.1). */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocolError: 1002,
  unsupportedData: 1003,
  noStatus: 1005,
  abnormal: 1006,
  invalidPayload: 1007,
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
} as const;

/**
 * True for a code a peer may send in a Close frame: 1000-1003, 1007-1011
 * (the IANA registry as of RFC 6455 plus 1012-1014 registered since), and
 * 3000-4999 for libraries and applications. 1004-1006 and 1015 are reserved
 * for local use and must never be on the wire.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

/** Options for {@link encodeFrame}. */
export interface FrameOptions {
  /** Final fragment of the message (default true). */
  fin?: boolean;
  /** RSV1: the message is compressed (permessage-deflate; first frame only). */
  rsv1?: boolean;
  /** RSV2 and RSV3 bits, for tests that must send them. */
  rsv2?: boolean;
  rsv3?: boolean;
  /** A 4-byte masking key: the frame is masked with it (what clients must send). */
  mask?: Uint8Array;
}

/** Length of the header of a frame carrying `length` payload bytes. */
export function headerLength(length: number, masked: boolean): number {
  const base = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/** Writes a frame header into `out` at 0 and returns its length. */
export function writeHeader(out: Uint8Array, opcode: number, length: number, options?: FrameOptions): number {
  const fin = options?.fin ?? true;
  out[0] = (fin ? 0x80 : 0) | (options?.rsv1 ? 0x40 : 0) | (options?.rsv2 ? 0x20 : 0) |
    (options?.rsv3 ? 0x10 : 0) | (opcode & 0x0f);
  const maskBit = options?.mask ? 0x80 : 0;
  let at: number;
  if (length < 126) {
    out[1] = maskBit | length;
    at = 2;
  } else if (length < 0x10000) {
    out[1] = maskBit | 126;
    out[2] = length >>> 8;
    out[3] = length & 0xff;
    at = 4;
  } else {
    out[1] = maskBit | 127;
    const high = Math.floor(length / 0x100000000);
    const view = new DataView(out.buffer, out.byteOffset, 10);
    view.setUint32(2, high);
    view.setUint32(6, length >>> 0);
    at = 10;
  }
  if (options?.mask) {
    out.set(options.mask.subarray(0, 4), at);
    at += 4;
  }
  return at;
}

/** Below this many bytes a plain loop beats copying and then XOR-ing words in place. */
const WORD_MASK_MIN = 64;

/** XORs `src[start, end)` with `mask` (key offset `phase`) into `dst` at `dstAt`. */
export function applyMask(
  src: Uint8Array,
  start: number,
  end: number,
  mask: Uint8Array,
  phase: number,
  dst: Uint8Array,
  dstAt: number,
): void {
  const n = end - start;
  if (n < WORD_MASK_MIN) {
    for (let i = 0; i < n; i++) dst[dstAt + i] = src[start + i] ^ mask[(phase + i) & 3];
    return;
  }
  // Copy natively, then XOR in place: bytes up to a 4-aligned address, 32-bit words, then the tail.
  if (src !== dst || start !== dstAt) dst.set(src.subarray(start, end), dstAt);
  let i = 0;
  const base = dst.byteOffset + dstAt;
  while (((base + i) & 3) !== 0) {
    dst[dstAt + i] = dst[dstAt + i] ^ mask[(phase + i) & 3];
    i++;
  }
  const words = (n - i) >>> 2;
  if (words > 0) {
    const p = phase + i;
    // The mask as one word in memory order (little- or big-endian alike: built from bytes through a view).
    const key = new Uint8Array(4);
    for (let k = 0; k < 4; k++) key[k] = mask[(p + k) & 3];
    const word = new Uint32Array(key.buffer)[0];
    const view = new Uint32Array(dst.buffer, base + i, words);
    for (let w = 0; w < words; w++) view[w] ^= word;
    i += words * 4;
  }
  for (; i < n; i++) dst[dstAt + i] = dst[dstAt + i] ^ mask[(phase + i) & 3];
}

/** One whole frame: header and payload in one array (masked when `options.mask` is set). */
export function encodeFrame(opcode: number, payload: Uint8Array, options?: FrameOptions): Uint8Array<ArrayBuffer> {
  const head = headerLength(payload.length, options?.mask !== undefined);
  const out = new Uint8Array(head + payload.length);
  writeHeader(out, opcode, payload.length, options);
  if (options?.mask) applyMask(payload, 0, payload.length, options.mask, 0, out, head);
  else out.set(payload, head);
  return out;
}

/** A frame header alone (server frames: unmasked), for sending the payload as a separate piece. */
export function encodeHeader(opcode: number, length: number, options?: FrameOptions): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(headerLength(length, options?.mask !== undefined));
  writeHeader(out, opcode, length, options);
  return out;
}

const encoder = new TextEncoder();

/** A Close frame's payload: the code in network order, then the reason as UTF-8 (no code: empty). */
export function closePayload(code?: number, reason = ""): Uint8Array<ArrayBuffer> {
  if (code === undefined) return new Uint8Array(0);
  const text = encoder.encode(reason);
  const out = new Uint8Array(2 + text.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(text, 2);
  return out;
}
