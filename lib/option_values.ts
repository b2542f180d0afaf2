/**
 * Reading option values: from the strings of the command line or the
 * values given to `serve()`, with waitress's casts (asbool, asint, aslist,
 * octal permissions) and an {@link OptionError} naming the option when a
 * value does not fit.
 *
 * @module
 */
import { isFieldText, isHostPort, isScheme } from "./grammar.ts";

/** An option has a value it cannot take; the message names the option. */
export class OptionError extends Error {
  /** The camelCase name of the offending option. */
  readonly option: string;
  /** Builds the error for `option` with a message saying what was expected. */
  constructor(option: string, message: string) {
    super(message);
    this.name = "OptionError";
    this.option = option;
  }
}

/** The CLI flag of an option: its camelCase name, hyphenated (`maxRequestBodySize` is `max-request-body-size`). */
export function flagOf(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
}

/** The option as messages name it: `threads (--threads)`. */
export function describeOption(name: string): string {
  return `${name} (--${flagOf(name)})`;
}

function invalid(name: string, expected: string, value: unknown): OptionError {
  return new OptionError(
    name,
    `Invalid value for ${describeOption(name)}: expected ${expected}, got ${JSON.stringify(value)}`,
  );
}

const TRUE_WORDS = new Set(["t", "true", "y", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["f", "false", "n", "no", "off", "0"]);

/** Reads a boolean from `true`/`false`, or a word such as `yes`, `off`, `1`. */
export function parseBoolean(name: string, value: unknown): boolean {
  if (typeof value === "boolean") return value;
  if (typeof value === "string") {
    const word = value.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
  }
  throw invalid(name, "a boolean (true/false)", value);
}

/** Reads a whole number, from a number or a decimal string, within `[min, max]`. */
export function parseInteger(name: string, value: unknown, min = 0, max = Infinity): number {
  let n = NaN;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*[+-]?\d+\s*$/.test(value)) n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(name, "an integer", value);
  if (n < min) {
    throw new OptionError(name, `Invalid value for ${describeOption(name)}: must be at least ${min}, got ${n}`);
  }
  if (n > max) throw new OptionError(name, `Invalid value for ${describeOption(name)}: must be at most ${max}`);
  return n;
}

/** Reads file permissions: a number, or an octal string such as `660`. */
export function parseOctal(name: string, value: unknown): number {
  let n = NaN;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^\s*(0o)?[0-7]{1,4}\s*$/i.test(value)) {
    n = parseInt(value.trim().replace(/^0o/i, ""), 8);
  }
  if (!Number.isInteger(n) || n < 0 || n > 0o7777) throw invalid(name, "octal permissions such as 600", value);
  return n;
}

/** Reads a list: an array of strings, or a string split on whitespace (waitress's aslist). */
export function parseList(name: string, value: unknown): string[] {
  if (typeof value === "string") return value.split(/\s+/).filter((s) => s !== "");
  if (Array.isArray(value) && value.every((v) => typeof v === "string")) {
    return value.flatMap((v: string) => v.split(/\s+/)).filter((s) => s !== "");
  }
  throw invalid(name, "a string or a list of strings", value);
}

/** Reads a string, as given. */
export function parseString(name: string, value: unknown): string {
  if (typeof value === "string") return value;
  throw invalid(name, "a string", value);
}

/**
 * A string that ends up in every request.url or response head, checked where
 * waitress takes any text: a scheme (RFC 3986 3.1), a host[:port], or header
 * text without CR, LF or other controls.
 */
export type TextCheck = "scheme" | "host" | "header";

const TEXT_CHECKS: Readonly<Record<TextCheck, { test(value: string): boolean; expected: string }>> = {
  scheme: { test: isScheme, expected: "a URL scheme" },
  host: { test: (value) => value !== "" && isHostPort(value, false), expected: "a host name, with an optional port" },
  header: { test: isFieldText, expected: "text" },
};

/** Reads a string and checks it fits where it ends up ({@link TextCheck}). */
export function parseCheckedText(name: string, value: unknown, check: TextCheck): string {
  const text = parseString(name, value);
  if (TEXT_CHECKS[check].test(text)) return text;
  throw invalid(name, TEXT_CHECKS[check].expected, text);
}

/** waitress's slash_fixed_str: "" stays "", anything else becomes "/" + trimmed of outer slashes. */
export function normalizeUrlPrefix(value: string): string {
  const trimmed = value.trim();
  if (trimmed === "") return "";
  return "/" + trimmed.replace(/^\/+/, "").replace(/\/+$/, "");
}
