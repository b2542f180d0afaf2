/**
 * The soak's verdict: what the readings of one run say against the pass
 * criteria of docs/soak.md (nothing lost, misordered or failed; memory,
 * temporary files and descriptors back to baseline; shutdown lost nothing),
 * the figures as one JSON line, and the report printed at the end.
 *
 * @module
 */
import { MiB, type RssJudgement } from "./soak_memory.ts";
import type { ChildReport } from "./soak_protocol.ts";
import type { SoakRun } from "./soak_run.ts";
import type { ShutdownResult } from "./soak_shutdown.ts";

/** Descriptor counts of the child at the four readings. */
export interface FdCounts {
  initial: number;
  base: number;
  peak: number;
  end: number;
}

/** Everything one soak run read, as the verdict judges and reports it. */
export interface SoakOutcome {
  runtime: string;
  /** The request budget and the time cap (seconds) it was given. */
  target: number;
  seconds: number;
  /** Seconds the whole soak took. */
  totalSeconds: number;
  /** The measured run (after the warm-up): requests, connections, seconds. */
  runRequests: number;
  runConnections: number;
  runSeconds: number;
  /** The child's reports: at start, after the warm-up (settled), at the end (settled). */
  hello: ChildReport;
  base: ChildReport;
  end: ChildReport;
  peakRss: number;
  peakConnections: number;
  fds: FdCounts;
  /** RSS after malloc_trim(0), or null when not measured. */
  trimmed: number | null;
  rss: RssJudgement;
  shutdown: ShutdownResult;
}

/** What is left over after settling: temporary files, descriptors, connections, log lines. */
function leftovers(o: SoakOutcome): string[] {
  const { end, fds } = o;
  const problems: string[] = [];
  if (end.tempFiles !== 0) problems.push(`${end.tempFiles} temporary files still open (stats().tempFiles)`);
  if (end.tmpEntries !== 0) problems.push(`${end.tmpEntries} waitress-* files left in the child's TMPDIR`);
  if (fds.end > fds.base) {
    problems.push(`descriptors ${fds.end} > baseline ${fds.base} (leak of ${fds.end - fds.base})`);
  }
  if (end.connections !== 0 || end.activeRequests !== 0 || end.queuedRequests !== 0) {
    problems.push(
      `after settling: ${end.connections} connections, ${end.activeRequests} active, ${end.queuedRequests} queued`,
    );
  }
  if (end.otherLogs.length > 0) problems.push(`unexpected log lines: ${end.otherLogs.slice(0, 3).join(" | ")}`);
  return problems;
}

/** What the shutdown under load got wrong. */
function shutdownProblems(sd: ShutdownResult): string[] {
  const problems: string[] = [];
  if (!sd.settled) problems.push("final burst clients did not finish within 15 s of shutdown()");
  if (sd.truncated > 0) problems.push(`${sd.truncated} burst connections ended inside a response`);
  if (sd.report && sd.received !== sd.handled) {
    problems.push(`shutdown: the app produced ${sd.handled} responses in the final burst, ${sd.received} arrived`);
  }
  if (sd.exit !== 0) problems.push(`child exit ${String(sd.exit)}`);
  return problems;
}

/**
 * The failed criteria, in words (empty: PASS). Notes that the RSS was not
 * judged in the run's messages.
 */
export function problemsOf(o: SoakOutcome, run: SoakRun): string[] {
  const t = run.totals;
  const problems: string[] = [];
  if (t.requests < o.target) {
    problems.push(`stopped by the ${o.seconds} s cap at ${t.requests} of ${o.target} requests`);
  }
  if (o.shutdown.error !== null) problems.push(o.shutdown.error);
  if (o.rss.judged === null) {
    t.messages.push("RSS not judged: Node and Deno on glibc need gdb (malloc_trim) or --preload jemalloc");
  } else if (o.rss.problem !== null) problems.push(o.rss.problem);
  problems.push(...leftovers(o));
  if (t.lost > 0) problems.push(`${t.lost} responses lost`);
  if (t.misordered > 0) problems.push(`${t.misordered} responses misordered`);
  if (t.errors > 0) problems.push(`${t.errors} errors`);
  problems.push(...shutdownProblems(o.shutdown));
  return problems;
}

/** A MiB figure as a number with one decimal. */
const mib = (n: number): number => Number(MiB(n));

/** The figures line's object (tests/hardening.test.ts and docs/soak.md read it). */
export function figuresOf(o: SoakOutcome, run: SoakRun): Record<string, unknown> {
  const t = run.totals;
  const { hello, base, end, shutdown: sd } = o;
  return {
    runtime: o.runtime,
    requests: t.requests,
    connections: t.connections,
    seconds: Number(o.totalSeconds.toFixed(1)),
    runRequests: o.runRequests,
    runConnections: o.runConnections,
    runSeconds: Number(o.runSeconds.toFixed(1)),
    reqPerSec: Math.round(o.runRequests / o.runSeconds),
    aborts: t.aborts,
    throws: t.throws,
    uploads: t.uploads,
    uploadMiB: mib(t.uploadBytes),
    lost: t.lost,
    misordered: t.misordered,
    errors: t.errors,
    appErrorsLogged: end.appErrors,
    peakConnections: o.peakConnections,
    rssMiB: { initial: mib(hello.rss), base: mib(base.rss), peak: mib(o.peakRss), end: mib(end.rss) },
    heapMiB: {
      base: mib(base.heapUsed),
      end: mib(end.heapUsed),
      totalBase: mib(base.heapTotal),
      totalEnd: mib(end.heapTotal),
      externalBase: mib(base.external),
      externalEnd: mib(end.external),
    },
    rssAfterTrimMiB: o.trimmed === null ? null : mib(o.trimmed),
    rssJudged: o.rss.label,
    fds: o.fds,
    tempFiles: end.tempFiles,
    tmpEntries: end.tmpEntries,
    shutdown: {
      lanes: sd.lanes,
      handled: sd.handled,
      received: sd.received,
      truncated: sd.truncated,
      ms: sd.report?.shutdownMs ?? -1,
      sinceSent: sd.sinceSent,
      exit: sd.exit,
    },
  };
}

/** Prints the report (readings, notes, failures, figures, verdict) and returns the exit code: 0 PASS, 1 FAIL. */
export function printVerdict(o: SoakOutcome, run: SoakRun): number {
  const problems = problemsOf(o, run);
  const { fds, end, shutdown: sd } = o;
  const reqPerSec = Math.round(o.runRequests / o.runSeconds);
  console.log(
    `run: ${o.runRequests} requests over ${o.runConnections} connections in ${
      o.runSeconds.toFixed(1)
    } s = ${reqPerSec} req/s`,
  );
  console.log(
    `RSS MiB: initial ${mib(o.hello.rss)}, post-warm-up ${mib(o.base.rss)}, peak ${mib(o.peakRss)}, end ${
      mib(end.rss)
    }`,
  );
  if (o.trimmed !== null) {
    console.log(`RSS after malloc_trim(0): ${MiB(o.trimmed)} MiB (what glibc held as free heap is given back)`);
  }
  console.log(
    `fds: initial ${fds.initial}, baseline ${fds.base}, peak ${fds.peak}, end ${fds.end}; temp files ${end.tempFiles}, tmp entries ${end.tmpEntries}`,
  );
  console.log(
    `shutdown: ${sd.handled} handled, ${sd.received} received whole, ${sd.truncated} truncated, ${
      sd.report?.shutdownMs ?? -1
    } ms`,
  );
  for (const m of run.totals.messages) console.log(`  note: ${m}`);
  for (const p of problems) console.log(`FAIL: ${p}`);
  console.log("figures: " + JSON.stringify(figuresOf(o, run)));
  console.log(`verdict: ${problems.length === 0 ? "PASS" : "FAIL"}`);
  return problems.length === 0 ? 0 : 1;
}
