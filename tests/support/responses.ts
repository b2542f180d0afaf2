/**
 * HTTP/1.1 responses as read off the wire: status line, header lines in wire
 * order, the body by its framing (length, chunked, close), interim 1xx too.
 *
 * @module
 */
import { concatBytes, toLatin1 } from "./bytes.ts";

/** One response as read off the wire. */
export interface ParsedResponse {
  version: string;
  status: number;
  reason: string;
  /** Header lines in wire order: [Name-as-sent, value]. */
  rawHeaders: Array<[string, string]>;
  /** Lower-cased name -> values. */
  headers: Map<string, string[]>;
  body: Uint8Array;
  text: string;
  /** "length", "chunked", "close" or "none". */
  framing: string;
}

function indexOfCrlfCrlf(buf: Uint8Array, from: number): number {
  for (let i = from; i + 3 < buf.length; i++) {
    if (buf[i] === 13 && buf[i + 1] === 10 && buf[i + 2] === 13 && buf[i + 3] === 10) return i;
  }
  return -1;
}

/** A response head (status line and header lines, without the blank line) as its parts. */
export function parseHeadText(
  headText: string,
): Pick<ParsedResponse, "version" | "status" | "reason" | "rawHeaders" | "headers"> {
  const [statusLine, ...lines] = headText.split("\r\n");
  const m = statusLine.match(/^HTTP\/(\d\.\d) (\d{3}) ?(.*)$/);
  if (!m) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const rawHeaders: Array<[string, string]> = [];
  const headers = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon);
    const value = line.slice(colon + 1).trim();
    rawHeaders.push([name, value]);
    const key = name.toLowerCase();
    headers.set(key, [...(headers.get(key) ?? []), value]);
  }
  return { version: m[1], status: Number(m[2]), reason: m[3], rawHeaders, headers };
}

/**
 * Parses as many complete responses as `buf` holds. A close-delimited body
 * counts only once `eof` is true. Interim 1xx responses are returned too.
 */
export function parseResponses(buf: Uint8Array, eof: boolean, headRequest = false): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const end = indexOfCrlfCrlf(buf, pos);
    if (end < 0) break;
    const { version, status, reason, rawHeaders, headers } = parseHeadText(toLatin1(buf.subarray(pos, end)));
    let bodyStart = end + 4;
    let body = new Uint8Array(0);
    let framing = "none";
    const te = headers.get("transfer-encoding")?.[0];
    const cl = headers.get("content-length")?.[0];
    if (status < 200 || status === 204 || status === 304 || headRequest) {
      framing = "none";
    } else if (te === "chunked") {
      framing = "chunked";
      const chunks: Uint8Array[] = [];
      let p = bodyStart;
      let complete = false;
      for (;;) {
        let lineEnd = -1;
        for (let i = p; i + 1 < buf.length; i++) if (buf[i] === 13 && buf[i + 1] === 10) (lineEnd = i, i = buf.length);
        if (lineEnd < 0) break;
        const size = parseInt(toLatin1(buf.subarray(p, lineEnd)), 16);
        if (size === 0) {
          if (lineEnd + 4 <= buf.length) {
            p = lineEnd + 4;
            complete = true;
          }
          break;
        }
        if (lineEnd + 2 + size + 2 > buf.length) break;
        chunks.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        p = lineEnd + 2 + size + 2;
      }
      if (!complete) break;
      body = concatBytes(chunks);
      bodyStart = p;
    } else if (cl !== undefined) {
      framing = "length";
      const n = Number(cl);
      if (bodyStart + n > buf.length) break;
      body = buf.slice(bodyStart, bodyStart + n);
      bodyStart += n;
    } else {
      framing = "close";
      if (!eof) break;
      body = buf.slice(bodyStart);
      bodyStart = buf.length;
    }
    out.push({
      version,
      status,
      reason,
      rawHeaders,
      headers,
      body,
      text: new TextDecoder().decode(body),
      framing,
    });
    pos = bodyStart;
    if (status === 100) continue;
  }
  return out;
}
