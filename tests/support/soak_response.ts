/**
 * Reading the soak's responses off a connection's bytes: one complete
 * HTTP/1.1 response at a time (Content-Length or chunked), its status, body
 * and whether the server announced `Connection: close`.
 *
 * @module
 */
import { Buffer } from "node:buffer";

/** One response taken off the front of the bytes. */
export interface SoakResponse {
  status: number;
  /** The body as latin-1 text (one char per byte). */
  body: string;
  /** The server said `Connection: close`. */
  close: boolean;
  /** How many bytes the response took. */
  size: number;
}

/** What the head says about the framing. */
interface Head {
  status: number;
  /** Content-Length, or -1 when there is none. */
  length: number;
  chunked: boolean;
  close: boolean;
}

const CRLF2 = Buffer.from("\r\n\r\n");
/** A head longer than this without its blank line is an error, not a slow server. */
const MAX_HEAD = 16384;

/** The status line and the framing headers of a head (without its blank line). */
function readHead(text: string): Head {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
  if (m === null) throw new Error(`bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const head: Head = { status: Number(m[1]), length: -1, chunked: false, close: false };
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") head.length = Number(value);
    else if (name === "transfer-encoding") head.chunked = value === "chunked";
    else if (name === "connection") head.close = value.toLowerCase() === "close";
  }
  return head;
}

/** A chunked body from `pos`: its text and where it ends, or null while incomplete. */
function readChunked(buf: Buffer, pos: number): { body: string; end: number } | null {
  const parts: Buffer[] = [];
  for (;;) {
    const lineEnd = buf.indexOf("\r\n", pos);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
    if (Number.isNaN(size)) throw new Error("bad chunk size");
    if (size === 0) {
      if (buf.length < lineEnd + 4) return null;
      return { body: Buffer.concat(parts).toString("latin1"), end: lineEnd + 4 };
    }
    if (buf.length < lineEnd + 2 + size + 2) return null;
    parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
    pos = lineEnd + 2 + size + 2;
  }
}

/**
 * The first complete response in `buf`, or null when more bytes are needed.
 * Throws on what no more bytes can mend: a bad status line, a bad chunk size,
 * a head too large, a response without framing.
 */
export function parseResponse(buf: Buffer): SoakResponse | null {
  if (buf.length === 0) return null;
  const end = buf.indexOf(CRLF2);
  if (end < 0) {
    if (buf.length > MAX_HEAD) throw new Error("response head too large");
    return null;
  }
  const head = readHead(buf.toString("latin1", 0, end));
  const pos = end + 4;
  if (head.chunked) {
    const chunked = readChunked(buf, pos);
    if (chunked === null) return null;
    return { status: head.status, body: chunked.body, close: head.close, size: chunked.end };
  }
  if (head.length < 0) throw new Error(`response without framing (status ${head.status})`);
  if (buf.length < pos + head.length) return null;
  const body = buf.toString("latin1", pos, pos + head.length);
  return { status: head.status, body, close: head.close, size: pos + head.length };
}
