/**
 * The incremental WebSocket frame parser (RFC 6455 section 5), for frames a
 * client sends. Pure: bytes in, whole messages and control frames out
 * through a {@link FrameSink}, or a {@link ProtocolError} naming the close
 * code to fail the connection with.
 *
 * Nothing is allocated from a declared length before the bytes arrive: a
 * message grows in a buffer at most twice what has arrived (so a header
 * claiming 2^63 bytes costs nothing), and many tiny fragments or reads cost
 * no per-piece overhead, because pieces are copied into that one buffer
 * (the `ws` GHSA-96hv-2xvq-fx4p class). Text is checked as it arrives.
 *
 * @module
 */
import {
  isValidCloseCode,
  MAX_CONTROL_PAYLOAD,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_TEXT,
} from "./frame.ts";
import { applyMask } from "./frame.ts";
import { isValidUtf8, Utf8Validator } from "./utf8.ts";

/** Why the connection must fail: the close code and a short reason for the Close frame. */
export interface ProtocolError {
  /** 1002 protocol error, 1007 invalid payload, 1008 policy (too many fragments), 1009 too big. */
  code: number;
  /** Human-readable reason (ASCII, short enough for a Close frame). */
  reason: string;
}

/** Where the parser delivers what it read. Called synchronously from {@link FrameParser.receive}. */
export interface FrameSink {
  /**
   * A whole data message. `data` is the sink's to keep. Text that is not
   * compressed has been checked to be UTF-8; compressed messages are checked
   * after inflation by the caller.
   */
  message(opcode: typeof OP_TEXT | typeof OP_BINARY, data: Uint8Array<ArrayBuffer>, compressed: boolean): void;
  /** A Ping; `payload` is the sink's to keep. */
  ping(payload: Uint8Array<ArrayBuffer>): void;
  /** A Pong; `payload` is the sink's to keep. */
  pong(payload: Uint8Array<ArrayBuffer>): void;
  /** A valid Close frame: `code` is 1005 when it carried none. The parser reads nothing after it. */
  closeFrame(code: number, reason: string): void;
}

/** The limits and negotiated state the parser enforces. */
export interface FrameLimits {
  /** Largest message, summed over its fragments (compressed size for compressed messages): above it, 1009. */
  maxPayload: number;
  /** Most frames one message may have: above it, 1008. */
  maxFragments: number;
  /** permessage-deflate was negotiated, so RSV1 may mark a message's first frame. */
  compression: boolean;
}

const HEAD = 0;
const PAYLOAD = 1;
const DONE = 2;

const decoder = new TextDecoder();
/**
 * A message buffer grows by at least this much: a constant per connection
 * (like a read buffer), so a 64 KiB message arriving in several reads is
 * allocated once, while a header's claim alone allocates nothing more.
 */
const GROWTH_STEP = 64 * 1024;

function fail(code: number, reason: string): ProtocolError {
  return { code, reason };
}

/** Parses the frames of one connection, in any cuts. */
export class FrameParser {
  readonly #limits: FrameLimits;
  readonly #sink: FrameSink;
  #state = HEAD;
  #error: ProtocolError | null = null;
  /** The header being assembled (at most 14 bytes). */
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  /** The first two bytes of the header being assembled passed their checks. */
  #headChecked = false;
  // The current frame.
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  #frameLength = 0;
  #framePos = 0;
  // The open message (opcode 0 when none).
  #messageOpcode = 0;
  #compressed = false;
  #fragments = 0;
  #buf: Uint8Array<ArrayBuffer> | null = null;
  #len = 0;
  readonly #utf8 = new Utf8Validator();
  /** Control-frame payloads, unmasked in place. */
  readonly #control = new Uint8Array(MAX_CONTROL_PAYLOAD);

  /** `limits` are read on every frame (compression may be switched on after the handshake). */
  constructor(limits: FrameLimits, sink: FrameSink) {
    this.#limits = limits;
    this.#sink = sink;
  }

  /** The error that stopped the parser, if any. */
  get error(): ProtocolError | null {
    return this.#error;
  }

  /** True once a Close frame was read, an error found, or {@link stop} called: later bytes are ignored. */
  get done(): boolean {
    return this.#state === DONE;
  }

  /** Ignore everything from now on (the connection is closing). */
  stop(): void {
    this.#state = DONE;
    this.#buf = null;
  }

  /** Consumes `data` (only read during the call). Returns the error that fails the connection, or null. */
  receive(data: Uint8Array): ProtocolError | null {
    let pos = 0;
    while (pos < data.length && this.#state !== DONE) {
      pos = this.#state === HEAD ? this.#readHead(data, pos) : this.#readPayload(data, pos);
    }
    return this.#error;
  }

  #stopWith(error: ProtocolError): number {
    this.#error = error;
    this.stop();
    return Infinity;
  }

  #readHead(data: Uint8Array, pos: number): number {
    const head = this.#head;
    while (this.#headLen < 2 && pos < data.length) head[this.#headLen++] = data[pos++];
    if (this.#headLen < 2) return pos;
    if (!this.#headChecked) {
      const problem = this.#checkFirstBytes(head[0], head[1]);
      if (problem) return this.#stopWith(problem);
      this.#headChecked = true;
    }
    const len7 = head[1] & 0x7f;
    const needed = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + 4;
    while (this.#headLen < needed && pos < data.length) head[this.#headLen++] = data[pos++];
    if (this.#headLen < needed) return pos;
    let length = len7;
    if (len7 === 126) length = (head[2] << 8) | head[3];
    else if (len7 === 127) {
      if (head[2] & 0x80) return this.#stopWith(fail(1002, "payload length has its high bit set"));
      const high = ((head[2] << 24) | (head[3] << 16) | (head[4] << 8) | head[5]) >>> 0;
      const low = ((head[6] << 24) | (head[7] << 16) | (head[8] << 8) | head[9]) >>> 0;
      length = high * 0x100000000 + low;
    }
    this.#mask.set(head.subarray(needed - 4, needed));
    this.#headLen = 0;
    this.#headChecked = false;
    return this.#startFrame(length, pos);
  }

  /** Rules that the first two header bytes alone decide. */
  #checkFirstBytes(b0: number, b1: number): ProtocolError | null {
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if (b0 & 0x30) return fail(1002, "RSV2/RSV3 set without an extension that defines them");
    if ((b1 & 0x80) === 0) return fail(1002, "client frames must be masked");
    if (opcode >= OP_CLOSE) {
      if (opcode > 0xa) return fail(1002, `reserved opcode ${opcode}`);
      if (!fin) return fail(1002, "fragmented control frame");
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return fail(1002, "control frame payload above 125 bytes");
      if (rsv1) return fail(1002, "RSV1 set on a control frame");
    } else if (opcode === OP_CONTINUATION) {
      if (this.#messageOpcode === 0) return fail(1002, "continuation frame with no message to continue");
      if (rsv1) return fail(1002, "RSV1 set on a continuation frame");
    } else if (opcode === OP_TEXT || opcode === OP_BINARY) {
      if (this.#messageOpcode !== 0) return fail(1002, "new data frame inside a fragmented message");
      if (rsv1 && !this.#limits.compression) return fail(1002, "RSV1 set without permessage-deflate");
    } else {
      return fail(1002, `reserved opcode ${opcode}`);
    }
    this.#fin = fin;
    this.#opcode = opcode;
    if (opcode === OP_TEXT || opcode === OP_BINARY) {
      this.#messageOpcode = opcode;
      this.#compressed = rsv1;
      this.#fragments = 0;
      this.#len = 0;
      this.#utf8.reset();
    }
    return null;
  }

  #startFrame(length: number, pos: number): number {
    this.#frameLength = length;
    this.#framePos = 0;
    if (this.#opcode < OP_CLOSE) {
      if (++this.#fragments > this.#limits.maxFragments) {
        return this.#stopWith(fail(1008, "too many fragments in one message"));
      }
      if (this.#len + length > this.#limits.maxPayload) return this.#stopWith(fail(1009, "message too big"));
    }
    this.#state = PAYLOAD;
    if (length === 0) this.#endFrame();
    return pos;
  }

  #readPayload(data: Uint8Array, pos: number): number {
    const n = Math.min(data.length - pos, this.#frameLength - this.#framePos);
    if (this.#opcode >= OP_CLOSE) {
      applyMask(data, pos, pos + n, this.#mask, this.#framePos, this.#control, this.#framePos);
    } else {
      if (this.#buf === null || this.#len + n > this.#buf.length) this.#grow(this.#len + n);
      const buf = this.#buf!;
      applyMask(data, pos, pos + n, this.#mask, this.#framePos, buf, this.#len);
      if (this.#messageOpcode === OP_TEXT && !this.#compressed && !this.#utf8.push(buf, this.#len, this.#len + n)) {
        return this.#stopWith(fail(1007, "text message is not valid UTF-8"));
      }
      this.#len += n;
    }
    this.#framePos += n;
    if (this.#framePos === this.#frameLength) this.#endFrame();
    return pos + n;
  }

  /**
   * Room for `needed` bytes: double what is held, or a fixed step
   * ({@link GROWTH_STEP}) ahead (clipped to what the final frame still
   * needs), never a size taken from a header on trust.
   */
  #grow(needed: number): void {
    const old = this.#buf;
    const capacity = old === null ? 0 : old.length;
    let next = Math.max(needed, capacity * 2, GROWTH_STEP);
    if (this.#fin) next = Math.min(next, this.#len + this.#frameLength - this.#framePos);
    next = Math.max(needed, Math.min(next, this.#limits.maxPayload));
    const buf = new Uint8Array(next);
    if (old !== null && this.#len > 0) buf.set(old.subarray(0, this.#len));
    this.#buf = buf;
  }

  #endFrame(): void {
    this.#state = HEAD;
    if (this.#opcode >= OP_CLOSE) return this.#endControl();
    if (!this.#fin) return;
    const opcode = this.#messageOpcode as typeof OP_TEXT | typeof OP_BINARY;
    if (opcode === OP_TEXT && !this.#compressed && !this.#utf8.complete) {
      this.#stopWith(fail(1007, "text message ends inside a UTF-8 sequence"));
      return;
    }
    const buf = this.#buf;
    const len = this.#len;
    const data = buf === null ? new Uint8Array(0) : buf.length === len ? buf : buf.slice(0, len);
    this.#messageOpcode = 0;
    this.#buf = null;
    this.#len = 0;
    this.#sink.message(opcode, data, this.#compressed);
  }

  #endControl(): void {
    const payload = this.#control.slice(0, this.#frameLength);
    if (this.#opcode === OP_PING) return this.#sink.ping(payload);
    if (this.#opcode !== OP_CLOSE) return this.#sink.pong(payload);
    const problem = checkClosePayload(payload);
    if (problem) {
      this.#stopWith(problem);
      return;
    }
    this.stop();
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 1005;
    this.#sink.closeFrame(code, payload.length > 2 ? decoder.decode(payload.subarray(2)) : "");
  }
}

/** The rules for a received Close payload: empty, or a valid code and a UTF-8 reason. */
export function checkClosePayload(payload: Uint8Array): ProtocolError | null {
  if (payload.length === 0) return null;
  if (payload.length === 1) return fail(1002, "close payload of one byte");
  const code = (payload[0] << 8) | payload[1];
  if (!isValidCloseCode(code)) return fail(1002, `invalid close code ${code}`);
  if (!isValidUtf8(payload.subarray(2))) return fail(1007, "close reason is not valid UTF-8");
  return null;
}
