/**
 * The real `waitress-serve`, spawned under the runtime running the tests:
 * started until its "Serving on" lines (bounded), its stderr watched.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository's root. */
export const ROOT: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The command's entry point. */
export const CLI: string = join(ROOT, "cli.ts");

/** The runtime running this file, and how to make it run a script. */
export function runtimeCommand(script: string, args: readonly string[]): [string, string[]] {
  if ("Deno" in globalThis) return [process.execPath, ["run", "-A", script, ...args]];
  return [process.execPath, [script, ...args]];
}

/** A running CLI: the child, the URLs it serves, its stderr so far, and its exit. */
export interface Running {
  child: ChildProcess;
  urls: string[];
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: string | null }>;
}

/** Starts the CLI serving and waits for its "Serving on" lines (bounded). */
export function startCli(args: readonly string[], cwd: string, listeners = 1, timeoutMs = 20_000): Promise<Running> {
  const [cmd, argv] = runtimeCommand(CLI, args);
  const child = spawn(cmd, argv, { cwd, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  let stderr = "";
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal }))
  );
  const killer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  exited.then(() => clearTimeout(killer));
  child.stdout!.resume();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no "Serving on" line within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.stderr!.on("data", (d) => {
      stderr += d;
      const urls = [...stderr.matchAll(/Serving on (\S+)/g)].map((m) => m[1]);
      if (urls.length >= listeners) {
        clearTimeout(timer);
        resolve({ child, urls, stderr: () => stderr, exited });
      }
    });
    exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`CLI exited (${code}) before serving; stderr: ${stderr}`));
    });
  });
}

/** Waits until the child's stderr contains `text` (bounded). */
export async function waitForStderr(running: Running, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!running.stderr().includes(text)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${JSON.stringify(text)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
