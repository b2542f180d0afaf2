/**
 * Differential check of our request parsing against node:http (llhttp).
 *
 * Every case of {@link CASES} is sent, as raw bytes on a fresh 127.0.0.1
 * connection, to our `serve()` (under the runtime running this script) and to
 * a node:http server (in this process under Node; a child `node` process under
 * Deno and Bun, so the reference is always real llhttp). Both apps echo the
 * method, the path, the body length and a digest of the body, so framing
 * differences show. Each case records both sides and whether they agree.
 *
 *   node scripts/differential.ts           print the comparison
 *   node scripts/differential.ts --write   also regenerate docs/differential.md
 *   deno run -A scripts/differential.ts    our server under Deno
 *   bun scripts/differential.ts            our server under Bun
 *
 * tests/differential.test.ts runs the same corpus against our server only and
 * checks each case's `expect`, so the report cannot drift from behaviour.
 *
 * @module
 */
import { connect } from "node:net";
import { createHash } from "node:crypto";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { serve } from "../mod.ts";
import type { Server } from "../mod.ts";
import { parseResponses } from "../tests/_helpers.ts";

/** One request (or pipelined stream) of the corpus. */
export interface Case {
  id: string;
  group: string;
  /** What the case is about. */
  title: string;
  /** Raw bytes, as a latin-1 string. */
  raw: string;
  /**
   * Our expected answers, in order: "200 METHOD /path LEN" for a served
   * request (LEN = body bytes the app got), else the status alone; an empty
   * list when the server keeps waiting for more bytes.
   */
  expect: string[];
  /** Why ours is right where it and node:http disagree (written from the actual results). */
  why?: string;
}

const H = "Host: x\r\n";
const P = "POST / HTTP/1.1\r\n" + H;
const TE = "Transfer-Encoding: chunked\r\n";
const BODY5 = "5\r\nhello\r\n0\r\n\r\n";
const BIG = "v".repeat(300 * 1024);

/** The corpus. Keep ids stable: the report and the test refer to them. */
export const CASES: Case[] = [
  // --- plain valid requests -------------------------------------------------
  {
    id: "ok-get",
    group: "valid",
    title: "simple GET",
    raw: "GET /a?b=1 HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 GET /a?b=1 0"],
  },
  {
    id: "ok-get10",
    group: "valid",
    title: "HTTP/1.0 GET without Host",
    raw: "GET / HTTP/1.0\r\n\r\n",
    expect: ["200 GET / 0"],
  },
  {
    id: "ok-cl",
    group: "valid",
    title: "POST with Content-Length",
    raw: P + "Content-Length: 5\r\n\r\nhello",
    expect: ["200 POST / 5"],
  },
  {
    id: "ok-cl0",
    group: "valid",
    title: "POST with Content-Length: 0",
    raw: P + "Content-Length: 0\r\n\r\n",
    expect: ["200 POST / 0"],
  },
  {
    id: "ok-chunked",
    group: "valid",
    title: "chunked body with extensions and a trailer",
    raw: P + TE + '\r\n5;a=b;c="d e"\r\nhello\r\n6\r\n world\r\n0\r\nT: 1\r\n\r\n',
    expect: ["200 POST / 11"],
  },
  {
    id: "ok-pipelined",
    group: "valid",
    title: "two pipelined requests",
    raw: "GET /1 HTTP/1.1\r\n" + H + "\r\n" + P + "Content-Length: 2\r\n\r\nhi",
    expect: ["200 GET /1 0", "200 POST / 2"],
  },
  {
    id: "ok-absolute",
    group: "valid",
    title: "absolute-form target",
    raw: "GET http://x/abs?q HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 GET /abs?q 0"],
  },
  {
    id: "ok-options-star",
    group: "valid",
    title: "OPTIONS * (asterisk-form)",
    raw: "OPTIONS * HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 OPTIONS * 0"],
  },
  {
    id: "ok-leading-crlf",
    group: "valid",
    title: "CRLF before the request line",
    raw: "\r\n\r\nGET / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 GET / 0"],
  },
  {
    id: "ok-obs-text",
    group: "valid",
    title: "obs-text (0xE9) in a header value",
    raw: "GET / HTTP/1.1\r\n" + H + "X: caf\xe9\r\n\r\n",
    expect: ["200 GET / 0"],
  },
  {
    id: "ok-empty-value",
    group: "valid",
    title: "empty header value",
    raw: "GET / HTTP/1.1\r\n" + H + "X:\r\n\r\n",
    expect: ["200 GET / 0"],
  },
  {
    id: "ok-tab-ows",
    group: "valid",
    title: "HTAB as OWS around a value",
    raw: "GET / HTTP/1.1\r\n" + H + "X:\tv\t\r\n\r\n",
    expect: ["200 GET / 0"],
  },
  {
    id: "ok-get-body",
    group: "valid",
    title: "GET with a Content-Length body",
    raw: "GET / HTTP/1.1\r\n" + H + "Content-Length: 3\r\n\r\nabc",
    expect: ["200 GET / 3"],
  },
  {
    id: "ok-te-case",
    group: "valid",
    title: "Transfer-Encoding: CHUNKED (case)",
    raw: P + "Transfer-Encoding: CHUNKED\r\n\r\n" + BODY5,
    expect: ["200 POST / 5"],
  },
  {
    id: "ok-cl-ows",
    group: "valid",
    title: "Content-Length with surrounding OWS",
    raw: P + "Content-Length:  5 \r\n\r\nhello",
    expect: ["200 POST / 5"],
  },
  {
    id: "ok-cl-zeros",
    group: "valid",
    title: "Content-Length with leading zeros",
    raw: P + "Content-Length: 005\r\n\r\nhello",
    expect: ["200 POST / 5"],
  },
  {
    id: "ok-msearch",
    group: "valid",
    title: "M-SEARCH method (a token llhttp knows)",
    raw: "M-SEARCH / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 M-SEARCH / 0"],
  },
  {
    id: "ok-http10-keepalive",
    group: "valid",
    title: "HTTP/1.0 keep-alive, pipelined",
    raw: "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
    expect: ["200 GET /1 0", "200 GET /2 0"],
    why:
      "Not a parse disagreement on `/1`: node:http answers an HTTP/1.0 request with `Connection: close` (close-delimited) even though it asked for keep-alive, and closes before serving `/2`. We honour `Connection: keep-alive` on HTTP/1.0 (RFC 9112 §9.3, as waitress does) and answer both in order.",
  },
  {
    id: "ok-conn-close",
    group: "valid",
    title: "Connection: close, then a pipelined request",
    raw: "GET /1 HTTP/1.1\r\n" + H + "Connection: close\r\n\r\nGET /2 HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 GET /1 0"],
    why:
      "Both parse `/1` as valid. llhttp (strict mode) treats any byte after a request carrying `Connection: close` as an error (HPE_CLOSED_CONNECTION), and node:http sends that 400 before the app's asynchronous 200, so the valid request is never answered. RFC 9112 §9.6: the server MUST close after the final response to the request with `close` and MUST NOT process further requests; we answer `/1`, then close and ignore `/2`.",
  },
  {
    id: "ok-underscore",
    group: "valid",
    title: "header name with underscore (dropped)",
    raw: P + "Content_Length: 5\r\n\r\n",
    expect: ["200 POST / 0"],
  },
  {
    id: "ok-zeros-size",
    group: "chunk-size",
    title: "chunk size with leading zeros (0005)",
    raw: P + TE + "\r\n0005\r\nhello\r\n0\r\n\r\n",
    expect: ["200 POST / 5"],
  },
  {
    id: "ok-hex-upper",
    group: "chunk-size",
    title: "upper-case hex chunk size (A)",
    raw: P + TE + "\r\nA\r\n0123456789\r\n0\r\n\r\n",
    expect: ["200 POST / 10"],
  },

  // --- CL / TE combinations -------------------------------------------------
  {
    id: "clte",
    group: "CL/TE",
    title: "Content-Length then Transfer-Encoding: chunked (CL.TE)",
    raw: P + "Content-Length: 6\r\n" + TE + "\r\n0\r\n\r\nG",
    expect: ["400"],
  },
  {
    id: "tecl",
    group: "CL/TE",
    title: "Transfer-Encoding: chunked then Content-Length (TE.CL)",
    raw: P + TE + "Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cl-dup-same",
    group: "CL/TE",
    title: "Content-Length twice, same value",
    raw: P + "Content-Length: 5\r\nContent-Length: 5\r\n\r\nhello",
    expect: ["400"],
  },
  {
    id: "cl-dup-diff",
    group: "CL/TE",
    title: "Content-Length 0 and 45 (CVE-2019-16792)",
    raw: "GET / HTTP/1.1\r\n" + H + "Content-Length: 0\r\nContent-Length: 45\r\n\r\nGET /smuggled HTTP/1.1\r\n" + H +
      "\r\n",
    expect: ["400"],
  },
  {
    id: "cl-list",
    group: "CL/TE",
    title: "Content-Length: 5, 5",
    raw: P + "Content-Length: 5, 5\r\n\r\nhello",
    expect: ["400"],
  },
  {
    id: "cl-plus",
    group: "CL/TE",
    title: "Content-Length: +5 (CVE-2022-24761)",
    raw: P + "Content-Length: +5\r\n\r\nhello",
    expect: ["400"],
  },
  {
    id: "cl-hex",
    group: "CL/TE",
    title: "Content-Length: 0x5",
    raw: P + "Content-Length: 0x5\r\n\r\nhello",
    expect: ["400"],
  },
  { id: "cl-neg", group: "CL/TE", title: "Content-Length: -1", raw: P + "Content-Length: -1\r\n\r\n", expect: ["400"] },
  {
    id: "cl-space",
    group: "CL/TE",
    title: "Content-Length: 5 5",
    raw: P + "Content-Length: 5 5\r\n\r\nhello",
    expect: ["400"],
  },
  {
    id: "cl-empty",
    group: "CL/TE",
    title: "empty Content-Length",
    raw: P + "Content-Length:\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cl-huge",
    group: "CL/TE",
    title: "Content-Length: 99999999999999999999",
    raw: P + "Content-Length: 99999999999999999999\r\n\r\n",
    expect: ["413"],
    why:
      "Both reject. We answer 413 because the declared length exceeds max_request_body_size (waitress checks the limit before reading the body); llhttp reports an integer overflow as 400.",
  },
  {
    id: "cl-over-limit",
    group: "CL/TE",
    title: "Content-Length over max_request_body_size (2 GB)",
    raw: P + "Content-Length: 2000000000\r\n\r\nab",
    expect: ["413"],
    why:
      "node:http has no body-size limit and waits for 2 GB. We refuse at once with 413 because Content-Length exceeds max_request_body_size (waitress semantics: the limit is checked before any body byte is read). No framing ambiguity either way.",
  },
  {
    id: "te-dup-list",
    group: "TE",
    title: "Transfer-Encoding: chunked, chunked",
    raw: P + "Transfer-Encoding: chunked, chunked\r\n\r\n" + BODY5,
    expect: ["501"],
    why:
      'Both reject. RFC 9112 §7 / §6.1: chunked MUST NOT be applied more than once; waitress (PR #474) answers 501 "Multiple chunked encodings requested", llhttp 400. Neither frames a body, both close.',
  },
  {
    id: "te-dup-lines",
    group: "TE",
    title: "Transfer-Encoding: chunked on two lines",
    raw: P + TE + TE + "\r\n" + BODY5,
    expect: ["501"],
    why:
      "Same as `te-dup-list`: two `Transfer-Encoding: chunked` lines combine to `chunked, chunked` (RFC 9110 §5.3); waitress's 501, llhttp's 400; both close.",
  },
  {
    id: "te-gzip-chunked",
    group: "TE",
    title: "Transfer-Encoding: gzip, chunked (CVE-2019-16786)",
    raw: P + "Transfer-Encoding: gzip, chunked\r\n\r\n" + BODY5,
    expect: ["501"],
    why:
      "The one TE disagreement that matters. node:http de-chunks and hands the app the still gzip-coded bytes as if they were the content, without telling it a coding was applied. We do not implement gzip as a transfer coding, and RFC 9112 §6.1 says a server that receives a transfer coding it does not understand SHOULD answer 501; this is waitress's fix for CVE-2019-16786 (TE lists must be parsed, and anything but `chunked` refused). Refusing cannot desynchronise a front end: we close after the 501.",
  },
  {
    id: "te-chunked-gzip",
    group: "TE",
    title: "Transfer-Encoding: chunked, gzip",
    raw: P + "Transfer-Encoding: chunked, gzip\r\n\r\n" + BODY5,
    expect: ["400"],
    why:
      "Both reject and close with 400. RFC 9112 §6.3: when chunked is not the final transfer coding of a request the length cannot be determined and the server MUST answer 400 and close; waitress answers 501 here. Neither side falls back to a Content-Length, so nothing is smuggled.",
  },
  {
    id: "te-identity",
    group: "TE",
    title: "Transfer-Encoding: identity with Content-Length",
    raw: P + "Transfer-Encoding: identity\r\nContent-Length: 5\r\n\r\nhello",
    expect: ["400"],
    why:
      "Both reject and close with 400. RFC 9112 §6.3: when chunked is not the final transfer coding of a request the length cannot be determined and the server MUST answer 400 and close; waitress answers 501 here. Neither side falls back to a Content-Length, so nothing is smuggled.",
  },
  {
    id: "te-x85",
    group: "TE",
    title: "Transfer-Encoding: \\x85chunked with CL (CVE-2019-16789)",
    raw: P + "Content-Length: 5\r\nTransfer-Encoding: \x85chunked\r\n\r\nhello",
    expect: ["400"],
    why:
      "Both reject and close with 400. RFC 9112 §6.3: when chunked is not the final transfer coding of a request the length cannot be determined and the server MUST answer 400 and close; waitress answers 501 here. Neither side falls back to a Content-Length, so nothing is smuggled.",
  },
  {
    id: "te-x0b",
    group: "TE",
    title: "Transfer-Encoding: \\x0bchunked (CVE-2019-16789)",
    raw: P + "Transfer-Encoding: \x0bchunked\r\n\r\n" + BODY5,
    expect: ["400"],
  },
  {
    id: "te-xa0-trail",
    group: "TE",
    title: "Transfer-Encoding: chunked\\xa0",
    raw: P + "Transfer-Encoding: chunked\xa0\r\n\r\n" + BODY5,
    expect: ["400"],
    why:
      "Both reject and close with 400. RFC 9112 §6.3: when chunked is not the final transfer coding of a request the length cannot be determined and the server MUST answer 400 and close; waitress answers 501 here. Neither side falls back to a Content-Length, so nothing is smuggled.",
  },
  {
    id: "te-leading-comma",
    group: "TE",
    title: "Transfer-Encoding: , chunked (empty list element)",
    raw: P + "Transfer-Encoding: , chunked\r\n\r\n" + BODY5,
    expect: ["200 POST / 5"],
  },
  {
    id: "te-space-colon",
    group: "TE",
    title: "Transfer-Encoding : chunked (space before colon)",
    raw: P + "Transfer-Encoding : chunked\r\n\r\n" + BODY5,
    expect: ["400"],
  },
  {
    id: "te-http10",
    group: "TE",
    title: "Transfer-Encoding: chunked in HTTP/1.0",
    raw: "POST / HTTP/1.0\r\n" + TE + "\r\n" + BODY5,
    expect: ["400"],
    why:
      "node:http honours chunked on an HTTP/1.0 request. RFC 9112 §6.1: a server that receives an HTTP/1.0 message with Transfer-Encoding MUST treat the framing as faulty (a 1.0 intermediary would not have understood it) and close; we answer 400 and close. (Waitress ignores TE on 1.0 and uses Content-Length; refusing is stricter than both.)",
  },
  {
    id: "te-empty",
    group: "TE",
    title: "empty Transfer-Encoding",
    raw: P + "Transfer-Encoding:\r\n\r\n",
    expect: ["400"],
  },

  // --- obs-fold, bare CR / LF, NUL, whitespace ------------------------------
  {
    id: "fold",
    group: "line syntax",
    title: "obs-fold continuation line",
    raw: "GET / HTTP/1.1\r\n" + H + "X: a\r\n b\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "fold-te",
    group: "line syntax",
    title: "Transfer-Encoding folded onto a second line",
    raw: P + "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n" + BODY5,
    expect: ["400"],
  },
  {
    id: "fold-first",
    group: "line syntax",
    title: "folded line before any header",
    raw: "GET / HTTP/1.1\r\n Host: x\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "lf-reqline",
    group: "line syntax",
    title: "bare LF ending the request line",
    raw: "GET / HTTP/1.1\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "lf-header",
    group: "line syntax",
    title: "bare LF inside the head (CVE-2019-16785)",
    raw: P + "Content-Length: 100\r\nX-Header: x\nContent-Length: 0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "lf-only",
    group: "line syntax",
    title: "bare LFs throughout",
    raw: "GET / HTTP/1.1\nHost: x\n\n",
    expect: [],
    why:
      "Both refuse to use the request. A head that only uses bare LFs never reaches the CRLFCRLF terminator, so, exactly as waitress does, our parser keeps waiting until the 431 limit or the idle timeout, while llhttp answers 400 at the first bare LF. Nothing is ever accepted, so there is no smuggling risk; the cost is a connection held until channel_timeout (RFC 9112 §2.2 makes accepting bare LF a MAY, which we and waitress decline since CVE-2019-16785).",
  },
  {
    id: "cr-header",
    group: "line syntax",
    title: "bare CR in a header value",
    raw: "GET / HTTP/1.1\r\n" + H + "X: a\rb\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cr-reqline",
    group: "line syntax",
    title: "bare CR in the request target",
    raw: "GET /a\rb HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "lf-leading",
    group: "line syntax",
    title: "bare LF before the request line",
    raw: "\nGET / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
    why:
      "RFC 9112 §2.2 lets a server ignore empty lines (CRLF) before the request line, and MAY accept a bare LF as a terminator; llhttp skips a bare LF here. We accept only CRLF anywhere in the head (waitress since CVE-2019-16785), so a lone LF is a 400. Stricter, never ambiguous.",
  },
  {
    id: "nul-value",
    group: "line syntax",
    title: "NUL in a header value",
    raw: "GET / HTTP/1.1\r\n" + H + "X: a\x00b\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "nul-name",
    group: "line syntax",
    title: "NUL in a header name",
    raw: "GET / HTTP/1.1\r\n" + H + "X\x00: a\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "nul-target",
    group: "line syntax",
    title: "NUL in the request target",
    raw: "GET /\x00 HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "ws-colon",
    group: "line syntax",
    title: "whitespace before the colon",
    raw: "GET / HTTP/1.1\r\nHost : x\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "empty-name",
    group: "line syntax",
    title: "empty header name",
    raw: "GET / HTTP/1.1\r\n" + H + ": v\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "bad-name",
    group: "line syntax",
    title: "non-token character in a header name",
    raw: "GET / HTTP/1.1\r\n" + H + "X@Y: v\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "ctl-value",
    group: "line syntax",
    title: "CTL 0x10 after a long value (CVE-2020-5236 shape)",
    raw: "GET / HTTP/1.1\r\n" + H + "foo: " + "x".repeat(2000) + "\x10\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "del-value",
    group: "line syntax",
    title: "DEL in a header value",
    raw: "GET / HTTP/1.1\r\n" + H + "X: a\x7fb\r\n\r\n",
    expect: ["400"],
  },

  // --- request line ---------------------------------------------------------
  {
    id: "rl-double-space",
    group: "request line",
    title: "double space after the method",
    raw: "GET  / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
    why:
      'RFC 9112 §3: `method SP request-target SP HTTP-version`, single spaces; an invalid request line SHOULD get 400, and a recipient SHOULD NOT autocorrect it because the line "might be deliberately crafted to bypass security filters". llhttp skips the extra space; we (and waitress 3.x, "Start line is invalid") refuse.',
  },
  {
    id: "rl-tabs",
    group: "request line",
    title: "tabs as separators",
    raw: "GET\t/\tHTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-trailing-space",
    group: "request line",
    title: "trailing space after the version",
    raw: "GET / HTTP/1.1 \r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-lower-version",
    group: "request line",
    title: "lower-case http/1.1",
    raw: "GET / http/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-http09",
    group: "request line",
    title: "HTTP/0.9 form (no version)",
    raw: "GET /\r\n\r\n",
    expect: ["400"],
    why:
      "llhttp treats a version-less line as HTTP/0.9 and node:http serves it. RFC 9112 §3 requires an HTTP-version in the request line and HTTP/0.9 has no header section, so a Host-less, length-less request cannot be checked; we answer 400. (Waitress serves it as HTTP/1.0; our parser deliberately drops the HTTP/0.9 form.)",
  },
  {
    id: "rl-http12",
    group: "request line",
    title: "HTTP/1.2",
    raw: "GET / HTTP/1.2\r\n" + H + "\r\n",
    expect: ["505"],
    why:
      "Both reject. Strictly, RFC 9110 §2.5 says a recipient SHOULD process a higher minor version of a major it implements as the highest minor it supports (1.1); waitress serves it (as 1.0), llhttp answers 400, we answer 505 and close. No framing risk either way; noted for the lead as a deviation from a SHOULD.",
  },
  {
    id: "rl-http20",
    group: "request line",
    title: "HTTP/2.0",
    raw: "GET / HTTP/2.0\r\n" + H + "\r\n",
    expect: ["505"],
    why:
      "node:http serves `HTTP/2.0` in an HTTP/1 request line as if it were 1.x. HTTP/2 has no text request line (RFC 9113), so this is either a confused client or an attempt to get a different parse from a front end; RFC 9110 §15.6.6 505 (HTTP Version Not Supported) is the precise answer, and we close.",
  },
  {
    id: "rl-version-10digits",
    group: "request line",
    title: "HTTP/1.10",
    raw: "GET / HTTP/1.10\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-lower-method",
    group: "request line",
    title: "lower-case method",
    raw: "get / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-unknown-method",
    group: "request line",
    title: "unknown upper-case method FOO",
    raw: "FOO / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["200 FOO / 0"],
    why:
      "Methods are an open set of tokens (RFC 9110 §9.1); llhttp only knows a fixed list and refuses others with 400. Like waitress, we pass an unknown upper-case method to the app, which decides (501 if it does not implement it, RFC 9110 §9.1). The request's framing is unambiguous.",
  },
  {
    id: "rl-bad-method",
    group: "request line",
    title: "method with a non-token character (G@T)",
    raw: "G@T / HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-star-get",
    group: "request line",
    title: "asterisk-form with GET",
    raw: "GET * HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
    why:
      "RFC 9112 §3.2.4: the asterisk-form is only used with OPTIONS. node:http gives the app `GET *`; we answer 400, so an app never sees a target that is not a path.",
  },
  {
    id: "rl-non-ascii",
    group: "request line",
    title: "raw non-ASCII byte in the target",
    raw: "GET /caf\xe9 HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-relative",
    group: "request line",
    title: "target without a leading slash",
    raw: "GET a/b HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "rl-abs-userinfo",
    group: "request line",
    title: "absolute-form with userinfo (http://u:p@x/)",
    raw: "GET http://u:p@x/ HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
    why:
      "RFC 9110 §4.2.4: a recipient SHOULD treat userinfo in an http URI as an error (it is a phishing device that hides the real authority); request.url would have carried it. node:http serves it.",
  },
  {
    id: "rl-abs-empty-host",
    group: "request line",
    title: "absolute-form with an empty host (http:///x)",
    raw: "GET http:///x HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
    why:
      "RFC 9110 §4.2.1: an http URI with an empty host is invalid and a recipient MUST reject it; request.url would have been `http:///x`, which `new URL()` reads as host `x`. node:http serves it.",
  },

  // --- chunked framing ------------------------------------------------------
  {
    id: "cs-0x",
    group: "chunk-size",
    title: "chunk size 0x5",
    raw: P + TE + "\r\n0x5\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-plus",
    group: "chunk-size",
    title: "chunk size +5",
    raw: P + TE + "\r\n+5\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-leading-space",
    group: "chunk-size",
    title: "chunk size with a leading space",
    raw: P + TE + "\r\n 5\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-trailing-space",
    group: "chunk-size",
    title: "chunk size with a trailing space",
    raw: P + TE + "\r\n5 \r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-space-ext",
    group: "chunk-size",
    title: "space between size and extension (5 ;a)",
    raw: P + TE + "\r\n5 ;a\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-underscore",
    group: "chunk-size",
    title: "chunk size 1_0",
    raw: P + TE + "\r\n1_0\r\n0123456789abcdef\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-17-digits",
    group: "chunk-size",
    title: "17 hex digits (10000000000000005)",
    raw: P + TE + "\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
    expect: ["413"],
    why:
      "Both reject and close. 17 hex digits cannot fit any body limit, so we answer 413 as soon as the size line is read (the limit is checked when a size line announces bytes); llhttp reports overflow as 400.",
  },
  {
    id: "cs-16-f",
    group: "chunk-size",
    title: "16 hex digits ffffffffffffffff",
    raw: P + TE + "\r\nffffffffffffffff\r\nhello\r\n",
    expect: ["413"],
    why:
      "`ffffffffffffffff` fits in llhttp's 64-bit counter, so node:http waits for 16 EiB of chunk data. We compare every announced size with max_request_body_size and answer 413 at once, then close: no connection held, no framing ambiguity.",
  },
  {
    id: "cs-empty-line",
    group: "chunk-size",
    title: "empty line where a size is expected",
    raw: P + TE + "\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-lf",
    group: "chunk framing",
    title: "bare LF ending a size line",
    raw: P + TE + "\r\n5\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-data-lf",
    group: "chunk framing",
    title: "bare LF after chunk data",
    raw: P + TE + "\r\n5\r\nhello\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-data-long",
    group: "chunk framing",
    title: "chunk data longer than its size",
    raw: P + TE + "\r\n3\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "cs-last-lf",
    group: "chunk framing",
    title: "bare LF ending the body",
    raw: P + TE + "\r\n5\r\nhello\r\n0\r\n\n",
    expect: ["400"],
  },
  {
    id: "ext-unterminated",
    group: "chunk-ext",
    title: 'unterminated quoted extension (5;a="b)',
    raw: P + TE + '\r\n5;a="b\r\nhello\r\n0\r\n\r\n',
    expect: ["400"],
  },
  {
    id: "ext-ctl",
    group: "chunk-ext",
    title: "CTL in an extension value (5;a=\\x01)",
    raw: P + TE + "\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "ext-empty",
    group: "chunk-ext",
    title: "empty extension (5;)",
    raw: P + TE + "\r\n5;\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "ext-no-value",
    group: "chunk-ext",
    title: "extension with = and no value (5;a=)",
    raw: P + TE + "\r\n5;a=\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
    why:
      'RFC 9112 §7.1.1: `chunk-ext-val = token / quoted-string`, and a token is 1*tchar, so `5;a=` is malformed; llhttp accepts it. Waitress refuses it ("Invalid chunk extension", its test `20;invalid=`, CVE-2022-24761 hardening) and so do we. A front end that parses extensions strictly and one that does not can disagree on where the size line ends, so refusing is the safe side.',
  },
  {
    id: "ext-space-in-token",
    group: "chunk-ext",
    title: "space inside an extension value (5;a=b c)",
    raw: P + TE + "\r\n5;a=b c\r\nhello\r\n0\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "ext-quoted-escape",
    group: "chunk-ext",
    title: 'quoted extension with an escaped quote (5;a="x\\"y")',
    raw: P + TE + '\r\n5;a="x\\"y"\r\nhello\r\n0\r\n\r\n',
    expect: ["200 POST / 5"],
  },
  {
    id: "trailer-bad",
    group: "chunk framing",
    title: "invalid trailer field (space before colon)",
    raw: P + TE + "\r\n0\r\nT : v\r\n\r\n",
    expect: ["400"],
  },
  {
    id: "trailer-fold",
    group: "chunk framing",
    title: "obs-fold in the trailer section",
    raw: P + TE + "\r\n0\r\nT: v\r\n w\r\n\r\n",
    expect: ["400"],
  },

  // --- Host, Expect, limits, pipelining after an error -----------------------
  { id: "host-missing", group: "Host", title: "HTTP/1.1 without Host", raw: "GET / HTTP/1.1\r\n\r\n", expect: ["400"] },
  {
    id: "host-dup",
    group: "Host",
    title: "two Host fields",
    raw: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
    expect: ["400"],
    why:
      "RFC 9112 §3.2: a server MUST respond 400 to a request with more than one Host field line; node:http keeps one and serves it. Two Hosts let a front end route on one and the app see the other (waitress PRs #484/#488).",
  },
  {
    id: "host-invalid",
    group: "Host",
    title: "Host with a space (a b)",
    raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
    expect: ["400"],
    why:
      'RFC 9112 §3.2: a server MUST respond 400 to a Host field with an invalid value; `a b` is not `uri-host [ ":" port ]` (RFC 9110 §7.2). node:http does not validate Host.',
  },
  {
    id: "host-userinfo",
    group: "Host",
    title: "Host with userinfo (u@h)",
    raw: "GET / HTTP/1.1\r\nHost: u@h\r\n\r\n",
    expect: ["400"],
    why:
      "As `host-invalid`: `u@h` is not a valid Host value (userinfo is not part of uri-host, RFC 9110 §7.2 and §4.2.4), so RFC 9112 §3.2's MUST 400 applies; node:http serves it.",
  },
  {
    id: "host-port-only",
    group: "Host",
    title: "Host with a port and no host (:80)",
    raw: "GET / HTTP/1.1\r\nHost: :80\r\n\r\n",
    expect: ["400"],
    why:
      "The target URI would be `http://:80/`, an http URI with an empty host, which RFC 9110 §4.2.1 says a recipient MUST reject. node:http serves it.",
  },
  {
    id: "host-empty",
    group: "Host",
    title: "empty Host",
    raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n",
    expect: ["200 GET / 0"],
    why:
      "Valid: RFC 9112 §3.3 takes the server's own name for an empty Host (request.url is `http://waitress.invalid/`, `--server-name`).",
  },
  {
    id: "ct-dup",
    group: "Host",
    title: "two Content-Type fields",
    raw: P + "Content-Type: a/b\r\nContent-Type: c/d\r\nContent-Length: 0\r\n\r\n",
    expect: ["400"],
    why:
      'Content-Type is a singleton field; RFC 9110 §5.3 says a sender MUST NOT generate several lines for it, so two values mean the sender and any intermediary may disagree on which one applies. Waitress (HEAD, PR #488) answers 400 "Duplicate header", and so do we; node:http combines and serves. A defensible strictness choice rather than an RFC MUST.',
  },
  {
    id: "expect-100",
    group: "Expect",
    title: "Expect: 100-continue with a body",
    raw: P + "Expect: 100-continue\r\nContent-Length: 5\r\n\r\nhello",
    expect: ["200 POST / 5"],
    why:
      "Not a framing difference (the 100 is interim). The whole request arrived in one read, so we skip the 100 Continue: RFC 9110 §10.1.1 lets a server omit it when it has already received some or all of the content. node:http always sends it.",
  },
  {
    id: "expect-100-nobody",
    group: "Expect",
    title: "Expect: 100-continue without a body",
    raw: "GET / HTTP/1.1\r\n" + H + "Expect: 100-continue\r\n\r\n",
    expect: ["200 GET / 0"],
    why:
      "Interim response only: node:http sends 100 Continue even without a body; we answer the final response directly (RFC 9110 §10.1.1 allows omitting the 100). The final responses agree.",
  },
  {
    id: "expect-other",
    group: "Expect",
    title: "Expect: foo",
    raw: P + "Expect: foo\r\nContent-Length: 0\r\n\r\n",
    expect: ["200 POST / 0"],
    why:
      "RFC 9110 §10.1.1 says a server MAY answer 417 to an expectation other than 100-continue; node:http always does. Waitress ignores other expectations and passes the field to the app, and so do we. Both parse the request identically.",
  },
  {
    id: "expect-10",
    group: "Expect",
    title: "Expect: 100-continue on HTTP/1.0",
    raw: "POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi",
    expect: ["200 POST / 2"],
  },
  {
    id: "big-header",
    group: "limits",
    title: "300 KiB header value (over both limits)",
    raw: "GET / HTTP/1.1\r\n" + H + "X: " + BIG + "\r\n\r\n",
    expect: ["431"],
  },
  {
    id: "incomplete-body",
    group: "limits",
    title: "body shorter than Content-Length",
    raw: P + "Content-Length: 10\r\n\r\nhello",
    expect: [],
  },
  {
    id: "half-terminator",
    group: "limits",
    title: "head ending in CRLF CR",
    raw: "GET / HTTP/1.1\r\n" + H + "\r",
    expect: [],
  },
  { id: "only-crlf", group: "limits", title: "only blank lines", raw: "\r\n\r\n", expect: [] },
  {
    id: "error-then-pipelined",
    group: "pipelining",
    title: "invalid request, then a pipelined one (CVE-2024-49768 shape)",
    raw: "GET / HTTP/1.1\r\n" + H + "Content-Length: -1\r\n\r\nPOST /2 HTTP/1.1\r\n" + H + "Content-Length: 1\r\n\r\nx",
    expect: ["400"],
  },
  {
    id: "clte-smuggle",
    group: "pipelining",
    title: "CL.TE smuggling a second request",
    raw: P + "Content-Length: 35\r\n" + TE + "\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\n" + H + "\r\n",
    expect: ["400"],
  },
  {
    id: "tecl-smuggle",
    group: "pipelining",
    title: "TE.CL smuggling a second request",
    raw: P + TE + "Content-Length: 4\r\n\r\n2c\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\nX: 00000\r\n0\r\n\r\n",
    expect: ["400"],
  },
];

// ---------------------------------------------------------------------------
// The two servers
// ---------------------------------------------------------------------------

/** What both apps answer: method, path and query, body length and digest. */
export function echo(method: string, url: string, body: Uint8Array): string {
  let path = url;
  if (!url.startsWith("/") && url !== "*") {
    const u = new URL(url);
    path = u.pathname + u.search;
  }
  const digest = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return `${method} ${path} ${body.length} ${digest}`;
}

/** Our server, echoing. */
export async function startOurs(): Promise<{ server: Server; port: number }> {
  const server = serve(async (req) => {
    // bytes(), not arrayBuffer(): see the arrayBuffer() test in tests/differential.test.ts.
    const body = await req.bytes();
    // request.url is absolute (urlScheme://host + target); keep what follows the authority. A URL cannot say
    // "no path", so request.url spells the asterisk-form (OPTIONS *) "/*", as Deno.serve does: echo it as sent.
    let path = /^[a-z][a-z0-9+.-]*:\/\/[^/?]*(.*)$/i.exec(req.url)?.[1] ?? req.url;
    if (req.method === "OPTIONS" && path === "/*") path = "*";
    return new Response(echo(req.method, path, body));
  }, {
    listen: "127.0.0.1:0",
    logger: { info: () => {}, warn: () => {}, error: () => {} },
  });
  await server.ready;
  return { server, port: server.addrs[0].port };
}

/** The node:http reference, in this process (Node only). Same header limit as ours (waitress's 262144). */
async function startNodeInProcess(): Promise<{ port: number; close: () => Promise<void> }> {
  const http = await import("node:http");
  const server = http.createServer({ maxHeaderSize: 262144 }, (req, res) => {
    const chunks: Uint8Array[] = [];
    req.on("data", (c: Uint8Array) => chunks.push(c));
    req.on("end", () => {
      const total = chunks.reduce((n, c) => n + c.length, 0);
      const body = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) (body.set(c, at), at += c.length);
      res.end(echo(req.method ?? "", req.url ?? "", body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

function isNode(): boolean {
  return !("Deno" in globalThis) && !("Bun" in globalThis);
}

/** The node:http reference: in process on Node, else a child `node` process running this file with --reference-server. */
export async function startReference(): Promise<{ port: number; close: () => Promise<void> }> {
  if (isNode()) return startNodeInProcess();
  const child = spawn(join(ROOT, "node_modules", ".bin", "node"), [
    join(ROOT, "scripts", "differential.ts"),
    "--reference-server",
  ], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("reference server did not start")), 10000);
    child.stdout.on("data", (d: Uint8Array) => {
      out += new TextDecoder().decode(d);
      const m = /PORT (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once("exit", () => reject(new Error("reference server exited")));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.stdin.end(); // the child exits when its stdin closes
        setTimeout(() => child.kill(), 3000).unref?.();
      }),
  };
}

// ---------------------------------------------------------------------------
// Sending a case
// ---------------------------------------------------------------------------

/** What a server did with a case. */
export interface Observed {
  /** One entry per response: "STATUS" or "200 METHOD /path LEN". */
  answers: string[];
  /** The echo lines with digests, for comparing framing exactly. */
  echoes: string[];
  /** The server closed the connection within the wait. */
  closed: boolean;
}

function latin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/**
 * Sends `raw` on a fresh connection and collects responses until the server
 * closes, or nothing arrives for `quietMs`, within `maxMs` in all.
 */
export function send(port: number, raw: string, quietMs = 300, maxMs = 3000): Promise<Observed> {
  return new Promise((resolve) => {
    let buf = new Uint8Array(0);
    let closed = false;
    let settled = false;
    const socket = connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    let quiet: ReturnType<typeof setTimeout> | undefined;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(quiet);
      clearTimeout(hard);
      socket.destroy();
      const responses = parseResponses(buf, closed);
      resolve({
        answers: responses.map((r) =>
          r.status >= 200 && r.status < 300 ? `${r.status} ${r.text.replace(/ [0-9a-f]{16}$/, "")}` : `${r.status}`
        ),
        echoes: responses.map((r) => `${r.status} ${r.status >= 200 && r.status < 300 ? r.text : ""}`),
        closed,
      });
    };
    const hard = setTimeout(finish, maxMs);
    const rearm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(finish, quietMs);
    };
    socket.on("connect", () => {
      socket.write(latin1(raw));
      rearm();
    });
    socket.on("data", (d: Uint8Array) => {
      const merged = new Uint8Array(buf.length + d.length);
      merged.set(buf);
      merged.set(d, buf.length);
      buf = merged;
      rearm();
    });
    const onClose = () => {
      closed = true;
      finish();
    };
    socket.on("end", onClose);
    socket.on("close", onClose);
    socket.on("error", onClose);
  });
}

/** Runs `tasks` with at most `limit` in flight. */
export async function pool<T>(tasks: Array<() => Promise<T>>, limit: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// ---------------------------------------------------------------------------
// Comparison and report
// ---------------------------------------------------------------------------

/** How the two servers relate on a case. */
export type Verdict =
  | "agree"
  | "both reject (status differs)"
  | "we reject, node accepts"
  | "we accept, node rejects"
  | "we reject, node waits"
  | "we wait, node rejects"
  | "node stops early"
  | "we stop early"
  | "framing differs";

function finals(o: Observed): string[] {
  return o.echoes.filter((e) => !e.startsWith("100"));
}

/** Compares our outcome with node's (interim 100 responses aside). */
export function verdict(ours: Observed, node: Observed): Verdict {
  const a = finals(ours);
  const b = finals(node);
  if (JSON.stringify(a) === JSON.stringify(b)) return "agree";
  const okA = a.filter((e) => e.startsWith("2"));
  const okB = b.filter((e) => e.startsWith("2"));
  if (okA.length === 0 && okB.length === 0) {
    if (a.length > 0 && b.length > 0) return "both reject (status differs)";
    return a.length > 0 ? "we reject, node waits" : "we wait, node rejects";
  }
  if (okB.length === 0) return "we accept, node rejects";
  if (okA.length === 0) return "we reject, node accepts";
  const prefix = (x: string[], y: string[]) => x.every((e, i) => e === y[i]);
  if (prefix(okA, okB)) return "we stop early";
  if (prefix(okB, okA)) return "node stops early";
  return "framing differs";
}

function show(o: Observed): string {
  const list = o.answers.length === 0 ? "(no response)" : o.answers.join("; ");
  return list + (o.closed ? ", closed" : "");
}

function cell(s: string): string {
  return s.replace(/\|/g, "\\|");
}

/** The docs/differential.md text. */
export function report(
  rows: Array<{ c: Case; ours: Observed; node: Observed; v: Verdict }>,
  runtime: string,
  header: string,
): string {
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.v, (counts.get(r.v) ?? 0) + 1);
  let md = header;
  md += `## Differential check against node:http (llhttp)\n\n`;
  md += `Generated by \`node scripts/differential.ts --write\` (our server on ${runtime}, the reference ` +
    `node:http of Node ${process.versions.node ?? "?"} with llhttp ${process.versions.llhttp ?? "?"}, ` +
    `default options except \`maxHeaderSize: 262144\`, waitress's header limit). ` +
    `Each case is sent on a fresh 127.0.0.1 connection; both apps answer \`METHOD path body-length sha256-prefix\`. ` +
    `"200 POST / 5" below means the app ran and received 5 body bytes; a bare status is an error answer; ` +
    `"(no response)" means the server was still waiting for bytes after 300 ms; "closed" means it closed the connection. ` +
    `\`tests/differential.test.ts\` checks our column against the corpus on Node, Deno and Bun.\n\n`;
  md += `${rows.length} cases: ` + [...counts].map(([k, v]) => `${v} ${k}`).join(", ") + ".\n\n";
  md += `| id | case | ours | node:http | verdict |\n|---|---|---|---|---|\n`;
  for (const { c, ours, node, v } of rows) {
    md += `| \`${c.id}\` | ${cell(c.title)} | ${cell(show(ours))} | ${cell(show(node))} | ${v} |\n`;
  }
  md += `\n### Where we differ, and why\n\n` +
    `For every case where one side serves what the other refuses or waits for, the reason ours is the safer reading; ` +
    `where only the error status differs, which status the RFC asks for (see the notes at the top).\n\n`;
  for (const { c, ours, node, v } of rows) {
    if (v === "agree") continue;
    md += `- **\`${c.id}\`** (${cell(c.title)}; ours: ${cell(show(ours))}; node: ${cell(show(node))}). ` +
      `${c.why ?? "(no reason written yet)"}\n`;
  }
  return md;
}

function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.version}`;
}

const FUZZ_HEADER_MARK = "## Differential check against node:http (llhttp)";

async function main(argv: string[]): Promise<number> {
  if (argv.includes("--reference-server")) {
    const ref = await startNodeInProcess();
    console.log(`PORT ${ref.port}`);
    process.stdin.resume();
    process.stdin.on("end", () => ref.close().then(() => process.exit(0)));
    return -1;
  }
  const ours = await startOurs();
  const ref = await startReference();
  try {
    const rows = await pool(
      CASES.map((c) => async () => {
        const [o, n] = await Promise.all([send(ours.port, c.raw), send(ref.port, c.raw)]);
        return { c, ours: o, node: n, v: verdict(o, n) };
      }),
      16,
    );
    let mismatches = 0;
    for (const { c, ours: o, node: n, v } of rows) {
      const expected = JSON.stringify(o.answers) === JSON.stringify(c.expect);
      if (!expected) mismatches++;
      console.log(
        `${v === "agree" ? "  " : "≠ "}${c.id.padEnd(22)} ours: ${show(o).padEnd(28)} node: ${
          show(n).padEnd(28)
        } ${v}` +
          (expected ? "" : `   [EXPECTED ${JSON.stringify(c.expect)}]`),
      );
    }
    const differing = rows.filter((r) => r.v !== "agree").length;
    console.log(
      `\n${rows.length} cases, ${
        rows.length - differing
      } agree, ${differing} differ; ${mismatches} not as the corpus expects`,
    );
    if (argv.includes("--write")) {
      const path = join(ROOT, "docs", "differential.md");
      let header = "";
      try {
        const { readFileSync } = await import("node:fs");
        const old = readFileSync(path, "utf8");
        const at = old.indexOf(FUZZ_HEADER_MARK);
        if (at > 0) header = old.slice(0, at);
      } catch {
        // no report yet
      }
      writeFileSync(path, report(rows, runtimeName(), header));
      console.log(`wrote ${path}`);
    }
    return mismatches === 0 ? 0 : 1;
  } finally {
    await ours.server.close();
    await ref.close();
  }
}

if (import.meta.main) {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
}
