/**
 * The supervisor's policy (gunicorn's arbiter): keep `workers` processes
 * serving, route each accepted connection to one of them, replace the ones
 * that die (with a backoff), replace all of them one by one on request
 * (each new one serving before an old one retires), grow and shrink on
 * request, and stop, gracefully or at once.
 *
 * A worker that exits before it serves failed to boot (the app does not
 * load, a listener it wants is missing). With nothing else serving, that is
 * fatal: the arbiter stops with status 1 instead of looping. In a rolling
 * restart the old workers keep serving and the restart is abandoned.
 *
 * @module
 */
import type { Socket } from "node:net";
import type { Logger } from "../logger.ts";
import type { HandedListener } from "./protocol.ts";
import { type WorkerExit, WorkerProcess } from "./worker_process.ts";

/** What the arbiter runs. */
export interface ArbiterInit {
  /** How many workers to keep. */
  workers: number;
  /** The script each worker runs, and its arguments. */
  script: string;
  args: readonly string[];
  logger: Logger;
  /**
   * Development mode (`--reload`): a worker that fails to boot is reported and
   * the arbiter waits for the next `restart()` instead of stopping.
   */
  keepGoingOnBootFailure?: boolean;
}

/** Replacements of workers that died young wait this long, doubling, up to MAX_BACKOFF_MS. */
const FIRST_BACKOFF_MS = 100;
const MAX_BACKOFF_MS = 10_000;
/** A worker that served this long resets the backoff. */
const STABLE_MS = 10_000;
/** Boot failures in a row, with others still serving, before the arbiter gives up. */
const MAX_BOOT_FAILURES = 5;

function exitText(exit: WorkerExit): string {
  return exit.signal !== null ? `was killed by ${exit.signal}` : `exited with status ${exit.code}`;
}

/** Keeps the workers; see the module comment. */
export class Arbiter {
  /** Settles with the supervisor's exit status once every worker is gone after a stop. */
  readonly done: Promise<number>;
  #init: ArbiterInit;
  #table: readonly HandedListener[] = [];
  #target: number;
  #workers: WorkerProcess[] = [];
  #next = 0;
  /** Connections accepted while no worker serves (all booting or being replaced). */
  #pending: { index: number; socket: Socket }[] = [];
  #stopping = false;
  #exitCode = 0;
  #resolveDone!: (code: number) => void;
  #restarting: Promise<void> | null = null;
  #restartAgain = false;
  #deaths = 0;
  #bootFailures = 0;
  #respawn: ReturnType<typeof setTimeout> | null = null;

  constructor(init: ArbiterInit) {
    this.#init = init;
    this.#target = init.workers;
    this.done = new Promise<number>((resolve) => this.#resolveDone = resolve);
  }

  /** The pids of the workers that serve right now. */
  get servingPids(): number[] {
    return this.#workers.filter((w) => w.state === "serving").map((w) => w.pid);
  }

  /**
   * Starts `workers` processes at once, serving the supervisor's listeners
   * `table`, and resolves when all serve. Rejects (and the arbiter stops,
   * unless it keeps going) when one fails to boot.
   */
  async start(table: readonly HandedListener[]): Promise<void> {
    this.#table = table;
    const fresh: WorkerProcess[] = [];
    for (let i = 0; i < this.#target; i++) fresh.push(this.#spawn());
    await Promise.all(fresh.map((w) => w.ready));
  }

  /** Hands an accepted connection to the next serving worker (round robin), or holds it until one serves. */
  route(index: number, socket: Socket): void {
    if (this.#stopping && this.servingPids.length === 0) {
      socket.destroy();
      return;
    }
    const workers = this.#workers;
    for (let tries = 0; tries < workers.length; tries++) {
      const worker = workers[this.#next++ % workers.length];
      if (worker.state === "serving" && worker.accepting && worker.send(index, socket)) return;
    }
    this.#pending.push({ index, socket });
  }

  /** SIGHUP: a new worker per worker, each serving before an old one retires. */
  restart(): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#restarting !== null) {
      this.#restartAgain = true; // one more round, with what changed meanwhile
      return this.#restarting;
    }
    this.#restarting = this.#rollOver().finally(() => {
      this.#restarting = null;
      if (this.#restartAgain) {
        this.#restartAgain = false;
        void this.restart();
      }
    });
    return this.#restarting;
  }

  async #rollOver(): Promise<void> {
    const old = this.#workers.filter((w) => w.state !== "retiring");
    for (let i = 0; i < this.#target; i++) {
      if (this.#stopping) return;
      const fresh = this.#spawn();
      try {
        await fresh.ready;
      } catch {
        return; // reported by #exited; the old workers carry on
      }
      old.shift()?.retire();
    }
    for (const worker of old) worker.retire();
    // A worker that died meanwhile was replaced as well: keep no more than wanted.
    const live = this.#workers.filter((w) => w.state !== "retiring");
    for (const worker of live.slice(0, Math.max(0, live.length - this.#target))) worker.retire();
    this.#log("info", `Restarted: ${this.#summary()}`);
  }

  /** SIGTTIN: one worker more. */
  grow(): void {
    if (this.#stopping) return;
    this.#target++;
    this.#log("info", `Adding a worker: ${this.#target} wanted`);
    this.#fillUp();
  }

  /** SIGTTOU: one worker fewer, never below one. */
  shrink(): void {
    if (this.#stopping || this.#target <= 1) return;
    this.#target--;
    this.#log("info", `Removing a worker: ${this.#target} wanted`);
    const live = this.#workers.filter((w) => w.state !== "retiring");
    // The oldest goes, as in gunicorn; one still booting goes first, it serves nobody yet.
    const victim = live.find((w) => w.state === "booting") ?? live[0];
    if (live.length > this.#target) victim?.retire();
  }

  /** SIGTERM / SIGINT: every worker finishes what it was given, then `done` resolves with 0. */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#clearRespawn();
    this.#flushPending();
    for (const pending of this.#pending.splice(0)) pending.socket.destroy();
    for (const worker of this.#workers.slice()) worker.retire();
    this.#checkDone();
  }

  /** SIGUSR1 (logrotate): every worker reopens its access log file. */
  reopenLogs(): void {
    for (const worker of this.#workers) worker.signal("SIGUSR1");
  }

  /** A second signal: every worker ends now; `done` resolves with 1. */
  kill(): void {
    this.#stopping = true;
    this.#exitCode = 1;
    this.#clearRespawn();
    for (const pending of this.#pending.splice(0)) pending.socket.destroy();
    for (const worker of this.#workers) worker.kill();
    this.#checkDone();
  }

  #spawn(): WorkerProcess {
    const worker = new WorkerProcess({
      script: this.#init.script,
      args: this.#init.args,
      table: this.#table,
      onBack: (index, socket) => this.route(index, socket),
      onClosing: (worker) => this.#closing(worker),
    });
    this.#workers.push(worker);
    worker.ready.then(() => {
      this.#bootFailures = 0;
      this.#flushPending();
      if (this.#stopping) worker.retire();
    }, () => {});
    void worker.exited.then((exit) => this.#exited(worker, exit));
    return worker;
  }

  #exited(worker: WorkerProcess, exit: WorkerExit): void {
    const state = worker.state;
    this.#workers = this.#workers.filter((w) => w !== worker);
    if (this.#stopping) {
      this.#checkDone();
      return;
    }
    if (state === "booting") this.#bootFailed(worker, exit);
    else if (state === "serving") {
      this.#log("warn", `Worker ${worker.pid} ${exitText(exit)}; replacing it`);
      this.#deaths = Date.now() - worker.bornAt >= STABLE_MS ? 1 : this.#deaths + 1;
      this.#scheduleFillUp(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#deaths - 1)));
    }
    // A retiring worker that exits is what was asked for; TTOU or a restart already replaced it.
  }

  /** A worker was sent SIGTERM: it finishes what it has, and a new one takes its place at once. */
  #closing(worker: WorkerProcess): void {
    if (worker.state === "retiring") return;
    worker.retire();
    if (this.#stopping) return;
    this.#log("info", `Worker ${worker.pid} was asked to stop; replacing it`);
    this.#fillUp();
  }

  #bootFailed(worker: WorkerProcess, exit: WorkerExit): void {
    this.#bootFailures++;
    const what = `Worker ${worker.pid} ${exitText(exit)} before serving`;
    if (this.#init.keepGoingOnBootFailure) {
      // Stop trying until the next change: the error stays the last thing on screen.
      this.#clearRespawn();
      for (const w of this.#workers) if (w.state === "booting") w.retire();
      this.#log("error", `${what}; waiting for a change to reload`);
      return;
    }
    if (this.#restarting !== null) {
      this.#log("error", `${what}; restart abandoned, the old workers keep serving`);
      return;
    }
    if (this.servingPids.length === 0 || this.#bootFailures >= MAX_BOOT_FAILURES) {
      this.#log("error", `${what}; stopping`);
      this.#exitCode = 1;
      this.stop();
      return;
    }
    this.#scheduleFillUp(Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (this.#bootFailures - 1)));
  }

  #scheduleFillUp(delayMs: number): void {
    if (this.#respawn !== null) return;
    this.#respawn = setTimeout(() => {
      this.#respawn = null;
      this.#fillUp();
    }, delayMs);
  }

  #clearRespawn(): void {
    if (this.#respawn !== null) clearTimeout(this.#respawn);
    this.#respawn = null;
  }

  /** Starts workers until `#target` are booting or serving; each one that serves says so. */
  #fillUp(): void {
    if (this.#stopping) return;
    let live = this.#workers.filter((w) => w.state !== "retiring").length;
    for (; live < this.#target; live++) {
      const worker = this.#spawn();
      worker.ready.then(() => this.#log("info", `Worker ${worker.pid} serving: ${this.#summary()}`), () => {});
    }
  }

  #flushPending(): void {
    const pending = this.#pending.splice(0);
    for (const { index, socket } of pending) this.route(index, socket);
  }

  #checkDone(): void {
    if (this.#stopping && this.#workers.length === 0) this.#resolveDone(this.#exitCode);
  }

  #summary(): string {
    const pids = this.servingPids;
    return `${pids.length} worker${pids.length === 1 ? "" : "s"} serving (pid${pids.length === 1 ? "" : "s"} ${
      pids.join(", ")
    })`;
  }

  /** The line for the start-up log: how many workers serve, and their pids. */
  summary(): string {
    return this.#summary();
  }

  #log(level: "info" | "warn" | "error", message: string): void {
    this.#init.logger[level](message);
  }
}
