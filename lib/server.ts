/**
 * Listeners, connection limit, idle sweep, graceful close.
 *
 * @module
 */
import type { App, ServeInit, Server } from "./types.ts";

/**
 * Serves `app` over HTTP/1.1 with waitress's semantics. Returns at once;
 * `ready` resolves when every listener is bound.
 */
export function serve(app: App, options: ServeInit = {}): Server {
  void app;
  void options;
  throw new Error("engine not landed yet");
}
