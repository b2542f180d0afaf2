/**
 * The soak's server under test as the driver sees it: the child process
 * (tests/fixtures/soak-server.ts under node, deno or bun from
 * node_modules/.bin, with a private TMPDIR), the line protocol on its stdin
 * and stdout (soak_protocol.ts), and its open descriptors in /proc.
 *
 * @module
 */
import process from "node:process";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildReport } from "./soak_protocol.ts";

/** The runtimes the soak runs its server under. */
export type SoakRuntime = "node" | "deno" | "bun";

/** How much of the child's stderr is kept for error messages. */
const STDERR_KEPT = 20000;

/** The command line that starts the soak server under `runtime`, GC exposed. */
function childCommand(root: string, runtime: SoakRuntime): [string, string[]] {
  const bin = join(root, "node_modules", ".bin", runtime);
  const server = join(root, "tests", "fixtures", "soak-server.ts");
  if (runtime === "node") return [bin, ["--expose-gc", server]];
  if (runtime === "deno") return [bin, ["run", "-A", "--v8-flags=--expose-gc", server]];
  return [bin, [server]];
}

/** The server under test: started by `start`, asked with `ask`, ended with `dispose`. */
export class SoakChild {
  /** The child process. */
  readonly proc: ChildProcess;
  /** The child's private TMPDIR (removed by `dispose`). */
  readonly tmp: string;
  /** What the child wrote on stderr (the first 20,000 characters). */
  stderr = "";
  /** The child's exit code once it exits. */
  readonly exited: Promise<number | null>;
  #lines: string[] = [];
  #wake: (() => void) | null = null;

  private constructor(proc: ChildProcess, tmp: string) {
    this.proc = proc;
    this.tmp = tmp;
    let rest = "";
    proc.stdout!.setEncoding("utf8");
    proc.stdout!.on("data", (d: string) => {
      rest += d;
      let nl: number;
      while ((nl = rest.indexOf("\n")) >= 0) {
        this.#lines.push(rest.slice(0, nl));
        rest = rest.slice(nl + 1);
      }
      this.#wake?.();
    });
    proc.stderr!.setEncoding("utf8");
    proc.stderr!.on("data", (d: string) => {
      if (this.stderr.length < STDERR_KEPT) this.stderr += d;
    });
    this.exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  }

  /**
   * Starts the soak server from the checkout at `root` under `runtime`;
   * `preload` goes into the child's LD_PRELOAD (another allocator, such as
   * jemalloc, tells allocator retention from a leak).
   */
  static start(root: string, runtime: SoakRuntime, preload?: string): SoakChild {
    const tmp = mkdtempSync(join(tmpdir(), "soak-"));
    const [cmd, args] = childCommand(root, runtime);
    const proc = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, TMPDIR: tmp, NO_COLOR: "1", ...(preload ? { LD_PRELOAD: preload } : {}) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    return new SoakChild(proc, tmp);
  }

  /** Next report of `type` from the child (other lines are skipped). */
  async next(type: string, ms = 10000): Promise<ChildReport> {
    const deadline = Date.now() + ms;
    for (;;) {
      const report = this.#take(type);
      if (report !== null) return report;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`no ${type} report from the child within ${ms} ms; stderr: ${this.stderr.slice(-2000)}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.#wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  /** The first buffered report of `type`, dropping the lines before it; null when none is buffered. */
  #take(type: string): ChildReport | null {
    while (this.#lines.length > 0) {
      const line = this.#lines.shift()!;
      let r: ChildReport;
      try {
        r = JSON.parse(line);
      } catch {
        continue;
      }
      if (r.type === type) return r;
    }
    return null;
  }

  /** Sends `cmd` on the child's stdin and waits for its report of `type`. */
  ask(cmd: string, type: string = cmd, ms = 10000): Promise<ChildReport> {
    this.proc.stdin!.write(cmd + "\n");
    return this.next(type, ms);
  }

  /** Kills the child if it still runs and removes its TMPDIR. */
  dispose(): void {
    if (this.proc.exitCode === null) this.proc.kill("SIGKILL");
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

/** How many descriptors process `pid` has open (/proc/<pid>/fd), or -1 when that cannot be read. */
export function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}
