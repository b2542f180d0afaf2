/**
 * Differential check of our request parsing against node:http (llhttp).
 *
 * Every case of {@link CASES} is sent, as raw bytes on a fresh 127.0.0.1
 * connection, to our `serve()` (under the runtime running this script) and to
 * a node:http server (in this process under Node; a child `node` process under
 * Deno and Bun, so the reference is always real llhttp). Both apps echo the
 * method, the path, the body length and a digest of the body, so framing
 * differences show. Each case records both sides and whether they agree.
 *
 *   node scripts/differential.ts           print the comparison
 *   node scripts/differential.ts --write   also regenerate docs/differential.md
 *   deno run -A scripts/differential.ts    our server under Deno
 *   bun scripts/differential.ts            our server under Bun
 *
 * The corpus, the servers and the report live in tests/support/
 * (differential_corpus.ts, differential.ts, differential_report.ts);
 * tests/differential.test.ts runs the same corpus against our server only and
 * checks each case's `expect`, so the report cannot drift from behaviour.
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { pool, send, startOurs, startReference, verdict } from "../tests/support/differential.ts";
import { CASES } from "../tests/support/differential_corpus.ts";
import { report, show } from "../tests/support/differential_report.ts";
import { runtimeName } from "../tests/support/runtime.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const FUZZ_HEADER_MARK = "## Differential check against node:http (llhttp)";

async function main(argv: string[]): Promise<number> {
  const ours = await startOurs();
  const ref = await startReference();
  try {
    const rows = await pool(
      CASES.map((c) => async () => {
        const [o, n] = await Promise.all([send(ours.port, c.raw), send(ref.port, c.raw)]);
        return { c, ours: o, node: n, v: verdict(o, n) };
      }),
      16,
    );
    let mismatches = 0;
    for (const { c, ours: o, node: n, v } of rows) {
      const expected = JSON.stringify(o.answers) === JSON.stringify(c.expect);
      if (!expected) mismatches++;
      console.log(
        `${v === "agree" ? "  " : "≠ "}${c.id.padEnd(22)} ours: ${show(o).padEnd(28)} node: ${
          show(n).padEnd(28)
        } ${v}` +
          (expected ? "" : `   [EXPECTED ${JSON.stringify(c.expect)}]`),
      );
    }
    const differing = rows.filter((r) => r.v !== "agree").length;
    console.log(
      `\n${rows.length} cases, ${
        rows.length - differing
      } agree, ${differing} differ; ${mismatches} not as the corpus expects`,
    );
    if (argv.includes("--write")) {
      const path = join(ROOT, "docs", "differential.md");
      let header = "";
      try {
        const old = readFileSync(path, "utf8");
        const at = old.indexOf(FUZZ_HEADER_MARK);
        if (at > 0) header = old.slice(0, at);
      } catch {
        // no report yet
      }
      writeFileSync(path, report(rows, runtimeName(), header));
      console.log(`wrote ${path}`);
    }
    return mismatches === 0 ? 0 : 1;
  } finally {
    await ours.server.close();
    await ref.close();
  }
}

process.exit(await main(process.argv.slice(2)));
