import { test } from "node:test";
import assert from "node:assert/strict";
import { resolveAdjustments } from "../lib/adjustments.ts";
import { splitListenEntry } from "../lib/binds.ts";
import { OPTION_TABLE } from "../lib/option_table.ts";
import type { OptionSpec } from "../lib/option_spec.ts";
import { normalizeUrlPrefix, OptionError, parseBoolean } from "../lib/option_values.ts";

test("adjustments: defaults are waitress's", () => {
  const a = resolveAdjustments({});
  assert.deepEqual(a.binds, [{ transport: "tcp", hostname: "0.0.0.0", port: 8080, ipv6Only: false }]);
  assert.equal(a.threads, 4);
  assert.equal(a.backlog, 1024);
  assert.equal(a.outbufOverflow, 1048576);
  assert.equal(a.outbufHighWatermark, 16777216);
  assert.equal(a.inbufOverflow, 524288);
  assert.equal(a.connectionLimit, 100);
  assert.equal(a.cleanupInterval, 30);
  assert.equal(a.channelTimeout, 120);
  assert.equal(a.logSocketErrors, true);
  assert.equal(a.maxRequestHeaderSize, 262144);
  assert.equal(a.maxRequestBodySize, 1073741824);
  assert.equal(a.exposeTracebacks, false);
  assert.equal(a.ident, "waitress");
  assert.equal(a.urlScheme, "http");
  assert.equal(a.urlPrefix, "");
  assert.equal(a.serverName, "waitress.invalid");
  assert.equal(a.channelRequestLookahead, 0);
  assert.equal(a.trustedProxy, undefined);
  assert.equal(a.trustedProxyCount, 1);
  assert.deepEqual([...a.trustedProxyHeaders], []);
  assert.equal(a.clearUntrustedProxyHeaders, true);
  assert.equal(a.logUntrustedProxyHeaders, false);
  assert.equal(a.unixSocketPerms, 0o600);
});

test("adjustments: url prefix is normalised as waitress's slash_fixed_str", () => {
  assert.equal(normalizeUrlPrefix("app/"), "/app");
  assert.equal(normalizeUrlPrefix("//app//x//"), "/app//x");
  assert.equal(normalizeUrlPrefix("/"), "/");
  assert.equal(normalizeUrlPrefix("   "), "");
});

test("adjustments: listen entries split on the last colon, brackets removed", () => {
  assert.deepEqual(splitListenEntry("127.0.0.1:81", 8080), { host: "127.0.0.1", port: 81 });
  assert.deepEqual(splitListenEntry("[::1]:81", 8080), { host: "::1", port: 81 });
  assert.deepEqual(splitListenEntry("[::1]", 8080), { host: "::1", port: 8080 });
  assert.deepEqual(splitListenEntry("example.com", 9), { host: "example.com", port: 9 });
  const a = resolveAdjustments({ listen: ["*:0", "127.0.0.1:5000 127.0.0.1:5000"] });
  assert.deepEqual(a.binds.map((b) => b.transport === "tcp" ? `${b.hostname}|${b.port}` : ""), [
    "::|0",
    "0.0.0.0|0",
    "127.0.0.1|5000",
  ]);
});

test("adjustments: bad values name the option", () => {
  assert.throws(() => resolveAdjustments({ threads: "abc" as unknown as number }), (e: unknown) => {
    assert.ok(e instanceof OptionError);
    assert.equal(e.option, "threads");
    assert.match(e.message, /threads \(--threads\).*integer/);
    return true;
  });
  assert.throws(() => resolveAdjustments({ threads: 0 }), /at least 1/);
  assert.throws(() => resolveAdjustments({ listen: "a:1", port: 2 }), /listen \(--listen\) cannot be combined/);
  assert.throws(() => resolveAdjustments({ unixSocket: "/tmp/x", host: "a" }), OptionError);
  assert.throws(() => resolveAdjustments({ trustedProxyHeaders: "x-forwarded-for" }), /requires trustedProxy/);
  assert.throws(
    () => resolveAdjustments({ trustedProxy: "*", trustedProxyHeaders: "forwarded x-forwarded-for" }),
    /mutually exclusive/,
  );
  assert.throws(() => resolveAdjustments({ trustedProxy: "*", trustedProxyHeaders: "x-bogus" }), /Unknown trusted/);
  assert.throws(() => resolveAdjustments({ bogus: 1 } as never), /Unknown option "bogus"/);
  assert.throws(() => resolveAdjustments({ unixSocketPerms: "999" }), /octal/);
  assert.throws(() => parseBoolean("ipv4", "maybe"), /ipv4 \(--ipv4\)/);
});

test("adjustments: strings from the CLI are cast like waitress's", () => {
  const a = resolveAdjustments({
    threads: "8" as unknown as number,
    exposeTracebacks: "yes" as unknown as boolean,
    unixSocketPerms: "660",
    trustedProxy: "10.0.0.1",
    trustedProxyHeaders: "X-Forwarded-For x-forwarded-proto",
  });
  assert.equal(a.threads, 8);
  assert.equal(a.exposeTracebacks, true);
  assert.equal(a.unixSocketPerms, 0o660);
  assert.deepEqual([...a.trustedProxyHeaders].sort(), ["x-forwarded-for", "x-forwarded-proto"]);
  assert.deepEqual([...resolveAdjustments({ trustedProxy: "*" }).trustedProxyHeaders], ["x-forwarded-proto"]);
});

test("adjustments: every table row has a hyphenated flag matching its name", () => {
  for (const [name, spec] of Object.entries(OPTION_TABLE)) {
    assert.equal(spec.flag, name.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase()));
  }
});

test("adjustments: urlScheme, serverName and ident must fit where they end up (request.url, the Server header)", () => {
  // Stricter than waitress, which takes any text for these.
  const refused: [string, Record<string, string>][] = [
    ["urlScheme", { urlScheme: "" }],
    ["urlScheme", { urlScheme: "foo bar" }],
    ["urlScheme", { urlScheme: "1http" }],
    ["serverName", { serverName: "" }],
    ["serverName", { serverName: "bad/name" }],
    ["serverName", { serverName: "a@b" }],
    ["ident", { ident: "waitress\r\nX-Injected: 1" }],
  ];
  for (const [option, options] of refused) {
    assert.throws(() => resolveAdjustments(options), (e: unknown) => {
      assert.ok(e instanceof OptionError, JSON.stringify(options));
      assert.equal(e.option, option);
      return true;
    });
  }
  const a = resolveAdjustments({ urlScheme: "https", serverName: "example.com:8443", ident: "" });
  assert.deepEqual([a.urlScheme, a.serverName, a.ident], ["https", "example.com:8443", ""]);
  assert.equal(resolveAdjustments({ serverName: "[::1]" }).serverName, "[::1]");
});

test("adjustments: every row's default is what an option left unset resolves to", () => {
  // The proxy rows only apply with a trusted proxy.
  const base = (name: string): Record<string, unknown> =>
    name.startsWith("trustedProxy") && name !== "trustedProxy" ? { trustedProxy: "*" } : {};
  for (const [name, spec] of Object.entries(OPTION_TABLE) as [string, OptionSpec][]) {
    if (spec.default === undefined) continue;
    assert.deepEqual(
      resolveAdjustments({ ...base(name), [name]: spec.default }),
      resolveAdjustments(base(name)),
      name,
    );
  }
});

test("adjustments: every row's default text reads back as its default (what --help and the README show)", () => {
  for (const [name, spec] of Object.entries(OPTION_TABLE) as [string, OptionSpec][]) {
    assert.deepEqual(spec.parse(name, spec.defaultText), spec.default, name);
  }
});

test("adjustments: the options accepted for compatibility change nothing", () => {
  const inert = { recvBytes: 60, sendBytes: 9, asyncoreLoopTimeout: 5, asyncoreUsePoll: true };
  assert.deepEqual(resolveAdjustments(inert), resolveAdjustments({}));
  assert.throws(() => resolveAdjustments({ recvBytes: 0 }), /recvBytes \(--recv-bytes\): must be at least 1/);
});
