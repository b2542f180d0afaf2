import { test } from "node:test";
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeLatin1, isHostPort, parseContentLength, parseTokenList } from "../lib/grammar.ts";
import { findHeadEnd, type ParserLimits, RequestParser } from "../lib/parser.ts";
import { toLatin1 } from "./support/bytes.ts";
import { ArraySink, type ParserOutcome, parserOutcome } from "./support/parser_harness.ts";

const LIMITS: ParserLimits = { maxRequestHeaderSize: 8192, maxRequestBodySize: 1 << 20 };

/** Latin-1 encoding: each char code (0-255) becomes one byte. */
function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function newParser(limits: ParserLimits = LIMITS): RequestParser {
  return new RequestParser(limits, () => new ArraySink());
}

/**
 * Feeds `pieces` in order the way a channel does: stops at the first piece
 * not fully consumed (it must then be complete) and returns what it saw.
 */
function feed(pieces: Uint8Array[], limits: ParserLimits = LIMITS): ParserOutcome {
  const parser = newParser(limits);
  let consumed = 0;
  for (const piece of pieces) {
    if (parser.completed) {
      assert.equal(parser.received(piece), 0, "a completed parser consumes nothing");
      break;
    }
    const used = parser.received(piece);
    assert.ok(used >= 0 && used <= piece.length);
    consumed += used;
    if (used < piece.length) {
      assert.ok(parser.completed, "only a complete parser leaves bytes behind");
      assert.equal(parser.received(piece.subarray(used)), 0);
      break;
    }
  }
  return parserOutcome(parser, consumed);
}

function parse(input: string, limits: ParserLimits = LIMITS): ParserOutcome {
  return feed([bytes(input)], limits);
}

/** The error status, or 0 when the request parsed. */
function status(input: string, limits: ParserLimits = LIMITS): number {
  const out = parse(input, limits);
  assert.ok(out.completed, `expected a complete outcome for ${JSON.stringify(input)}`);
  return out.error?.status ?? 0;
}

/** The outcome is the same whether `input` arrives whole, split at any index, or byte by byte. */
function assertSplitInvariant(input: string, limits: ParserLimits = LIMITS): ParserOutcome {
  const data = bytes(input);
  const whole = feed([data], limits);
  for (let i = 1; i < data.length; i++) {
    const split = feed([data.subarray(0, i), data.subarray(i)], limits);
    assert.deepEqual(split, whole, `split at ${i} of ${JSON.stringify(input)}`);
  }
  const single: Uint8Array[] = [];
  for (let i = 0; i < data.length; i++) single.push(data.subarray(i, i + 1));
  assert.deepEqual(feed(single, limits), whole, `byte by byte: ${JSON.stringify(input)}`);
  // The channel offers the rest of a read as (read, start), not as a view: every start must match.
  const padded = new Uint8Array(data.length + 5);
  padded.set(bytes("JUNK\n"));
  padded.set(data, 5);
  for (let i = 0; i < data.length; i++) {
    assert.deepEqual(feedFrom(padded, 5, 5 + i, limits), whole, `start at ${i} of ${JSON.stringify(input)}`);
  }
  return whole;
}

/** Like `feed` of two pieces, but the second is offered as `received(data, at)` over the whole array. */
function feedFrom(data: Uint8Array, start: number, at: number, limits: ParserLimits): ParserOutcome {
  const parser = newParser(limits);
  let consumed = parser.received(data.subarray(0, at), start);
  if (consumed === at - start && !parser.completed) {
    const used = parser.received(data, at);
    assert.ok(used >= 0 && used <= data.length - at);
    consumed += used;
  }
  return parserOutcome(parser, consumed);
}

const GET = "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n";

test("parser: a head arriving in a node:buffer Buffer parses the same as in a Uint8Array", () => {
  const input = "GET /x HTTP/1.1\r\nHost: h\r\nX: caf\xe9\x85\r\n\r\n";
  const fromBuffer = feed([Buffer.from(bytes(input))]);
  assert.deepEqual(fromBuffer, parse(input));
  assert.deepEqual(fromBuffer.head?.headers, ["host", "h", "x", "caf\u00e9\u0085"]);
});

test("parser: a simple GET parses in one read", () => {
  const out = parse(GET);
  assert.equal(out.error, null);
  assert.equal(out.completed, true);
  assert.equal(out.headersComplete, true);
  assert.equal(out.consumed, GET.length);
  assert.equal(out.body, null);
  assert.equal(out.empty, false);
  assert.deepEqual(out.head, {
    method: "GET",
    target: "/path?q=1",
    version: "1.1",
    headers: ["host", "example.com"],
    contentLength: -1,
    chunked: false,
    expectContinue: false,
    keepAlive: true,
    host: "example.com",
  });
});

test("parser: headers are a flat list, lower-cased names, OWS-trimmed latin-1 values, '_' names dropped", () => {
  const out = parse(
    "GET / HTTP/1.1\r\nHost: h\r\nX-A:1\r\nX_Sneaky: no\r\nx-a: \t two  words \t\r\nX-Latin: caf\xe9\x85\r\n" +
      "Empty:\r\nEmpty2:   \r\n\r\n",
  );
  assert.equal(out.error, null);
  assert.deepEqual(out.head?.headers, [
    "host",
    "h",
    "x-a",
    "1",
    "x-a",
    "two  words",
    "x-latin",
    "caf\u00e9\u0085",
    "empty",
    "",
    "empty2",
    "",
  ]);
});

test("parser: no Content-Length and no Transfer-Encoding means no body; following bytes are the next request", () => {
  const input = GET + "hello";
  const out = parse(input);
  assert.equal(out.completed, true);
  assert.equal(out.consumed, GET.length);
  assert.equal(out.body, null);
  const next = newParser();
  assert.equal(next.received(bytes("hello")), 5);
  assert.equal(next.completed, false);
});

test("parser: Content-Length body is received and pipelined leftovers are not consumed", () => {
  const first = "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
  const out = assertSplitInvariant(first + GET);
  assert.equal(out.consumed, first.length);
  assert.equal(out.body, "hello");
  assert.equal(out.head?.contentLength, 5);
  const second = parse(GET);
  assert.equal(second.consumed, GET.length);
});

test("parser: a channel can run pipelined requests through successive parsers", () => {
  const stream = bytes(
    "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc" +
      "POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nxyz\r\n0\r\n\r\nGET /4 HTTP/1.0\r\n\r\n",
  );
  const targets: string[] = [];
  const bodies: string[] = [];
  let rest = stream;
  while (rest.length > 0) {
    const parser = newParser();
    const used = parser.received(rest);
    assert.ok(parser.completed);
    assert.equal(parser.error, null);
    targets.push(parser.head!.target);
    bodies.push(parser.body === null ? "" : toLatin1((parser.body as ArraySink).bytes()));
    rest = rest.subarray(used);
  }
  assert.deepEqual(targets, ["/1", "/2", "/3", "/4"]);
  assert.deepEqual(bodies, ["", "abc", "xyz", ""]);
});

test("parser: Content-Length 0 completes with no body sink", () => {
  const out = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  assert.equal(out.completed, true);
  assert.equal(out.head?.contentLength, 0);
  assert.equal(out.body, null);
});

test("parser: leading blank lines are skipped and counted; only blank lines leave the parser empty", () => {
  const out = assertSplitInvariant("\r\n\r\n" + GET);
  assert.equal(out.error, null);
  assert.equal(out.consumed, GET.length + 4);
  const blank = parse("\r\n\r\n\r\n");
  assert.equal(blank.completed, false);
  assert.equal(blank.empty, true);
  assert.equal(blank.consumed, 6);
  assert.equal(newParser().empty, true);
  assert.equal(parse("G").empty, false);
  assert.equal(status("\n" + GET), 400);
  assert.equal(status("\r\r\n" + GET), 400);
});

test("parser: blank lines count toward the header limit", () => {
  const limits = { maxRequestHeaderSize: 64, maxRequestBodySize: 100 };
  const out = assertSplitInvariant("\r\n".repeat(40), limits);
  assert.equal(out.error?.status, 431);
  assert.equal(out.consumed, 65);
});

test("parser: a head of exactly the limit is accepted, one byte more is 431 (HTTP/1.0 status line)", () => {
  const limit = GET.length;
  const ok = parse(GET, { maxRequestHeaderSize: limit, maxRequestBodySize: 10 });
  assert.equal(ok.error, null);
  const over = assertSplitInvariant(GET, { maxRequestHeaderSize: limit - 1, maxRequestBodySize: 10 });
  assert.deepEqual(over.error, {
    status: 431,
    reason: "Request Header Fields Too Large",
    detail: `exceeds max_header of ${limit - 1}`,
    version: "1.0",
  });
  assert.equal(over.consumed, limit);
  assert.equal(over.headersComplete, false);
});

test("parser: an unterminated head over the limit fails at once, without waiting for CRLFCRLF", () => {
  const limits = { maxRequestHeaderSize: 100, maxRequestBodySize: 10 };
  const parser = newParser(limits);
  assert.equal(parser.received(bytes("GET / HTTP/1.1\r\nX: " + "a".repeat(60))), 79);
  assert.equal(parser.completed, false);
  assert.equal(parser.received(bytes("a".repeat(30))), 22);
  assert.equal(parser.completed, true);
  assert.equal(parser.error?.status, 431);
  assert.equal(parser.received(bytes("more")), 0);
});

test("parser: bare LF line endings never end a head and run into the limit (waitress)", () => {
  const limits = { maxRequestHeaderSize: 200, maxRequestBodySize: 10 };
  const input = "GET / HTTP/1.1\nHost: h\n\n";
  const out = parse(input, limits);
  assert.equal(out.completed, false);
  assert.equal(out.consumed, input.length);
  assert.equal(status(input + "x".repeat(200), limits), 431);
});

test("parser: CVE-2019-16785: bare LF inside a head is 400, not a second header", () => {
  const input = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Header: x\nContent-Length: 0\r\n\r\n";
  const out = assertSplitInvariant(input);
  assert.equal(out.error?.status, 400);
  assert.match(out.error!.detail, /Bare CR or LF/);
  assert.equal(out.consumed, input.length);
  assert.equal(status("GET / HTTP/1.1\nHost: x\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\n\n\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n"), 400);
  assert.equal(status("GET /\r HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\n\r\r\n\r\n"), 400);
});

test("parser: malformed request lines are 400 Start line is invalid", () => {
  for (
    const line of [
      "GET  / HTTP/1.1",
      "GET /  HTTP/1.1",
      "GET\t/ HTTP/1.1",
      "GET /\tHTTP/1.1",
      "GET /",
      "GET / ",
      "GET",
      " GET / HTTP/1.1",
      "GET / HTTP/1.1 ",
      "GET / http/1.1",
      "GET / HTTP/1.10",
      "GET / HTTP/11",
      "GET / HTTP/1.x",
      "GET / XTTP/1.1",
      "GET /a b HTTP/1.1",
      "G@T / HTTP/1.1",
      "GE(T / HTTP/1.1",
      " / HTTP/1.1",
      "GET HTTP/1.1",
      "GET /\x00 HTTP/1.1",
      "GET /\x7f HTTP/1.1",
      "",
    ]
  ) {
    const out = parse(`${line}\r\nHost: h\r\n\r\n`);
    assert.equal(out.error?.status, 400, JSON.stringify(line));
    assert.equal(out.error?.version, "1.0", JSON.stringify(line));
    if (line !== "GET /\x00 HTTP/1.1" && line !== "GET /\x7f HTTP/1.1") {
      assert.equal(out.error?.detail, "Start line is invalid", JSON.stringify(line));
    }
  }
});

test("parser: lower-case methods are 400 Malformed HTTP method; odd upper-case tokens pass", () => {
  assert.deepEqual(parse("get / HTTP/1.1\r\nHost: h\r\n\r\n").error, {
    status: 400,
    reason: "Bad Request",
    detail: 'Malformed HTTP method "get"',
    version: "1.0",
  });
  assert.equal(status("Get / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(parse("FOO / HTTP/1.1\r\nHost: h\r\n\r\n").head?.method, "FOO");
  assert.equal(parse("M-SEARCH! / HTTP/1.1\r\nHost: h\r\n\r\n").head?.method, "M-SEARCH!");
});

test("parser: HTTP/1.2 to 1.9 are HTTP/1.1 (RFC 9110 2.5); other majors are 505", () => {
  for (const minor of [2, 9]) {
    const out = parse(`GET / HTTP/1.${minor}\r\nHost: h\r\n\r\n`);
    assert.equal(out.error, null);
    assert.equal(out.head?.version, "1.1", `1.${minor}`);
    assert.equal(out.head?.keepAlive, true);
  }
  for (const [version, statusVersion] of [["2.0", "1.1"], ["0.9", "1.0"], ["9.9", "1.1"], ["3.1", "1.1"]]) {
    const out = parse(`GET / HTTP/${version}\r\nHost: h\r\n\r\n`);
    assert.equal(out.error?.status, 505, version);
    assert.equal(out.error?.reason, "HTTP Version Not Supported");
    assert.equal(out.error?.version, statusVersion);
  }
  assert.equal(parse("GET / HTTP/1.0\r\n\r\n").head?.version, "1.0");
});

test("parser: request-target must be visible ASCII in a form allowed for the method", () => {
  assert.deepEqual(parse("GET /caf\xe9 HTTP/1.1\r\nHost: h\r\n\r\n").error, {
    status: 400,
    reason: "Bad Request",
    detail: "Bad URI",
    version: "1.1",
  });
  assert.equal(status("GET /\x80 HTTP/1.0\r\n\r\n"), 400);
  assert.equal(status("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
  assert.equal(status("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("OPTIONS *x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(
    parse("GET http://example.com:81/a?b HTTP/1.1\r\nHost: h\r\n\r\n").head?.target,
    "http://example.com:81/a?b",
  );
  assert.equal(status("GET svn+ssh://x HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
  assert.equal(status("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"), 0);
  assert.equal(status("CONNECT [::1]:443 HTTP/1.1\r\nHost: h\r\n\r\n"), 0);
  assert.equal(status("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET example.com:443 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET path HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET 1http://x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(status("GET http:/x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
  assert.equal(parse("GET //x/../y?a#f HTTP/1.1\r\nHost: h\r\n\r\n").head?.target, "//x/../y?a#f");
});

test("parser: malformed header lines are 400 Invalid header", () => {
  for (
    const line of [
      "Foo : bar",
      "Foo\t: bar",
      ": value",
      "F@o: x",
      "Foo",
      "Foo bar: x",
      "X: a\x00b",
      "X: \x0b",
      "X: a\x10",
      "X: a\x7f",
      "X: a\x1bb",
      "Caf\xe9: x",
    ]
  ) {
    const out = parse(`GET / HTTP/1.1\r\nHost: h\r\n${line}\r\n\r\n`);
    assert.equal(out.error?.status, 400, JSON.stringify(line));
    assert.equal(out.error?.detail, "Invalid header", JSON.stringify(line));
    assert.equal(out.error?.version, "1.1");
  }
});

test("parser: obs-fold is rejected with 400 (RFC 9112 5.2)", () => {
  assert.equal(status("GET / HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n  b\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: h\r\nX-Fold: a\r\n\tb\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
});

test("parser: CVE-2020-5236: a long value followed by an invalid byte answers in linear time", () => {
  const started = performance.now();
  const out = parse(`GET /foobar HTTP/1.1\r\nfoo: bar\r\nfoo: ${"x".repeat(20000)}\x10\r\n\r\n`, {
    maxRequestHeaderSize: 100000,
    maxRequestBodySize: 10,
  });
  assert.equal(out.error?.status, 400);
  const spaced = parse(`GET / HTTP/1.1\r\nfoo: ${"x \t".repeat(20000)}\x10\r\n\r\n`, {
    maxRequestHeaderSize: 100000,
    maxRequestBodySize: 10,
  });
  assert.equal(spaced.error?.status, 400);
  assert.ok(performance.now() - started < 500, "linear time");
});

test("parser: duplicate Host, Content-Length or Content-Type is 400 Duplicate header", () => {
  assert.equal(
    parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n").error?.detail,
    "Duplicate header: host",
  );
  assert.equal(
    parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Type: a\r\nContent-TYPE: b\r\n\r\n").error?.detail,
    "Duplicate header: Content-TYPE",
  );
  // CVE-2019-16792: two lengths must never turn the body into a second request.
  const smuggle = "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\n" +
    "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  const out = parse(smuggle);
  assert.equal(out.error?.status, 400);
  assert.equal(out.error?.detail, "Duplicate header: Content-Length");
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"), 400);
  assert.equal(status("GET / HTTP/1.1\r\nHost: x\r\nAccept: a\r\nAccept: b\r\n\r\n"), 0);
});

test("parser: HTTP/1.1 needs a valid Host; HTTP/1.0 may omit it", () => {
  assert.equal(parse("GET / HTTP/1.1\r\n\r\n").error?.status, 400);
  const old = parse("GET / HTTP/1.0\r\n\r\n");
  assert.equal(old.error, null);
  assert.equal(old.head?.host, null);
  for (const host of ["example.com", "example.com:8080", "[::1]", "[::1]:80", "127.0.0.1:1", "", "a.b-c_d~e%41"]) {
    assert.equal(status(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`), 0, host);
  }
  for (const host of ["a b", "a/b", "a?b", "a#b", "u@h", "[::1", "h:8x", "caf\xe9", "a%4", "[::1]x", "a:1:2"]) {
    const out = parse(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    assert.equal(out.error?.status, 400, host);
  }
  assert.equal(status("GET / HTTP/1.0\r\nHost: a/b\r\n\r\n"), 400);
});

test("parser: Content-Length must be digits only (CVE-2022-24761)", () => {
  for (const value of ["+5", "-1", "0x5", "1_0", "", "5, 5", "5 5", "1e3", "\xef\xbc\x95", " "]) {
    const out = parse(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${value}\r\n\r\n`);
    assert.equal(out.error?.status, 400, JSON.stringify(value));
    assert.equal(out.error?.detail, "Content-Length is invalid");
    assert.equal(out.error?.version, "1.1");
  }
  const padded = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \t 005 \t\r\n\r\nhello");
  assert.equal(padded.error, null);
  assert.equal(padded.head?.contentLength, 5);
  assert.equal(padded.body, "hello");
  assert.equal(parse("POST / HTTP/1.0\r\nContent-Length: +1\r\n\r\n").error?.version, "1.0");
});

test("parser: Content-Length over the body limit is 413 before any body; exactly at the limit is accepted", () => {
  const limits = { maxRequestHeaderSize: 1000, maxRequestBodySize: 10 };
  const over = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n", limits);
  assert.deepEqual(over.error, {
    status: 413,
    reason: "Request Entity Too Large",
    detail: "exceeds max_body of 10",
    version: "1.1",
  });
  assert.equal(over.body, null);
  const at = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789", limits);
  assert.equal(at.error, null);
  assert.equal(at.body, "0123456789");
  for (const huge of ["99999999999999999999999999", "18446744073709551617", "9007199254740993"]) {
    const out = parse(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${huge}\r\n\r\n`, {
      maxRequestHeaderSize: 1000,
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    });
    assert.equal(out.error?.status, 413, huge);
  }
  assert.equal(parseContentLength("000000000000000000000000012"), 12);
  assert.equal(parseContentLength("0"), 0);
});

test("parser: Transfer-Encoding chunked is decoded; codings are a case-insensitive comma list", () => {
  for (const te of ["chunked", "CHUNKED", ",chunked", " chunked ,", "\tChunked"]) {
    const out = parse(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n5\r\nhello\r\n0\r\n\r\n`);
    assert.equal(out.error, null, te);
    assert.equal(out.head?.chunked, true);
    assert.equal(out.head?.contentLength, -1);
    assert.equal(out.body, "hello");
  }
});

test("parser: CVE-2019-16786: codings other than chunked are 501; chunked not last is 400 (RFC 9112 6.3)", () => {
  for (const te of ["gzip, chunked", "gzip, identity, chunked"]) {
    const out = parse(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n`);
    assert.equal(out.error?.status, 501, JSON.stringify(te));
    assert.equal(out.error?.detail, "Transfer-Encoding requested is not supported.");
  }
  for (const te of ["chunked, gzip", "identity", "gzip", "chunked;q=1", "chunked chunked", "\x85chunked"]) {
    const out = parse(`POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ${te}\r\n\r\n`);
    assert.equal(out.error?.status, 400, JSON.stringify(te));
    assert.equal(out.error?.detail, "Transfer-Encoding must end in chunked");
  }
  const withLength = parse(
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
  );
  assert.ok(withLength.error?.status === 501 || withLength.error?.status === 400);
});

test("parser: chunked twice (one header or two) is 501", () => {
  assert.equal(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 501);
  assert.equal(
    status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n"),
    501,
  );
});

test("parser: CVE-2019-16789: special whitespace around chunked never means chunked", () => {
  assert.ok([400, 501].includes(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \x85chunked\r\n\r\n")));
  assert.ok([400, 501].includes(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x85\r\n\r\n")));
  assert.ok([400, 501].includes(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \xa0chunked\r\n\r\n")));
  assert.equal(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \x0bchunked\r\n\r\n"), 400);
  assert.equal(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\x0b\r\n\r\n"), 400);
});

test("parser: Transfer-Encoding with Content-Length, in HTTP/1.0, or empty is 400", () => {
  const both = parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
  assert.equal(both.error?.status, 400);
  assert.equal(both.error?.version, "1.1");
  assert.equal(status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 400);
  assert.equal(status("POST / HTTP/1.0\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\nx"), 400);
  assert.equal(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \r\n\r\n"), 400);
  assert.equal(status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: , ,\r\n\r\n"), 400);
});

test("parser: chunked body errors come through the parser and stop consumption", () => {
  const out = parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n");
  assert.equal(out.error?.status, 400);
  assert.equal(out.error?.detail, "Invalid chunk size");
  assert.equal(out.headersComplete, true);
  const limits = { maxRequestHeaderSize: 1000, maxRequestBodySize: 4 };
  const big = parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n", limits);
  assert.equal(big.error?.status, 413);
  assert.equal(big.error?.detail, "exceeds max_body of 4");
});

test("parser: Expect: 100-continue is recognised for HTTP/1.1 only", () => {
  const req = (version: string, expect: string) =>
    parse(`POST / HTTP/${version}\r\nHost: h\r\nExpect: ${expect}\r\nContent-Length: 1\r\n\r\n`);
  const out = req("1.1", "100-Continue");
  assert.equal(out.head?.expectContinue, true);
  assert.equal(out.headersComplete, true);
  assert.equal(out.completed, false);
  assert.equal(req("1.0", "100-continue").head?.expectContinue, false);
  assert.equal(req("1.1", "100-continue-ish").head?.expectContinue, false);
  assert.equal(req("1.1", "").head?.expectContinue, false);
});

test("parser: keepAlive follows RFC 9112 9.3 Connection tokens", () => {
  const cases: [string, string | null, boolean][] = [
    ["1.1", null, true],
    ["1.1", "close", false],
    ["1.1", "Keep-Alive, CLOSE", false],
    ["1.1", "upgrade", true],
    ["1.1", "closed", true],
    ["1.0", null, false],
    ["1.0", "keep-alive", true],
    ["1.0", "Upgrade , Keep-Alive", true],
    ["1.0", "keep-alive, close", false],
    ["1.0", "keep-alives", false],
  ];
  for (const [version, connection, expected] of cases) {
    const header = connection === null ? "" : `Connection: ${connection}\r\n`;
    const out = parse(`GET / HTTP/${version}\r\nHost: h\r\n${header}\r\n`);
    assert.equal(out.head?.keepAlive, expected, `${version} ${connection}`);
  }
  const two = parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nConnection: close\r\n\r\n");
  assert.equal(two.head?.keepAlive, false);
});

test("parser: once an error is set, nothing more is consumed", () => {
  const parser = newParser();
  const data = bytes("GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\nGET / HTTP/1.1\r\n");
  const used = parser.received(data);
  assert.equal(parser.completed, true);
  assert.equal(parser.error?.status, 400);
  assert.ok(used < data.length);
  assert.equal(parser.received(bytes("more")), 0);
  assert.equal(parser.head, null);
  assert.equal(parser.headersComplete, false);
});

test("parser: results are the same for every split position and byte by byte", () => {
  const corpus = [
    GET,
    "\r\n" + GET + "GET /next HTTP/1.1\r\n",
    "POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabcdef",
    'POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b"\r\nabc\r\n10\r\n0123456789abcdef\r\n' +
    "0\r\nTrailer: x\r\n\r\nGET",
    "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n",
    "POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: caf\xe9\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n",
    "get / HTTP/1.1\r\n\r\n",
    "GET / HTTP/2.0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: h\r\nX: " + "y".repeat(100) + "\r\n\r\n",
    "\r\n\r\r\n",
  ];
  for (const input of corpus) assertSplitInvariant(input, { maxRequestHeaderSize: 120, maxRequestBodySize: 1000 });
});

test("parser: findHeadEnd finds only CRLFCRLF, within the given range", () => {
  const b = bytes("ab\r\n\r\ncd");
  assert.equal(findHeadEnd(b, 0, b.length), 6);
  assert.equal(findHeadEnd(b, 0, 5), -1);
  assert.equal(findHeadEnd(bytes("a\n\n\r\n\r"), 0, 6), -1);
  assert.equal(findHeadEnd(bytes("\r\r\n\r\n"), 0, 5), 5);
});

test("parser: findHeadEnd agrees with a naive search on every short CR/LF/x string", () => {
  const alphabet = [13, 10, 120];
  const naive = (b: Uint8Array, from: number, to: number): number => {
    for (let i = from; i + 4 <= to; i++) {
      if (b[i] === 13 && b[i + 1] === 10 && b[i + 2] === 13 && b[i + 3] === 10) return i + 4;
    }
    return -1;
  };
  for (let length = 0; length <= 9; length++) {
    const b = new Uint8Array(length);
    for (let code = 0; code < 3 ** length; code++) {
      let rest = code;
      for (let i = 0; i < length; i++) {
        b[i] = alphabet[rest % 3];
        rest = Math.floor(rest / 3);
      }
      for (let from = 0; from <= Math.min(length, 2); from++) {
        assert.equal(findHeadEnd(b, from, length), naive(b, from, length));
        if (length > 0) assert.equal(findHeadEnd(b, from, length - 1), naive(b, from, length - 1));
      }
    }
  }
});

test("parser: decodeLatin1 maps every byte to the same code point (not windows-1252)", () => {
  const all = new Uint8Array(256);
  for (let i = 0; i < 256; i++) all[i] = i;
  const s = decodeLatin1(all, 0, 256);
  assert.equal(s.length, 256);
  for (let i = 0; i < 256; i++) assert.equal(s.charCodeAt(i), i);
  assert.equal(decodeLatin1(bytes("xcaf\xc3\xa9x"), 1, 7), "caf\xc3\xa9x");
  assert.equal(decodeLatin1(bytes("\xef\xbf\xbd"), 0, 3), "\xef\xbf\xbd");
  const buffer = Buffer.from(all);
  assert.equal(decodeLatin1(buffer, 0, 256), s);
  assert.equal(decodeLatin1(buffer, 0x80, 0xa0), s.slice(0x80, 0xa0));
  const long = new Uint8Array(10000).fill(0x85);
  assert.equal(decodeLatin1(long, 0, long.length), "\x85".repeat(10000));
});

test("parser: helpers parseTokenList and isHostPort", () => {
  assert.deepEqual(parseTokenList(" a ,, B\t,c"), ["a", "b", "c"]);
  assert.deepEqual(parseTokenList(""), []);
  assert.equal(isHostPort("example.com:443", true), true);
  assert.equal(isHostPort("example.com:", true), false);
  assert.equal(isHostPort(":443", true), false);
  assert.equal(isHostPort("example.com:", false), true);
});
