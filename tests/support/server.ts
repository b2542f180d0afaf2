/**
 * `serve()` started for one test on 127.0.0.1 with a free port and a logger
 * that records its lines.
 *
 * @module
 */
import { serve } from "../../mod.ts";
import type { App, ServeInit, Server } from "../../mod.ts";
import { withTimeout } from "./time.ts";

/** A server started for one test. */
export interface TestServer {
  server: Server;
  port: number;
  /** Collected log lines. */
  logs: string[];
  stop(): Promise<void>;
}

/** Starts `serve(app)` on 127.0.0.1 with a free port and a logger that records lines. */
export async function startServer(app: App, options: ServeInit = {}): Promise<TestServer> {
  const logs: string[] = [];
  const server = serve(app, {
    listen: "127.0.0.1:0",
    logger: {
      info: (m) => logs.push("INFO " + m),
      warn: (m) => logs.push("WARN " + m),
      error: (m) => logs.push("ERROR " + m),
    },
    ...options,
  });
  await server.ready;
  const port = server.addrs[0].port;
  return { server, port, logs, stop: () => withTimeout(server.close(), 5000, "server.close") };
}
