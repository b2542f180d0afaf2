/**
 * The soak's shutdown under load: keep-alive lanes pipeline slow requests,
 * the child is told to `shutdown()` in the middle of it, and the driver
 * compares what the app produced during the burst with what arrived whole.
 *
 * @module
 */
import type { SoakChild } from "./soak_child.ts";
import { SoakClient } from "./soak_client.ts";
import type { ChildReport } from "./soak_protocol.ts";
import type { SoakRun } from "./soak_run.ts";
import { slowLane } from "./soak_scenarios.ts";

/** What the final burst and the shutdown showed. */
export interface ShutdownResult {
  lanes: number;
  /** Responses the app produced during the burst (from the child's counts), -1 without a shutdown report. */
  handled: number;
  /** Responses that arrived whole. */
  received: number;
  /** Connections that ended inside a response. */
  truncated: number;
  /** The child's shutdown report, or null when it never came. */
  report: ChildReport | null;
  /** Why the shutdown report did not come, or null. */
  error: string | null;
  /** The burst's lanes all finished within 15 s of the shutdown. */
  settled: boolean;
  /** Milliseconds from sending `shutdown` to the child's exit (or the wait giving up). */
  sinceSent: number;
  /** The child's exit code, or "timeout". */
  exit: number | null | string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves to `value` after `ms`. */
function after<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/**
 * Opens the burst's keep-alive lanes (200, or 40 when `quick`), lets them
 * pipeline 1-4 slow requests each for a while, asks the child to shut down
 * and waits (bounded) for the lanes and the child's exit.
 */
export async function shutdownUnderLoad(run: SoakRun, child: SoakChild, quick: boolean): Promise<ShutdownResult> {
  const handled0 = (await child.ask("stats")).handled;
  const lanes = quick ? 40 : 200;
  let stopBurst = false;
  const clients: SoakClient[] = [];
  for (let i = 0; i < lanes; i++) clients.push(await SoakClient.open(run));
  // Counted as each lane finishes: a lane still running when the wait gives up does not count.
  let received = 0;
  let truncated = 0;
  const burst = Promise.all(clients.map(async (c, i) => {
    await slowLane(c, run, 1 + (i % 4), () => stopBurst);
    received += c.answered;
    if (c.buf.length > 0) truncated++;
  }));
  await sleep(quick ? 300 : 1000);
  const shutdownSent = performance.now();
  let error: string | null = null;
  const report = await child.ask("shutdown", "shutdown", 20000).catch((e) => {
    error = `shutdown: ${(e as Error).message}`;
    return null;
  });
  const settled = await Promise.race([burst.then(() => true), after(15000, false)]);
  stopBurst = true;
  for (const c of clients) c.destroy();
  const exit = await Promise.race<number | null | string>([child.exited, after(10000, "timeout")]);
  const handled = report ? report.handled - handled0 : -1;
  const sinceSent = Math.round(performance.now() - shutdownSent);
  return { lanes, handled, received, truncated, report, error, settled, sinceSent, exit };
}
