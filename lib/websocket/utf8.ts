/**
 * An incremental UTF-8 validator (RFC 3629): bytes may arrive in any cuts,
 * across frames, and the first byte that can never be part of valid UTF-8 is
 * reported at once (RFC 6455 8.1 lets a receiver fail fast).
 *
 * Our own state machine rather than `TextDecoder({ fatal: true })` with
 * `stream: true`: that decoder would build a string for every piece while a
 * message is still arriving (and the message is decoded once more, whole,
 * at the end), and its streaming behaviour is each runtime's own code; this
 * one checks bytes in place and behaves the same everywhere by construction.
 *
 * @module
 */

/** Checks UTF-8 piece by piece; `push` returns false at the first invalid byte. */
export class Utf8Validator {
  /** Continuation bytes still expected for the current sequence. */
  #need = 0;
  /** Allowed range of the next continuation byte (narrower after E0, ED, F0, F4). */
  #lo = 0x80;
  #hi = 0xbf;

  /** True when no multi-byte sequence is left open (the text so far may end here). */
  get complete(): boolean {
    return this.#need === 0;
  }

  /** Forgets any open sequence (a new message starts). */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
  }

  /** Checks `bytes[start, end)`; false as soon as a byte cannot continue valid UTF-8. */
  push(bytes: Uint8Array, start = 0, end: number = bytes.length): boolean {
    let need = this.#need;
    let lo = this.#lo;
    let hi = this.#hi;
    let i = start;
    while (i < end) {
      const b = bytes[i++];
      if (need > 0) {
        if (b < lo || b > hi) return this.#fail();
        need--;
        lo = 0x80;
        hi = 0xbf;
        continue;
      }
      if (b < 0x80) {
        // ASCII run: the common case, one comparison per byte.
        while (i < end && bytes[i] < 0x80) i++;
        continue;
      }
      if (b < 0xc2) return this.#fail(); // continuation byte without a lead, or overlong C0/C1
      if (b < 0xe0) {
        need = 1;
      } else if (b < 0xf0) {
        need = 2;
        if (b === 0xe0) lo = 0xa0; // overlong three-byte forms
        else if (b === 0xed) hi = 0x9f; // UTF-16 surrogates
      } else if (b < 0xf5) {
        need = 3;
        if (b === 0xf0) lo = 0x90; // overlong four-byte forms
        else if (b === 0xf4) hi = 0x8f; // above U+10FFFF
      } else {
        return this.#fail();
      }
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return true;
  }

  #fail(): false {
    this.reset();
    return false;
  }
}

/** True when `bytes` is complete, valid UTF-8. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const v = new Utf8Validator();
  return v.push(bytes) && v.complete;
}
