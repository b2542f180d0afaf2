/**
 * The parser's fuzz properties: no exception escapes, no slow call, the
 * outcome does not depend on how the bytes are cut, and every accepted
 * request passes the independent reference. tests/fuzz.test.ts runs them
 * briefly; scripts/fuzz.ts runs them long.
 *
 * @module
 */
import fc from "fast-check";
import type { ParserLimits } from "../../lib/parser.ts";
import { concatBytes } from "./bytes.ts";
import {
  deliveryArb,
  limitsArb,
  mutatedArb,
  type Mutation,
  noiseArb,
  pipelineArb,
  type RequestModel,
} from "./fuzz_arbitraries.ts";
import {
  comparable,
  type Delivery,
  PropertyViolation,
  runStream,
  type StreamOutcome,
  WHOLE,
} from "./parser_harness.ts";
import { checkAccepted, reserialise } from "./parser_reference.ts";

/** Inputs up to this size are also fed one byte at a time. */
export const BYTEWISE_MAX = 512;

/** No single received() call may take this long (a hang, or super-linear work). */
export const MAX_CALL_MS = 250;

function fail(message: string, detail?: unknown): never {
  throw new PropertyViolation(detail === undefined ? message : `${message}\n${JSON.stringify(detail, null, 1)}`);
}

function sameOutcome(a: StreamOutcome, b: StreamOutcome, what: string): void {
  const x = JSON.stringify(comparable(a));
  const y = JSON.stringify(comparable(b));
  if (x !== y) fail(`split invariance broken (${what})`, { whole: comparable(a), other: comparable(b) });
}

/**
 * The core checks for any byte stream: no exception escapes, no slow call,
 * the outcome does not depend on how the bytes are cut or which buffer type
 * carries them, and every accepted request is unambiguous (reference check)
 * and survives re-serialisation.
 */
export function checkStream(data: Uint8Array, limits: ParserLimits, delivery: Delivery): StreamOutcome {
  const whole = runStream(data, limits, WHOLE);
  const other = runStream(data, limits, delivery);
  sameOutcome(whole, other, `cuts ${JSON.stringify(delivery.cuts.map((c) => c % (data.length + 1)))}`);
  if (data.length <= BYTEWISE_MAX) {
    const bytewise = runStream(data, limits, {
      cuts: Array.from({ length: data.length }, (_, i) => i),
      asBuffer: false,
      scratch: true,
    });
    sameOutcome(whole, bytewise, "one byte at a time");
  }
  if (whole.maxCallMs > MAX_CALL_MS || other.maxCallMs > MAX_CALL_MS) {
    // A GC pause or a busy machine can stall one call; a real hang repeats. Fail only if
    // three more runs of the same input are all slow.
    let fastest = Infinity;
    for (let i = 0; i < 3 && fastest > MAX_CALL_MS; i++) {
      fastest = Math.min(
        fastest,
        runStream(data, limits, WHOLE).maxCallMs,
        runStream(data, limits, delivery).maxCallMs,
      );
    }
    if (fastest > MAX_CALL_MS) fail(`a received() call took ${fastest.toFixed(1)} ms (every time)`);
  }
  for (const r of whole.requests) {
    if (!r.completed || r.error !== null) continue;
    const reason = checkAccepted(data, r);
    if (reason !== null) fail(`accepted request violates the reference: ${reason}`, r);
    const again = runStream(reserialise(r), limits, WHOLE);
    const first = again.requests[0];
    if (
      again.requests.length !== 1 || !first.completed || first.error !== null ||
      JSON.stringify(first.head) !== JSON.stringify(r.head) || first.body !== r.body
    ) {
      fail("re-serialised request parses differently", { original: r, reparsed: again.requests });
    }
  }
  return whole;
}

/** Valid pipelines parse to exactly their models, however they are cut. */
export const validProperty: fc.IPropertyWithHooks<[RequestModel[], Delivery]> = fc.property(
  pipelineArb,
  deliveryArb,
  (models, delivery) => {
    const data = concatBytes(models.map((m) => m.bytes));
    const limits: ParserLimits = { maxRequestHeaderSize: 1 << 16, maxRequestBodySize: 1 << 20 };
    const out = checkStream(data, limits, delivery);
    if (out.requests.length !== models.length) {
      fail(`${models.length} requests sent, ${out.requests.length} parsed`, out);
    }
    models.forEach((m, i) => {
      const r = out.requests[i];
      if (!r.completed || r.error !== null || r.head === null) fail(`valid request ${i} refused`, { model: m, r });
      const h = r.head;
      const got = [h.method, h.target, h.version, h.headers, h.contentLength, h.chunked, r.body ?? ""];
      const want = [m.method, m.target, m.version, m.headers, m.contentLength, m.chunked, m.body];
      if (JSON.stringify(got) !== JSON.stringify(want)) fail(`request ${i} parsed wrongly`, { want, got });
    });
    if (out.consumed !== data.length) fail("not all bytes consumed");
  },
);

/** Mutated pipelines: the core checks hold whatever the parser decides. */
export const mutatedProperty: fc.IPropertyWithHooks<
  [{ models: RequestModel[]; mutations: Mutation[]; bytes: Uint8Array }, ParserLimits, Delivery]
> = fc.property(mutatedArb, limitsArb, deliveryArb, (input, limits, delivery) => {
  checkStream(input.bytes, limits, delivery);
});

/** Noise: the core checks hold. */
export const noiseProperty: fc.IPropertyWithHooks<[Uint8Array, ParserLimits, Delivery]> = fc.property(
  noiseArb,
  limitsArb,
  deliveryArb,
  (bytes, limits, delivery) => {
    checkStream(bytes, limits, delivery);
  },
);

/** The properties by name, with their share of a long run. */
export const PROPERTIES: Array<{ name: string; share: number; property: fc.IPropertyWithHooks<never[]> }> = [
  { name: "valid pipelines", share: 0.3, property: validProperty as unknown as fc.IPropertyWithHooks<never[]> },
  { name: "mutated pipelines", share: 0.5, property: mutatedProperty as unknown as fc.IPropertyWithHooks<never[]> },
  { name: "noise", share: 0.2, property: noiseProperty as unknown as fc.IPropertyWithHooks<never[]> },
];
