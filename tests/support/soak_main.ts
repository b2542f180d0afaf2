/**
 * The soak's phases, in order: start the server under test, warm up and
 * settle (the baseline), the measured run, settle again (the end readings,
 * malloc_trim(0) where it is judged), the shutdown under load, the verdict.
 * scripts/soak.ts runs it.
 *
 * @module
 */
import { fdCount, SoakChild } from "./soak_child.ts";
import { drive, type Load, type Peaks, printProgress, samplePeaks } from "./soak_load.ts";
import { judgeRss, MiB, rssAfterMallocTrim, settle } from "./soak_memory.ts";
import type { SoakOptions } from "./soak_options.ts";
import type { ChildReport } from "./soak_protocol.ts";
import { SoakRun } from "./soak_run.ts";
import { kindPicker } from "./soak_scenarios.ts";
import { shutdownUnderLoad } from "./soak_shutdown.ts";
import { printVerdict } from "./soak_verdict.ts";

/** How long the child may take to listen. */
const START_MS = 30000;

/** The measured run's counts and time. */
interface Measured {
  requests: number;
  connections: number;
  seconds: number;
}

/** The warm-up (5% of the budget, 1,000 to 50,000 requests), then the settled baseline. */
async function warmUp(load: Load, child: SoakChild, o: SoakOptions): Promise<ChildReport> {
  const warm = Math.min(Math.max(Math.round(o.target * 0.05), 1000), 50_000);
  await drive(load, warm);
  return await settle(child, o.quick);
}

/** The rest of the budget, sampled every second and reported every ten. */
async function measuredRun(load: Load, child: SoakChild, pid: number, peaks: Peaks, o: SoakOptions): Promise<Measured> {
  const { totals } = load.run;
  const stopSampling = samplePeaks(child, pid, peaks);
  const tRun = performance.now();
  const requests0 = totals.requests;
  const connections0 = totals.connections;
  const stopProgress = printProgress(load.run, peaks);
  await drive(load, o.target - totals.requests);
  stopProgress();
  const measured: Measured = {
    requests: totals.requests - requests0,
    connections: totals.connections - connections0,
    seconds: (performance.now() - tRun) / 1000,
  };
  await stopSampling();
  return measured;
}

/** The soak's first line: what runs where, and how much. */
function printStart(o: SoakOptions, pid: number, port: number): void {
  console.log(
    `soak: ${o.runtime} child pid ${pid} on 127.0.0.1:${port}; ${o.target} requests, ${o.lanes} lanes, cap ${o.seconds} s` +
      `${o.without.size ? `, without ${[...o.without].join(",")}` : ""}`,
  );
}

/** Runs one soak of the checkout at `root`; resolves to the exit code (0 PASS, 1 FAIL). */
export async function runSoak(root: string, o: SoakOptions): Promise<number> {
  const child = SoakChild.start(root, o.runtime, o.preload);
  const t0 = performance.now();
  try {
    const hello = await child.next("listening", START_MS);
    const run = new SoakRun(hello.port!, o.seed);
    const pid = hello.pid;
    const fdsInitial = fdCount(pid);
    printStart(o, pid, run.port);
    const load: Load = {
      run,
      lanes: o.lanes,
      pick: kindPicker(run, o.without),
      deadline: Date.now() + o.seconds * 1000,
    };
    const peaks: Peaks = { rss: hello.rss, fds: fdsInitial, connections: 0 };

    const base = await warmUp(load, child, o);
    const fdsBase = fdCount(pid);
    console.log(
      `warm-up: ${run.totals.requests} requests; baseline RSS ${MiB(base.rss)} MiB, heap ${
        MiB(base.heapUsed)
      } MiB, fds ${fdsBase}`,
    );

    const measured = await measuredRun(load, child, pid, peaks, o);
    const end = await settle(child, o.quick);
    const fdsEnd = fdCount(pid);
    // Node and Deno on glibc's malloc: the verdict judges the RSS after malloc_trim(0) (docs/soak.md).
    const glibcHeap = o.runtime !== "bun" && o.preload === undefined;
    const trimmed = o.trimCheck || glibcHeap ? await rssAfterMallocTrim(pid, child) : null;

    const shutdown = await shutdownUnderLoad(run, child, o.quick);
    return printVerdict({
      runtime: o.runtime,
      target: o.target,
      seconds: o.seconds,
      totalSeconds: (performance.now() - t0) / 1000,
      runRequests: measured.requests,
      runConnections: measured.connections,
      runSeconds: measured.seconds,
      hello,
      base,
      end,
      peakRss: peaks.rss,
      peakConnections: peaks.connections,
      fds: { initial: fdsInitial, base: fdsBase, peak: peaks.fds, end: fdsEnd },
      trimmed,
      rss: judgeRss(base.rss, end.rss, trimmed, glibcHeap),
      shutdown,
    }, run);
  } finally {
    child.dispose();
  }
}
