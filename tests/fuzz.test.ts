// Parser fuzzing, bounded for CI: the properties of tests/support/fuzz_properties.ts (valid
// pipelines, mutated pipelines, noise) for about a second each, plus fixed
// adversarial inputs for the no-hang property and checks that the reference
// oracle itself catches what it should. The long run is
// `node scripts/fuzz.ts --runs 1000000`. Set FUZZ_SEED to replay a seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import process from "node:process";
import fc from "fast-check";
import { latin1 } from "./support/bytes.ts";
import { checkStream, mutatedProperty, noiseProperty, validProperty } from "./support/fuzz_properties.ts";
import { type RequestOutcome, runStream } from "./support/parser_harness.ts";
import { checkAccepted, referenceChunked } from "./support/parser_reference.ts";
import type { ParserLimits, RequestHead } from "../lib/parser.ts";

const LIMITS: ParserLimits = { maxRequestHeaderSize: 8192, maxRequestBodySize: 1 << 20 };
const envSeed = Number(process.env.FUZZ_SEED);
const seed = Number.isInteger(envSeed) ? { seed: envSeed } : {};

function params(ms: number, numRuns: number): fc.Parameters<unknown> {
  // interruptAfterTimeLimit bounds the run; markInterruptAsFailure stays off so a
  // slow machine runs fewer cases instead of failing.
  return { numRuns, interruptAfterTimeLimit: ms, ...seed };
}

test("fuzz: valid pipelines parse to their model whatever the cuts", () => {
  fc.assert(validProperty, params(800, 600));
});

test("fuzz: mutated pipelines: no throw, split-invariant, only unambiguous requests accepted", () => {
  fc.assert(mutatedProperty, params(1200, 1500));
});

test("fuzz: HTTP-alphabet noise: no throw, split-invariant", () => {
  fc.assert(noiseProperty, params(400, 2000));
});

test("fuzz: known smuggling vectors pass the stream checks", () => {
  const vectors = [
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nX-Header: x\nContent-Length: 0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 45\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: \x85chunked\r\n\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\x01\r\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\n0\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nfoo: " + "x".repeat(20000) + "\x10\r\n\r\n",
    "GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\nhello",
  ];
  for (const v of vectors) {
    const out = checkStream(latin1(v), LIMITS, { cuts: [1, 17, 40, 41, 60], asBuffer: true, scratch: true });
    assert.ok(out.requests.length >= 1);
    assert.notEqual(out.requests[0].error, null, `refused: ${JSON.stringify(v.slice(0, 80))}`);
  }
});

/** Times parsing `data` whole and (when `bytewise`) one byte at a time. */
function timeParse(data: Uint8Array, limits: ParserLimits, bytewise: boolean): number {
  const t0 = performance.now();
  runStream(data, limits);
  if (bytewise) {
    runStream(data, limits, {
      cuts: Array.from({ length: data.length }, (_, i) => i),
      asBuffer: false,
      scratch: false,
    });
  }
  return performance.now() - t0;
}

test("fuzz: no hang: adversarial inputs cost linear work, even one byte per read", () => {
  const big: ParserLimits = { maxRequestHeaderSize: 1 << 20, maxRequestBodySize: 1 << 24 };
  const cases: Array<[string, (n: number) => string]> = [
    ["long header value then a CTL", (n) => `GET / HTTP/1.1\r\nHost: x\r\nfoo: ${"x".repeat(n)}\x10\r\n\r\n`],
    ["many header lines", (n) => `GET / HTTP/1.1\r\nHost: x\r\n${"a: b\r\n".repeat(n / 6)}\r\n`],
    ["CRs without LFs", (n) => `GET / HTTP/1.1\r\nHost: x\r\nX: ${"\r".repeat(n)}`],
    ["LFs without CRs", (n) => `GET / HTTP/1.1\n${"X: y\n".repeat(n / 5)}\n`],
    ["blank lines", (n) => "\r\n".repeat(n / 2)],
    [
      "one-byte chunks",
      (n) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${"1\r\na\r\n".repeat(n / 6)}0\r\n\r\n`,
    ],
    [
      "a long chunk extension",
      (n) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;${"a=b;".repeat(n / 4)}x\r\n`,
    ],
    [
      "a long quoted extension value",
      (n) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;a="${'\\"'.repeat(n / 2)}`,
    ],
    [
      "many trailers",
      (n) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${"t: v\r\n".repeat(n / 6)}\r\n`,
    ],
    [
      "zeros in a chunk size",
      (n) => `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${"0".repeat(n)}5\r\n`,
    ],
  ];
  for (const [name, make] of cases) {
    const small = latin1(make(10000));
    const large = latin1(make(40000));
    // Warm up, then compare: 4x the input may cost at most ~10x the time (linear, with noise).
    // Best of three: one GC pause or a busy neighbour on a loaded machine is not super-linear work.
    const best = (measure: () => number) => Math.min(measure(), measure(), measure());
    timeParse(small, big, true);
    const a = best(() => timeParse(small, big, true));
    const b = best(() => timeParse(large, big, true));
    assert.ok(b < 10 * a + 100, `${name}: ${a.toFixed(1)} ms for 10k, ${b.toFixed(1)} ms for 80k`);
    assert.ok(b < 3000, `${name}: ${b.toFixed(1)} ms for 40k bytes`);
    // And under the default limits, where the 431 / framing budget cut it short.
    const cuts = [3, 999, 8190, 8191, 8192, 8193];
    const slowest = best(() => checkStream(large, LIMITS, { cuts, asBuffer: false, scratch: true }).maxCallMs);
    assert.ok(slowest < 250, `${name}: a call took ${slowest.toFixed(1)} ms`);
  }
});

test("fuzz: huge declared sizes are refused at once, not waited for", () => {
  for (
    const input of [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n00000000000000000000000000001\r\nx\r\n0\r\n\r\n",
    ]
  ) {
    const out = runStream(latin1(input), LIMITS);
    assert.equal(out.requests.length, 1);
    assert.ok(out.requests[0].completed, JSON.stringify(input));
    assert.equal(out.requests[0].error?.status, input.includes("0000001") ? undefined : 413, JSON.stringify(input));
  }
});

/** An accepted outcome for `text` as the parser would report it, for feeding the oracle lies. */
function fake(text: string, head: Partial<RequestHead>, body: string | null): RequestOutcome {
  return {
    start: 0,
    consumed: text.length,
    completed: true,
    headersComplete: true,
    empty: false,
    error: null,
    head: {
      method: "POST",
      target: "/",
      version: "1.1",
      headers: [],
      contentLength: -1,
      chunked: false,
      expectContinue: false,
      keepAlive: true,
      host: "x",
      ...head,
    },
    body,
  };
}

test("fuzz: the reference oracle flags ambiguous acceptances (it is not vacuous)", () => {
  const lies: Array<[string, Partial<RequestHead>, string | null]> = [
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
      { headers: ["host", "x", "content-length", "3", "transfer-encoding", "chunked"], chunked: true },
      "",
    ],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
      { headers: ["host", "x", "transfer-encoding", "gzip, chunked"], chunked: true },
      "",
    ],
    ["POST / HTTP/1.1\r\nHost: x\r\nX: a\r\n b\r\n\r\n", { headers: ["host", "x", "x", "a b"] }, null],
    ["POST / HTTP/1.1\r\nHost: x\r\nX: a\x00\r\n\r\n", { headers: ["host", "x", "x", "a\x00"] }, null],
    ["POST / HTTP/1.1\r\nHost: x\nX: a\r\n\r\n", { headers: ["host", "x", "x", "a"] }, null],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc",
      { headers: ["host", "x", "content-length", "+3"], contentLength: 3 },
      "abc",
    ],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n",
      { headers: ["host", "x", "transfer-encoding", "chunked"], chunked: true },
      "abc",
    ],
    [
      "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n",
      { headers: ["host", "x", "transfer-encoding", "chunked"], chunked: true },
      "abc",
    ],
    ["POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", {
      version: "1.0",
      headers: ["transfer-encoding", "chunked"],
      chunked: true,
    }, ""],
    ["POST / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", { headers: ["host", "x", "host", "y"] }, null],
  ];
  for (const [text, head, body] of lies) {
    assert.notEqual(checkAccepted(latin1(text), fake(text, head, body)), null, JSON.stringify(text));
  }
  // And it agrees with a true acceptance.
  const ok = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;a="b\\""\r\nabc\r\n0\r\nT: 1\r\n\r\n';
  const truth = runStream(latin1(ok), LIMITS).requests[0];
  assert.equal(truth.error, null);
  assert.equal(checkAccepted(latin1(ok), truth), null);
});

test("fuzz: the reference chunked decoder", () => {
  assert.deepEqual(referenceChunked("3\r\nabc\r\n0\r\n\r\nrest"), { body: "abc", length: 13 });
  const lax = '1 ; a = "x\\"y" ;b\r\nz\r\n0\r\nA: b\r\n\r\n';
  assert.deepEqual(referenceChunked(lax), { body: "z", length: lax.length });
  for (
    const bad of ["0x3\r\nabc\r\n0\r\n\r\n", "3\nabc\r\n0\r\n\r\n", "3\r\nabc\n0\r\n\r\n", "+3\r\nabc\r\n0\r\n\r\n"]
  ) {
    assert.equal(typeof referenceChunked(bad), "string", JSON.stringify(bad));
  }
  assert.equal(typeof referenceChunked("0\r\n folded: x\r\n\r\n"), "string");
  assert.equal(typeof referenceChunked("3;a=\x01\r\nabc\r\n0\r\n\r\n"), "string");
});
