/**
 * The minimum body rate (Apache's mod_reqtimeout `body=20,MinRate=500`):
 * once a body's clock runs, it may take `bodyTimeout` seconds plus one more
 * for every `bodyMinRate` bytes received. The channel restarts the clock
 * whenever a slow arrival is not the client's doing (reading paused, a
 * request in flight, output waiting).
 *
 * @module
 */
import { type HttpError, requestTimeout } from "./errors.ts";

/** The 408 for a body that fell behind. */
export function slowBodyError(bodyTimeout: number, bodyMinRate: number, version: "1.0" | "1.1"): HttpError {
  const detail = bodyMinRate > 0
    ? `The request body arrived slower than ${bodyMinRate} bytes a second`
    : `The request body took longer than ${bodyTimeout} seconds`;
  return requestTimeout(detail, version);
}

/** The clock of the body being received on one connection. */
export class BodyClock {
  /** When the clock (re)started; 0: not running. */
  #start = 0;
  /** The body's length when the clock (re)started. */
  #bytes = 0;

  /** Stops the clock: the next check starts it afresh. */
  reset(): void {
    this.#start = 0;
  }

  /**
   * True when a body of `received` bytes has fallen behind at `now`. With
   * `restart`, or when the clock is not running, it (re)starts and says false.
   */
  behind(now: number, received: number, bodyTimeout: number, bodyMinRate: number, restart: boolean): boolean {
    if (this.#start === 0 || restart) {
      this.#start = now;
      this.#bytes = received;
      return false;
    }
    const earned = bodyMinRate > 0 ? ((received - this.#bytes) * 1000) / bodyMinRate : 0;
    return now - this.#start > bodyTimeout * 1000 + earned;
  }
}
