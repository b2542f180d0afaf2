// The frame parser, the serialiser and the UTF-8 validator: unit cases for
// every RFC 6455 framing rule and fast-check properties (any cuts give the
// same result; the validator agrees with a reference decoder; noise never
// throws and never allocates from a declared length).
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import {
  applyMask,
  closePayload,
  encodeFrame,
  encodeHeader,
  type FrameOptions,
  isValidCloseCode,
  OP_BINARY,
  OP_CLOSE,
  OP_CONTINUATION,
  OP_PING,
  OP_PONG,
  OP_TEXT,
} from "../lib/websocket/frame.ts";
import { type FrameLimits, FrameParser, type FrameSink, type ProtocolError } from "../lib/websocket/frame_parser.ts";
import { isValidUtf8, Utf8Validator } from "../lib/websocket/utf8.ts";

const envSeed = Number(process.env.FUZZ_SEED);
const seed = Number.isInteger(envSeed) ? { seed: envSeed } : {};
const params = (ms: number, numRuns: number) => ({ numRuns, interruptAfterTimeLimit: ms, ...seed });
const enc = new TextEncoder();
const MASK = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);

/** A client frame (masked unless told otherwise). */
function frame(opcode: number, payload: Uint8Array | string, options: FrameOptions = {}): Uint8Array {
  const bytes = typeof payload === "string" ? enc.encode(payload) : payload;
  return encodeFrame(opcode, bytes, { mask: MASK, ...options });
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

type Event = [string, ...unknown[]];

/** Feeds `data` in the given cuts and records what the sink saw. */
function parse(
  data: Uint8Array,
  limits: Partial<FrameLimits> = {},
  cuts: number[] = [],
): { events: Event[]; error: ProtocolError | null } {
  const events: Event[] = [];
  const sink: FrameSink = {
    message: (op, d, compressed) =>
      events.push([
        "message",
        op,
        op === OP_TEXT && !compressed ? new TextDecoder().decode(d) : Array.from(d),
        compressed,
      ]),
    ping: (p) => events.push(["ping", Array.from(p)]),
    pong: (p) => events.push(["pong", Array.from(p)]),
    closeFrame: (code, reason) => events.push(["close", code, reason]),
  };
  const parser = new FrameParser({ maxPayload: 1 << 20, maxFragments: 1000, compression: false, ...limits }, sink);
  let error: ProtocolError | null = null;
  let from = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < data.length).sort((a, b) => a - b), data.length]) {
    if (cut < from) continue;
    // A fresh copy per piece: the parser must not keep the caller's memory.
    error = parser.receive(data.slice(from, cut)) ?? error;
    from = cut;
  }
  return { events, error };
}

function code(data: Uint8Array, limits: Partial<FrameLimits> = {}): number | null {
  return parse(data, limits).error?.code ?? null;
}

test("frames: a masked text, a binary, a ping and a close are delivered in order", () => {
  const data = concat(
    frame(OP_TEXT, "héllo"),
    frame(OP_BINARY, new Uint8Array([1, 2, 3])),
    frame(OP_PING, "p"),
    frame(OP_CLOSE, closePayload(1000, "bye")),
    frame(OP_TEXT, "ignored after close"),
  );
  const { events, error } = parse(data);
  assert.equal(error, null);
  assert.deepEqual(events, [
    ["message", OP_TEXT, "héllo", false],
    ["message", OP_BINARY, [1, 2, 3], false],
    ["ping", [0x70]],
    ["close", 1000, "bye"],
  ]);
});

test("frames: 16-bit and 64-bit lengths", () => {
  for (const n of [125, 126, 65535, 65536, 70000]) {
    const payload = new Uint8Array(n).map((_, i) => i & 0xff);
    const { events, error } = parse(frame(OP_BINARY, payload), {}, [1, 3, 7, 11, 5000]);
    assert.equal(error, null);
    assert.equal((events[0][2] as number[]).length, n);
    assert.deepEqual(events[0][2], Array.from(payload));
  }
});

test("frames: unmasked client frames fail with 1002", () => {
  assert.equal(code(encodeFrame(OP_TEXT, enc.encode("x"))), 1002);
});

test("frames: RSV bits without an extension, and RSV1 where permessage-deflate forbids it, fail with 1002", () => {
  assert.equal(code(frame(OP_TEXT, "x", { rsv1: true })), 1002);
  assert.equal(code(frame(OP_TEXT, "x", { rsv2: true })), 1002);
  assert.equal(code(frame(OP_TEXT, "x", { rsv3: true })), 1002);
  assert.equal(code(frame(OP_TEXT, "x", { rsv2: true }), { compression: true }), 1002);
  assert.equal(code(frame(OP_TEXT, "x", { rsv1: true }), { compression: true }), null);
  assert.equal(code(frame(OP_PING, "x", { rsv1: true }), { compression: true }), 1002);
  const continuationRsv1 = concat(
    frame(OP_TEXT, "a", { fin: false, rsv1: true }),
    frame(OP_CONTINUATION, "b", { rsv1: true }),
  );
  assert.equal(code(continuationRsv1, { compression: true }), 1002);
});

test("frames: reserved opcodes fail with 1002", () => {
  for (const op of [3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]) assert.equal(code(frame(op, "")), 1002, `opcode ${op}`);
});

test("frames: fragmented or oversized control frames fail with 1002", () => {
  assert.equal(code(frame(OP_PING, "x", { fin: false })), 1002);
  assert.equal(code(frame(OP_PING, new Uint8Array(126))), 1002);
  assert.equal(code(frame(OP_PONG, new Uint8Array(125))), null);
  assert.equal(code(frame(OP_CLOSE, new Uint8Array(126))), 1002);
});

test("frames: a continuation with nothing to continue, or a data frame inside a message, fails with 1002", () => {
  assert.equal(code(frame(OP_CONTINUATION, "x")), 1002);
  assert.equal(code(concat(frame(OP_TEXT, "a", { fin: false }), frame(OP_TEXT, "b"))), 1002);
  assert.equal(code(concat(frame(OP_TEXT, "a"), frame(OP_CONTINUATION, "b"))), 1002);
});

test("frames: fragments with control frames between them reassemble", () => {
  const data = concat(
    frame(OP_TEXT, "fra", { fin: false }),
    frame(OP_PING, "1"),
    frame(OP_CONTINUATION, "", { fin: false }),
    frame(OP_CONTINUATION, "gment"),
  );
  const { events, error } = parse(data, {}, [2, 9, 10, 21]);
  assert.equal(error, null);
  assert.deepEqual(events, [["ping", [0x31]], ["message", OP_TEXT, "fragment", false]]);
});

test("frames: invalid UTF-8 fails with 1007 as soon as the bad byte arrives, across fragments", () => {
  const first = frame(OP_TEXT, new Uint8Array([0x61, 0xce]), { fin: false });
  // 0xce needs a continuation byte; 0x41 is not one: the second frame's first byte is the fault.
  const second = frame(OP_CONTINUATION, new Uint8Array([0x41, 0x42, 0x43]));
  const sink: FrameSink = { message() {}, ping() {}, pong() {}, closeFrame() {} };
  const parser = new FrameParser({ maxPayload: 1 << 20, maxFragments: 100, compression: false }, sink);
  assert.equal(parser.receive(first), null);
  // Header (6 bytes) plus the first payload byte: already failed, before the rest of the frame.
  assert.equal(parser.receive(second.subarray(0, 7))?.code, 1007);
  // A valid split sequence passes.
  const ok = concat(
    frame(OP_TEXT, new Uint8Array([0xce]), { fin: false }),
    frame(OP_CONTINUATION, new Uint8Array([0xbb])),
  );
  assert.deepEqual(parse(ok).events, [["message", OP_TEXT, "λ", false]]);
  // A message that ends inside a sequence.
  assert.equal(code(frame(OP_TEXT, new Uint8Array([0xe2, 0x82]))), 1007);
});

test("frames: close payloads: one byte and bad codes 1002, bad reason 1007, empty means 1005", () => {
  assert.equal(code(frame(OP_CLOSE, new Uint8Array([3]))), 1002);
  for (const c of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535]) {
    assert.equal(code(frame(OP_CLOSE, closePayload(c))), 1002, `code ${c}`);
  }
  for (const c of [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999]) {
    assert.equal(code(frame(OP_CLOSE, closePayload(c))), null, `code ${c}`);
  }
  assert.equal(code(frame(OP_CLOSE, concat(closePayload(1000), new Uint8Array([0xff])))), 1007);
  assert.deepEqual(parse(frame(OP_CLOSE, "")).events, [["close", 1005, ""]]);
});

test("frames: a header claiming 2^63-1 bytes allocates nothing and fails with 1009; the high bit fails with 1002", () => {
  const huge = new Uint8Array([0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 0]);
  assert.equal(code(huge), 1009);
  const highBit = new Uint8Array([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]);
  assert.equal(code(highBit), 1002);
  // Just under maxPayload is fine to announce: nothing is allocated until bytes come.
  const announced = encodeHeader(OP_BINARY, 1 << 20, { mask: MASK });
  assert.equal(code(announced), null);
});

test("frames: maxPayload counts every fragment (1009); maxFragments bounds zero-length continuations (1008)", () => {
  const limits = { maxPayload: 10, maxFragments: 5 };
  assert.equal(code(frame(OP_BINARY, new Uint8Array(11)), limits), 1009);
  assert.equal(code(frame(OP_BINARY, new Uint8Array(10)), limits), null);
  const split = concat(frame(OP_BINARY, new Uint8Array(6), { fin: false }), frame(OP_CONTINUATION, new Uint8Array(5)));
  assert.equal(code(split, limits), 1009);
  const empties = [frame(OP_BINARY, "", { fin: false })];
  for (let i = 0; i < 10; i++) empties.push(frame(OP_CONTINUATION, "", { fin: false }));
  assert.equal(code(concat(...empties), limits), 1008);
});

test("frames: a message built from many one-byte reads costs no per-read overhead", () => {
  // The GHSA-96hv-2xvq-fx4p class: each piece is copied into one buffer, so the
  // message's memory is its size (at most doubled by growth), not pieces * overhead.
  const payload = new Uint8Array(4096).fill(7);
  const data = frame(OP_BINARY, payload);
  const { events, error } = parse(data, {}, Array.from({ length: data.length }, (_, i) => i));
  assert.equal(error, null);
  assert.equal((events[0][2] as number[]).length, 4096);
});

test("serialiser: header lengths and the 64-bit form", () => {
  assert.deepEqual(Array.from(encodeHeader(OP_TEXT, 5)), [0x81, 5]);
  assert.deepEqual(Array.from(encodeHeader(OP_BINARY, 126)), [0x82, 126, 0, 126]);
  assert.deepEqual(Array.from(encodeHeader(OP_BINARY, 65536)), [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
  assert.deepEqual(Array.from(encodeHeader(OP_TEXT, 1, { fin: false, rsv1: true })), [0x41, 1]);
  assert.deepEqual(Array.from(encodeFrame(OP_PONG, new Uint8Array([1, 2]))), [0x8a, 2, 1, 2]);
});

test("property: applyMask equals the byte-wise XOR for any offsets, phase and length", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 300 }),
      fc.nat(7),
      fc.nat(7),
      fc.nat(3),
      fc.uint8Array({ minLength: 4, maxLength: 4 }),
      (data, srcPad, dstPad, phase, mask) => {
        const src = new Uint8Array(srcPad + data.length);
        src.set(data, srcPad);
        const dst = new Uint8Array(dstPad + data.length + 3);
        applyMask(src, srcPad, srcPad + data.length, mask, phase, dst, dstPad);
        const expected = data.map((b, i) => b ^ mask[(phase + i) & 3]);
        assert.deepEqual(dst.subarray(dstPad, dstPad + data.length), expected);
        assert.ok(dst.subarray(dstPad + data.length).every((b) => b === 0), "nothing written past the end");
        // In place, as a client masking its own buffer.
        const inPlace = data.slice();
        applyMask(inPlace, 0, inPlace.length, mask, phase, inPlace, 0);
        assert.deepEqual(inPlace, expected);
      },
    ),
    params(600, 1500),
  );
});

test("close codes: the valid set", () => {
  assert.ok(isValidCloseCode(1000) && isValidCloseCode(4999) && !isValidCloseCode(1005) && !isValidCloseCode(1006));
});

/** The reference: what a fatal TextDecoder says of the whole input. */
function referenceUtf8(bytes: Uint8Array): boolean {
  try {
    new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    return true;
  } catch {
    return false;
  }
}

const utf8ish = fc.array(
  fc.oneof(
    fc.integer({ min: 0, max: 255 }),
    fc.constantFrom(0x80, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xa0, 0x9f, 0x90, 0x8f),
  ),
  { maxLength: 40 },
).map((a) => new Uint8Array(a));

test("utf8: agrees with a fatal TextDecoder on random bytes and strings, in any cuts", () => {
  const input = fc.oneof(utf8ish, fc.string({ unit: "binary", maxLength: 30 }).map((s) => enc.encode(s)));
  fc.assert(
    fc.property(input, fc.array(fc.nat(40), { maxLength: 5 }), (bytes, cuts) => {
      const expected = referenceUtf8(bytes);
      assert.equal(isValidUtf8(bytes), expected);
      const v = new Utf8Validator();
      let from = 0;
      let ok = true;
      for (const cut of [...cuts.filter((c) => c < bytes.length).sort((a, b) => a - b), bytes.length]) {
        if (cut < from) continue;
        ok = ok && v.push(bytes, from, cut);
        from = cut;
      }
      assert.equal(ok && v.complete, expected);
    }),
    params(800, 3000),
  );
});

const opcodeArb = fc.constantFrom(OP_TEXT, OP_BINARY);
const messageArb = fc.record({
  opcode: opcodeArb,
  text: fc.string({ maxLength: 300 }),
  fragments: fc.array(fc.nat(300), { maxLength: 4 }),
  pingBetween: fc.boolean(),
});

test("property: any valid stream of messages parses to the same messages whatever the cuts", () => {
  fc.assert(
    fc.property(
      fc.array(messageArb, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(4000), { maxLength: 12 }),
      (msgs, cuts) => {
        const parts: Uint8Array[] = [];
        const expected: Event[] = [];
        for (const m of msgs) {
          const bytes = enc.encode(m.text);
          const splits = [...new Set(m.fragments.map((f) => f % (bytes.length + 1)))].sort((a, b) => a - b);
          const bounds = [0, ...splits, bytes.length];
          for (let i = 0; i + 1 < bounds.length; i++) {
            const op = i === 0 ? m.opcode : OP_CONTINUATION;
            parts.push(frame(op, bytes.subarray(bounds[i], bounds[i + 1]), { fin: i + 2 === bounds.length }));
            if (m.pingBetween && i === 0) parts.push(frame(OP_PING, "x"));
          }
          const message: Event = ["message", m.opcode, m.opcode === OP_TEXT ? m.text : Array.from(bytes), false];
          // The ping follows the first frame: before the message when it has more frames, after it otherwise.
          if (m.pingBetween && bounds.length > 2) expected.push(["ping", [0x78]], message);
          else if (m.pingBetween) expected.push(message, ["ping", [0x78]]);
          else expected.push(message);
        }
        const data = concat(...parts);
        const { events, error } = parse(data, {}, cuts);
        assert.equal(error, null);
        assert.deepEqual(events, expected);
      },
    ),
    params(1200, 400),
  );
});

test("property: noise never throws, and the verdict does not depend on the cuts", () => {
  const noise = fc.array(
    fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0x81, 0x82, 0x88, 0x89, 0x80, 0xfe, 0xff, 0x7f, 0x7e)),
    { maxLength: 200 },
  ).map((a) => new Uint8Array(a));
  fc.assert(
    fc.property(noise, fc.array(fc.nat(200), { maxLength: 8 }), (data, cuts) => {
      const whole = parse(data, { maxPayload: 1000 });
      const cut = parse(data, { maxPayload: 1000 }, cuts);
      assert.deepEqual(cut, whole);
    }),
    params(800, 3000),
  );
});
