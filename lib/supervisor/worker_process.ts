/**
 * One worker process as the supervisor sees it: forked with the listener
 * table in its environment, booting until it says it serves every listener,
 * then serving, then retiring once told to stop.
 *
 * @module
 */
import { type ChildProcess, fork } from "node:child_process";
import type { Socket } from "node:net";
import process from "node:process";
import { type FromWorker, type HandedListener, type ToWorker, WORKER_ENV } from "./protocol.ts";

/** Where a worker is in its life. */
export type WorkerState = "booting" | "serving" | "retiring";

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: string | null;
}

/** What a worker is started with. */
export interface WorkerCommand {
  /** The script the worker runs: the program's own entry point. */
  script: string;
  /** Its arguments. */
  args: readonly string[];
  /** The supervisor's listeners. */
  table: readonly HandedListener[];
  /** Gets a socket a worker handed back unserved (it was stopping). */
  onBack(index: number, socket: Socket): void;
  /** A worker asks to be retired (it was sent SIGTERM). */
  onClosing(worker: WorkerProcess): void;
}

/** A forked worker. */
export class WorkerProcess {
  readonly pid: number;
  readonly bornAt: number = Date.now();
  state: WorkerState = "booting";
  /** Connections handed over so far. */
  sent = 0;
  /** False once the worker handed a connection back: it is stopping on its own (a SIGTERM sent to it). */
  accepting = true;
  /** Resolves when the worker serves; rejects with how it ended if it exits before. */
  readonly ready: Promise<void>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<WorkerExit>;
  readonly #child: ChildProcess;
  readonly #command: WorkerCommand;
  /** Sockets handed to the channel whose message is not written yet, with their listener. */
  readonly #unwritten = new Map<Socket, number>();

  constructor(command: WorkerCommand) {
    this.#command = command;
    const env = { ...process.env, [WORKER_ENV]: JSON.stringify(command.table) };
    this.#child = fork(command.script, command.args.slice(), { env, stdio: ["inherit", "inherit", "inherit", "ipc"] });
    this.pid = this.#child.pid ?? 0;
    this.exited = new Promise<WorkerExit>((resolve) => {
      this.#child.once("exit", (code, signal) => {
        this.#rescueUnwritten();
        resolve({ code, signal });
      });
      // A fork that could not even start (no such runtime) exits nowhere else.
      this.#child.once("error", () => resolve({ code: 127, signal: null }));
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.#child.on("message", (message: FromWorker, socket?: Socket) => {
        if (message.t === "ready" && this.state === "booting") {
          this.state = "serving";
          resolve();
        } else if (message.t === "closing") {
          command.onClosing(this);
        } else if (message.t === "back" && socket !== undefined) {
          this.accepting = false;
          command.onBack(message.l, socket);
        }
      });
      void this.exited.then((exit) => reject(exit));
    });
    this.ready.catch(() => {}); // whoever cares awaits it; an early exit is also seen through `exited`
  }

  /**
   * Hands a connection over. False when the channel is gone (the socket is
   * still ours then). The socket is sent with `keepOpen` and our copy closed
   * once the message is written: until then it is ours, and if the worker
   * dies first it goes to another worker instead of hanging here (a handle
   * queued behind another is otherwise neither delivered nor closed).
   */
  send(index: number, socket: Socket): boolean {
    if (!this.#child.connected) return false;
    this.sent++;
    const message: ToWorker = { t: "conn", l: index };
    this.#unwritten.set(socket, index);
    this.#child.send(message, socket, { keepOpen: true }, (error) => {
      if (!this.#unwritten.delete(socket)) return;
      if (error) this.#command.onBack(index, socket);
      else socket.destroy(); // the worker has its own descriptor; this only drops ours
    });
    return true;
  }

  /** Tells the worker to finish what it was given and exit. Nothing more is routed to it. */
  retire(): void {
    if (this.state === "retiring") return;
    const booting = this.state === "booting";
    this.state = "retiring";
    // A worker that never served has nothing to finish; it may be stuck loading the app.
    if (booting || !this.#child.connected) {
      this.kill();
      return;
    }
    const message: ToWorker = { t: "stop", sent: this.sent };
    this.#child.send(message);
  }

  /** Sockets never written to a worker that is gone are still whole: another worker serves them. */
  #rescueUnwritten(): void {
    const left = [...this.#unwritten];
    this.#unwritten.clear();
    for (const [socket, index] of left) this.#command.onBack(index, socket);
  }

  /** Passes a signal on (SIGUSR1: reopen the access log). */
  signal(name: "SIGUSR1"): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill(name);
  }

  /** Ends the process at once. */
  kill(): void {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill("SIGKILL");
  }
}
