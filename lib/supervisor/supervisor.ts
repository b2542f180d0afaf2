/**
 * `supervise()`: the supervisor process behind `--workers` and `--reload`.
 * It checks the options, binds every listener once, never imports the app,
 * forks worker processes that run the same program, hands them the
 * connections it accepts, and answers gunicorn's signals:
 *
 * - SIGTERM, SIGINT: every worker finishes what it was given, then exit 0;
 *   a second signal ends them at once (exit 1).
 * - SIGHUP: replace every worker, each new one serving before an old one
 *   stops.
 * - SIGTTIN, SIGTTOU: one worker more, one fewer.
 *
 * @module
 */
import process from "node:process";
import { resolveAdjustments, type ServeOptions } from "../adjustments.ts";
import { addressUrl } from "../binds.ts";
import { consoleLogger, type Logger } from "../logger.ts";
import { Arbiter } from "./arbiter.ts";
import { bindListeners } from "./listeners.ts";
import { watchTree } from "./watch.ts";

/** What a supervisor runs. */
export interface SuperviseInit {
  /** How many worker processes (default 1). */
  workers?: number;
  /** Development: restart the workers when a file under `watch` changes. */
  reload?: boolean;
  /** The directory `reload` watches (default: the current directory). */
  watch?: string;
  /** The listener options (`listen`, `host`, `port`, `unixSocket`, `unixSocketPerms`, `backlog`...). */
  options?: ServeOptions;
  /** The script each worker runs (default: this program's, `process.argv[1]`). */
  script?: string;
  /** Its arguments (default: this program's, `process.argv.slice(2)`). */
  args?: readonly string[];
  /** Where the supervisor logs (default: stderr). */
  logger?: Logger;
  /** Called once the first workers serve, with the listeners' URLs (the CLI prints them). */
  onServing?(urls: string[], summary: string): void;
}

const CONTROL_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP", "SIGTTIN", "SIGTTOU", "SIGUSR1"] as const;

/**
 * Runs the supervisor until it is stopped; resolves with the exit status: 0
 * after a graceful stop, 1 after a forced one or when the workers cannot
 * start. Rejects, binding nothing, when an option is invalid or a listener
 * cannot be bound.
 */
export async function supervise(init: SuperviseInit = {}): Promise<number> {
  const adj = resolveAdjustments(init.options ?? {});
  const logger = init.logger ?? consoleLogger;
  const reload = init.reload === true;
  const running = new Arbiter({
    workers: init.workers ?? 1,
    script: init.script ?? process.argv[1],
    args: init.args ?? process.argv.slice(2),
    logger,
    keepGoingOnBootFailure: reload,
  });
  // Connections that come before the workers are held by the arbiter until one serves.
  const listeners = await bindListeners(adj.binds, adj, (index, socket) => running.route(index, socket));

  let signalled = false;
  const onSignal = (signal: (typeof CONTROL_SIGNALS)[number]): void => {
    if (signal === "SIGHUP") void running.restart();
    else if (signal === "SIGUSR1") {
      if (adj.accessLogfile !== undefined) running.reopenLogs();
    } else if (signal === "SIGTTIN") running.grow();
    else if (signal === "SIGTTOU") running.shrink();
    else if (signalled) running.kill();
    else {
      signalled = true;
      listeners.close(); // stop accepting at once, as one process does
      running.stop();
    }
  };
  const handlers = CONTROL_SIGNALS.map((signal) => {
    const handler = () => onSignal(signal);
    process.on(signal, handler);
    return [signal, handler] as const;
  });

  const watcher = reload
    ? watchTree(init.watch ?? process.cwd(), (path) => {
      logger.info(`${path} changed; reloading`);
      void running.restart();
    })
    : undefined;

  // The workers terminate TLS (each loads the certificate itself, again at every rolling restart).
  const secure = adj.certfile !== undefined;
  const urls = listeners.table.map((l) => addressUrl(l.transport, l.hostname, l.port, secure && l.transport === "tcp"));
  try {
    await running.start(listeners.table);
    init.onServing?.(urls, running.summary());
  } catch {
    // Reported by the arbiter. Without --reload it is stopping; with it, waiting for a change.
    if (reload) logger.info(`Listening on ${urls.join(", ")} once a reload succeeds`);
  }
  const code = await running.done;
  listeners.close();
  watcher?.close();
  for (const [signal, handler] of handlers) process.off(signal, handler);
  return code;
}
