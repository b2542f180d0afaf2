/**
 * The command line's two extra roles: the supervisor (`--workers` above 1,
 * or `--reload`) and a worker the supervisor started (the same command, run
 * again with the supervisor's listener table in its environment).
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import type { ServeOptions } from "../option_table.ts";
import { isWorker } from "./protocol.ts";

/** True when these options make this process a supervisor rather than a server. */
export function wantsSupervisor(options: ServeOptions): boolean {
  return !isWorker() && ((options.workers !== undefined && Number(options.workers) > 1) || options.reload === true);
}

/**
 * Runs the supervisor for the command line `argv` (each worker runs the same
 * command); resolves with the exit status. Prints the "Serving on" lines and
 * the workers' pids once the first workers serve.
 */
export async function runSupervisor(options: ServeOptions, argv: readonly string[], logger: Logger): Promise<number> {
  // Loaded only here, so a plain run never loads the supervisor.
  const { supervise } = await import("./supervisor.ts");
  return await supervise({
    workers: options.workers === undefined ? 1 : Number(options.workers),
    reload: options.reload === true,
    options,
    args: argv,
    logger,
    onServing(urls, summary) {
      for (const url of urls) logger.info(`Serving on ${url}`);
      logger.info(summary);
    },
  });
}

/** The options a worker's own server takes: workers and reload are the supervisor's. */
export function serverOptions(options: ServeOptions): ServeOptions {
  const { workers: _workers, reload: _reload, ...rest } = options;
  return rest;
}
