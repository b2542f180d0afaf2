/**
 * waitress for TypeScript: a strict HTTP/1.1 server for Fetch handlers that
 * runs unchanged on Deno, Bun and Node, with Python waitress's semantics.
 *
 * ```ts
 * import { serve } from "jsr:@x/waitress";
 * serve((req) => new Response("Hello"), { listen: "127.0.0.1:8080" });
 * ```
 *
 * @module
 */
export { serve } from "./lib/server.ts";
export { FastResponse } from "./lib/response.ts";
export { supervise, type SuperviseInit } from "./lib/supervisor/supervisor.ts";
export { isWorker } from "./lib/supervisor/protocol.ts";
export type { App, BoundAddr, Handler, RemoteAddr, ServeInfo, ServeInit, Server, ServerStats } from "./lib/types.ts";
export type { Logger } from "./lib/logger.ts";
export type { OptionName, OptionValues, ServeOptions } from "./lib/option_table.ts";
export type { OptionKind, OptionSpec } from "./lib/option_spec.ts";
export { OPTION_TABLE } from "./lib/option_table.ts";
export { OptionError } from "./lib/option_values.ts";
export { upgradeWebSocket, WebSocketHandshakeError } from "./lib/websocket/upgrade.ts";
export type { UpgradeWebSocketOptions, WebSocketUpgrade } from "./lib/websocket/upgrade.ts";
export { ServerWebSocket } from "./lib/websocket/socket.ts";
export type { WebSocketErrorEvent } from "./lib/websocket/events.ts";

import { isMainModule, runCli } from "./lib/cli/main.ts";

// `deno run -A mod.ts ...` (or jsr:@x/waitress) runs the command line. No
// top-level await, so that importing the library stays synchronous.
if (isMainModule(import.meta)) runCli();
