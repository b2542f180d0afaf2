/**
 * A bounded soak of the server, loopback only.
 *
 * The parent starts `serve()` in a child process (tests/fixtures/soak-server.ts) under the chosen runtime
 * (node_modules/.bin/{node,deno,bun}) and drives it over 127.0.0.1 with many
 * thousands of connections and (by default) a million requests, mixing
 * keep-alive sequences, pipelined bursts, uploads above inbufOverflow,
 * abrupt disconnects mid-request and mid-response, and requests to a route
 * that throws. Every response echoes the id of its request, so the driver
 * counts lost and misordered responses. The child reports its RSS, heap,
 * `server.stats()` and temporary files on stdout when asked on stdin; the
 * parent reads the child's open descriptors from /proc/<pid>/fd.
 *
 * At the end: memory within 10% of its post-warm-up level (after a settle
 * period and a GC; on Node with glibc's allocator, judged after malloc_trim(0)
 * or with `--preload` jemalloc, see below), no temporary file (stats().tempFiles and the child's
 * private TMPDIR), descriptors back to baseline; then `shutdown()` during a
 * final burst must lose no response the application produced. Exits
 * non-zero on any failure.
 *
 *   node scripts/soak.ts [--runtime node|deno|bun] [--requests N] [--connections N]
 *                        [--seconds N] [--quick] [--seed N] [--without kind,kind]
 *                        [--preload /path/to/lib.so] [--trim-check]
 *
 * `--quick` is the CI version (~20k requests, well under 20 s). `--without`
 * drops scenario kinds from the mix (keepalive, pipeline, upload, abort-head,
 * abort-body, abort-response, throw). `--preload` puts a library in the
 * child's LD_PRELOAD (an allocator such as jemalloc); `--trim-check` reports
 * RSS after glibc's malloc_trim(0), called through gdb, next to the end RSS.
 *
 * The memory criterion on Node: glibc's malloc keeps pages the garbage
 * collector freed (docs/soak.md), which says nothing about the server. So on
 * Node without `--preload`, the trim check always runs and the criterion is
 * judged on the RSS after malloc_trim(0); without gdb it is reported and not
 * judged. With `--preload` (jemalloc gives free pages back) and on Deno and
 * Bun, the end RSS itself is judged.
 *
 * @module
 */
import process from "node:process";
import { Buffer } from "node:buffer";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ChildReport, INBUF_OVERFLOW } from "../tests/support/soak_protocol.ts";

/** What a response must be. */
interface Expect {
  id: string;
  kind: "e" | "u" | "t" | "slow";
  /** For uploads: `${id}:${len}:${sum}`. */
  body?: string;
}

interface Totals {
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

const totals: Totals = {
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

function fail(kind: "lost" | "misordered" | "errors", message: string, n = 1): void {
  totals[kind] += n;
  if (totals.messages.length < 15) totals.messages.push(`${kind}: ${message}`);
}

/** Thrown by `Client.all()` once the missing responses were counted as lost. */
class LostError extends Error {}

const CRLF2 = Buffer.from("\r\n\r\n");
const EMPTY = Buffer.alloc(0);
let port = 0;

/** One driver connection: sends requests, parses responses incrementally and checks them against `expected`. */
class Client {
  readonly sock: Socket;
  buf: Buffer = EMPTY;
  expected: Expect[] = [];
  answered = 0;
  closed = false;
  ended = false;
  error: Error | null = null;
  /** Set when the server announced `Connection: close`. */
  serverCloses = false;
  /** Raw bytes counted (for abort-mid-response). */
  rawBytes = 0;
  raw = false;
  #wake: (() => void) | null = null;

  constructor(sock: Socket) {
    this.sock = sock;
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

  static open(): Promise<Client> {
    totals.connections++;
    return new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port });
      s.setNoDelay(true);
      const timer = setTimeout(() => (s.destroy(), reject(new Error("connect timed out"))), 10000);
      s.once("connect", () => (clearTimeout(timer), resolve(new Client(s))));
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
      while (this.#parseOne());
    } catch (e) {
      fail("errors", `parse: ${(e as Error).message}`);
      this.sock.destroy();
    }
    this.#notify();
  }

  /** Parses one complete response off `buf`; false when more bytes are needed. */
  #parseOne(): boolean {
    const buf = this.buf;
    if (buf.length === 0) return false;
    const end = buf.indexOf(CRLF2);
    if (end < 0) {
      if (buf.length > 16384) throw new Error("response head too large");
      return false;
    }
    const head = buf.toString("latin1", 0, end);
    const lines = head.split("\r\n");
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(lines[0]);
    if (m === null) throw new Error(`bad status line ${JSON.stringify(lines[0].slice(0, 80))}`);
    const status = Number(m[1]);
    let length = -1;
    let chunked = false;
    let close = false;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i];
      const colon = line.indexOf(":");
      const name = line.slice(0, colon).toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") length = Number(value);
      else if (name === "transfer-encoding") chunked = value === "chunked";
      else if (name === "connection") close = value.toLowerCase() === "close";
    }
    let pos = end + 4;
    let body: string;
    if (chunked) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = buf.indexOf("\r\n", pos);
        if (lineEnd < 0) return false;
        const size = parseInt(buf.toString("latin1", pos, lineEnd), 16);
        if (Number.isNaN(size)) throw new Error("bad chunk size");
        if (size === 0) {
          if (buf.length < lineEnd + 4) return false;
          pos = lineEnd + 4;
          break;
        }
        if (buf.length < lineEnd + 2 + size + 2) return false;
        parts.push(buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        pos = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts).toString("latin1");
    } else if (length >= 0) {
      if (buf.length < pos + length) return false;
      body = buf.toString("latin1", pos, pos + length);
      pos += length;
    } else {
      throw new Error(`response without framing (status ${status})`);
    }
    this.buf = pos === buf.length ? EMPTY : buf.subarray(pos);
    if (close) this.serverCloses = true;
    this.#check(status, body, close);
    return true;
  }

  #check(status: number, body: string, close: boolean): void {
    const exp = this.expected[this.answered];
    this.answered++;
    if (exp === undefined) {
      fail("errors", `unexpected extra response ${status} ${body.slice(0, 40)}`);
      return;
    }
    totals.requests++;
    if (exp.kind === "t") {
      if (status !== 500 || !close) fail("errors", `/t answered ${status} close=${close}`);
      return;
    }
    const want = exp.kind === "u" ? exp.body : exp.kind === "slow" ? `${exp.id}:${"z".repeat(4000)}:${exp.id}` : exp.id;
    if (status !== 200) fail("errors", `${exp.kind} ${exp.id} answered ${status}`);
    else if (body !== want) {
      // An id from elsewhere in this connection's sequence means order broke; anything else is corruption.
      const got = body.split(":")[0];
      if (this.expected.some((e) => e.id === got)) fail("misordered", `expected ${exp.id}, got ${got}`);
      else fail("errors", `${exp.kind} ${exp.id}: wrong body ${JSON.stringify(body.slice(0, 60))}`);
    }
  }

  send(data: string | Uint8Array): void {
    this.sock.write(data);
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
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 1000));
        this.#wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  /** Waits for every expected response so far. */
  async all(ms = 10000): Promise<void> {
    const want = this.expected.length;
    try {
      await this.until(() => this.answered >= want, ms, `${want} responses`);
    } catch (e) {
      fail("lost", `${want - this.answered} of ${want}: ${(e as Error).message}`, want - this.answered);
      throw new LostError();
    }
  }

  /** Waits for the server to close the connection. */
  async closedByServer(ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!this.closed && !this.ended) {
      if (Date.now() > deadline) throw new Error("server did not close");
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        this.#wake = () => (clearTimeout(t), resolve());
      });
    }
  }

  destroy(): void {
    this.sock.destroy();
  }
}

// ---- scenarios ----------------------------------------------------------------------

let rand: () => number = Math.random;
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const between = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

let nextId = 0;
const newId = () => (nextId++).toString(36);
const getReq = (path: string, id: string, extra = "") => `GET ${path}?id=${id} HTTP/1.1\r\nHost: soak\r\n${extra}\r\n`;

const UPLOAD_POOL = Buffer.alloc(512 * 1024);
for (let i = 0; i < UPLOAD_POOL.length; i++) UPLOAD_POOL[i] = (i * 7919 + (i >> 9)) & 0xff;

function uploadRequest(id: string, size: number): { bytes: Buffer; expect: Expect } {
  const offset = between(0, UPLOAD_POOL.length - size);
  const body = UPLOAD_POOL.subarray(offset, offset + size);
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum = (sum + body[i]) | 0;
  const head = Buffer.from(`POST /u?id=${id} HTTP/1.1\r\nHost: soak\r\nContent-Length: ${size}\r\n\r\n`, "latin1");
  totals.uploads++;
  totals.uploadBytes += size;
  return { bytes: Buffer.concat([head, body]), expect: { id, kind: "u", body: `${id}:${size}:${sum}` } };
}

type Kind = "keepalive" | "pipeline" | "upload" | "abort-head" | "abort-body" | "abort-response" | "throw";
const WEIGHTS: Array<[Kind, number]> = [
  ["keepalive", 36],
  ["pipeline", 30],
  ["upload", 8],
  ["abort-head", 5],
  ["abort-body", 5],
  ["abort-response", 6],
  ["throw", 10],
];

/** Runs one scenario on a fresh connection. */
async function scenario(kind: Kind): Promise<void> {
  const c = await Client.open();
  try {
    switch (kind) {
      case "keepalive": {
        const n = between(5, 40);
        const serverCloses = rand() < 0.5;
        for (let i = 0; i < n; i++) {
          const id = newId();
          c.expected.push({ id, kind: "e" });
          c.send(getReq("/e", id, serverCloses && i === n - 1 ? "Connection: close\r\n" : ""));
          await c.all();
        }
        if (serverCloses) {
          if (!c.serverCloses) fail("errors", "Connection: close not echoed");
          await c.closedByServer();
        }
        break;
      }
      case "pipeline": {
        const bursts = between(1, 3);
        for (let b = 0; b < bursts; b++) {
          const n = between(8, 48);
          let text = "";
          for (let i = 0; i < n; i++) {
            const id = newId();
            c.expected.push({ id, kind: "e" });
            text += getReq("/e", id);
          }
          c.send(text);
          await c.all();
        }
        break;
      }
      case "upload": {
        const n = between(1, 3);
        for (let i = 0; i < n; i++) {
          // Mostly above inbufOverflow (a temporary file), sometimes below.
          const size = rand() < 0.8 ? between(INBUF_OVERFLOW + 1, 320 * 1024) : between(1, 4096);
          const { bytes, expect } = uploadRequest(newId(), size);
          c.expected.push(expect);
          c.send(bytes);
          await c.all();
        }
        break;
      }
      case "abort-head": {
        const text = getReq("/e", newId(), "X-Filler: " + "f".repeat(between(0, 200)) + "\r\n");
        c.send(text.slice(0, between(1, text.length - 3)));
        await new Promise((r) => setTimeout(r, between(0, 3)));
        totals.aborts++;
        break;
      }
      case "abort-body": {
        // Announce a body above inbufOverflow, send part of it (spilled to a temporary file), vanish.
        const size = between(INBUF_OVERFLOW + 16 * 1024, 300 * 1024);
        const { bytes } = uploadRequest(newId(), size);
        totals.uploads--;
        totals.uploadBytes -= size;
        c.send(bytes.subarray(0, bytes.length - between(1, size - INBUF_OVERFLOW - 1)));
        await new Promise((r) => setTimeout(r, between(2, 10)));
        totals.aborts++;
        break;
      }
      case "abort-response": {
        // A 3 MiB streamed response; read part of it and vanish.
        c.raw = true;
        c.send(getReq("/s", newId()).replace("?id=", "?n=200&id="));
        const want = between(1, 512) * 1024;
        await c.until(() => c.rawBytes >= want, 10000, "part of a streamed response");
        totals.aborts++;
        break;
      }
      case "throw": {
        // A few good requests, then one that throws (500 + close), with more pipelined behind it that
        // must never be answered.
        const before = between(0, 5);
        for (let i = 0; i < before; i++) {
          const id = newId();
          c.expected.push({ id, kind: "e" });
          c.send(getReq("/e", id));
          await c.all();
        }
        const id = newId();
        c.expected.push({ id, kind: "t" });
        totals.throws++;
        c.send(getReq("/t", id) + getReq("/e", newId()) + getReq("/e", newId()));
        await c.all();
        await c.closedByServer();
        break;
      }
    }
  } catch (e) {
    // Lost responses are already counted.
    if (!(e instanceof LostError)) fail("errors", `${kind}: ${(e as Error).message}`);
  } finally {
    c.destroy();
  }
}

// ---- child control ----------------------------------------------------------------

class Control {
  readonly proc: ChildProcess;
  #lines: string[] = [];
  #wake: (() => void) | null = null;
  stderr = "";
  exited: Promise<number | null>;

  constructor(proc: ChildProcess) {
    this.proc = proc;
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
      if (this.stderr.length < 20000) this.stderr += d;
    });
    this.exited = new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
  }

  /** Next report of `type` from the child (other lines are skipped). */
  async next(type: string, ms = 10000): Promise<ChildReport> {
    const deadline = Date.now() + ms;
    for (;;) {
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

  ask(cmd: string, type = cmd, ms = 10000): Promise<ChildReport> {
    this.proc.stdin!.write(cmd + "\n");
    return this.next(type, ms);
  }
}

function fdCount(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return -1;
  }
}

const MiB = (n: number) => (n / 1048576).toFixed(1);

/**
 * `--trim-check` (and Node on glibc; gdb installed): asks the child's
 * allocator to give its free heap pages back (malloc_trim(0) through gdb) and
 * reads RSS again. What drops is memory glibc kept after it was freed, not
 * memory anything still holds; on Node without `--preload` that figure is
 * the one the verdict judges.
 */
async function rssAfterMallocTrim(pid: number, ctl: Control): Promise<number | null> {
  const gdb = spawn("gdb", ["-p", String(pid), "-batch", "-ex", "call (int)malloc_trim(0)"], { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => {
    gdb.on("error", () => resolve(null));
    gdb.on("exit", (c) => resolve(c));
  });
  if (code !== 0) {
    console.log("  note: --trim-check needs gdb and a glibc runtime; skipped");
    return null;
  }
  return (await ctl.ask("stats")).rss;
}

async function parent(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      runtime: { type: "string", default: "node" },
      requests: { type: "string" },
      connections: { type: "string" },
      seconds: { type: "string" },
      seed: { type: "string", default: "1" },
      quick: { type: "boolean", default: false },
      without: { type: "string", default: "" },
      preload: { type: "string" },
      "trim-check": { type: "boolean", default: false },
    },
  });
  const quick = values.quick;
  const runtime = values.runtime;
  if (runtime !== "node" && runtime !== "deno" && runtime !== "bun") {
    throw new Error(`--runtime node|deno|bun, not ${runtime}`);
  }
  const target = Number(values.requests ?? (quick ? 20_000 : 1_000_000));
  const lanes = Number(values.connections ?? (quick ? 24 : 64));
  const seconds = Number(values.seconds ?? (quick ? 30 : 300));
  const without = new Set(values.without.split(",").filter((s) => s !== ""));
  const mix = WEIGHTS.filter(([k]) => !without.has(k));
  const weightSum = mix.reduce((n, [, w]) => n + w, 0);
  rand = mulberry32(Number(values.seed));
  const pick = (): Kind => {
    let x = rand() * weightSum;
    for (const [k, w] of mix) if ((x -= w) < 0) return k;
    return mix[0][0];
  };

  const root = join(dirname(fileURLToPath(import.meta.url)), "..");
  const bin = (name: string) => join(root, "node_modules", ".bin", name);
  const server = join(root, "tests", "fixtures", "soak-server.ts");
  const argv: Record<string, [string, string[]]> = {
    node: [bin("node"), ["--expose-gc", server]],
    deno: [bin("deno"), ["run", "-A", "--v8-flags=--expose-gc", server]],
    bun: [bin("bun"), [server]],
  };
  const tmp = mkdtempSync(join(tmpdir(), "soak-"));
  const [cmd, args] = argv[runtime];
  const proc = spawn(cmd, args, {
    cwd: root,
    // --preload: run the child on another allocator (e.g. jemalloc) to tell allocator retention from a leak.
    env: { ...process.env, TMPDIR: tmp, NO_COLOR: "1", ...(values.preload ? { LD_PRELOAD: values.preload } : {}) },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const ctl = new Control(proc);
  const problems: string[] = [];
  const t0 = performance.now();
  try {
    const hello = await ctl.next("listening", 30000);
    port = hello.port!;
    const pid = hello.pid;
    const fdsInitial = fdCount(pid);
    console.log(
      `soak: ${runtime} child pid ${pid} on 127.0.0.1:${port}; ${target} requests, ${lanes} lanes, cap ${seconds} s` +
        `${without.size ? `, without ${[...without].join(",")}` : ""}`,
    );

    const deadline = Date.now() + seconds * 1000;
    let peakRss = hello.rss;
    let peakFds = fdsInitial;
    let peakConnections = 0;
    const drive = async (count: number): Promise<void> => {
      const stop = totals.requests + count;
      await Promise.all(Array.from({ length: lanes }, async () => {
        while (totals.requests < stop && Date.now() < deadline) await scenario(pick());
      }));
    };
    const settle = async (): Promise<ChildReport> => {
      // Connections left by aborting clients close as the server notices; give it a bounded while.
      const until = Date.now() + (quick ? 5000 : 15000);
      let st = await ctl.ask("stats");
      while ((st.connections > 0 || st.activeRequests > 0) && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 200));
        st = await ctl.ask("stats");
      }
      // Temporary files released by the last bodies are kept for reuse for 2 to 4 s (lib/buffers.ts):
      // wait them out, so that the descriptor counts compare like with like.
      await new Promise((r) => setTimeout(r, 4500));
      // The lowest of a few GC'd readings: RSS gives memory back to the OS lazily.
      let best = await ctl.ask("gc");
      for (let i = 0; i < (quick ? 1 : 5); i++) {
        await new Promise((r) => setTimeout(r, 500));
        const r = await ctl.ask("gc");
        if (r.rss < best.rss) best = r;
      }
      return best;
    };

    // Warm-up, then the baseline.
    const warm = Math.min(Math.max(Math.round(target * 0.05), 1000), 50_000);
    await drive(warm);
    const base = await settle();
    const fdsBase = fdCount(pid);
    console.log(
      `warm-up: ${totals.requests} requests; baseline RSS ${MiB(base.rss)} MiB, heap ${
        MiB(base.heapUsed)
      } MiB, fds ${fdsBase}`,
    );

    // The run.
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await new Promise((r) => setTimeout(r, 1000));
        if (!sampling) break;
        const st = await ctl.ask("stats").catch(() => null);
        if (st === null) continue;
        peakRss = Math.max(peakRss, st.rss);
        peakConnections = Math.max(peakConnections, st.connections);
        peakFds = Math.max(peakFds, fdCount(pid));
      }
    })();
    const tRun = performance.now();
    const reqRun0 = totals.requests;
    const conn0 = totals.connections;
    let lastPrint = Date.now();
    const progress = setInterval(() => {
      if (Date.now() - lastPrint < 10000) return;
      lastPrint = Date.now();
      const s = (performance.now() - tRun) / 1000;
      console.log(
        `  ${totals.requests} requests, ${totals.connections} connections, ${
          ((totals.requests - reqRun0) / s).toFixed(0)
        } req/s, RSS peak ${MiB(peakRss)} MiB`,
      );
    }, 1000);
    await drive(target - totals.requests);
    clearInterval(progress);
    const runSeconds = (performance.now() - tRun) / 1000;
    const runRequests = totals.requests - reqRun0;
    const runConnections = totals.connections - conn0;
    sampling = false;
    await sampler;
    const end = await settle();
    const fdsEnd = fdCount(pid);
    // Node on glibc: the verdict judges the RSS after malloc_trim(0) (see the opening comment).
    const glibcNode = runtime === "node" && values.preload === undefined;
    const trimmed = values["trim-check"] || glibcNode ? await rssAfterMallocTrim(pid, ctl) : null;
    if (totals.requests < target) {
      problems.push(`stopped by the ${seconds} s cap at ${totals.requests} of ${target} requests`);
    }

    // Final burst: keep-alive clients mid-traffic, then shutdown().
    const handled0 = (await ctl.ask("stats")).handled;
    const burstLanes = quick ? 40 : 200;
    let burstResponses = 0;
    let burstTruncated = 0;
    let stopBurst = false;
    const clients: Client[] = [];
    for (let i = 0; i < burstLanes; i++) clients.push(await Client.open());
    const burst = Promise.all(clients.map(async (c, i) => {
      const depth = 1 + (i % 4);
      while (!c.closed && !c.ended && !c.error && !c.serverCloses && !stopBurst) {
        let text = "";
        for (let k = 0; k < depth; k++) {
          const id = newId();
          c.expected.push({ id, kind: "slow" });
          text += getReq("/slow", id);
        }
        c.send(text);
        const want = c.expected.length;
        await c.until(() => c.answered >= want, 10000, "burst responses").catch(() => {});
        if (c.answered < want) break;
      }
      await c.closedByServer(10000).catch(() => fail("errors", "a burst connection was never closed"));
      burstResponses += c.answered;
      if (c.buf.length > 0) burstTruncated++;
    }));
    await new Promise((r) => setTimeout(r, quick ? 300 : 1000));
    const shutdownSent = performance.now();
    const sd = await ctl.ask("shutdown", "shutdown", 20000).catch((e) => {
      problems.push(`shutdown: ${(e as Error).message}`);
      return null;
    });
    const settled = await Promise.race([burst.then(() => true), new Promise((r) => setTimeout(() => r(false), 15000))]);
    stopBurst = true;
    for (const c of clients) c.destroy();
    const code = await Promise.race([ctl.exited, new Promise((r) => setTimeout(() => r("timeout"), 10000))]);
    const burstHandled = sd ? sd.handled - handled0 : -1;

    // Verdict.
    const judgedRss = glibcNode ? trimmed : end.rss;
    const what = glibcNode ? "RSS after malloc_trim(0)" : "RSS";
    if (judgedRss === null) {
      totals.messages.push("RSS not judged: Node on glibc needs gdb (malloc_trim) or --preload jemalloc");
    } else if ((judgedRss - base.rss) / base.rss > 0.10) {
      const growth = (judgedRss - base.rss) / base.rss;
      problems.push(
        `${what} ${MiB(judgedRss)} MiB is ${(growth * 100).toFixed(1)}% above the post-warm-up ${MiB(base.rss)} MiB`,
      );
    }
    if (end.tempFiles !== 0) problems.push(`${end.tempFiles} temporary files still open (stats().tempFiles)`);
    if (end.tmpEntries !== 0) problems.push(`${end.tmpEntries} waitress-* files left in the child's TMPDIR`);
    if (fdsEnd > fdsBase) problems.push(`descriptors ${fdsEnd} > baseline ${fdsBase} (leak of ${fdsEnd - fdsBase})`);
    if (end.connections !== 0 || end.activeRequests !== 0 || end.queuedRequests !== 0) {
      problems.push(
        `after settling: ${end.connections} connections, ${end.activeRequests} active, ${end.queuedRequests} queued`,
      );
    }
    if (end.otherLogs.length > 0) problems.push(`unexpected log lines: ${end.otherLogs.slice(0, 3).join(" | ")}`);
    if (totals.lost > 0) problems.push(`${totals.lost} responses lost`);
    if (totals.misordered > 0) problems.push(`${totals.misordered} responses misordered`);
    if (totals.errors > 0) problems.push(`${totals.errors} errors`);
    if (!settled) problems.push("final burst clients did not finish within 15 s of shutdown()");
    if (burstTruncated > 0) problems.push(`${burstTruncated} burst connections ended inside a response`);
    if (sd && burstResponses !== burstHandled) {
      problems.push(
        `shutdown: the app produced ${burstHandled} responses in the final burst, ${burstResponses} arrived`,
      );
    }
    if (code !== 0) problems.push(`child exit ${String(code)}`);

    const figures = {
      runtime,
      requests: totals.requests,
      connections: totals.connections,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      runRequests,
      runConnections,
      runSeconds: Number(runSeconds.toFixed(1)),
      reqPerSec: Math.round(runRequests / runSeconds),
      aborts: totals.aborts,
      throws: totals.throws,
      uploads: totals.uploads,
      uploadMiB: Number(MiB(totals.uploadBytes)),
      lost: totals.lost,
      misordered: totals.misordered,
      errors: totals.errors,
      appErrorsLogged: end.appErrors,
      peakConnections,
      rssMiB: {
        initial: Number(MiB(hello.rss)),
        base: Number(MiB(base.rss)),
        peak: Number(MiB(peakRss)),
        end: Number(MiB(end.rss)),
      },
      heapMiB: {
        base: Number(MiB(base.heapUsed)),
        end: Number(MiB(end.heapUsed)),
        totalBase: Number(MiB(base.heapTotal)),
        totalEnd: Number(MiB(end.heapTotal)),
        externalBase: Number(MiB(base.external)),
        externalEnd: Number(MiB(end.external)),
      },
      rssAfterTrimMiB: trimmed === null ? null : Number(MiB(trimmed)),
      rssJudged: judgedRss === null ? null : glibcNode ? "after malloc_trim(0)" : "end",
      fds: { initial: fdsInitial, base: fdsBase, peak: peakFds, end: fdsEnd },
      tempFiles: end.tempFiles,
      tmpEntries: end.tmpEntries,
      shutdown: {
        lanes: burstLanes,
        handled: burstHandled,
        received: burstResponses,
        truncated: burstTruncated,
        ms: sd?.shutdownMs ?? -1,
        sinceSent: Math.round(performance.now() - shutdownSent),
        exit: code,
      },
    };
    console.log(
      `run: ${runRequests} requests over ${runConnections} connections in ${
        runSeconds.toFixed(1)
      } s = ${figures.reqPerSec} req/s`,
    );
    console.log(
      `RSS MiB: initial ${figures.rssMiB.initial}, post-warm-up ${figures.rssMiB.base}, peak ${figures.rssMiB.peak}, end ${figures.rssMiB.end}`,
    );
    if (trimmed !== null) {
      console.log(`RSS after malloc_trim(0): ${MiB(trimmed)} MiB (what glibc held as free heap is given back)`);
    }
    console.log(
      `fds: initial ${fdsInitial}, baseline ${fdsBase}, peak ${peakFds}, end ${fdsEnd}; temp files ${end.tempFiles}, tmp entries ${end.tmpEntries}`,
    );
    console.log(
      `shutdown: ${burstHandled} handled, ${burstResponses} received whole, ${burstTruncated} truncated, ${figures.shutdown.ms} ms`,
    );
    for (const m of totals.messages) console.log(`  note: ${m}`);
    for (const p of problems) console.log(`FAIL: ${p}`);
    console.log("figures: " + JSON.stringify(figures));
    console.log(`verdict: ${problems.length === 0 ? "PASS" : "FAIL"}`);
    return problems.length === 0 ? 0 : 1;
  } finally {
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(tmp, { recursive: true, force: true });
  }
}

const code = await parent().catch((e) => {
  console.error(`soak: ${(e as Error).stack ?? e}`);
  return 2;
});
process.exit(code);
