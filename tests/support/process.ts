/**
 * Child processes in tests: run one to its end (bounded) and signal one by pid.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import process from "node:process";

/** How a child process ended and what it printed. */
export interface ProcessResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (killed after `timeoutMs`) and collects its output. */
export function runToEnd(
  cmd: string,
  args: readonly string[],
  options: { cwd: string; env?: Record<string, string | undefined>; timeoutMs: number },
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const env = options.env ?? { ...process.env, NO_COLOR: "1" };
    const child = spawn(cmd, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Signals a child by pid. (Deno's ChildProcess reports `signal: "SIGTERM"` and
 * no exit code for any child it sent a signal to with kill(), even when the
 * child handled it and exited 0; process.kill leaves the real status visible.)
 */
export function sendSignal(child: ChildProcess, signal: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGUSR1"): void {
  if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, signal);
}
