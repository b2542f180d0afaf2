/**
 * Accepting paused for `connectionLimit`: the listener's connections that
 * arrive meanwhile are parked, in arrival order, and released when
 * accepting resumes. Every adapter parks what its listener accepted this way.
 *
 * @module
 */

/** The parked connections (sockets, or the adapter's Connection) of one listener. */
export class AcceptGate<T> {
  #paused = false;
  #parked: T[] = [];

  /** Parks `item` while paused and says true; false: the caller serves it now. */
  park(item: T): boolean {
    if (!this.#paused) return false;
    this.#parked.push(item);
    return true;
  }

  /** Pauses accepting: what arrives from now on is parked. */
  pause(): void {
    this.#paused = true;
  }

  /** Resumes accepting and releases what was parked, in order, until `release` pauses it again. */
  resume(release: (item: T) => void): void {
    this.#paused = false;
    while (this.#parked.length > 0 && !this.#paused) release(this.#parked.shift()!);
  }

  /** Takes everything parked (the listener closes; the caller disposes of it). */
  takeParked(): T[] {
    const parked = this.#parked;
    this.#parked = [];
    return parked;
  }
}
