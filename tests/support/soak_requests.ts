/**
 * The requests the soak writes, as bytes on the wire: GETs to the soak
 * server's routes with the request's id in the query, and uploads cut from a
 * fixed pool of bytes whose echo (id, length, sum) the client checks.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import type { Expect } from "./soak_run.ts";

/** The largest upload the soak sends; uploads are slices of a pool this long. */
const UPLOAD_POOL_SIZE = 512 * 1024;
/** Deterministic, uneven bytes, so that a misplaced slice changes the sum. */
const UPLOAD_POOL: Buffer = Buffer.alloc(UPLOAD_POOL_SIZE);
for (let i = 0; i < UPLOAD_POOL.length; i++) UPLOAD_POOL[i] = (i * 7919 + (i >> 9)) & 0xff;

/** An upload's bytes (head and body) and the response it must get. */
export interface Upload {
  bytes: Buffer;
  expect: Expect;
}

/** A GET of `path` carrying `id` (and `extra` header lines, each ending in CRLF). */
export function getRequest(path: string, id: string, extra = ""): string {
  return `GET ${path}?id=${id} HTTP/1.1\r\nHost: soak\r\n${extra}\r\n`;
}

/** The body `/slow` answers for `id`. */
export function slowBody(id: string): string {
  return `${id}:${"z".repeat(4000)}:${id}`;
}

/**
 * A POST to `/u` of `size` bytes taken from the pool at `offset` (at most
 * the pool's size minus `size`); the server echoes id, length and sum.
 */
export function uploadRequest(id: string, size: number, offset: number): Upload {
  const body = UPLOAD_POOL.subarray(offset, offset + size);
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body[i]) | 0;
  const head = Buffer.from(`POST /u?id=${id} HTTP/1.1\r\nHost: soak\r\nContent-Length: ${size}\r\n\r\n`, "latin1");
  return { bytes: Buffer.concat([head, body]), expect: { id, kind: "u", body: `${id}:${size}:${sum}` } };
}

/** The last offset an upload of `size` bytes can start at. */
export function lastUploadOffset(size: number): number {
  return UPLOAD_POOL_SIZE - size;
}
