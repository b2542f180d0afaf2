/**
 * A steady client for restart tests: some loops send one request per fresh
 * connection, others keep one connection alive and send request after
 * request on it (opening a new one only when the server said
 * `Connection: close` or closed while the connection was idle). Every
 * request that gets no complete response is a failure. Bounded in time and
 * count, loopback only.
 */
import { connect, type Socket } from "node:net";
import { latin1 } from "./bytes.ts";
import { type ParsedResponse, parseResponses } from "./responses.ts";

/** Where to send: a TCP port on a loopback address (default 127.0.0.1), or a unix socket. */
export type Target = { host?: string; port: number } | { path: string };

/** What the load saw. */
export interface LoadReport {
  /** Complete responses. */
  ok: number;
  /** Requests that got no complete response, with why. */
  failures: string[];
  /** How many responses had each status. */
  statuses: Map<number, number>;
  /** The distinct response bodies (the test apps answer with their pid). */
  bodies: Set<string>;
}

/** How to load. */
export interface LoadOptions {
  /** Loops that open a fresh connection per request. */
  fresh: number;
  /** Loops that keep a connection alive. */
  keepAlive: number;
  /** Request target path (default `/`). */
  path?: string;
  /** Pause between a response and the next request, per loop (default 2 ms). */
  pauseMs?: number;
  /** Hard limits, whatever happens: time and requests per loop. */
  maxMs?: number;
  maxRequests?: number;
}

function open(target: Target): Socket {
  if ("path" in target) return connect({ path: target.path });
  return connect({ host: target.host ?? "127.0.0.1", port: target.port });
}

/** One connection's side: send a request, wait for its whole response (or the connection's end). */
class Conversation {
  readonly socket: Socket;
  #buf = new Uint8Array(0);
  #gone = false;
  #waiter: (() => void) | null = null;

  constructor(target: Target) {
    this.socket = open(target);
    this.socket.on("data", (d: Uint8Array) => {
      const merged = new Uint8Array(this.#buf.length + d.length);
      merged.set(this.#buf);
      merged.set(d, this.#buf.length);
      this.#buf = merged;
      this.#waiter?.();
    });
    const end = () => {
      this.#gone = true;
      this.#waiter?.();
    };
    this.socket.on("end", end);
    this.socket.on("close", end);
    this.socket.on("error", end);
  }

  get gone(): boolean {
    return this.#gone;
  }

  async ask(request: string, ms: number): Promise<ParsedResponse> {
    this.#buf = new Uint8Array(0);
    this.socket.write(latin1(request));
    const deadline = Date.now() + ms;
    for (;;) {
      const [response] = parseResponses(this.#buf, this.#gone);
      if (response !== undefined) return response;
      if (this.#gone) throw new Error("connection closed before the response");
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no response within ${ms} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          this.#waiter = null;
          resolve();
        };
      });
    }
  }
}

/** Starts the load; `stop()` ends every loop and resolves with what they saw. */
export function steadyLoad(target: Target, options: LoadOptions): { stop(): Promise<LoadReport> } {
  const report: LoadReport = { ok: 0, failures: [], statuses: new Map(), bodies: new Set() };
  const path = options.path ?? "/";
  const pause = options.pauseMs ?? 2;
  const until = Date.now() + (options.maxMs ?? 30_000);
  const maxRequests = options.maxRequests ?? 20_000;
  let stopped = false;
  const running = () => !stopped && Date.now() < until;
  const record = (response: ParsedResponse) => {
    report.ok++;
    report.statuses.set(response.status, (report.statuses.get(response.status) ?? 0) + 1);
    report.bodies.add(response.text);
  };
  const sleep = () => new Promise((resolve) => setTimeout(resolve, pause));

  const freshLoop = async () => {
    for (let n = 0; n < maxRequests && running(); n++) {
      const conversation = new Conversation(target);
      try {
        record(await conversation.ask(`GET ${path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n`, 10_000));
      } catch (error) {
        report.failures.push(`fresh: ${(error as Error).message}`);
      }
      conversation.socket.destroy();
      await sleep();
    }
  };
  const keepAliveLoop = async () => {
    let conversation: Conversation | null = null;
    for (let n = 0; n < maxRequests && running(); n++) {
      // A connection the server closed between requests is not a failure: a client opens a new one.
      if (conversation === null || conversation.gone) conversation = new Conversation(target);
      const current: Conversation = conversation;
      try {
        const response = await current.ask(`GET ${path} HTTP/1.1\r\nHost: test\r\n\r\n`, 10_000);
        record(response);
        if (/close/i.test(response.headers.get("connection")?.[0] ?? "")) {
          current.socket.destroy();
          conversation = null;
        }
      } catch (error) {
        report.failures.push(`keep-alive: ${(error as Error).message}`);
        current.socket.destroy();
        conversation = null;
      }
      await sleep();
    }
    conversation?.socket.destroy();
  };
  const loops = [
    ...Array.from({ length: options.fresh }, freshLoop),
    ...Array.from({ length: options.keepAlive }, keepAliveLoop),
  ];
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
      return report;
    },
  };
}
