// /proc sampling: a process's RSS and CPU time, each core's busy time, and how much of a benchmark core other
// processes used (the machine is shared, so every sample says how noisy it was).
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { CLIENT_CORE, log, NOISE_LIMIT_PCT, SERVER_CORE } from "./common.mjs";
import { config } from "./options.mjs";

/** RSS once it has stopped moving (garbage collectors return memory on their own timers): up to 8 s. */
export async function settledRssKiB(pid) {
  const readings = [readRssKiB(pid)];
  for (let i = 0; i < 32; i++) {
    await sleep(250);
    readings.push(readRssKiB(pid));
    const last = readings.slice(-5);
    if (last.length === 5 && Math.max(...last) - Math.min(...last) <= 64) break;
  }
  return readings.at(-1);
}

export function readRssKiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const m = /^VmRSS:\s+(\d+) kB/m.exec(status);
  return m ? Number(m[1]) : NaN;
}

/** Busy (user + nice + system + steal) and total jiffies of each core, from /proc/stat. */
export function coreTimes() {
  const out = {};
  for (const line of readFileSync("/proc/stat", "utf8").split("\n")) {
    const m = /^cpu(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = m[2].trim().split(/\s+/).map(Number);
    out[m[1]] = {
      busy: user + nice + system + steal,
      total: user + nice + system + idle + iowait + irq + softirq + steal,
    };
  }
  return out;
}

/** CPU jiffies (user + system) a process has used so far; NaN once it is gone. */
export function procTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(rest[11]) + Number(rest[12]);
  } catch {
    return NaN;
  }
}

/**
 * Share (percent) of a core used by processes other than `ticks`' owner during
 * an interval: the machine is shared, so every sample says how noisy it was.
 */
export function foreignPct(before, after, core, ticks) {
  const b = before[core], a = after[core];
  if (!a || !b || !Number.isFinite(ticks)) return null;
  const total = a.total - b.total;
  return total > 0 ? Math.max(0, (100 * (a.busy - b.busy - ticks)) / total) : null;
}

let quietBudgetMs = config.quietWaitS * 1000;

/**
 * Between rounds our servers are idle, so busy time on the two cores is other
 * processes' (the machine is shared). Waits, within an overall budget, for a
 * half-second window in which they use less than NOISE_LIMIT_PCT of each core.
 */
export async function waitQuiet() {
  while (quietBudgetMs > 0) {
    const a = coreTimes();
    await sleep(500);
    const b = coreTimes();
    const busy = [SERVER_CORE, CLIENT_CORE].map((c) => foreignPct(a, b, c, 0) ?? 0);
    if (Math.max(...busy) < NOISE_LIMIT_PCT) return;
    quietBudgetMs -= 500;
    if (quietBudgetMs <= 0) log(`other processes keep the cores busy; no more waiting for quiet (--quiet-wait)`);
  }
}
