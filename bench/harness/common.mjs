// What every part of the benchmark shares: paths, the loopback host, the
// cores the server and the client are pinned to, logging and the median.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), "..");
export const root = join(benchDir, "..");
export const bin = (name) => join(root, "node_modules", ".bin", name);
export const HOST = "127.0.0.1";
export const MiB = 1024 * 1024;
export const UPLOAD_BYTES = MiB;
export const SERVER_CORE = "0";
export const CLIENT_CORE = "1";
/** Where the --workers targets and their wrk run: both cores, shared (one worker per core is the point). */
export const BOTH_CORES = "0,1";
/** A round in which other processes used more than this share of a benchmark core is run again once. */
export const NOISE_LIMIT_PCT = 10;

export const log = (...a) => console.error("[bench]", ...a);

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Child processes still running (servers, wrk, idle clients): killed when the benchmark exits. */
export const children = new Set();

/** Kills every child still running when the benchmark exits or is interrupted. */
export function killChildrenOnExit() {
  process.on("exit", () => {
    for (const c of children) c.kill("SIGKILL");
  });
  for (const sig of ["SIGINT", "SIGTERM"]) {
    process.on(sig, () => {
      for (const c of children) c.kill("SIGKILL");
      process.exit(130);
    });
  }
}
