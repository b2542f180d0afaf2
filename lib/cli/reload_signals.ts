/**
 * The signals that refresh a running server without stopping it, as gunicorn
 * has them: SIGHUP reads the TLS certificate files again, SIGUSR1 reopens the
 * access log file (logrotate moves the file, then signals). Each is handled
 * only when the server has something to refresh, so that otherwise the
 * signal keeps its usual meaning.
 *
 * @module
 */
import process from "node:process";
import type { Logger } from "../logger.ts";
import type { Server } from "../types.ts";

/** What the server says it can refresh. */
export interface Refreshable {
  /** True when TCP listeners speak TLS. */
  readonly tls: boolean;
  /** True when an access log is written. */
  readonly accessLog: boolean;
}

/** Installs the SIGHUP and SIGUSR1 handlers that apply to `server`. */
export function handleReloadSignals(server: Server, what: Refreshable, logger: Logger): void {
  if (what.tls) {
    process.on("SIGHUP", () => {
      try {
        server.reloadTls();
        logger.info("SIGHUP: TLS certificates reloaded");
      } catch (error) {
        logger.error(`SIGHUP: TLS certificates not reloaded, the old ones stay: ${(error as Error).message}`);
      }
    });
  }
  if (what.accessLog) {
    process.on("SIGUSR1", () => {
      try {
        server.reopenAccessLog();
      } catch (error) {
        logger.error(`SIGUSR1: access log not reopened: ${(error as Error).message}`);
      }
    });
  }
}
