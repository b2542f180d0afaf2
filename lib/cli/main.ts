/**
 * The `waitress-serve` process: parses the arguments, prints help, version
 * or a one-line error (exit status 1), loads the app, serves it with the
 * "Serving on" lines waitress prints, and stops on SIGINT or SIGTERM
 * (gracefully the first time, at once the second). SIGHUP and SIGUSR1
 * refresh certificates and the access log (reload_signals.ts). With
 * `--workers` above 1 or `--reload` it becomes the supervisor instead
 * (`lib/supervisor/`), and the workers it starts run this same command.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import process from "node:process";
import { resolveAdjustments } from "../adjustments.ts";
import type { Server } from "../types.ts";
import { consoleLogger } from "../logger.ts";
import { parseCommandLine } from "./args.ts";
import { errorLine, UsageError } from "./errors.ts";
import { COMMAND, helpText, VERSION } from "./help.ts";
import { loadApp } from "./load.ts";
import { handleReloadSignals } from "./reload_signals.ts";
import { runSupervisor, serverOptions, wantsSupervisor } from "../supervisor/command.ts";
import { isWorker } from "../supervisor/protocol.ts";

/** Where the command writes; replaceable in tests. */
export interface CliIO {
  /** Writes to standard output (help, version). */
  stdout(text: string): void;
  /** Writes to standard error (errors, "Serving on" lines). */
  stderr(text: string): void;
  /** The directory dotted module names and relative paths are resolved in. */
  cwd: string;
}

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
};

/**
 * Waits for SIGINT or SIGTERM: the first stops the server gracefully, a
 * second exits at once with status 1 (waitress exits on Ctrl-C too).
 */
function handleSignals(server: Server): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    server.shutdown().catch(() => server.close());
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/**
 * Runs `waitress-serve` with `argv` (no runtime or script name). Resolves
 * with the exit status once the server has stopped, or at once for help,
 * version and errors.
 */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  let server: Server;
  let refresh = { tls: false, accessLog: false };
  try {
    const cl = parseCommandLine(argv);
    if (cl.help) {
      io.stdout(helpText());
      return 0;
    }
    if (cl.version) {
      io.stdout(`${COMMAND} ${VERSION}\n`);
      return 0;
    }
    if (cl.app === undefined) {
      throw new UsageError(`Specify an application: ${COMMAND} [OPTS] MODULE:OBJECT (see --help)`);
    }
    // Check the options before importing the app, so mistakes surface fast.
    resolveAdjustments(cl.options);
    // The supervisor never imports the app; each worker runs this same command.
    if (wantsSupervisor(cl.options)) return await runSupervisor(cl.options, argv, consoleLogger);
    const app = await loadApp(cl.app, cl.call, io.cwd);
    // Loaded here, not at the top, so --help and usage errors never load the engine.
    const { serve } = await import("../server.ts");
    server = serve(app, serverOptions(cl.options));
    refresh = { tls: cl.options.certfile !== undefined, accessLog: cl.options.accessLogfile !== undefined };
    await server.ready;
  } catch (error) {
    io.stderr(errorLine(error) + "\n");
    return 1;
  }
  // A worker leaves both to its supervisor: it prints where it serves, and it decides on signals.
  if (!isWorker()) {
    for (const addr of server.addrs) consoleLogger.info(`Serving on ${addr.url}`);
    handleSignals(server);
    handleReloadSignals(server, refresh, consoleLogger);
  } else {
    // SIGHUP is the supervisor's rolling restart; SIGUSR1 it passes on, for the access log.
    handleReloadSignals(server, { tls: false, accessLog: refresh.accessLog }, consoleLogger);
  }
  await server.finished;
  return 0;
}

/** Runs the command with this process's arguments and exits with its status. */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      // Exit explicitly (signal listeners may hold the loop open), but let a
      // pending stdout write (a piped --help on macOS) finish first.
      if (process.stdout.writableNeedDrain) process.stdout.once("drain", () => process.exit(code));
      else process.exit(code);
    },
    (error) => {
      process.stderr.write(errorLine(error) + "\n");
      process.exit(1);
    },
  );
}

/**
 * True when the module with this `import.meta` is the program's entry point:
 * `import.meta.main` in Deno, Bun and Node 24.2+, else a comparison with argv[1].
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const entry = process.argv[1];
  const filename = (meta as { filename?: string }).filename;
  if (!entry || !filename) return false;
  try {
    return realpathSync(entry) === realpathSync(filename);
  } catch {
    return false;
  }
}
