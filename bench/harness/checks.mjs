// The targets judged from a run: paired ratios of ours against each reference, with the bounds that
// say what limits a miss.
import { median } from "./common.mjs";
import { NATIVE_TLS } from "./secure.mjs";
import { NATIVE } from "./targets.mjs";

/**
 * The median over rounds of `a`'s sample divided by `b`'s sample of the same
 * round (`key`: the scenario's metric, or p99_ms). The machine drifts between
 * rounds far more than within one, so pairs taken seconds apart compare the
 * servers better than a ratio of medians taken over the whole run. Null when
 * either target has no usable sample.
 */
export function pairedRatio(results, sc, a, b, key) {
  const ra = results[sc]?.[a], rb = results[sc]?.[b];
  if (!ra || !rb) return null;
  const metric = key ?? ra.metric;
  const ratios = [];
  for (let i = 0; i < Math.min(ra.samples.length, rb.samples.length); i++) {
    const x = ra.samples[i], y = rb.samples[i];
    if (x.error || y.error || !(x[metric] > 0) || !(y[metric] > 0)) continue;
    ratios.push(x[metric] / y[metric]);
  }
  return ratios.length ? median(ratios) : null;
}

/** Issue 13: ours against the runtime's own server, one request per round trip. */
const UNPIPELINED_MIN = { node: 0.95, deno: 0.6, bun: 0.8 };

export function computeChecks(results, targets) {
  const has = (id) => targets.some((t) => t.id === id && t.ok);
  const get = (sc, id, k = "median") => results[sc]?.[id]?.[k];
  const checks = [];
  const ratio = (name, sc, a, b, min) => {
    const measured = has(a) && has(b) ? pairedRatio(results, sc, a, b) : null;
    checks.push({
      name,
      scenario: sc,
      target: `>= ${Number.isInteger(min) ? min.toFixed(1) : min}x`,
      limit: { op: ">=", value: min },
      measured,
      met: measured === null ? null : measured >= min,
    });
  };
  // The same ratio for a bound target (raw-*, inmem-*): how far any server over that socket API, or ours
  // without waitress's spill to disk, gets. Shown beside a check so that a miss comes with what limits it.
  const bound = (label, sc, a, b, key) => {
    const measured = has(a) && has(b) ? pairedRatio(results, sc, a, b, key) : null;
    return measured === null ? null : { label, target: a, measured };
  };
  const info = (name, sc, a, b) => {
    const measured = has(a) && has(b) ? pairedRatio(results, sc, a, b) : null;
    checks.push({ name, scenario: sc, target: "(info)", measured, met: null, info: true });
  };
  for (const rt of ["node", "deno", "bun"]) {
    // --workers: two workers against one process, both on the two cores they share with wrk.
    info(`w2-${rt} / w1-${rt} req/s (two workers, not pipelined)`, "hello", `w2-${rt}`, `w1-${rt}`);
    info(`w2-${rt} / w1-${rt} req/s (two workers, pipelined)`, "pipeline", `w2-${rt}`, `w1-${rt}`);
  }
  for (const rt of ["node", "deno", "bun"]) {
    const ours = `ours-${rt}`;
    if (!targets.some((t) => t.id === ours)) continue;
    const native = NATIVE[rt];
    // Issue 13's targets. Not pipelined first: real traffic carries one request per round trip.
    ratio(`${ours} / ${native} req/s (not pipelined)`, "hello", ours, native, UNPIPELINED_MIN[rt]);
    checks.at(-1).bounds = [
      bound("socket floor", "hello", `raw-${rt}`, native),
      bound("Fetch floor", "hello", `fetch-${rt}`, native),
      bound("ours answering with FastResponse", "hello", `fast-${rt}`, native),
    ];
    if (rt === "node") ratio(`${ours} / hono-node req/s (not pipelined)`, "hello", ours, "hono-node", 1.3);
    ratio(`${ours} / waitress req/s (not pipelined)`, "hello", ours, "waitress", 5);
    if (rt !== "deno") {
      ratio(`fast-${rt} / ${native} req/s (FastResponse, not pipelined)`, "hello", `fast-${rt}`, native, 1.0);
      checks.at(-1).bounds = [bound("socket floor", "hello", `raw-${rt}`, native)];
    }
    ratio(`${ours} / ${native} req/s (pipelined)`, "pipeline", ours, native, rt === "node" ? 1.3 : 0.9);
    if (rt === "node") info(`${ours} / hono-node req/s (pipelined)`, "pipeline", ours, "hono-node");
    info(`${ours} / waitress req/s (pipelined)`, "pipeline", ours, "waitress");
    {
      const measured = has(ours) && has(native) ? pairedRatio(results, "lat256", ours, native, "p99_ms") : null;
      checks.push({
        name: `${ours} / ${native} p99 at 256 conns`,
        scenario: "lat256",
        target: "<= 2x",
        limit: { op: "<=", value: 2 },
        measured,
        met: measured === null ? null : measured <= 2,
        bounds: [
          bound("socket floor", "lat256", `raw-${rt}`, native, "p99_ms"),
          bound("Fetch floor", "lat256", `fetch-${rt}`, native, "p99_ms"),
        ],
      });
    }
    ratio(`${ours} / ${native} 1 MiB upload MiB/s`, "upload", ours, native, 0.8);
    checks.at(-1).bounds = [
      bound("ours, bodies in memory", "upload", `inmem-${rt}`, native),
      bound("copy floor, each body copied once", "upload", `keep-${rt}`, native),
      bound("socket floor, body bytes dropped", "upload", `raw-${rt}`, native),
    ];
    {
      const key = "peakRssKiB";
      const measured = has(ours) && has(native) ? pairedRatio(results, "upload", ours, native, key) : null;
      checks.push({
        name: `${ours} / ${native} peak RSS during 1 MiB uploads`,
        scenario: "upload",
        target: "<= 1.25x",
        limit: { op: "<=", value: 1.25 },
        measured,
        met: measured === null ? null : measured <= 1.25,
        bounds: [
          bound("copy floor's peak RSS", "upload", `keep-${rt}`, native, key),
          bound("socket floor's peak RSS", "upload", `raw-${rt}`, native, key),
        ],
      });
    }
    {
      const x = get("idle", ours);
      const measured = has(ours) && Number.isFinite(x) ? x : null;
      checks.push({
        name: `${ours} RSS per idle keep-alive conn`,
        scenario: "idle",
        target: "<= 8 KiB",
        measured,
        unit: "KiB",
        met: measured === null ? null : measured <= 8,
      });
    }
    // Issue 17: HTTPS against the runtime's own TLS server, and what the access log costs.
    const tlsOurs = `tls-ours-${rt}`;
    if (targets.some((t) => t.id === tlsOurs)) {
      ratio(`${tlsOurs} / ${NATIVE_TLS[rt]} req/s (HTTPS, not pipelined)`, "https", tlsOurs, NATIVE_TLS[rt], 0.8);
      checks.at(-1).bounds = [
        bound("socket floor over the same TLS", "https", `tls-raw-${rt}`, NATIVE_TLS[rt]),
        bound("ours without TLS / native without TLS (hello)", "hello", ours, NATIVE[rt]),
      ];
    }
    if (targets.some((t) => t.id === `log-${rt}`)) {
      ratio(`log-${rt} / ${ours} req/s (access log on / off)`, "hello", `log-${rt}`, ours, 0.9);
    }
  }
  return checks;
}
