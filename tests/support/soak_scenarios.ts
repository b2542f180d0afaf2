/**
 * The soak's traffic: what one lane does on one fresh connection (keep-alive
 * sequences, pipelined bursts, uploads, aborts mid-head, mid-body and
 * mid-response, a route that throws), the weights that mix them, and the
 * slow pipelined lane of the final burst that `shutdown()` interrupts.
 *
 * @module
 */
import { SoakClient } from "./soak_client.ts";
import { INBUF_OVERFLOW } from "./soak_protocol.ts";
import { getRequest, lastUploadOffset, type Upload, uploadRequest } from "./soak_requests.ts";
import { LostError, type SoakRun } from "./soak_run.ts";

/** The scenario kinds `--without` can drop. */
export type Kind = "keepalive" | "pipeline" | "upload" | "abort-head" | "abort-body" | "abort-response" | "throw";

/** Each kind's share of the mix (docs/soak.md has the table). */
export const WEIGHTS: ReadonlyArray<readonly [Kind, number]> = [
  ["keepalive", 36],
  ["pipeline", 30],
  ["upload", 8],
  ["abort-head", 5],
  ["abort-body", 5],
  ["abort-response", 6],
  ["throw", 10],
];

/** What one scenario does on its connection. */
type Scenario = (c: SoakClient, run: SoakRun) => Promise<void>;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One GET of `/e` expected and sent, then its response awaited. */
async function echoOne(c: SoakClient, run: SoakRun, extra = ""): Promise<void> {
  const id = run.newId();
  c.expect(id, "e");
  c.send(getRequest("/e", id, extra));
  await c.all();
}

/** `n` GETs of `path` ("/e" or "/slow") expected on `c`, as one string to write at once. */
function pipelined(c: SoakClient, run: SoakRun, path: "/e" | "/slow", n: number): string {
  let text = "";
  for (let i = 0; i < n; i++) {
    const id = run.newId();
    c.expect(id, path === "/e" ? "e" : "slow");
    text += getRequest(path, id);
  }
  return text;
}

/** An upload of `size` bytes at a random place in the pool. */
function randomUpload(run: SoakRun, size: number): Upload {
  return uploadRequest(run.newId(), size, run.between(0, lastUploadOffset(size)));
}

/** 5-40 sequential GETs; half the time the last says `Connection: close` and the server must close. */
async function keepalive(c: SoakClient, run: SoakRun): Promise<void> {
  const n = run.between(5, 40);
  const serverCloses = run.rand() < 0.5;
  for (let i = 0; i < n; i++) await echoOne(c, run, serverCloses && i === n - 1 ? "Connection: close\r\n" : "");
  if (serverCloses) {
    if (!c.serverCloses) run.fail("errors", "Connection: close not echoed");
    await c.closedByServer();
  }
}

/** 1-3 bursts of 8-48 GETs, each burst in one write. */
async function pipeline(c: SoakClient, run: SoakRun): Promise<void> {
  const bursts = run.between(1, 3);
  for (let b = 0; b < bursts; b++) {
    c.send(pipelined(c, run, "/e", run.between(8, 48)));
    await c.all();
  }
}

/** 1-3 POSTs, mostly above inbufOverflow (a temporary file), sometimes below. */
async function upload(c: SoakClient, run: SoakRun): Promise<void> {
  const n = run.between(1, 3);
  for (let i = 0; i < n; i++) {
    const size = run.rand() < 0.8 ? run.between(INBUF_OVERFLOW + 1, 320 * 1024) : run.between(1, 4096);
    const { bytes, expect } = randomUpload(run, size);
    run.totals.uploads++;
    run.totals.uploadBytes += size;
    c.expected.push(expect);
    c.send(bytes);
    await c.all();
  }
}

/** Part of a request head, then the client vanishes. */
async function abortHead(c: SoakClient, run: SoakRun): Promise<void> {
  const text = getRequest("/e", run.newId(), "X-Filler: " + "f".repeat(run.between(0, 200)) + "\r\n");
  c.send(text.slice(0, run.between(1, text.length - 3)));
  await sleep(run.between(0, 3));
  run.totals.aborts++;
}

/** A head announcing a body above inbufOverflow, part of the body (spilled to a temporary file), then gone. */
async function abortBody(c: SoakClient, run: SoakRun): Promise<void> {
  const size = run.between(INBUF_OVERFLOW + 16 * 1024, 300 * 1024);
  const { bytes } = randomUpload(run, size);
  c.send(bytes.subarray(0, bytes.length - run.between(1, size - INBUF_OVERFLOW - 1)));
  await sleep(run.between(2, 10));
  run.totals.aborts++;
}

/** A 3 MiB streamed response; read part of it and vanish. */
async function abortResponse(c: SoakClient, run: SoakRun): Promise<void> {
  c.raw = true;
  c.send(getRequest("/s", run.newId()).replace("?id=", "?n=200&id="));
  const want = run.between(1, 512) * 1024;
  await c.until(() => c.rawBytes >= want, 10000, "part of a streamed response");
  run.totals.aborts++;
}

/** A few good requests, then one that throws (500 + close), with two more behind it that must never be answered. */
async function throwing(c: SoakClient, run: SoakRun): Promise<void> {
  const before = run.between(0, 5);
  for (let i = 0; i < before; i++) await echoOne(c, run);
  const id = run.newId();
  c.expect(id, "t");
  run.totals.throws++;
  c.send(getRequest("/t", id) + getRequest("/e", run.newId()) + getRequest("/e", run.newId()));
  await c.all();
  await c.closedByServer();
}

const SCENARIOS: Record<Kind, Scenario> = {
  "keepalive": keepalive,
  "pipeline": pipeline,
  "upload": upload,
  "abort-head": abortHead,
  "abort-body": abortBody,
  "abort-response": abortResponse,
  "throw": throwing,
};

/** Runs one scenario on a fresh connection; what goes wrong is counted in the run, never thrown. */
export async function scenario(run: SoakRun, kind: Kind): Promise<void> {
  const c = await SoakClient.open(run);
  try {
    await SCENARIOS[kind](c, run);
  } catch (e) {
    // Lost responses are already counted.
    if (!(e instanceof LostError)) run.fail("errors", `${kind}: ${(e as Error).message}`);
  } finally {
    c.destroy();
  }
}

/** A picker of kinds by weight from the run's PRNG, leaving out the kinds in `without`. */
export function kindPicker(run: SoakRun, without: ReadonlySet<string>): () => Kind {
  const mix = WEIGHTS.filter(([k]) => !without.has(k));
  const weightSum = mix.reduce((n, [, w]) => n + w, 0);
  return () => {
    let x = run.rand() * weightSum;
    for (const [k, w] of mix) if ((x -= w) < 0) return k;
    return mix[0][0];
  };
}

/**
 * One lane of the final burst: rounds of `depth` pipelined `/slow` requests
 * until the server closes (shutdown) or `stopped()`; then waits for the close.
 */
export async function slowLane(c: SoakClient, run: SoakRun, depth: number, stopped: () => boolean): Promise<void> {
  while (!c.closed && !c.ended && !c.error && !c.serverCloses && !stopped()) {
    c.send(pipelined(c, run, "/slow", depth));
    const want = c.expected.length;
    await c.until(() => c.answered >= want, 10000, "burst responses").catch(() => {});
    if (c.answered < want) break;
  }
  await c.closedByServer(10000).catch(() => run.fail("errors", "a burst connection was never closed"));
}
