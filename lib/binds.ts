/**
 * Where to listen: waitress's host/port, `listen` entries and unix socket
 * options expanded into the list of {@link BindTarget}s the server binds.
 *
 * @module
 */
import type { OptionValues } from "./option_table.ts";
import { describeOption, OptionError } from "./option_values.ts";

/** One place to bind: a TCP address or a unix socket path. */
export type BindTarget =
  | { transport: "tcp"; hostname: string; port: number; ipv6Only: boolean }
  | { transport: "unix"; path: string };

/** How waitress prints a listener: `http://127.0.0.1:8080`, `http://[::1]:8080`, `http://unix:/path`. */
export function addressUrl(transport: "tcp" | "unix", hostname: string, port: number, secure = false): string {
  if (transport === "unix") return `http://unix:${hostname}`;
  const scheme = secure ? "https" : "http";
  return hostname.includes(":") ? `${scheme}://[${hostname}]:${port}` : `${scheme}://${hostname}:${port}`;
}

/** The options that say where to listen, already read by their table rows. */
export type BindOptions = Pick<OptionValues, "host" | "port" | "listen" | "ipv4" | "ipv6" | "unixSocket">;

/**
 * Splits one `--listen` entry into host and port as waitress does: on the
 * last `:`, unless what follows contains `]` (a bare `[::1]`); brackets are
 * removed; an entry without a port uses `defaultPort`.
 */
export function splitListenEntry(entry: string, defaultPort: number): { host: string; port: number } {
  let host = entry;
  let portText = "";
  const colon = entry.lastIndexOf(":");
  if (colon >= 0 && !entry.slice(colon + 1).includes("]")) {
    host = entry.slice(0, colon);
    portText = entry.slice(colon + 1);
  }
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  let port = defaultPort;
  if (portText !== "") {
    if (!/^\d+$/.test(portText) || Number(portText) > 65535) {
      throw new OptionError(
        "listen",
        `Invalid value for ${describeOption("listen")}: bad port in ${JSON.stringify(entry)}`,
      );
    }
    port = Number(portText);
  }
  if (host === "") {
    throw new OptionError(
      "listen",
      `Invalid value for ${describeOption("listen")}: no host in ${JSON.stringify(entry)}`,
    );
  }
  return { host, port };
}

function isIPv6Literal(host: string): boolean {
  return host.includes(":");
}

function isIPv4Literal(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

/** Expands one host into the addresses to bind, honouring the ipv4/ipv6 switches. */
function expandHost(host: string, port: number, ipv4: boolean, ipv6: boolean): BindTarget[] {
  // waitress quirk kept: both switched off behaves like both on.
  const want4 = ipv4 || !ipv6;
  const want6 = ipv6 || !ipv4;
  const targets: BindTarget[] = [];
  const add = (hostname: string, v6: boolean) => targets.push({ transport: "tcp", hostname, port, ipv6Only: v6 });
  if (host === "*") {
    // IPv6 first: where a runtime cannot set IPV6_V6ONLY, `::` is dual-stack and the server
    // then treats "0.0.0.0 in use" as already covered.
    if (want6) add("::", true);
    if (want4) add("0.0.0.0", false);
  } else if (host === "localhost") {
    if (want4) add("127.0.0.1", false);
    if (want6) add("::1", true);
  } else if (isIPv6Literal(host)) {
    if (!want6) throw new OptionError("ipv6", `IPv6 is disabled but ${host} is an IPv6 address`);
    add(host, true);
  } else if (isIPv4Literal(host)) {
    if (!want4) throw new OptionError("ipv4", `IPv4 is disabled but ${host} is an IPv4 address`);
    add(host, false);
  } else {
    add(host, false);
  }
  return targets;
}

function bindKey(t: BindTarget): string {
  return t.transport === "unix" ? `unix:${t.path}` : `${t.hostname.split("%")[0]}|${t.port}`;
}

/**
 * The places to bind, in order. `given` names the options the caller set:
 * `listen` excludes `host` and `port`, and `unixSocket` excludes all three.
 */
export function resolveBinds(o: BindOptions, given: (name: keyof BindOptions) => boolean): BindTarget[] {
  const hasHostPort = given("host") || given("port");
  const hasListen = given("listen");
  const hasUnix = o.unixSocket !== "";
  if (hasListen && hasHostPort) {
    throw new OptionError("listen", "listen (--listen) cannot be combined with host (--host) or port (--port)");
  }
  if (hasUnix && (hasHostPort || hasListen)) {
    throw new OptionError(
      "unixSocket",
      "unixSocket (--unix-socket) cannot be combined with host (--host), port (--port) or listen (--listen)",
    );
  }
  if (hasUnix) return [{ transport: "unix", path: o.unixSocket }];
  const entries = hasListen ? o.listen : [`${o.host}:${o.port}`];
  if (entries.length === 0) throw new OptionError("listen", "listen needs at least one entry");
  const seen = new Set<string>();
  const binds: BindTarget[] = [];
  for (const entry of entries) {
    const { host, port } = splitListenEntry(entry, o.port);
    for (const t of expandHost(host, port, o.ipv4, o.ipv6)) {
      const key = bindKey(t);
      // waitress drops duplicate address/port pairs, except port 0.
      if (t.transport === "tcp" && t.port !== 0 && seen.has(key)) continue;
      seen.add(key);
      binds.push(t);
    }
  }
  return binds;
}
