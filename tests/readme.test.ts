// The README's option table is generated from OPTION_TABLE; it must say what
// the table says (run `node scripts/readme-options.ts` after changing it).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { OPTION_TABLE } from "../lib/option_table.ts";
import type { OptionSpec } from "../lib/option_spec.ts";
import { flagSynopsis } from "../lib/cli/help.ts";
import { normalizeTable, README_PATH, readmeTable, renderOptionsTable } from "./support/readme_table.ts";

const README = readFileSync(README_PATH, "utf8");

test("readme: the option table matches OPTION_TABLE (run node scripts/readme-options.ts)", () => {
  assert.equal(normalizeTable(readmeTable(README)), normalizeTable(renderOptionsTable()));
});

test("readme: every option appears with its flag, default and help", () => {
  const block = readmeTable(README);
  for (const [name, spec] of Object.entries(OPTION_TABLE) as [string, OptionSpec][]) {
    const line = block.split("\n").find((l) => l.startsWith(`| \`${name}\` `));
    assert.ok(line, `README lacks ${name}`);
    assert.ok(line.includes(`\`${flagSynopsis(spec)}\``), name);
    assert.ok(line.includes(spec.defaultText === "" ? "—" : `\`${spec.defaultText}\``), name);
    assert.ok(line.includes(spec.help.replace(/\|/g, "\\|")), name);
  }
});

test("readme: the quick start and the placeholder for the lead's section are there", () => {
  assert.ok(README.includes("npm install && npm start"));
  assert.ok(README.includes("npm install && npm test"));
  assert.match(README, /^## HTTP behaviour$/m);
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  assert.equal(pkg.scripts.start, "node cli.ts examples/hello.ts");
  assert.equal(pkg.scripts.test, "node scripts/test.mjs");
});
