import { test } from "node:test";
import assert from "node:assert/strict";
import { type BodySink, ChunkedReceiver, FixedLengthReceiver } from "../lib/receiver.ts";
import type { HttpError } from "../lib/errors.ts";

/** A sink that keeps copies, as the contract requires. */
class ArraySink implements BodySink {
  chunks: Uint8Array[] = [];
  length = 0;
  append(chunk: Uint8Array): void {
    this.chunks.push(chunk.slice());
    this.length += chunk.length;
  }
  text(): string {
    let out = "";
    for (const c of this.chunks) for (const b of c) out += String.fromCharCode(b);
    return out;
  }
}

/** Latin-1 encoding: each char code (0-255) becomes one byte. */
function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

interface Limits {
  maxBodySize: number;
  maxFramingSize: number;
}

const LIMITS: Limits = { maxBodySize: 1 << 20, maxFramingSize: 1024 };

interface Outcome {
  consumed: number;
  completed: boolean;
  error: HttpError | null;
  body: string;
}

/** Feeds pieces like a parser does: stops at the first piece not fully consumed. */
function feed(pieces: Uint8Array[], limits: Limits = LIMITS): Outcome {
  const sink = new ArraySink();
  const receiver = new ChunkedReceiver(sink, limits);
  let consumed = 0;
  for (const piece of pieces) {
    const used = receiver.received(piece);
    consumed += used;
    if (used < piece.length) {
      assert.ok(receiver.completed, "only a complete receiver leaves bytes behind");
      break;
    }
  }
  if (receiver.completed) assert.equal(receiver.received(bytes("0\r\n\r\n")), 0);
  return { consumed, completed: receiver.completed, error: receiver.error, body: sink.text() };
}

function chunked(input: string, limits: Limits = LIMITS): Outcome {
  return feed([bytes(input)], limits);
}

/** The outcome is the same for the whole input, every two-way split and byte by byte. */
function assertSplitInvariant(input: string, limits: Limits = LIMITS): Outcome {
  const data = bytes(input);
  const whole = feed([data], limits);
  for (let i = 1; i < data.length; i++) {
    assert.deepEqual(feed([data.subarray(0, i), data.subarray(i)], limits), whole, `split at ${i}`);
  }
  const single: Uint8Array[] = [];
  for (let i = 0; i < data.length; i++) single.push(data.subarray(i, i + 1));
  assert.deepEqual(feed(single, limits), whole, "byte by byte");
  return whole;
}

function errorOf(input: string, limits: Limits = LIMITS): HttpError | null {
  const out = chunked(input, limits);
  assert.ok(out.completed, JSON.stringify(input));
  return out.error;
}

test("receiver: fixed length takes exactly its bytes and leaves the rest", () => {
  const sink = new ArraySink();
  const receiver = new FixedLengthReceiver(5, sink);
  assert.equal(receiver.completed, false);
  assert.equal(receiver.received(bytes("he")), 2);
  assert.equal(receiver.completed, false);
  assert.equal(receiver.received(bytes("lloGET /")), 3);
  assert.equal(receiver.completed, true);
  assert.equal(receiver.error, null);
  assert.equal(receiver.received(bytes("more")), 0);
  assert.equal(sink.text(), "hello");
  assert.equal(sink.length, 5);
  const empty = new FixedLengthReceiver(0, new ArraySink());
  assert.equal(empty.completed, true);
  assert.equal(empty.received(bytes("x")), 0);
});

test("receiver: chunked body is decoded and bytes after it are left for the next request", () => {
  const body = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  const out = assertSplitInvariant(body + "GET / HTTP/1.1\r\n");
  assert.deepEqual(out, { consumed: body.length, completed: true, error: null, body: "hello world" });
});

test("receiver: sizes are hex, either case, leading zeros allowed", () => {
  const out = chunked("A\r\n0123456789\r\n0a\r\nabcdefghij\r\n00000000000000000000000001\r\nx\r\n000\r\n\r\n");
  assert.equal(out.error, null);
  assert.equal(out.body, "0123456789abcdefghijx");
  assert.equal(chunked("f\r\n" + "y".repeat(15) + "\r\n0\r\n\r\n").body.length, 15);
});

test("receiver: CVE-2022-24761: sizes must be HEXDIG only", () => {
  for (const line of ["0x5", "+5", " 5", "5 ", "5 ;x", "1_0", "-1", "g", "", "5\t", "\x85"]) {
    const error = errorOf(`${line}\r\nhello\r\n0\r\n\r\n`);
    assert.equal(error?.status, 400, JSON.stringify(line));
    assert.equal(error?.detail, "Invalid chunk size", JSON.stringify(line));
    assert.equal(error?.version, "1.1");
  }
});

test("receiver: valid chunk extensions are accepted and ignored", () => {
  for (
    const ext of [
      ";a",
      ";a=b",
      ";a=b;c",
      ';a="quoted \\" value"',
      ";a= b ; c = d",
      "; a",
      ';a=""',
      ';a="\xe9"',
      ";!#$%&'*+-.^_`|~=x",
    ]
  ) {
    const out = chunked(`5${ext}\r\nhello\r\n0${ext}\r\n\r\n`);
    assert.equal(out.error, null, JSON.stringify(ext));
    assert.equal(out.body, "hello");
  }
});

test("receiver: CVE-2022-24761: bad chunk extensions are 400 Invalid chunk extension", () => {
  for (
    const ext of [
      ";a=\x01",
      ";invalid=",
      ";",
      ";;",
      ";a ",
      ";a=b c",
      ';a="unterminated',
      ';a="x\x01"',
      ';a="x\\',
      ";a=b,c",
      ";a@b",
      ";=b",
      ";a\x00",
    ]
  ) {
    const error = errorOf(`5${ext}\r\nhello\r\n0\r\n\r\n`);
    assert.equal(error?.status, 400, JSON.stringify(ext));
    assert.equal(error?.detail, "Invalid chunk extension", JSON.stringify(ext));
  }
  assert.equal(errorOf("20;invalid=\r\n")?.detail, "Invalid chunk extension");
  assert.equal(errorOf("20;\r\n")?.detail, "Invalid chunk extension");
});

test("receiver: chunk data must be followed by CRLF", () => {
  for (
    const input of ["5\r\nhello\n0\r\n\r\n", "5\r\nhelloX\r\n0\r\n\r\n", "5\r\nhello\rX0\r\n\r\n", "3\r\nhello\r\n"]
  ) {
    const error = errorOf(input);
    assert.equal(error?.status, 400, JSON.stringify(input));
    assert.equal(error?.detail, "Chunk not properly terminated", JSON.stringify(input));
  }
  const out = assertSplitInvariant("5\r\nhelloXX0\r\n\r\n");
  assert.equal(out.consumed, 9);
  assert.equal(out.body, "hello");
});

test("receiver: CVE-2019-16785: bare LF anywhere in the framing is 400", () => {
  for (
    const input of [
      "5\nhello\r\n0\r\n\r\n",
      "5\r\nhello\r\n0\n\r\n",
      "5\r\nhello\r\n0\r\n\n",
      "5\r\nhello\r\n0\r\nX: y\n\r\n",
      "\n5\r\nhello\r\n0\r\n\r\n",
      "5\r\r\nhello\r\n0\r\n\r\n",
    ]
  ) {
    assert.equal(errorOf(input)?.status, 400, JSON.stringify(input));
  }
});

test("receiver: an empty line where a size is expected is refused", () => {
  assert.equal(errorOf("\r\n5\r\nhello\r\n0\r\n\r\n")?.detail, "Invalid chunk size");
});

test("receiver: trailer fields are validated like header lines, then discarded", () => {
  const body = "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nOther:\r\nWeird: \xe9 \t\r\n\r\n";
  const out = assertSplitInvariant(body + "NEXT");
  assert.deepEqual(out, { consumed: body.length, completed: true, error: null, body: "hello" });
  for (const trailer of ["no colon", "X : y", ": y", "X: a\x00b", "X: \x0b", " folded: x", "X_Y\x7f: z"]) {
    const error = errorOf(`5\r\nhello\r\n0\r\nOK: 1\r\n${trailer}\r\n\r\n`);
    assert.equal(error?.status, 400, JSON.stringify(trailer));
    assert.equal(error?.detail, "Invalid trailer field", JSON.stringify(trailer));
  }
});

test("receiver: decoded bytes over maxBodySize are 413 when the size line announces them; exactly at it is OK", () => {
  const limits = { maxBodySize: 10, maxFramingSize: 1024 };
  const at = chunked("5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", limits);
  assert.equal(at.error, null);
  assert.equal(at.body, "helloworld");
  const over = assertSplitInvariant("5\r\nhello\r\n6\r\nworld!\r\n0\r\n\r\n", limits);
  assert.deepEqual(over.error, {
    status: 413,
    reason: "Request Entity Too Large",
    detail: "exceeds max_body of 10",
    version: "1.1",
  });
  assert.equal(over.consumed, "5\r\nhello\r\n6\r\n".length);
  assert.equal(over.body, "hello");
  assert.equal(errorOf("b\r\n", limits)?.status, 413);
});

test("receiver: absurdly long sizes never overflow into acceptance", () => {
  const limits = { maxBodySize: Number.MAX_SAFE_INTEGER, maxFramingSize: 1024 };
  for (const size of ["10000000000000000", "ffffffffffffffffffffffffffffffff", "1" + "0".repeat(200)]) {
    const error = errorOf(`${size}\r\nhello\r\n0\r\n\r\n`, limits);
    assert.equal(error?.status, 413, size);
  }
  const huge = "f".repeat(2000);
  assert.equal(errorOf(`${huge}\r\n`, { maxBodySize: 10, maxFramingSize: 10000 })?.status, 413);
});

test("receiver: framing overhead over maxFramingSize is 400 at the first byte over budget", () => {
  const limits = { maxBodySize: 1 << 20, maxFramingSize: 64 };
  const ext = ";name=" + "v".repeat(100);
  const out = assertSplitInvariant(`5${ext}\r\nhello\r\n0\r\n\r\n`, limits);
  assert.equal(out.error?.status, 400);
  assert.match(out.error!.detail, /framing exceeds 64 bytes/);
  assert.equal(out.consumed, 18 + 64 + 1);
  const endless = chunked("5" + ";a".repeat(1000), limits);
  assert.equal(endless.error?.status, 400);
  const trailers = chunked("0\r\n" + "X: y\r\n".repeat(20) + "\r\n", limits);
  assert.equal(trailers.error?.status, 400);
  const smallTrailers = chunked("0\r\n" + "X: y\r\n".repeat(10) + "\r\n", limits);
  assert.equal(smallTrailers.error, null);
  // Each size line has 18 free bytes (16 hex digits and CRLF); longer lines spend the budget cumulatively.
  const shortExtensions = chunked(("1;ab=cd\r\nx\r\n").repeat(20) + "0\r\n\r\n", limits);
  assert.equal(shortExtensions.error, null);
  const longExtensions = chunked(("1;abcdefghij=klmnopqrst\r\nx\r\n").repeat(20) + "0\r\n\r\n", limits);
  assert.equal(longExtensions.error?.status, 400);
});

test("receiver: many small chunks without extensions never exhaust the framing budget", () => {
  const limits = { maxBodySize: 1 << 20, maxFramingSize: 16 };
  const out = chunked("1\r\nx\r\n".repeat(5000) + "0000000000000000\r\n\r\n", limits);
  assert.equal(out.error, null);
  assert.equal(out.body.length, 5000);
});

test("receiver: once an error is set, nothing more is consumed", () => {
  const receiver = new ChunkedReceiver(new ArraySink(), LIMITS);
  const data = bytes("zz\r\nhello\r\n0\r\n\r\n");
  assert.equal(receiver.received(data), 4);
  assert.equal(receiver.completed, true);
  assert.equal(receiver.error?.status, 400);
  assert.equal(receiver.received(data), 0);
});

test("receiver: results are the same for every split position and byte by byte", () => {
  const corpus = [
    '3;a="b;c"\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: x\r\n\r\nrest',
    "1\r\nx\r\n1\r\ny\r\n0;e\r\n\r\n",
    "5\r\nhello\r\n0\r\nBad Trailer\r\n\r\n",
    "5;a=\x01\r\nhello\r\n",
    "5\r\nhel",
    "0\r\n\r",
    "5\r\nhello\r\r\n",
  ];
  for (const input of corpus) assertSplitInvariant(input, { maxBodySize: 100, maxFramingSize: 40 });
});

test("receiver: a sink receives views, and a completed body is exactly the data", () => {
  const views: Uint8Array[] = [];
  const sink: BodySink = {
    append(chunk: Uint8Array): void {
      views.push(chunk.slice());
    },
    get length(): number {
      return views.reduce((n, v) => n + v.length, 0);
    },
  };
  const receiver = new ChunkedReceiver(sink, LIMITS);
  const data = bytes("4\r\nwiki\r\n5\r\npedia\r\n0\r\n\r\n");
  assert.equal(receiver.received(data), data.length);
  assert.equal(receiver.completed, true);
  assert.equal(sink.length, 9);
  assert.deepEqual(views.map((v) => String.fromCharCode(...v)), ["wiki", "pedia"]);
});
