/**
 * The soak's command line: `--runtime --requests --connections --seconds
 * --quick --seed --without --preload --trim-check` (docs/soak.md), with the
 * defaults of the full run and of `--quick`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import type { SoakRuntime } from "./soak_child.ts";

/** One soak's settings. */
export interface SoakOptions {
  runtime: SoakRuntime;
  /** The request budget. */
  target: number;
  /** Concurrent lanes. */
  lanes: number;
  /** The time cap in seconds. */
  seconds: number;
  seed: number;
  /** The CI version: a smaller budget, shorter settles, a smaller final burst. */
  quick: boolean;
  /** Scenario kinds left out of the mix. */
  without: Set<string>;
  /** A library for the child's LD_PRELOAD (an allocator such as jemalloc). */
  preload: string | undefined;
  /** Also report RSS after glibc's malloc_trim(0). */
  trimCheck: boolean;
}

/** Parses the soak's arguments (without the runtime and script); throws on an unknown flag or runtime. */
export function parseSoakArgs(args: string[]): SoakOptions {
  const { values } = parseArgs({
    args,
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
  const { quick, runtime } = values;
  if (runtime !== "node" && runtime !== "deno" && runtime !== "bun") {
    throw new Error(`--runtime node|deno|bun, not ${runtime}`);
  }
  return {
    runtime,
    target: Number(values.requests ?? (quick ? 20_000 : 1_000_000)),
    lanes: Number(values.connections ?? (quick ? 24 : 64)),
    seconds: Number(values.seconds ?? (quick ? 30 : 300)),
    seed: Number(values.seed),
    quick,
    without: new Set(values.without.split(",").filter((s) => s !== "")),
    preload: values.preload,
    trimCheck: values["trim-check"],
  };
}
