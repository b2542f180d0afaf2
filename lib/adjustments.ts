/**
 * Resolving options (waitress's Adjustments): every row of the option table
 * read or defaulted, then the rules that span options (where to listen, the
 * trusted proxy settings).
 *
 * @module
 */
import { type BindOptions, type BindTarget, resolveBinds } from "./binds.ts";
import { OPTION_NAMES, OPTION_TABLE, type OptionName, type OptionValues, type ServeOptions } from "./option_table.ts";
import { OptionError } from "./option_values.ts";

export type { BindTarget } from "./binds.ts";
export { splitListenEntry } from "./binds.ts";
export {
  OPTION_NAMES,
  OPTION_TABLE,
  type OptionName,
  type OptionTable,
  type OptionValues,
  type ServeOptions,
} from "./option_table.ts";
export type { OptionDoc, OptionKind, OptionSpec } from "./option_spec.ts";
export { normalizeUrlPrefix, OptionError, parseBoolean, parseInteger, parseList, parseOctal } from "./option_values.ts";

/** The trusted proxy headers waitress knows. */
export const KNOWN_PROXY_HEADERS: readonly string[] = [
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-proto",
  "x-forwarded-port",
  "x-forwarded-by",
  "forwarded",
];

/** Options that only say where to listen: resolved into `binds`. */
type BindOption = keyof BindOptions;

/** Options accepted for compatibility with waitress that have no effect here. */
type InertOption = "recvBytes" | "sendBytes" | "asyncoreLoopTimeout" | "asyncoreUsePoll";

/** Options after defaults, parsing and validation: what the engine reads. */
export interface Adjustments extends Omit<OptionValues, BindOption | InertOption | "trustedProxyHeaders"> {
  /** Where to listen, in order. */
  binds: BindTarget[];
  /** Lower-cased trusted header names; empty when no proxy is trusted. */
  trustedProxyHeaders: Set<string>;
}

/** Options `serve()` takes besides the waitress table. */
const ENGINE_ONLY = new Set(["logger", "onListen", "signal", "tls"]);

const KNOWN_NAMES = new Set<string>(OPTION_NAMES);

/** Every option of the table: the given value read by its row's parser, or the row's default. */
function readOptions(options: ServeOptions): OptionValues {
  const values: Partial<Record<OptionName, unknown>> = {};
  for (const name of OPTION_NAMES) {
    const given = options[name];
    const spec = OPTION_TABLE[name];
    values[name] = given === undefined ? spec.default : spec.parse(name, given);
  }
  return values as OptionValues;
}

function resolveProxyHeaders(given: boolean, names: readonly string[], trusted: string | undefined): Set<string> {
  // Not given: waitress's (deprecated) implicit default, x-forwarded-proto, when a proxy is trusted.
  if (!given) return new Set(trusted === undefined ? [] : names);
  const lower = names.map((s) => s.toLowerCase());
  if (lower.length > 0 && trusted === undefined) {
    throw new OptionError(
      "trustedProxyHeaders",
      "trustedProxyHeaders (--trusted-proxy-headers) requires trustedProxy (--trusted-proxy) to be set",
    );
  }
  for (const n of lower) {
    if (!KNOWN_PROXY_HEADERS.includes(n)) {
      throw new OptionError(
        "trustedProxyHeaders",
        `Unknown trusted proxy header ${JSON.stringify(n)}; known: ${KNOWN_PROXY_HEADERS.join(", ")}`,
      );
    }
  }
  const set = new Set(lower);
  if (set.has("forwarded") && lower.some((n) => n.startsWith("x-forwarded-"))) {
    throw new OptionError(
      "trustedProxyHeaders",
      "The Forwarded proxy header and the X-Forwarded-{By,Host,Proto,Port,For} headers are mutually exclusive",
    );
  }
  return set;
}

/**
 * Applies defaults, parses and validates every option, and resolves where to
 * listen. Throws {@linkcode OptionError} naming the option on bad input.
 */
export function resolveAdjustments(options: ServeOptions = {}): Adjustments {
  for (const key of Object.keys(options)) {
    if (!KNOWN_NAMES.has(key) && !ENGINE_ONLY.has(key)) {
      throw new OptionError(key, `Unknown option ${JSON.stringify(key)}`);
    }
  }
  const given = (name: OptionName): boolean => options[name] !== undefined;
  const {
    host,
    port,
    listen,
    ipv4,
    ipv6,
    unixSocket,
    recvBytes: _recvBytes,
    sendBytes: _sendBytes,
    asyncoreLoopTimeout: _asyncoreLoopTimeout,
    asyncoreUsePoll: _asyncoreUsePoll,
    trustedProxyHeaders,
    ...engine
  } = readOptions(options);
  if (given("trustedProxyCount") && engine.trustedProxy === undefined) {
    throw new OptionError(
      "trustedProxyCount",
      "trustedProxyCount (--trusted-proxy-count) requires trustedProxy (--trusted-proxy) to be set",
    );
  }
  return {
    ...engine,
    binds: resolveBinds({ host, port, listen, ipv4, ipv6, unixSocket }, given),
    trustedProxyHeaders: resolveProxyHeaders(given("trustedProxyHeaders"), trustedProxyHeaders, engine.trustedProxy),
  };
}
