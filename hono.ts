/**
 * WebSocket for Hono apps served by waitress: `upgradeWebSocket` built on
 * Hono's own `defineWebSocketHelper`, like `hono/deno`, so that
 *
 * ```ts
 * import { Hono } from "hono";
 * import { upgradeWebSocket } from "jsr:@x/waitress/hono"; // npm: "waitress-serve/hono"
 *
 * const app = new Hono();
 * app.get("/ws", upgradeWebSocket(() => ({ onMessage: (event, ws) => ws.send(String(event.data)) })));
 * serve(app);
 * ```
 *
 * runs on Deno, Bun and Node alike. As `hono/deno` does, the client's first
 * offered subprotocol is chosen unless the options name one.
 *
 * @module
 */
import { defineWebSocketHelper, type UpgradeWebSocket, WSContext } from "hono/ws";
import { hasToken } from "./lib/websocket/handshake.ts";
import type { ServerWebSocket } from "./lib/websocket/socket.ts";
import { upgradeWebSocket as upgrade, type UpgradeWebSocketOptions } from "./lib/websocket/upgrade.ts";

export type { UpgradeWebSocketOptions } from "./lib/websocket/upgrade.ts";

/** Hono middleware (or helper) that upgrades the request on waitress and wires Hono's WebSocket events. */
export const upgradeWebSocket: UpgradeWebSocket<ServerWebSocket, UpgradeWebSocketOptions> = defineWebSocketHelper<
  ServerWebSocket,
  UpgradeWebSocketOptions
>((c, events, options) => {
  if (!hasToken(c.req.header("upgrade") ?? null, "websocket")) return;
  const offered = c.req.header("sec-websocket-protocol")?.split(",")[0]?.trim();
  const { socket, response } = upgrade(c.req.raw, { ...(offered ? { protocol: offered } : {}), ...options });
  const ws = new WSContext<ServerWebSocket>({
    send: (data) => socket.send(data),
    close: (code, reason) => socket.close(code, reason),
    raw: socket,
    get readyState() {
      return socket.readyState as 0 | 1 | 2 | 3;
    },
    get protocol() {
      return socket.protocol;
    },
    url: socket.url,
  });
  socket.onopen = (event) => events.onOpen?.(event, ws);
  socket.onmessage = (event) => events.onMessage?.(event, ws);
  socket.onclose = (event) => events.onClose?.(event, ws);
  socket.onerror = (event) => events.onError?.(event, ws);
  return response;
});
