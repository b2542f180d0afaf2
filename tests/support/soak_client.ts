/**
 * One connection of the soak's driver: it sends requests, reads the
 * responses off the socket as they arrive and checks each against what its
 * request expects, counting lost, misordered and wrong responses in the
 * `SoakRun`. Every wait is bounded.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { connect, type Socket } from "node:net";
import { parseResponse, type SoakResponse } from "./soak_response.ts";
import { slowBody } from "./soak_requests.ts";
import { type Expect, LostError, type SoakRun } from "./soak_run.ts";

const EMPTY = Buffer.alloc(0);
/** How long a connect may take. */
const CONNECT_MS = 10000;

/** One driver connection: sends requests, parses responses incrementally and checks them against `expected`. */
export class SoakClient {
  /** The socket to the server under test. */
  readonly sock: Socket;
  /** Bytes received and not yet parsed. */
  buf: Buffer = EMPTY;
  /** What each request sent so far must get, in order. */
  expected: Expect[] = [];
  /** How many responses arrived. */
  answered = 0;
  closed = false;
  ended = false;
  error: Error | null = null;
  /** Set when the server announced `Connection: close`. */
  serverCloses = false;
  /** Raw bytes counted (for abort-mid-response). */
  rawBytes = 0;
  /** Count bytes instead of parsing responses. */
  raw = false;
  readonly #run: SoakRun;
  #wake: (() => void) | null = null;

  /** Watches `sock`, counting into `run`. */
  constructor(sock: Socket, run: SoakRun) {
    this.sock = sock;
    this.#run = run;
    sock.on("data", (d: Buffer) => this.#data(d));
    sock.on("end", () => {
      this.ended = true;
      this.#notify();
    });
    sock.on("error", (e: Error) => {
      this.error = e;
      this.#notify();
    });
    sock.on("close", () => {
      this.closed = true;
      this.#notify();
    });
  }

  /** Connects to the run's server (counted in the run's connections). */
  static open(run: SoakRun): Promise<SoakClient> {
    run.totals.connections++;
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port: run.port });
      s.setNoDelay(true);
      const timer = setTimeout(() => (s.destroy(), reject(new Error("connect timed out"))), CONNECT_MS);
      s.once("connect", () => (clearTimeout(timer), resolve(new SoakClient(s, run))));
      s.once("error", (e) => (clearTimeout(timer), reject(e)));
    });
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  #data(d: Buffer): void {
    if (this.raw) {
      this.rawBytes += d.length;
      this.#notify();
      return;
    }
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    try {
      while (this.#takeOne());
    } catch (e) {
      this.#run.fail("errors", `parse: ${(e as Error).message}`);
      this.sock.destroy();
    }
    this.#notify();
  }

  /** Takes one complete response off `buf` and checks it; false when more bytes are needed. */
  #takeOne(): boolean {
    const response = parseResponse(this.buf);
    if (response === null) return false;
    this.buf = response.size === this.buf.length ? EMPTY : this.buf.subarray(response.size);
    if (response.close) this.serverCloses = true;
    this.#check(response);
    return true;
  }

  #check({ status, body, close }: SoakResponse): void {
    const exp = this.expected[this.answered];
    this.answered++;
    if (exp === undefined) {
      this.#run.fail("errors", `unexpected extra response ${status} ${body.slice(0, 40)}`);
      return;
    }
    this.#run.totals.requests++;
    if (exp.kind === "t") {
      if (status !== 500 || !close) this.#run.fail("errors", `/t answered ${status} close=${close}`);
      return;
    }
    const want = exp.kind === "u" ? exp.body : exp.kind === "slow" ? slowBody(exp.id) : exp.id;
    if (status !== 200) this.#run.fail("errors", `${exp.kind} ${exp.id} answered ${status}`);
    else if (body !== want) this.#wrongBody(exp, body);
  }

  /** An id from elsewhere in this connection's sequence means order broke; anything else is corruption. */
  #wrongBody(exp: Expect, body: string): void {
    const got = body.split(":")[0];
    if (this.expected.some((e) => e.id === got)) this.#run.fail("misordered", `expected ${exp.id}, got ${got}`);
    else this.#run.fail("errors", `${exp.kind} ${exp.id}: wrong body ${JSON.stringify(body.slice(0, 60))}`);
  }

  /** Writes request bytes. */
  send(data: string | Uint8Array): void {
    this.sock.write(data);
  }

  /** Expects a response to `id` of `kind`. */
  expect(id: string, kind: Expect["kind"]): void {
    this.expected.push({ id, kind });
  }

  /** Waits until `pred` holds; rejects when the connection ends first or after `ms`. */
  async until(pred: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (this.closed || this.ended || this.error) {
        throw new Error(`connection ended before ${what}${this.error ? `: ${this.error.message}` : ""}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await this.#sleep(Math.min(left, 1000));
    }
  }

  /** Waits for every expected response so far; counts the missing ones as lost and throws `LostError`. */
  async all(ms = 10000): Promise<void> {
    const want = this.expected.length;
    try {
      await this.until(() => this.answered >= want, ms, `${want} responses`);
    } catch (e) {
      this.#run.fail("lost", `${want - this.answered} of ${want}: ${(e as Error).message}`, want - this.answered);
      throw new LostError();
    }
  }

  /** Waits for the server to close the connection. */
  async closedByServer(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed && !this.ended) {
      if (Date.now() > deadline) throw new Error("server did not close");
      await this.#sleep(200);
    }
  }

  /** Sleeps `ms`, or less when the socket has news. */
  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => (clearTimeout(t), resolve());
    });
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.sock.destroy();
  }
}
