/**
 * The `waitress-serve` command line: argv to options and app, app loading,
 * help text, and the serving loop with graceful signal handling. Mirrors
 * waitress's runner.py; every flag comes from the option table.
 *
 * @module
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import {
  OPTION_TABLE,
  OptionError,
  type OptionName,
  type OptionSpec,
  parseBoolean,
  parseInteger,
  parseOctal,
  resolveAdjustments,
  type ServeOptions,
} from "./adjustments.ts";
import type { App, Handler, Server } from "./types.ts";
import { consoleLogger } from "./logger.ts";
import denoJson from "../deno.json" with { type: "json" };

/** The package version (deno.json is the one source of truth; package.json must agree). */
export const VERSION: string = denoJson.version;

/** The command's name in usage lines and messages. */
export const COMMAND = "waitress-serve";

/** A command-line mistake: printed as one line, exit status 1. */
export class UsageError extends Error {
  /** Builds the error; the message is shown to the user as is. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

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

// ---------------------------------------------------------------------------
// Help text

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

// ---------------------------------------------------------------------------
// App loading

/** The application could not be found or is not an app: printed as one line, exit status 1. */
export class AppLoadError extends Error {
  /** Builds the error; the message is shown to the user as is. */
  constructor(message: string) {
    super(message);
    this.name = "AppLoadError";
  }
}

/** Extensions tried for a module name without one, in order. */
export const MODULE_EXTENSIONS: readonly string[] = [".ts", ".js", ".mjs", ".mts", ".tsx", ".jsx", ".cjs", ".cts"];

const OBJECT_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const DOTTED_NAME = /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/;
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;
/** Schemes `import()` understands somewhere; `jsr:@x/app` alone is a module, not `jsr` plus an object. */
const IMPORT_SCHEMES: ReadonlySet<string> = new Set(["file", "http", "https", "data", "jsr", "npm", "node"]);

/** Splits `MODULE:OBJECT`; a colon that belongs to a URL scheme or drive letter is not the separator. */
export function splitAppSpec(spec: string): { module: string; object: string | undefined } {
  const colon = spec.lastIndexOf(":");
  if (colon <= 0) return { module: spec, object: undefined };
  const module = spec.slice(0, colon);
  const object = spec.slice(colon + 1);
  // `jsr:@x/app`, `npm:hono`, `C:\app.ts`: the only colon is part of the module.
  const moduleIsBareScheme = IMPORT_SCHEMES.has(module.toLowerCase());
  const driveLetter = /^[A-Za-z]$/.test(module);
  if (!OBJECT_PATH.test(object) || moduleIsBareScheme || driveLetter) return { module: spec, object: undefined };
  return { module, object };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The files a path-like module name may mean: itself, with an extension added, or its index. */
function pathCandidates(base: string): string[] {
  return [
    base,
    ...MODULE_EXTENSIONS.map((ext) => base + ext),
    ...MODULE_EXTENSIONS.map((ext) => join(base, "index" + ext)),
  ];
}

/**
 * Turns MODULE into something `import()` takes, resolving file paths and
 * dotted names against `cwd` as waitress resolves against sys.path.
 */
export function resolveModule(module: string, cwd: string): string {
  const scheme = URL_SCHEME.exec(module);
  if (scheme && scheme[1].length > 1) return module;
  const base = isAbsolute(module) ? module : resolve(cwd, module);
  const tried = pathCandidates(base);
  if (DOTTED_NAME.test(module) && module.includes(".")) {
    tried.push(...pathCandidates(resolve(cwd, ...module.split("."))));
  }
  for (const candidate of tried) {
    if (isFile(candidate)) return pathToFileURL(realpathSync(candidate)).href;
  }
  const where = existsSync(base) ? `${module} is not a module file` : `no such file as ${module}`;
  throw new AppLoadError(`Cannot find module ${JSON.stringify(module)}: ${where} (looked in ${cwd})`);
}

/** The first line of an error's message, without a stack. */
function reason(error: unknown): string {
  const message = error instanceof Error ? `${error.message}` : String(error);
  return message.split("\n")[0].trim() || (error instanceof Error ? error.name : "unknown error");
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  const t = typeof value;
  return t === "object" ? "an object without a fetch method" : t === "undefined" ? "undefined" : `a ${t}`;
}

/** Walks a dotted object path inside a module's exports. */
function lookup(exports: Record<string, unknown>, object: string, spec: string): unknown {
  let value: unknown = exports;
  const segments = object.split(".");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    let holder = value;
    // CommonJS modules arrive as { default: module.exports }: look there too.
    if (i === 0 && !(segment in exports) && isObjectLike(exports.default) && segment in exports.default) {
      holder = exports.default;
    }
    if (!isObjectLike(holder) || !(segment in holder)) {
      const at = segments.slice(0, i + 1).join(".");
      throw new AppLoadError(`Cannot find ${JSON.stringify(at)} in ${JSON.stringify(spec)}`);
    }
    value = (holder as Record<string, unknown>)[segment];
  }
  return value;
}

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** Makes a Handler of a function or of an object with a `fetch` method (bound to it). */
export function toHandler(value: unknown, what: string): Handler {
  if (isObjectLike(value) && typeof value.fetch === "function") {
    const fetch = value.fetch as Handler;
    return (request, info) => fetch.call(value, request, info);
  }
  if (typeof value === "function") return value as Handler;
  throw new AppLoadError(
    `${what} is not an application: expected a function (request, info) => Response ` +
      `or an object with a fetch method, got ${typeName(value)}`,
  );
}

/**
 * Loads the application named by `MODULE[:OBJECT]`, calling it first when
 * `call` is set. Throws {@linkcode AppLoadError} with a one-line reason.
 */
export async function loadApp(spec: string, call: boolean, cwd: string = process.cwd()): Promise<App> {
  const { module, object } = splitAppSpec(spec);
  const url = resolveModule(module, cwd);
  let exports: Record<string, unknown>;
  try {
    exports = await import(url);
  } catch (error) {
    throw new AppLoadError(`Cannot load module ${JSON.stringify(module)}: ${reason(error)}`);
  }
  let value: unknown;
  if (object === undefined) {
    if (!("default" in exports) || exports.default === undefined) {
      throw new AppLoadError(
        `Module ${JSON.stringify(module)} has no default export; name the app as ${module}:OBJECT`,
      );
    }
    value = exports.default;
  } else {
    value = lookup(exports, object, spec);
  }
  if (call) {
    if (typeof value !== "function") {
      throw new AppLoadError(`Cannot --call ${JSON.stringify(spec)}: it is ${typeName(value)}, not a function`);
    }
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new AppLoadError(`Calling ${JSON.stringify(spec)} failed: ${reason(error)}`);
    }
    return toHandler(value, `The result of calling ${JSON.stringify(spec)}`);
  }
  return toHandler(value, JSON.stringify(spec));
}

// ---------------------------------------------------------------------------
// Running

/** Where the command writes; replaceable in tests. */
export interface CliIO {
  /** Writes to standard output (help, version). */
  stdout(text: string): void;
  /** Writes to standard error (errors, "Serving on" lines). */
  stderr(text: string): void;
  /** The directory dotted module names and relative paths are resolved in. */
  cwd: string;
}

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
};

/** The one line printed for any error the user can fix. */
function errorLine(error: unknown): string {
  if (error instanceof OptionError) {
    // Validation messages speak of serve() names; say which flag too.
    const flag = (TABLE as Record<string, OptionSpec | undefined>)[error.option]?.flag;
    const named = flag === undefined || error.message.includes(`--${flag}`);
    return `Error: ${error.message}${named ? "" : ` (--${flag})`}`;
  }
  if (error instanceof UsageError || error instanceof AppLoadError) return `Error: ${error.message}`;
  return `Error: ${reason(error)}`;
}

/**
 * Waits for SIGINT or SIGTERM: the first stops the server gracefully, a
 * second exits at once with status 1 (waitress exits on Ctrl-C too).
 */
function handleSignals(server: Server): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    server.shutdown().catch(() => server.close());
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
}

/**
 * Runs `waitress-serve` with `argv` (no runtime or script name). Resolves
 * with the exit status once the server has stopped, or at once for help,
 * version and errors.
 */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  let server: Server;
  try {
    const cl = parseCommandLine(argv);
    if (cl.help) {
      io.stdout(helpText());
      return 0;
    }
    if (cl.version) {
      io.stdout(`${COMMAND} ${VERSION}\n`);
      return 0;
    }
    if (cl.app === undefined) {
      throw new UsageError(`Specify an application: ${COMMAND} [OPTS] MODULE:OBJECT (see --help)`);
    }
    // Check the options before importing the app, so mistakes surface fast.
    resolveAdjustments(cl.options);
    const app = await loadApp(cl.app, cl.call, io.cwd);
    // Loaded here, not at the top, so --help and usage errors never load the engine.
    const { serve } = await import("./server.ts");
    server = serve(app, { ...cl.options });
    await server.ready;
  } catch (error) {
    io.stderr(errorLine(error) + "\n");
    return 1;
  }
  for (const addr of server.addrs) consoleLogger.info(`Serving on ${addr.url}`);
  handleSignals(server);
  await server.finished;
  return 0;
}

/** Runs the command with this process's arguments and exits with its status. */
export function runCli(argv: readonly string[] = process.argv.slice(2)): void {
  main(argv).then(
    (code) => {
      // Exit explicitly (signal listeners may hold the loop open), but let a
      // pending stdout write (a piped --help on macOS) finish first.
      if (process.stdout.writableNeedDrain) process.stdout.once("drain", () => process.exit(code));
      else process.exit(code);
    },
    (error) => {
      process.stderr.write(errorLine(error) + "\n");
      process.exit(1);
    },
  );
}

/**
 * True when the module with this `import.meta` is the program's entry point:
 * `import.meta.main` in Deno, Bun and Node 24.2+, else a comparison with argv[1].
 */
export function isMainModule(meta: ImportMeta): boolean {
  const main = (meta as { main?: unknown }).main;
  if (typeof main === "boolean") return main;
  const entry = process.argv[1];
  const filename = (meta as { filename?: string }).filename;
  if (!entry || !filename) return false;
  try {
    return realpathSync(entry) === realpathSync(filename);
  } catch {
    return false;
  }
}
