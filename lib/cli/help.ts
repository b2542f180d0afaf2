/**
 * The `--help` text (usage, the app forms, every option grouped Standard and
 * Tuning as waitress groups them, all from the option table) and the
 * `--version` line.
 *
 * @module
 */
import { OPTION_TABLE, type OptionName } from "../option_table.ts";
import type { OptionSpec } from "../option_spec.ts";
import denoJson from "../../deno.json" with { type: "json" };

/** The package version (deno.json is the one source of truth; package.json must agree). */
export const VERSION: string = denoJson.version;

/** The command's name in usage lines and messages. */
export const COMMAND = "waitress-serve";

const TABLE = OPTION_TABLE as Readonly<Record<OptionName, OptionSpec>>;
const OPTION_NAMES = Object.keys(TABLE) as OptionName[];

const WIDTH = 79;

/** Wraps prose to the help's width with the given indent. */
function wrap(text: string, indent: string): string {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + line.length + 1 + word.length > WIDTH) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(indent + line);
  return lines.join("\n");
}

/** How one option is written in the help: `--threads=INT`, `--[no-]ipv4`. */
export function flagSynopsis(spec: OptionSpec): string {
  return spec.kind === "boolean" ? `--[no-]${spec.flag}` : `--${spec.flag}=${spec.metavar ?? "VALUE"}`;
}

/** One help entry: the synopsis, then the wrapped description. */
function entry(synopsis: string, help: string): string {
  return `    ${synopsis}\n${wrap(help, "        ")}\n`;
}

function optionEntry(spec: OptionSpec): string {
  const dflt = spec.defaultText === "" ? "Default: none." : `Default: ${spec.defaultText}.`;
  return entry(flagSynopsis(spec), `${spec.help} ${dflt}`);
}

/** The full `--help` text: usage, app forms, then every option grouped Standard/Tuning like waitress. */
export function helpText(name: string = COMMAND): string {
  const standard = OPTION_NAMES.filter((n) => TABLE[n].group === "standard").map((n) => optionEntry(TABLE[n]));
  const tuning = OPTION_NAMES.filter((n) => TABLE[n].group === "tuning").map((n) => optionEntry(TABLE[n]));
  return [
    "Usage:\n",
    `    ${name} [OPTS] [MODULE:OBJECT]\n`,
    wrap(
      "Serves a Fetch application, (request, info) => Response or an object with a fetch method, " +
        "over HTTP/1.1 with waitress's semantics.",
      "",
    ) + "\n",
    wrap(
      "MODULE is a file path (app.ts, ./src/app.js), a dotted module name found from the current directory " +
        "(myapp.web is myapp/web.ts, .js, .mjs, ... or myapp/web/index.ts), or an importable specifier " +
        "(file:, https:, jsr:, npm: where the runtime supports them). OBJECT is a dotted name inside it; " +
        "without :OBJECT the default export is served.",
      "",
    ) + "\n",
    "Standard options:\n",
    entry("--help", "Show this information."),
    entry("--version", "Show the version and exit."),
    entry("--call", "Call the given object (with no arguments, awaiting a promise) to get the application."),
    entry("--app=MODULE:OBJECT", "The application, instead of giving it as the last argument."),
    ...standard,
    "Tuning options:\n",
    ...tuning,
  ].join("\n");
}
