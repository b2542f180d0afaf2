/**
 * What a row of the option table is, and the constructors that make rows of
 * each kind: each carries its typed default, the text `--help` and the README
 * show for it, and the parser that reads a CLI string or a `serve()` value.
 *
 * @module
 */
import { OptionError, parseBoolean, parseInteger, parseList, parseOctal, parseString } from "./option_values.ts";

/** How an option's value is read from a string (the CLI) or checked (the API). */
export type OptionKind =
  | "string"
  | "integer"
  | "boolean"
  | "list"
  | "octal";

/** What a row says about its option besides its default and parser. */
export interface OptionDoc {
  /** Flag name without dashes (`max-request-body-size`). */
  flag: string;
  /** Placeholder for the value in `--help` (none for booleans). */
  metavar?: string;
  /** `standard` or `tuning`, as waitress's help groups them. */
  group: "standard" | "tuning";
  /** One sentence or two for `--help` and the README. */
  help: string;
  /** Smallest accepted integer (inclusive). */
  min?: number;
  /** Largest accepted integer (inclusive). */
  max?: number;
  /** Repeatable on the command line (values accumulate). */
  multiple?: boolean;
}

/** One row of the option table. */
export interface OptionSpec<T = unknown> extends OptionDoc {
  /** How the value is parsed and checked. */
  kind: OptionKind;
  /** waitress's default: what the option holds when it is not given. */
  default: T;
  /** The default as `--help` and the README show it ("" for none), derived from `default`. */
  defaultText: string;
  /** Reads a given value (a CLI string or a `serve()` value); throws an OptionError naming `name`. */
  parse(name: string, value: unknown): T;
}

/** An integer option within `doc.min` and `doc.max` (0 and no upper bound by default). */
export function integer(dflt: number, doc: OptionDoc): OptionSpec<number> {
  const min = doc.min ?? 0;
  const max = doc.max ?? Infinity;
  return {
    ...doc,
    kind: "integer",
    default: dflt,
    defaultText: String(dflt),
    parse: (n, v) => parseInteger(n, v, min, max),
  };
}

/** A boolean option (waitress's asbool). */
export function boolean(dflt: boolean, doc: OptionDoc): OptionSpec<boolean> {
  return { ...doc, kind: "boolean", default: dflt, defaultText: String(dflt), parse: parseBoolean };
}

/** A number read as octal text (file permissions). */
export function octal(dflt: number, doc: OptionDoc): OptionSpec<number> {
  return { ...doc, kind: "octal", default: dflt, defaultText: dflt.toString(8), parse: parseOctal };
}

/** A list of words, space- or comma-separated (waitress's aslist). */
export function list(dflt: readonly string[], doc: OptionDoc): OptionSpec<readonly string[]> {
  return { ...doc, kind: "list", default: dflt, defaultText: dflt.join(" "), parse: parseList };
}

/** A string option; `read` checks or normalises what is given (the default must be what `read` would make of it). */
export function text(
  dflt: string,
  doc: OptionDoc & { read?: (name: string, value: unknown) => string },
): OptionSpec<string> {
  const { read = parseString, ...rest } = doc;
  return { ...rest, kind: "string", default: dflt, defaultText: dflt, parse: read };
}

/** One of a few words. */
export function choice(dflt: string, words: readonly string[], doc: OptionDoc): OptionSpec<string> {
  const read = (name: string, value: unknown): string => {
    const word = parseString(name, value).trim().toLowerCase();
    if (words.includes(word)) return word;
    throw new OptionError(
      name,
      `Invalid value for ${name} (--${doc.flag}): expected ${words.join(", ")}, got ${JSON.stringify(value)}`,
    );
  };
  return text(dflt, { ...doc, read });
}

/** A secret: kept exactly as given (no trimming), off when empty. */
export function secret(doc: OptionDoc): OptionSpec<string | undefined> {
  const parse = (name: string, value: unknown): string | undefined => parseString(name, value) || undefined;
  return { ...doc, kind: "string", default: undefined, defaultText: "", parse };
}

/** A string option that is off when absent or blank. */
export function optionalText(doc: OptionDoc): OptionSpec<string | undefined> {
  const parse = (name: string, value: unknown): string | undefined => parseString(name, value).trim() || undefined;
  return { ...doc, kind: "string", default: undefined, defaultText: "", parse };
}
