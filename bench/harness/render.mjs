// A run's results as text tables (the console) and as bench/RESULTS.md.
import { median } from "./common.mjs";
import { SCENARIOS } from "./scenarios.mjs";
import { NATIVE_TLS } from "./secure.mjs";
import { NATIVE, runsIn } from "./targets.mjs";

export function fmt(n, digits) {
  if (n === null || n === undefined || !Number.isFinite(n)) return "-";
  if (digits !== undefined) return n.toFixed(digits);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString("en-US");
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

export function scenarioRows(sc, targets, results) {
  const header = ["target", `${sc.unit} (median)`, "min - max"];
  if (sc.latency) header.push("p50 ms", "p99 ms", "p99 min - max");
  header.push("errors");
  if (sc.kind !== "idle") header.push("other CPU % (max)");
  const rows = [];
  for (const t of targets) {
    if (!runsIn(t, sc.id)) continue;
    const r = results[sc.id]?.[t.id];
    if (!r) {
      rows.push([t.id, t.ok === false ? "unavailable" : "-", ...header.slice(2).map(() => "")]);
      continue;
    }
    const row = [t.id, fmt(r.median), `${fmt(r.min)} - ${fmt(r.max)}`];
    if (sc.latency) row.push(fmt(r.p50_ms, 3), fmt(r.p99_ms, 3), `${fmt(r.p99_ms_min, 3)} - ${fmt(r.p99_ms_max, 3)}`);
    row.push(String(r.errors + (r.failedRounds ? ` (${r.failedRounds} failed rounds)` : "")));
    if (sc.kind !== "idle") row.push(fmt(r.maxNoisePct, 0));
    rows.push(row);
  }
  return { header, rows };
}

export function textTable({ header, rows }) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i] ?? "").length)));
  const line = (cells) => cells.map((c, i) => String(c ?? "").padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}

function mdTable({ header, rows }) {
  const esc = (c) => String(c ?? "").replaceAll("|", "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`),
  ].join("\n");
}

export function checkRows(checks) {
  return {
    header: ["check", "target", "measured", "status", "same ratio for the bound"],
    rows: checks.map((c) => [
      c.name,
      c.target,
      c.measured === null ? "-" : c.unit ? `${fmt(c.measured, 2)} ${c.unit}` : `${fmt(c.measured, 2)}x`,
      c.info ? "info" : c.met === null ? "n/a" : c.met ? "met" : "MISSED",
      (c.bounds ?? []).filter(Boolean).map((b) => `${fmt(b.measured, 2)}x (${b.target}: ${b.label})`).join("; "),
    ]),
  };
}

/**
 * What each bound says about a miss, by whether the bound itself meets the target: a floor that misses too shows the
 * target out of reach for any server over that socket API doing that much; one that meets it puts the gap in ours.
 */
const BOUND_MEANING = {
  "socket floor": [
    "even a server that does no HTTP work over this socket API misses it",
    "the socket API leaves room",
  ],
  "Fetch floor": [
    "calling the app and reading its standard Response over this socket API misses it before any HTTP work",
    "the gap between it and ours is our HTTP work",
  ],
  "copy floor, each body copied once": [
    "copying each body once into fresh memory, which handing the app its body whole requires, misses it",
    "copying each body once leaves room",
  ],
  "ours answering with FastResponse": [
    "ours misses it even without a standard Response's body stream: the gap is the rest of the engine",
    "with FastResponse ours meets it: the gap is reading the standard Response's body through its stream",
  ],
  "copy floor's peak RSS": [
    "a server over this socket API that only copies each body once into fresh memory already peaks higher",
    "copying each body once stays within the bound",
  ],
  "socket floor's peak RSS": [
    "even a server over this socket API that drops the body bytes peaks higher",
    "the socket API stays within the bound",
  ],
  "socket floor over the same TLS": [
    "even canned answers over the TLS our adapter uses miss it",
    "the TLS our adapter uses leaves room",
  ],
  "ours without TLS / native without TLS (hello)": [
    "ours misses it without TLS too: the gap is the engine's cost per request, not TLS",
    "without TLS ours meets it: TLS costs ours more than the native server",
  ],
  "socket floor, body bytes dropped": [
    "even a server that drops the body bytes over this socket API misses it",
    "the socket API leaves room",
  ],
  "ours, bodies in memory": [
    "ours misses it even without the spill to a temporary file",
    "the gap is waitress's spill of bodies above `inbufOverflow` to a temporary file, a rule the issue keeps",
  ],
};

/** One line per missed check that has bounds: each bound's ratio and what it shows (see BOUND_MEANING). */
export function missExplanations(checks) {
  const lines = [];
  for (const c of checks) {
    if (c.met !== false || !c.limit || !c.bounds?.some(Boolean)) continue;
    const parts = c.bounds.filter(Boolean).map((b) => {
      const meets = c.limit.op === ">=" ? b.measured >= c.limit.value : b.measured <= c.limit.value;
      const meaning = BOUND_MEANING[b.label]?.[meets ? 1 : 0] ?? (meets ? "meets the target" : "misses the target");
      return `${b.label} ${fmt(b.measured, 2)}x (${meets ? "meets" : "misses"} the target: ${meaning})`;
    });
    lines.push(`- ${c.name}: ${fmt(c.measured, 2)}x against ${c.target}. ${parts.join("; ")}.`);
  }
  return lines;
}

export function ratioRows(results, targets) {
  // Informational ratios for every scenario: ours / native, ours / hono, ours / waitress.
  const ok = new Set(targets.filter((t) => t.ok).map((t) => t.id));
  const rows = [];
  for (const sc of SCENARIOS) {
    if (!results[sc.id]) continue;
    for (const rt of ["node", "deno", "bun"]) {
      const https = sc.id === "https";
      const ours = https ? `tls-ours-${rt}` : `ours-${rt}`;
      const native = https ? NATIVE_TLS[rt] : NATIVE[rt];
      if (!ok.has(ours)) continue;
      const cell = (ref) => {
        const a = results[sc.id]?.[ours]?.median, b = results[sc.id]?.[ref]?.median;
        return ok.has(ref) && a > 0 && b > 0 ? `${fmt(a / b, 2)}x` : "";
      };
      rows.push([
        sc.id,
        ours,
        `${cell(native)} ${native}`,
        rt === "node" ? cell("hono-node") : "",
        cell("waitress"),
      ]);
    }
  }
  return { header: ["scenario", "ours", "vs native", "vs hono-node", "vs waitress"], rows };
}

/** How busy other processes kept the benchmark cores over all wrk rounds. */
export function noiseSummary(results) {
  const all = Object.values(results).flatMap((byTarget) =>
    Object.values(byTarget).flatMap((r) => r.samples.map((s) => s.noisePct).filter((n) => typeof n === "number"))
  );
  return { medianPct: all.length ? median(all) : 0, maxPct: all.length ? Math.max(...all) : 0, samples: all.length };
}

export function resultsMarkdown(report) {
  const { machine, config: c, targets, results, checks } = report;
  const out = [];
  out.push("# Benchmark results", "");
  out.push(
    `Generated by \`node bench/run.mjs${c.quick ? " --quick" : ""} --write-results\` on ${report.date}. ` +
      "See [README.md](README.md) for the method. Loopback, server pinned to core 0 and wrk to core 1 " +
      "(the --workers targets w1-*, w2-*: both on both cores); " +
      "figures are medians of interleaved rounds with min - max; ratios are computed within this one run.",
    "",
  );
  out.push("## Machine", "");
  out.push(`- Commit: ${machine.commit}`);
  out.push(`- nproc: ${machine.nproc}; CPU: ${machine.cpu}; kernel: ${machine.kernel}; OS: ${machine.os}`);
  const v = machine.versions;
  out.push(
    `- Node ${v.node}, ${v.deno.replace(/ \(.*/, "")}, Bun ${v.bun}, @hono/node-server ${v["@hono/node-server"]} ` +
      `(hono ${v.hono}), ${v.python} with waitress ${v.waitress}, ${v.wrk.replace(/ \[.*/, "")}`,
  );
  out.push(
    `- Rounds: ${c.rounds} of ${c.durationS} s per target and scenario, after a ${c.warmupS} s warm-up; ` +
      `${c.idleConnections} idle connections (rounds: ${c.idleRounds}, each on a fresh server process); ` +
      `${c.streamMiB} MiB streamed per response; ` +
      `pipeline depth ${c.pipelineDepth}.`,
    `- Other processes on the benchmark cores during the wrk rounds: median ${fmt(report.noise.medianPct, 0)}%, ` +
      `max ${fmt(report.noise.maxPct, 0)}% of a core (per-scenario maxima in the "other CPU" columns).`,
    "",
  );
  if (report.noise.medianPct > 25) {
    out.push(
      `**Warning: other processes were using a median ${fmt(report.noise.medianPct, 0)}% of a benchmark core ` +
        "during the rounds (see the other-CPU column); throughput and latency figures from this run are " +
        "unreliable. Memory figures (idle) are not affected.**",
      "",
    );
  }
  const unavailable = targets.filter((t) => !t.ok);
  if (unavailable.length) {
    out.push(`Unavailable in this run: ${unavailable.map((t) => `${t.id} (${t.error})`).join("; ")}.`, "");
  }
  out.push("## Targets from the issue", "", mdTable(checkRows(checks)), "");
  const misses = missExplanations(checks);
  if (misses.length) out.push("What bounds each miss, from the bounds measured in this run:", "", ...misses, "");
  if (targets.some((t) => t.bound)) {
    out.push(
      "The last column is the same ratio for a bound, measured in this run. The floors are servers over the " +
        "socket API ours uses that find requests without parsing them and do no HTTP work: `raw-*`, the socket " +
        "floor, answers with canned bytes and drops body bytes as they arrive (no server over that API can do " +
        "better); `keep-*`, the copy floor, also copies each upload into one fresh array, as handing an app its " +
        "body whole (`request.arrayBuffer()`) requires; `fetch-*`, the Fetch floor, answers `GET /` with the " +
        "app's own Response, whose body it reads by the cheapest public call for a body it holds (`bytes()` on " +
        "Node and Bun, `text()` on Deno), which a server that cannot tell a string body from a stream cannot " +
        "call blind; `fast-*` is ours answering with `FastResponse`, which has no body stream. `inmem-*` is ours with `inbufOverflow` at 4 MiB, so 1 MiB bodies stay in memory " +
        "as the native servers keep them, instead of going to a temporary file as waitress's default of 512 KiB " +
        "requires.",
      "",
    );
  }
  for (const sc of SCENARIOS) {
    if (!results[sc.id]) continue;
    out.push(`## ${sc.title}`, "", mdTable(scenarioRows(sc, targets, results)), "");
  }
  out.push(
    "## Ratios, every scenario",
    "",
    "ours / reference of the medians above (for `idle`, KiB per connection: lower is better).",
    "",
    mdTable(ratioRows(results, targets)),
    "",
  );
  return out.join("\n");
}
