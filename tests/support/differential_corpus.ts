/**
 * The differential corpus: raw requests (and pipelined streams) on the edges
 * of HTTP/1.1 framing, each with what our server answers. Sent to ours and to
 * node:http by scripts/differential.ts; tests/differential.test.ts checks
 * ours against `expect` on every runtime.
 *
 * @module
 */

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
    expect: ["200 GET / 0"],
    why:
      "RFC 9110 §2.5: a recipient of a higher minor version of a major version it implements processes it as the highest minor it supports, so we serve it as HTTP/1.1 and answer HTTP/1.1 (waitress serves it as 1.0; llhttp answers 400). Another major version stays 505.",
  },
  {
    id: "rl-http19-pipelined",
    group: "request line",
    title: "HTTP/1.9, chunked body, pipelined",
    raw: "POST / HTTP/1.9\r\n" + H + "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.9\r\n" +
      H +
      "\r\n",
    expect: ["200 POST / 5", "200 GET /next 0"],
    why:
      "Served as HTTP/1.1 (RFC 9110 §2.5), so HTTP/1.1's framing and persistence apply: the chunked body is read and the connection stays open for the pipelined request.",
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
