/**
 * Independent reference checks for requests the parser accepted: a field-line
 * and chunked-body grammar written from RFC 9112 apart from lib/, so that an
 * accepted request that is ambiguous shows, and re-serialisation of what was
 * parsed.
 *
 * @module
 */
import type { RequestHead } from "../../lib/parser.ts";
import { latin1, toLatin1 } from "./bytes.ts";
import type { RequestOutcome } from "./parser_harness.ts";

const TCHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A CTL other than HTAB, or DEL. */
function isCtl(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || c === 0x7f;
}

/**
 * `field-name ":" OWS field-value OWS` without its CRLF, checked by hand
 * (RFC 9112 section 5, RFC 9110 section 5.5): returns [name, trimmed value]
 * or a reason.
 */
function referenceFieldLine(line: string): [string, string] | string {
  const colon = line.indexOf(":");
  if (colon <= 0) return "no field name";
  const name = line.slice(0, colon);
  if (!TCHAR.test(name)) return `field name ${JSON.stringify(name)} is not a token`;
  const value = line.slice(colon + 1);
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 13 || c === 10) return "bare CR or LF in a field line";
    if (isCtl(c)) return `CTL 0x${c.toString(16)} in a field value`;
    if (c > 0xff) return "non-latin-1";
  }
  return [name, value.replace(/^[ \t]+|[ \t]+$/g, "")];
}

const CHUNK_EXT = new RegExp(
  "^(?:[ \\t]*;[ \\t]*[!#$%&'*+\\-.^_`|~0-9A-Za-z]+(?:[ \\t]*=[ \\t]*(?:[!#$%&'*+\\-.^_`|~0-9A-Za-z]+|" +
    '"(?:[\\t \\x21\\x23-\\x5b\\x5d-\\x7e\\x80-\\xff]|\\\\[\\t \\x21-\\x7e\\x80-\\xff])*"))?)*$',
);

/**
 * A strict, whole-input chunked decoder written from RFC 9112 section 7.1,
 * independent of lib/receiver.ts: returns the decoded body and the framing
 * length, or a reason why the bytes are not a complete chunked body.
 */
export function referenceChunked(s: string): { body: string; length: number } | string {
  let pos = 0;
  let body = "";
  for (let guard = 0; guard <= s.length; guard++) {
    const crlf = s.indexOf("\r\n", pos);
    if (crlf === -1) return "incomplete size line";
    const line = s.slice(pos, crlf);
    if (/[\r\n]/.test(line)) return "bare CR or LF in a size line";
    const m = /^([0-9A-Fa-f]+)(.*)$/s.exec(line);
    if (m === null) return `invalid chunk size line ${JSON.stringify(line)}`;
    if (!CHUNK_EXT.test(m[2])) return `invalid chunk extension ${JSON.stringify(m[2])}`;
    const size = BigInt("0x" + m[1]);
    pos = crlf + 2;
    if (size === 0n) {
      for (let g = 0; g <= s.length; g++) {
        const end = s.indexOf("\r\n", pos);
        if (end === -1) return "incomplete trailer section";
        const trailer = s.slice(pos, end);
        pos = end + 2;
        if (trailer === "") return { body, length: pos };
        if (trailer.charCodeAt(0) === 0x20 || trailer.charCodeAt(0) === 0x09) return "obs-fold in trailers";
        const field = referenceFieldLine(trailer);
        if (typeof field === "string") return `trailer: ${field}`;
      }
      return "trailer loop bound";
    }
    if (size > BigInt(s.length - pos)) return "incomplete chunk data";
    const n = Number(size);
    body += s.slice(pos, pos + n);
    pos += n;
    if (s.slice(pos, pos + 2) !== "\r\n") return "chunk data not followed by CRLF";
    pos += 2;
  }
  return "chunk loop bound";
}

/**
 * For a request the parser accepted, re-derives everything from the raw
 * bytes with independent code and checks the framing is unambiguous:
 * CRLF-only lines, no obs-fold, no CTLs in values, token names, never CL and
 * TE together, TE only as exactly `chunked` on HTTP/1.1, CL only as 1*DIGIT,
 * and the same head fields, body and consumed count as the parser.
 * Returns null, or the reason the acceptance is wrong.
 */
export function checkAccepted(data: Uint8Array, r: RequestOutcome): string | null {
  const head = r.head;
  if (head === null || r.error !== null || !r.completed) return "not an accepted request";
  const s = toLatin1(data.subarray(r.start, r.start + r.consumed));
  let pos = 0;
  while (s.startsWith("\r\n", pos)) pos += 2;
  const headEnd = s.indexOf("\r\n\r\n", pos);
  if (headEnd === -1) return "accepted without a CRLFCRLF";
  const headText = s.slice(pos, headEnd + 2);
  const lines = headText.split("\r\n");
  lines.pop(); // "" after the final CRLF
  for (const line of lines) if (/[\r\n]/.test(line)) return `bare CR or LF in ${JSON.stringify(line)}`;
  // HTTP/1.2 to 1.9 are served as 1.1 (RFC 9110 2.5).
  const rl = /^([!#$%&'*+\-.^_`|~0-9A-Z]+) ([\x21-\x7e]+) HTTP\/1\.([0-9])$/.exec(lines[0]);
  if (rl === null) return `accepted request line ${JSON.stringify(lines[0])}`;
  if (rl[1] !== head.method || rl[2] !== head.target || (rl[3] === "0" ? "1.0" : "1.1") !== head.version) {
    return "request line fields";
  }
  const headers: string[] = [];
  let te: string[] | null = null;
  let cl: string[] = [];
  let hosts = 0;
  for (const line of lines.slice(1)) {
    if (line.charCodeAt(0) === 0x20 || line.charCodeAt(0) === 0x09) return `obs-fold accepted: ${JSON.stringify(line)}`;
    const field = referenceFieldLine(line);
    if (typeof field === "string") return `${field}: ${JSON.stringify(line)}`;
    const [name, value] = field;
    if (name.includes("_")) continue;
    const lower = name.toLowerCase();
    headers.push(lower, value);
    if (lower === "transfer-encoding") te = [...(te ?? []), ...value.split(",")];
    if (lower === "content-length") cl = [...cl, value];
    if (lower === "host") hosts++;
  }
  if (JSON.stringify(headers) !== JSON.stringify(head.headers)) return "header list differs";
  if (head.version === "1.1" && hosts !== 1) return `HTTP/1.1 accepted with ${hosts} Host fields`;
  if (hosts > 1) return "several Host fields accepted";
  if (te !== null && cl.length > 0) return "Content-Length and Transfer-Encoding both accepted";
  if (cl.length > 1) return "several Content-Length fields accepted";
  const body = s.slice(headEnd + 4);
  if (te !== null) {
    const codings = te.map((c) => c.replace(/^[ \t]+|[ \t]+$/g, "")).filter((c) => c !== "");
    if (head.version !== "1.1") return "Transfer-Encoding accepted on HTTP/1.0";
    if (codings.length !== 1 || codings[0].toLowerCase() !== "chunked") {
      return `Transfer-Encoding ${JSON.stringify(te.join(","))} accepted`;
    }
    if (!head.chunked || head.contentLength !== -1) return "chunked not reported";
    const decoded = referenceChunked(body);
    if (typeof decoded === "string") return `chunked body accepted by the parser, not by the reference: ${decoded}`;
    if (decoded.length !== body.length) {
      return `chunked framing length: reference ${decoded.length}, parser ${body.length}`;
    }
    if ((r.body ?? "") !== decoded.body) return "chunked body bytes differ";
    return null;
  }
  if (head.chunked) return "chunked without Transfer-Encoding";
  if (cl.length === 1) {
    if (!/^[0-9]+$/.test(cl[0])) return `Content-Length ${JSON.stringify(cl[0])} accepted`;
    const n = Number(cl[0]);
    if (head.contentLength !== n) return "contentLength differs";
    if (body.length !== n) return `Content-Length ${n} but ${body.length} body bytes consumed`;
    if (n > 0 && r.body !== body) return "body bytes differ";
    if (n === 0 && r.body !== null) return "a sink for an empty body";
    return null;
  }
  if (head.contentLength !== -1) return "contentLength without the header";
  if (body.length !== 0 || r.body !== null) return "a body without framing";
  return null;
}

/**
 * Re-serialises an accepted request (request line, `name:value` fields,
 * body re-framed the same way) and parses it again: the result must be the
 * same head and body. The form is never longer than the original head, so
 * limits cannot turn it into an error.
 */
export function reserialise(r: RequestOutcome): Uint8Array {
  const head = r.head as RequestHead;
  let text = `${head.method} ${head.target} HTTP/${head.version}\r\n`;
  for (let i = 0; i < head.headers.length; i += 2) text += `${head.headers[i]}:${head.headers[i + 1]}\r\n`;
  text += "\r\n";
  const body = r.body ?? "";
  if (head.chunked) text += (body.length > 0 ? `${body.length.toString(16)}\r\n${body}\r\n` : "") + "0\r\n\r\n";
  else text += body;
  return latin1(text);
}
