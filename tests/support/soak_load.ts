/**
 * Driving the soak's load: lanes that run scenarios one after another until
 * a request count or the deadline, a sampler that reads the child's peaks
 * every second while they run, and a progress line every ten seconds.
 *
 * @module
 */
import { fdCount, type SoakChild } from "./soak_child.ts";
import { MiB } from "./soak_memory.ts";
import { type Kind, scenario } from "./soak_scenarios.ts";
import type { SoakRun } from "./soak_run.ts";

/** How the load is driven: how many lanes, which kind next, and until when. */
export interface Load {
  run: SoakRun;
  lanes: number;
  pick: () => Kind;
  /** Date.now() after which no lane starts another scenario. */
  deadline: number;
}

/** The highest readings while the load ran. */
export interface Peaks {
  rss: number;
  fds: number;
  connections: number;
}

/** Runs `load.lanes` lanes until `count` more responses were checked or the deadline passes. */
export async function drive(load: Load, count: number): Promise<void> {
  const { run } = load;
  const stop = run.totals.requests + count;
  await Promise.all(Array.from({ length: load.lanes }, async () => {
    while (run.totals.requests < stop && Date.now() < load.deadline) await scenario(run, load.pick());
  }));
}

/** Reads the child's RSS, connections and descriptors every second into `peaks`, until the returned stop is called. */
export function samplePeaks(child: SoakChild, pid: number, peaks: Peaks): () => Promise<void> {
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, 1000));
      if (!sampling) break;
      const st = await child.ask("stats").catch(() => null);
      if (st === null) continue;
      peaks.rss = Math.max(peaks.rss, st.rss);
      peaks.connections = Math.max(peaks.connections, st.connections);
      peaks.fds = Math.max(peaks.fds, fdCount(pid));
    }
  })();
  return () => {
    sampling = false;
    return sampler;
  };
}

/** Prints the run's progress every ten seconds until the returned stop is called. */
export function printProgress(run: SoakRun, peaks: Peaks): () => void {
  const tRun = performance.now();
  const reqRun0 = run.totals.requests;
  let lastPrint = Date.now();
  const progress = setInterval(() => {
    if (Date.now() - lastPrint < 10000) return;
    lastPrint = Date.now();
    const s = (performance.now() - tRun) / 1000;
    const { requests, connections } = run.totals;
    console.log(
      `  ${requests} requests, ${connections} connections, ${((requests - reqRun0) / s).toFixed(0)} req/s, RSS peak ${
        MiB(peaks.rss)
      } MiB`,
    );
  }, 1000);
  return () => clearInterval(progress);
}
