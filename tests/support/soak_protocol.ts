/**
 * What the soak's driver (scripts/soak.ts, tests/support/soak_*.ts) and the server under test
 * (tests/fixtures/soak-server.ts) agree on: the server's settings the driver
 * aims at, and the report the server prints when asked.
 *
 * @module
 */

/** The server's inbufOverflow: uploads above it spill to a temporary file. */
export const INBUF_OVERFLOW = 64 * 1024;
/** Bytes per chunk of the streamed route. */
export const STREAM_CHUNK = 16 * 1024;

/** What the server under test reports on stdout, one JSON line each, when asked on stdin. */
export interface ChildReport {
  type: string;
  pid: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  connections: number;
  activeRequests: number;
  queuedRequests: number;
  tempFiles: number;
  tmpEntries: number;
  handled: number;
  appErrors: number;
  otherLogs: string[];
  port?: number;
  shutdownMs?: number;
}
