/**
 * The soak's memory readings: settling the server under test before a
 * reading (connections closed, temporary files kept for reuse expired, the
 * lowest of a few readings after a GC), glibc's malloc_trim(0) through gdb,
 * and the memory criterion (within 10% of the post-warm-up RSS).
 *
 * @module
 */
import { spawn } from "node:child_process";
import type { SoakChild } from "./soak_child.ts";
import type { ChildReport } from "./soak_protocol.ts";

/** How far the judged RSS may grow over the post-warm-up baseline. */
export const RSS_GROWTH_ALLOWED = 0.10;
/** How long the server keeps released temporary files for reuse at most (2 to 4 s, lib/buffers.ts), and a margin. */
const TEMP_FILE_REUSE_MS = 4500;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Bytes as MiB with one decimal. */
export function MiB(n: number): string {
  return (n / 1048576).toFixed(1);
}

/**
 * Waits until the child is idle and returns its lowest GC'd reading:
 * connections left by aborting clients close as the server notices (a
 * bounded while), temporary files kept for reuse are waited out so that
 * descriptor counts compare like with like, and RSS, which the OS gets back
 * lazily, is read a few times after a GC.
 */
export async function settle(child: SoakChild, quick: boolean): Promise<ChildReport> {
  const until = Date.now() + (quick ? 5000 : 15000);
  let st = await child.ask("stats");
  while ((st.connections > 0 || st.activeRequests > 0) && Date.now() < until) {
    await sleep(200);
    st = await child.ask("stats");
  }
  await sleep(TEMP_FILE_REUSE_MS);
  let best = await child.ask("gc");
  for (let i = 0; i < (quick ? 1 : 5); i++) {
    await sleep(500);
    const r = await child.ask("gc");
    if (r.rss < best.rss) best = r;
  }
  return best;
}

/**
 * `--trim-check` (and Node or Deno on glibc; gdb installed): asks the child's
 * allocator to give its free heap pages back (malloc_trim(0) through gdb) and
 * reads RSS again. What drops is memory glibc kept after it was freed, not
 * memory anything still holds; on Node and Deno without `--preload` that figure is
 * the one the verdict judges. Null (and a note) without gdb or glibc.
 */
export async function rssAfterMallocTrim(pid: number, child: SoakChild): Promise<number | null> {
  const gdb = spawn("gdb", ["-p", String(pid), "-batch", "-ex", "call (int)malloc_trim(0)"], { stdio: "ignore" });
  const code = await new Promise<number | null>((resolve) => {
    gdb.on("error", () => resolve(null));
    gdb.on("exit", (c) => resolve(c));
  });
  if (code !== 0) {
    console.log("  note: --trim-check needs gdb and a glibc runtime; skipped");
    return null;
  }
  return (await child.ask("stats")).rss;
}

/** The memory criterion: which RSS is judged, and the problem when it grew too much (null: within bounds). */
export interface RssJudgement {
  /** The RSS judged, or null when none could be (Node or Deno on glibc without gdb). */
  judged: number | null;
  /** What was judged, for the figures: "after malloc_trim(0)", "end" or null. */
  label: string | null;
  problem: string | null;
}

/**
 * Judges the end RSS against the post-warm-up `base`; on Node and Deno with
 * glibc's malloc (`glibcHeap`) the RSS after malloc_trim(0), since glibc keeps
 * pages the GC freed (docs/soak.md).
 */
export function judgeRss(base: number, end: number, trimmed: number | null, glibcHeap: boolean): RssJudgement {
  const judged = glibcHeap ? trimmed : end;
  if (judged === null) return { judged, label: null, problem: null };
  const label = glibcHeap ? "after malloc_trim(0)" : "end";
  const growth = (judged - base) / base;
  let problem: string | null = null;
  if (growth > RSS_GROWTH_ALLOWED) {
    const what = glibcHeap ? "RSS after malloc_trim(0)" : "RSS";
    problem = `${what} ${MiB(judged)} MiB is ${(growth * 100).toFixed(1)}% above the post-warm-up ${MiB(base)} MiB`;
  }
  return { judged, label, problem };
}
