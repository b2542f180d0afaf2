/**
 * `waitress-serve` arguments to options: every long flag comes from the
 * option table, booleans are negatable (`--no-ipv6`), unambiguous prefixes
 * expand as getopt expands them for waitress (`--thr` is `--threads`), and
 * the app is `MODULE:OBJECT` given last or as `--app`, with `--call`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { OPTION_TABLE, type OptionName, type ServeOptions } from "../option_table.ts";
import type { OptionSpec } from "../option_spec.ts";
import { parseBoolean, parseInteger, parseOctal } from "../option_values.ts";
import { UsageError } from "./errors.ts";

/** What the command line asked for. */
export interface CommandLine {
  /** `--help` was given: print the help and exit 0. */
  help: boolean;
  /** `--version` was given: print the version and exit 0. */
  version: boolean;
  /** `--call`: call the object to get the app. */
  call: boolean;
  /** The `MODULE:OBJECT` spec (from `--app` or the positional); undefined when none. */
  app: string | undefined;
  /** The waitress options given, converted to their `serve()` types. */
  options: ServeOptions;
}

/** Flags the runner adds to the option table (waitress's runner has --help, --call and --app too). */
const RUNNER_FLAGS = {
  help: { type: "boolean" },
  version: { type: "boolean" },
  call: { type: "boolean" },
  app: { type: "string" },
} as const;

const TABLE = OPTION_TABLE as Readonly<Record<OptionName, OptionSpec>>;
const OPTION_NAMES = Object.keys(TABLE) as OptionName[];

/** Flag name (without dashes) to option name, for the table's options. */
const FLAG_TO_OPTION: ReadonlyMap<string, OptionName> = new Map(OPTION_NAMES.map((n) => [TABLE[n].flag, n]));

/** Every long flag the command accepts and whether it takes a value. */
function longFlags(): Map<string, boolean> {
  const flags = new Map<string, boolean>();
  for (const [flag, spec] of Object.entries(RUNNER_FLAGS)) flags.set(flag, spec.type === "string");
  for (const name of OPTION_NAMES) {
    const spec = TABLE[name];
    if (spec.kind === "boolean") {
      flags.set(spec.flag, false);
      flags.set(`no-${spec.flag}`, false);
    } else {
      flags.set(spec.flag, true);
    }
  }
  return flags;
}

const LONG_FLAGS: ReadonlyMap<string, boolean> = longFlags();

/**
 * Expands a flag name the way getopt does for waitress: an exact name, or an
 * unambiguous prefix of one (`--thr` is `--threads`).
 */
function expandFlag(name: string): string {
  if (LONG_FLAGS.has(name)) return name;
  const matches = [...LONG_FLAGS.keys()].filter((f) => f.startsWith(name));
  if (matches.length === 1) return matches[0];
  if (matches.length > 1 && name !== "") {
    throw new UsageError(`Option --${name} is not a unique prefix (${matches.map((m) => "--" + m).join(", ")})`);
  }
  throw new UsageError(`Unknown option --${name}`);
}

/**
 * First pass over argv: checks every flag against the table and rewrites it
 * to `--flag=value` form, so that parseArgs sees exactly what getopt would
 * have accepted and the errors name the flag in our own words.
 */
function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i];
    if (token === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (!token.startsWith("-") || token === "-") {
      out.push(token);
      continue;
    }
    if (!token.startsWith("--")) throw new UsageError(`Unknown option ${token}`);
    const eq = token.indexOf("=");
    const flag = expandFlag(eq < 0 ? token.slice(2) : token.slice(2, eq));
    const takesValue = LONG_FLAGS.get(flag) === true;
    if (!takesValue) {
      if (eq >= 0) {
        const base = flag.startsWith("no-") ? flag.slice(3) : flag;
        throw new UsageError(`Option --${flag} takes no value (use --${base} or --no-${base})`);
      }
      out.push(`--${flag}`);
    } else if (eq >= 0) {
      out.push(`--${flag}=${token.slice(eq + 1)}`);
    } else if (i + 1 < argv.length) {
      // Like getopt, the next word is the value even when it starts with "-".
      out.push(`--${flag}=${argv[++i]}`);
    } else {
      throw new UsageError(`Option --${flag} needs a value`);
    }
  }
  return out;
}

/** parseArgs' option descriptions, built from the table. */
function parseArgsOptions(): Record<string, { type: "string" | "boolean"; multiple?: boolean }> {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { ...RUNNER_FLAGS };
  for (const name of OPTION_NAMES) {
    const spec = TABLE[name];
    options[spec.flag] = spec.kind === "boolean"
      ? { type: "boolean" }
      : spec.multiple
      ? { type: "string", multiple: true }
      : { type: "string" };
  }
  return options;
}

/** Converts one flag's string value to the type `serve()` takes; OptionError names the option. */
function convertValue(name: OptionName, raw: string | boolean | string[]): ServeOptions[OptionName] {
  const spec = TABLE[name];
  switch (spec.kind) {
    case "boolean":
      return parseBoolean(name, raw);
    case "integer":
      return parseInteger(name, raw, spec.min ?? 0);
    case "octal":
      return parseOctal(name, raw);
    case "list":
      return Array.isArray(raw) ? raw : String(raw);
    default:
      return String(raw);
  }
}

/** True when `--help` or `--version` (or a prefix getopt would expand to them) appears before `--`. */
function wants(argv: readonly string[], flag: "help" | "version"): boolean {
  for (const token of argv) {
    if (token === "--") return false;
    if (token.startsWith("--") && token.length > 2 && !token.includes("=")) {
      const name = token.slice(2);
      if (name === flag) return true;
      if (flag.startsWith(name) && [...LONG_FLAGS.keys()].filter((f) => f.startsWith(name)).length === 1) return true;
    }
  }
  return false;
}

/**
 * Parses `waitress-serve` arguments (without the runtime and script). Throws
 * {@linkcode UsageError} for an unknown or malformed flag and
 * {@linkcode OptionError} for a value the option cannot take.
 * `--help` and `--version` win over every other problem.
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const help = wants(argv, "help");
  const version = wants(argv, "version");
  if (help || version) return { help, version, call: false, app: undefined, options: {} };
  let parsed;
  try {
    parsed = parseArgs({
      args: normalizeArgv(argv),
      options: parseArgsOptions(),
      allowNegative: true,
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  const options: Record<string, unknown> = {};
  for (const [flag, value] of Object.entries(values)) {
    const name = FLAG_TO_OPTION.get(flag);
    if (name !== undefined && value !== undefined) options[name] = convertValue(name, value);
  }
  const apps = [...(typeof values.app === "string" ? [values.app] : []), ...parsed.positionals];
  if (apps.length > 1) {
    throw new UsageError(`Provide only one application, got ${apps.map((a) => JSON.stringify(a)).join(" and ")}`);
  }
  return { help: false, version: false, call: values.call === true, app: apps[0], options: options as ServeOptions };
}
