/**
 * Bounded waiting: every wait in the tests has a limit.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Rejects if `promise` takes longer than `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Lets timers, immediates and promise chains run `n` event-loop turns. */
export async function turns(n = 10): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Waits until `ready()` holds, at most `ms` milliseconds; throws with `what` if it never does. */
export async function until(ready: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline; i++) {
    if (ready()) return;
    // Event-loop turns first (promise chains, immediates), then short sleeps (timers in the app).
    await new Promise<void>((resolve) => i < 50 ? setImmediate(resolve) : setTimeout(resolve, 1));
  }
  if (ready()) return;
  throw new Error(`never happened: ${what}`);
}

/** A promise and the functions that settle it. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A promise to settle later, from the test. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
