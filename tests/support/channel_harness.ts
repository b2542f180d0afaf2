/**
 * A server for unit tests of the channel and the task: a real Channel,
 * Dispatcher and option set over in-memory Connections, a logger that keeps
 * its lines, and helpers to let the engine's promise chains run (bounded).
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { resolveAdjustments, type ServeOptions } from "../../lib/adjustments.ts";
import type { Adjustments, Logger } from "../../lib/adjustments.ts";
import { Channel, type ChannelServer } from "../../lib/channel.ts";
import { Dispatcher } from "../../lib/dispatcher.ts";
import type { Handler } from "../../lib/types.ts";
import { type ParsedResponse, parseResponses } from "../_helpers.ts";
import { MemoryConnection } from "./memory_connection.ts";

/** What a ChannelServer is, with what the test wants to look at. */
export class HarnessServer implements ChannelServer {
  readonly adj: Adjustments;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  handler: Handler;
  draining = false;
  /** Log lines, "LEVEL message". */
  readonly logs: string[] = [];
  /** Channels that reported their close, in order. */
  readonly closedChannels: Channel[] = [];

  constructor(handler: Handler, options: ServeOptions = {}) {
    this.adj = resolveAdjustments(options);
    this.dispatcher = new Dispatcher(this.adj.threads);
    this.handler = handler;
    this.logger = {
      info: (m) => void this.logs.push(`INFO ${m}`),
      warn: (m) => void this.logs.push(`WARN ${m}`),
      error: (m) => void this.logs.push(`ERROR ${m}`),
    };
  }

  channelClosed(channel: Channel): void {
    this.closedChannels.push(channel);
  }

  /** A new connection on this server: the peer's end and the channel serving it. */
  open(options: { gathersWrites?: boolean } = {}): { conn: MemoryConnection; channel: Channel } {
    const conn = new MemoryConnection(options);
    const channel = new Channel(conn, this, 8080);
    return { conn, channel };
  }
}

/** Lets timers, immediates and promise chains run `n` event-loop turns. */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits until `ready()` holds, at most `ms` milliseconds; throws with `what` if it never does. */
export async function until(ready: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline; i++) {
    if (ready()) return;
    // Event-loop turns first (promise chains, immediates), then short sleeps (timers in the app).
    await new Promise<void>((resolve) => i < 50 ? setImmediate(resolve) : setTimeout(resolve, 1));
  }
  if (ready()) return;
  throw new Error(`never happened: ${what}`);
}

/** The complete responses written on `conn` so far (a close-delimited body once the connection closed). */
export function responses(conn: MemoryConnection, headRequest = false): ParsedResponse[] {
  return parseResponses(conn.bytes(), conn.closed || conn.closeCalled || conn.destroyed, headRequest);
}

/** A GET request, HTTP/1.1 unless told, with a Host header and `extra` header lines. */
export function get(path: string, extra = "", version = "1.1"): string {
  return `GET ${path} HTTP/${version}\r\nHost: example.test\r\n${extra}\r\n`;
}

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A promise to settle later, from the test. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
