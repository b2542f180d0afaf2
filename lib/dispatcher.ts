/**
 * waitress's worker pool, for an event loop: `threads` bounds how many
 * requests the application is processing at once; the rest wait in arrival
 * order. A slot is held from the call of the handler until its response has
 * been produced into the connection's output buffer, as a waitress worker
 * thread is.
 *
 * @module
 */

/** What waits for a slot: an object with a method, so queueing it needs no closure. */
export interface Startable {
  /** Called once a slot is free; must lead to exactly one `release()`. */
  start(): void;
}

/** Bounded concurrency with a FIFO queue. */
export class Dispatcher {
  #limit: number;
  #active = 0;
  #waiting: Startable[] = [];
  #head = 0;

  /** Allows `limit` tasks at once. */
  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.#waiting.length - this.#head;
  }

  /**
   * Starts `task` now if a slot is free (returning true), otherwise queues it
   * and returns false. Its `start` must lead to exactly one `release()`.
   */
  run(task: Startable): boolean {
    if (this.#active < this.#limit) {
      this.#active++;
      task.start();
      return true;
    }
    this.#waiting.push(task);
    return false;
  }

  /** Frees a slot and starts the longest-waiting task, if any. */
  release(): void {
    if (this.#head === this.#waiting.length) {
      this.#active--;
      return;
    }
    const next = this.#waiting[this.#head];
    // The queue is read from #head on; the entry is cleared so the task can be collected.
    this.#waiting[this.#head++] = started;
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head);
      this.#head = 0;
    }
    // The slot passes straight to the next task: #active is unchanged.
    next.start();
  }
}

/** What a queue entry is replaced with once its task started. */
const started: Startable = { start() {} };
