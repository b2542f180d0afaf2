/**
 * The state one soak run shares between its parts: the counts of what was
 * sent and what went wrong, the seeded random numbers that pick the traffic,
 * the request ids and the port of the server under test. The driver makes
 * one `SoakRun` and hands it to the client, the scenarios and the verdict.
 *
 * @module
 */

/** What a response must be: the id of its request, the route, and for uploads the echoed length and sum. */
export interface Expect {
  id: string;
  kind: "e" | "u" | "t" | "slow";
  /** For uploads: `${id}:${len}:${sum}`. */
  body?: string;
}

/** The counts a run keeps; `messages` holds the first few failures in words. */
export interface Totals {
  requests: number;
  connections: number;
  aborts: number;
  throws: number;
  uploads: number;
  uploadBytes: number;
  lost: number;
  misordered: number;
  errors: number;
  messages: string[];
}

/** The kinds of failure a run counts. */
export type FailureKind = "lost" | "misordered" | "errors";

/** How many failure messages a run keeps (the counts go on). */
const MESSAGES_KEPT = 15;

/** Thrown by `SoakClient.all()` once the missing responses were counted as lost. */
export class LostError extends Error {}

/** A small seeded PRNG (mulberry32): the same seed gives the same traffic. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One soak run: the server's port, the seeded random numbers, the request ids and the totals. */
export class SoakRun {
  /** The port of the server under test on 127.0.0.1. */
  readonly port: number;
  /** A number in [0, 1) from the run's seeded PRNG. */
  readonly rand: () => number;
  /** What was sent, answered and lost so far. */
  readonly totals: Totals = {
    requests: 0,
    connections: 0,
    aborts: 0,
    throws: 0,
    uploads: 0,
    uploadBytes: 0,
    lost: 0,
    misordered: 0,
    errors: 0,
    messages: [],
  };
  #nextId = 0;

  /** A run against 127.0.0.1:`port`, its traffic drawn from `seed`. */
  constructor(port: number, seed: number) {
    this.port = port;
    this.rand = mulberry32(seed);
  }

  /** A whole number from `lo` to `hi`, both included. */
  between(lo: number, hi: number): number {
    return lo + Math.floor(this.rand() * (hi - lo + 1));
  }

  /** A fresh request id (base 36), unique within the run. */
  newId(): string {
    return (this.#nextId++).toString(36);
  }

  /** Counts `n` failures of `kind`, and keeps the message while few are kept. */
  fail(kind: FailureKind, message: string, n = 1): void {
    this.totals[kind] += n;
    if (this.totals.messages.length < MESSAGES_KEPT) this.totals.messages.push(`${kind}: ${message}`);
  }
}
