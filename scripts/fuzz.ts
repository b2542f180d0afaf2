/**
 * Property-based and mutation fuzzing of the request parser
 * (`lib/parser.ts` RequestParser with the `lib/receiver.ts` body decoders).
 *
 * The generators, the stream harness, the independent reference checks and
 * the properties live in tests/support/ (fuzz_arbitraries.ts,
 * parser_harness.ts, parser_reference.ts, fuzz_properties.ts);
 * `tests/fuzz.test.ts` runs them briefly in CI; this file is the long,
 * opt-in campaign:
 *
 *   node scripts/fuzz.ts --runs 1000000 [--seed N] [--batch 5000]
 *   deno run -A scripts/fuzz.ts --runs 100000
 *   bun scripts/fuzz.ts --runs 100000
 *
 * It prints progress and a summary and exits 1 on a counterexample (printed
 * with the seed and path that replay it).
 *
 * @module
 */
import fc from "fast-check";
import process from "node:process";
import { PROPERTIES } from "../tests/support/fuzz_properties.ts";
import { runtimeName } from "../tests/support/runtime.ts";

function argValue(argv: string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const raw = i >= 0 ? argv[i + 1] : argv.find((a) => a.startsWith(name + "="))?.slice(name.length + 1);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    console.error(`${name} needs a number, got ${raw}`);
    process.exit(2);
  }
  return n;
}

async function main(argv: string[]): Promise<number> {
  const runs = argValue(argv, "--runs", 100000);
  const batch = Math.max(1, argValue(argv, "--batch", 5000));
  const seed = argValue(argv, "--seed", Date.now() % 2147483647) | 0;
  console.log(`fuzz: ${runs} runs on ${runtimeName()}, seed ${seed}, batches of ${batch}`);
  const started = performance.now();
  let total = 0;
  let failures = 0;
  for (const [p, { name, share, property }] of PROPERTIES.entries()) {
    const target = Math.round(runs * share);
    const t0 = performance.now();
    let done = 0;
    for (let b = 0; done < target; b++) {
      const numRuns = Math.min(batch, target - done);
      const batchSeed = (seed + p * 1000003 + b * 7919) | 0;
      const result = await Promise.resolve(fc.check(property, { numRuns, seed: batchSeed, endOnFailure: false }));
      done += result.numRuns;
      if (result.failed) {
        failures++;
        console.log(
          `\nCOUNTEREXAMPLE in "${name}" (seed ${batchSeed}, path ${JSON.stringify(result.counterexamplePath)})`,
        );
        console.log(fc.stringify(result.counterexample));
        console.log(
          String(result.errorInstance instanceof Error ? result.errorInstance.message : result.errorInstance),
        );
        console.log(
          `replay: fc.check(property, { seed: ${batchSeed}, path: ${JSON.stringify(result.counterexamplePath)} })`,
        );
        break;
      }
      const s = (performance.now() - t0) / 1000;
      console.log(`  ${name}: ${done}/${target} (${s.toFixed(1)} s, ${Math.round(done / s)} runs/s)`);
    }
    total += done;
    console.log(`${name}: ${done} runs in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (failures > 0) break;
  }
  const secs = (performance.now() - started) / 1000;
  console.log(
    `\nsummary: ${total} runs in ${secs.toFixed(1)} s on ${runtimeName()} (seed ${seed}): ` +
      (failures === 0 ? "no counterexample" : `${failures} counterexample(s)`),
  );
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2));
}
