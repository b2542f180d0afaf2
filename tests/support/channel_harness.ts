/**
 * A server for unit tests of the channel and the task: a real Channel,
 * Dispatcher and option set over in-memory Connections, a logger that keeps
 * its lines, and what a test reads back from a connection.
 *
 * @module
 */
import { type Adjustments, resolveAdjustments } from "../../lib/adjustments.ts";
import type { Logger } from "../../lib/logger.ts";
import type { ServeOptions } from "../../lib/option_table.ts";
import { Channel, type ChannelServer } from "../../lib/channel.ts";
import { Dispatcher } from "../../lib/dispatcher.ts";
import type { Handler } from "../../lib/types.ts";
import { type ParsedResponse, parseResponses } from "./responses.ts";
import { MemoryConnection } from "./memory_connection.ts";

/** What a ChannelServer is, with what the test wants to look at. */
export class HarnessServer implements ChannelServer {
  readonly adj: Adjustments;
  readonly logger: Logger;
  readonly dispatcher: Dispatcher;
  handler: Handler;
  readonly accessLog = null;
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
    const channel = new Channel(conn, this);
    return { conn, channel };
  }
}

/** The complete responses written on `conn` so far (a close-delimited body once the connection closed). */
export function responses(conn: MemoryConnection, headRequest = false): ParsedResponse[] {
  return parseResponses(conn.bytes(), conn.closed || conn.closeCalled || conn.destroyed, headRequest);
}

/** A GET request, HTTP/1.1 unless told, with a Host header and `extra` header lines. */
export function get(path: string, extra = "", version = "1.1"): string {
  return `GET ${path} HTTP/${version}\r\nHost: example.test\r\n${extra}\r\n`;
}
