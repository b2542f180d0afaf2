/**
 * WebSocket test support: client frames (masked), a decoder for the frames
 * a server sends (unmasked), the upgrade request and response split, and a
 * transport double that records what a session writes.
 *
 * @module
 */
import assert from "node:assert/strict";
import { encodeFrame, type FrameOptions } from "../../lib/websocket/frame.ts";
import type { Transport } from "../../lib/websocket/session.ts";

const enc = new TextEncoder();
const MASK = new Uint8Array([0x11, 0x22, 0x33, 0x44]);

/** One frame the server sent. */
export interface ServerFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Uint8Array;
}

/** A masked client frame. */
export function clientFrame(opcode: number, payload: Uint8Array | string, options: FrameOptions = {}): Uint8Array {
  const bytes = typeof payload === "string" ? enc.encode(payload) : payload;
  return encodeFrame(opcode, bytes, { mask: MASK, ...options });
}

/** Decodes server frames from `bytes`; returns the frames and the bytes left over (an incomplete frame). */
export function decodeServerFrames(bytes: Uint8Array): { frames: ServerFrame[]; rest: Uint8Array } {
  const frames: ServerFrame[] = [];
  let at = 0;
  for (;;) {
    if (bytes.length - at < 2) break;
    const b0 = bytes[at], b1 = bytes[at + 1];
    if (b1 & 0x80) throw new Error("server frames must not be masked");
    let len = b1 & 0x7f;
    let head = 2;
    if (len === 126) {
      if (bytes.length - at < 4) break;
      len = (bytes[at + 2] << 8) | bytes[at + 3];
      head = 4;
    } else if (len === 127) {
      if (bytes.length - at < 10) break;
      const view = new DataView(bytes.buffer, bytes.byteOffset + at + 2, 8);
      len = view.getUint32(0) * 0x100000000 + view.getUint32(4);
      head = 10;
    }
    if (bytes.length - at < head + len) break;
    frames.push({
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      opcode: b0 & 0x0f,
      payload: bytes.slice(at + head, at + head + len),
    });
    at += head + len;
  }
  return { frames, rest: bytes.slice(at) };
}

/** The code and reason of a Close frame's payload (code 1005 when empty). */
export function closeOf(payload: Uint8Array): { code: number; reason: string } {
  if (payload.length < 2) return { code: 1005, reason: "" };
  return { code: (payload[0] << 8) | payload[1], reason: new TextDecoder().decode(payload.subarray(2)) };
}

/** A transport that records writes; written bytes count as queued (`held`) until a test lowers it. */
export class FakeTransport implements Transport {
  written: Uint8Array[] = [];
  held = 0;
  paused = false;
  closed = false;
  destroyed = false;
  readonly gathersWrites: boolean;

  constructor(gathersWrites = false) {
    this.gathersWrites = gathersWrites;
  }

  get bufferedAmount(): number {
    return this.held;
  }

  write(data: Uint8Array): boolean {
    this.written.push(data.slice());
    this.held += data.length;
    return true;
  }

  writev(parts: readonly Uint8Array[]): boolean {
    for (const p of parts) this.write(p);
    return true;
  }

  pauseReading(): void {
    this.paused = true;
  }

  resumeReading(): void {
    this.paused = false;
  }

  close(): void {
    this.closed = true;
  }

  destroy(): void {
    this.destroyed = true;
  }

  /** Everything written so far, as frames. */
  frames(): ServerFrame[] {
    const total = this.written.reduce((n, w) => n + w.length, 0);
    const all = new Uint8Array(total);
    let at = 0;
    for (const w of this.written) {
      all.set(w, at);
      at += w.length;
    }
    return decodeServerFrames(all).frames;
  }
}

/**
 * The JSON line an interop client (tests/fixtures/ws-client.ts, ws_client.py) printed last, checked: the
 * subprotocol `superchat`, all six messages echoed intact, a clean 1000 close.
 */
export function interopResult(name: string, output: { stdout: string; stderr: string }): { extensions: string } {
  const line = output.stdout.trim().split("\n").at(-1) ?? "";
  assert.ok(line.startsWith("{"), `no result from ${name}: ${output.stdout}\n${output.stderr}`);
  const seen = JSON.parse(line);
  assert.equal(seen.protocol, "superchat");
  assert.equal(seen.echoed, 6, line);
  assert.deepEqual(seen.mismatches, []);
  assert.equal(seen.code, 1000);
  assert.equal(seen.wasClean, true);
  return seen;
}

/** A valid upgrade request head for `path`, with extra header lines. */
export function upgradeRequest(path = "/", extra = "", key = "dGhlIHNhbXBsZSBub25jZQ=="): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;
}

/** Splits what a raw client received into the response head (text) and the frames after it. */
export function splitUpgrade(received: Uint8Array): { head: string | null; frames: ServerFrame[]; rest: Uint8Array } {
  let end = -1;
  for (let i = 0; i + 3 < received.length; i++) {
    if (received[i] === 13 && received[i + 1] === 10 && received[i + 2] === 13 && received[i + 3] === 10) {
      end = i + 4;
      break;
    }
  }
  if (end < 0) return { head: null, frames: [], rest: received };
  const head = String.fromCharCode(...received.subarray(0, end));
  const { frames, rest } = decodeServerFrames(received.subarray(end));
  return { head, frames, rest };
}
