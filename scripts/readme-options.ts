/**
 * Rewrites the README's option table from OPTION_TABLE (the rendering is
 * tests/support/readme_table.ts, which tests/readme.test.ts checks too).
 *
 *   node scripts/readme-options.ts          rewrite README.md between the markers
 *   node scripts/readme-options.ts --check  exit 1 when README.md is stale
 *
 * @module
 */
import { readFileSync, writeFileSync } from "node:fs";
import process from "node:process";
import { normalizeTable, README_PATH, readmeTable, updateReadme } from "../tests/support/readme_table.ts";

const current = readFileSync(README_PATH, "utf8");
const next = updateReadme(current);
if (process.argv.includes("--check")) {
  if (normalizeTable(readmeTable(next)) !== normalizeTable(readmeTable(current))) {
    console.error("README.md's option table is stale: run node scripts/readme-options.ts");
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(README_PATH, next);
  console.log("README.md: option table updated");
}
