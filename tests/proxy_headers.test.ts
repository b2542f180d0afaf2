import { test } from "node:test";
import assert from "node:assert/strict";
import type { Logger } from "../lib/logger.ts";
import { applyProxyHeaders, type ProxyAdjustments, type ProxyError, type ProxyResult } from "../lib/proxy_headers.ts";

interface Options {
  trustedProxy?: string;
  count?: number;
  trust?: string[];
  clear?: boolean;
  log?: boolean;
  remoteHost?: string;
  remotePort?: number;
  scheme?: string;
  host?: string;
}

interface Run {
  result: ProxyResult | ProxyError;
  input: string[];
  warnings: string[];
}

/** Calls applyProxyHeaders with waitress-like defaults (peer 192.168.1.1:8080, Host "localhost:8080"). */
function run(headers: string[], o: Options = {}): Run {
  const warnings: string[] = [];
  const logger: Logger = { info() {}, warn: (m) => void warnings.push(m), error() {} };
  const adj: ProxyAdjustments = {
    trustedProxy: o.trustedProxy,
    trustedProxyCount: o.count ?? 1,
    trustedProxyHeaders: new Set(o.trust ?? []),
    clearUntrustedProxyHeaders: o.clear ?? true,
    logUntrustedProxyHeaders: o.log ?? false,
  };
  // Frozen: the function must never mutate what the parser handed it.
  const input = Object.freeze(headers.slice()) as string[];
  const result = applyProxyHeaders(
    {
      remoteHost: o.remoteHost ?? "192.168.1.1",
      remotePort: o.remotePort ?? 8080,
      scheme: o.scheme ?? "http",
      host: o.host ?? "localhost:8080",
      headers: input,
    },
    adj,
    logger,
  );
  return { result, input, warnings };
}

function ok(r: Run): ProxyResult {
  assert.ok(!("error" in r.result), `unexpected error: ${JSON.stringify(r.result)}`);
  return r.result as ProxyResult;
}

function err(r: Run): ProxyError {
  assert.ok("error" in r.result, `expected an error, got ${JSON.stringify(r.result)}`);
  return r.result as ProxyError;
}

const XF = ["x-forwarded-for", "x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "x-forwarded-by"];

// ---------------------------------------------------------------- common case

test("proxy: no proxy header returns the same array and the input view", () => {
  for (const trustedProxy of [undefined, "*", "192.168.1.1"]) {
    const r = run(["host", "localhost:8080", "x-foo", "bar", "accept", "*/*"], { trustedProxy, trust: XF });
    const v = ok(r);
    assert.equal(v.headers, r.input);
    assert.deepEqual(v, {
      remoteHost: "192.168.1.1",
      remotePort: 8080,
      scheme: "http",
      host: "localhost:8080",
      headers: r.input,
    });
    assert.deepEqual(r.warnings, []);
  }
});

test("proxy: names that merely look like proxy headers are left alone", () => {
  const r = run(["x-forwarded", "a", "forwarded-for", "b", "x-forwarded-fo", "c", "fx", "d"], { trustedProxy: "*" });
  assert.equal(ok(r).headers, r.input);
});

test("proxy: empty header list", () => {
  const r = run([], { trustedProxy: "*", trust: ["x-forwarded-for"] });
  assert.equal(ok(r).headers, r.input);
});

// ---------------------------------------------------------------- trust and clearing

test("proxy: untrusted peer: every proxy header removed, nothing applied", () => {
  const r = run([
    "host",
    "localhost:8080",
    "x-forwarded-for",
    "198.51.100.2",
    "x-forwarded-by",
    "Waitress",
    "x-foo",
    "bar",
    "x-forwarded-proto",
    "https",
    "x-forwarded-host",
    "example.org",
    "x-forwarded-port",
    "443",
    "forwarded",
    "for=1.2.3.4",
  ], { trustedProxy: "192.168.1.1", trust: ["x-forwarded-by"], remoteHost: "192.168.1.255" });
  const v = ok(r);
  assert.notEqual(v.headers, r.input);
  assert.deepEqual(v.headers, ["host", "localhost:8080", "x-foo", "bar"]);
  assert.equal(v.remoteHost, "192.168.1.255");
  assert.equal(v.remotePort, 8080);
  assert.equal(v.scheme, "http");
  assert.equal(v.host, "localhost:8080");
  assert.deepEqual(r.warnings, []);
});

test("proxy: no trusted proxy configured, clearing on (the 3.x default) strips and ignores X-Forwarded-Proto", () => {
  const r = run(["x-foo", "BAR", "x-forwarded-proto", "https"]);
  const v = ok(r);
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, ["x-foo", "BAR"]);
});

test("proxy: clearing off keeps every header, trusted or not (waitress clear_untrusted=False)", () => {
  const headers = [
    "x-forwarded-for",
    "198.51.100.2",
    "x-forwarded-by",
    "Waitress",
    "x-forwarded-proto",
    "https",
    "x-forwarded-host",
    "example.org",
  ];
  const trusted = run(headers, { trustedProxy: "192.168.1.1", trust: ["x-forwarded-by"], clear: false });
  const v = ok(trusted);
  assert.equal(v.headers, trusted.input);
  assert.equal(v.scheme, "http");
  assert.equal(v.remoteHost, "192.168.1.1");
  const untrusted = run(headers, { trustedProxy: "10.0.0.1", clear: false, log: true });
  assert.equal(ok(untrusted).headers, untrusted.input);
  assert.deepEqual(untrusted.warnings, []);
});

test("proxy: trusted peer keeps only the trusted headers (X-Forwarded-By)", () => {
  const r = run([
    "x-forwarded-for",
    "198.51.100.2",
    "x-forwarded-by",
    "Waitress",
    "x-forwarded-proto",
    "https",
    "x-forwarded-host",
    "example.org",
  ], { trustedProxy: "192.168.1.1", trust: ["x-forwarded-by"] });
  const v = ok(r);
  assert.deepEqual(v.headers, ["x-forwarded-by", "Waitress"]);
  assert.equal(v.remoteHost, "192.168.1.1");
  assert.equal(v.scheme, "http");
  assert.equal(v.host, "localhost:8080");
});

test("proxy: X-Forwarded-By is removed when it is not trusted", () => {
  const r = run(["x-forwarded-by", "Waitress", "x-forwarded-proto", "https"], {
    trustedProxy: "*",
    trust: ["x-forwarded-proto"],
  });
  const v = ok(r);
  assert.deepEqual(v.headers, ["x-forwarded-proto", "https"]);
  assert.equal(v.scheme, "https");
});

test("proxy: log_untrusted warns once with the removed names; silent when nothing was removed", () => {
  const r = run(["x-forwarded-for", "1.2.3.4", "forwarded", "for=1.2.3.4", "x-forwarded-for", "5.6.7.8"], {
    trustedProxy: "10.0.0.1",
    log: true,
  });
  assert.deepEqual(ok(r).headers, []);
  assert.deepEqual(r.warnings, [
    "Removed untrusted headers (X-Forwarded-For, Forwarded). Waitress recommends these be removed upstream.",
  ]);
  const quiet = run(["x-forwarded-for", "1.2.3.4"], { trustedProxy: "10.0.0.1" });
  assert.deepEqual(ok(quiet).headers, []);
  assert.deepEqual(quiet.warnings, []);
  const none = run(["x-foo", "1"], { trustedProxy: "10.0.0.1", log: true });
  assert.deepEqual(none.warnings, []);
});

test("proxy: trusted_proxy '*' trusts every peer, an address only an exact match", () => {
  const headers = ["x-forwarded-proto", "https"];
  assert.equal(ok(run(headers, { trustedProxy: "*", trust: ["x-forwarded-proto"] })).scheme, "https");
  assert.equal(
    ok(run(headers, { trustedProxy: "192.168.1.1", trust: ["x-forwarded-proto"] })).scheme,
    "https",
  );
  assert.equal(
    ok(run(headers, { trustedProxy: "192.168.1.10", trust: ["x-forwarded-proto"] })).scheme,
    "http",
  );
});

test("proxy: IPv6 peer is compared without brackets", () => {
  const headers = ["x-forwarded-for", "203.0.113.9"];
  const v = ok(run(headers, { trustedProxy: "::1", trust: ["x-forwarded-for"], remoteHost: "::1" }));
  assert.equal(v.remoteHost, "203.0.113.9");
  const no = ok(run(headers, { trustedProxy: "[::1]", trust: ["x-forwarded-for"], remoteHost: "::1" }));
  assert.equal(no.remoteHost, "::1");
  assert.deepEqual(no.headers, []);
});

test("proxy: unix socket peer ('') is trusted as 'localhost'", () => {
  const headers = ["x-forwarded-for", "203.0.113.9:4711", "x-forwarded-proto", "https"];
  const trust = ["x-forwarded-for", "x-forwarded-proto"];
  const v = ok(run(headers, { trustedProxy: "localhost", trust, remoteHost: "", remotePort: 0 }));
  assert.equal(v.remoteHost, "203.0.113.9");
  assert.equal(v.remotePort, 4711);
  assert.equal(v.scheme, "https");
  const no = ok(run(headers, { trustedProxy: "127.0.0.1", trust, remoteHost: "", remotePort: 0 }));
  assert.equal(no.remoteHost, "");
  assert.equal(no.remotePort, 0);
  assert.equal(no.scheme, "http");
  assert.deepEqual(no.headers, []);
  const star = ok(run(headers, { trustedProxy: "*", trust, remoteHost: "", remotePort: 0 }));
  assert.equal(star.remoteHost, "203.0.113.9");
});

test("proxy: trusted peer but no header trusted: nothing applied, all removed", () => {
  const r = run([
    "x-forwarded-for",
    "198.51.100.2",
    "forwarded",
    "For=198.51.100.2;host=example.com:8080;proto=https",
  ], { trustedProxy: "*" });
  const v = ok(r);
  assert.equal(v.remoteHost, "192.168.1.1");
  assert.equal(v.host, "localhost:8080");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, []);
});

test("proxy: the input array is never mutated", () => {
  const original = ["x-forwarded-for", "9.9.9.9, 1.2.3.4", "x-forwarded-by", "p", "x-a", "1"];
  const r = run(original, { trustedProxy: "*", trust: ["x-forwarded-for"] });
  assert.deepEqual(r.input, original);
  assert.deepEqual(ok(r).headers, ["x-forwarded-for", "1.2.3.4", "x-a", "1"]);
});

// ---------------------------------------------------------------- X-Forwarded-Proto

test("proxy: X-Forwarded-Proto https sets the scheme; the Host is untouched without X-Forwarded-Host", () => {
  const r = run(["x-foo", "BAR", "x-forwarded-proto", "https"], {
    trustedProxy: "192.168.1.1",
    trust: ["x-forwarded-proto"],
  });
  const v = ok(r);
  assert.equal(v.scheme, "https");
  assert.equal(v.host, "localhost:8080");
  assert.equal(v.remoteHost, "192.168.1.1");
  assert.equal(v.remotePort, 8080);
  assert.equal(v.headers, r.input);
});

test("proxy: X-Forwarded-Proto is case-insensitive and may be quoted; empty is ignored", () => {
  const trust = ["x-forwarded-proto"];
  assert.equal(ok(run(["x-forwarded-proto", "HTTPS"], { trustedProxy: "*", trust })).scheme, "https");
  assert.equal(ok(run(["x-forwarded-proto", '"https"'], { trustedProxy: "*", trust })).scheme, "https");
  assert.equal(ok(run(["x-forwarded-proto", "http"], { trustedProxy: "*", trust, scheme: "https" })).scheme, "http");
  assert.equal(ok(run(["x-forwarded-proto", ""], { trustedProxy: "*", trust, scheme: "https" })).scheme, "https");
});

test("proxy: bogus X-Forwarded-Proto is malformed", () => {
  const r = run(["x-foo", "BAR", "x-forwarded-proto", "http://p02n3e.com?url=http"], {
    trustedProxy: "192.168.1.1",
    trust: ["x-forwarded-proto"],
  });
  const e = err(r);
  assert.equal(e.error, 'Header "X-Forwarded-Proto" malformed.');
  assert.equal(
    e.warning,
    'Malformed proxy header "X-Forwarded-Proto" from "192.168.1.1": unsupported proto value value: http://p02n3e.com?url=http',
  );
  assert.equal(
    err(run(["x-forwarded-proto", "ftp"], { trustedProxy: "*", trust: ["x-forwarded-proto"] })).error,
    e.error,
  );
});

test("proxy: multiple X-Forwarded-Proto values are malformed (comma or repeated line)", () => {
  const trust = ["x-forwarded-proto"];
  const e = err(run(["x-forwarded-proto", "http, https"], { trustedProxy: "*", trust }));
  assert.equal(e.error, 'Header "X-Forwarded-Proto" malformed.');
  assert.match(e.warning, /multiple values/);
  const twice = err(run(["x-forwarded-proto", "https", "x-forwarded-proto", "https"], { trustedProxy: "*", trust }));
  assert.equal(twice.error, 'Header "X-Forwarded-Proto" malformed.');
  const quote = err(run(["x-forwarded-proto", '"https'], { trustedProxy: "*", trust }));
  assert.equal(quote.error, 'Header "X-Forwarded-Proto" malformed.');
});

test("proxy: a malformed header that is not trusted is just removed", () => {
  const r = run(["x-forwarded-proto", "http, https", "x-forwarded-for", '"bad'], {
    trustedProxy: "*",
    trust: ["x-forwarded-port"],
  });
  assert.deepEqual(ok(r).headers, []);
  const untrustedPeer = run(["x-forwarded-proto", "ftp"], { trustedProxy: "10.0.0.1", trust: ["x-forwarded-proto"] });
  assert.deepEqual(ok(untrustedPeer).headers, []);
});

// ---------------------------------------------------------------- X-Forwarded-Port

test("proxy: multiple or non-numeric X-Forwarded-Port is malformed", () => {
  const trust = ["x-forwarded-port"];
  const e = err(run(["x-forwarded-port", "443, 80"], { trustedProxy: "*", trust }));
  assert.equal(e.error, 'Header "X-Forwarded-Port" malformed.');
  assert.equal(err(run(["x-forwarded-port", "8o"], { trustedProxy: "*", trust })).error, e.error);
  assert.equal(err(run(["x-forwarded-port", "-1"], { trustedProxy: "*", trust })).error, e.error);
});

test("proxy: X-Forwarded-Port alone leaves the authority as received", () => {
  const r = run(["x-forwarded-port", "8443"], { trustedProxy: "*", trust: ["x-forwarded-port"] });
  const v = ok(r);
  assert.equal(v.host, "localhost:8080");
  assert.equal(v.headers, r.input);
});

test("proxy: X-Forwarded-Port 80 with https keeps the port in the host", () => {
  const v = ok(run(["x-forwarded-port", "80", "x-forwarded-proto", "https", "x-forwarded-host", "example.com"], {
    trustedProxy: "*",
    trust: ["x-forwarded-port", "x-forwarded-host", "x-forwarded-proto"],
  }));
  assert.equal(v.host, "example.com:80");
  assert.equal(v.scheme, "https");
});

test("proxy: X-Forwarded-Port 443 with http keeps the port in the host", () => {
  const v = ok(run(["x-forwarded-port", "443", "x-forwarded-proto", "http", "x-forwarded-host", "example.com"], {
    trustedProxy: "*",
    trust: ["x-forwarded-port", "x-forwarded-host", "x-forwarded-proto"],
  }));
  assert.equal(v.host, "example.com:443");
  assert.equal(v.scheme, "http");
});

test("proxy: the default port of the scheme is omitted from the host", () => {
  const trust = ["x-forwarded-port", "x-forwarded-host", "x-forwarded-proto"];
  const a = ok(run(["x-forwarded-port", "443", "x-forwarded-proto", "https", "x-forwarded-host", "example.com"], {
    trustedProxy: "*",
    trust,
  }));
  assert.equal(a.host, "example.com");
  // No proto header: the configured scheme decides what the default is.
  const b = ok(run(["x-forwarded-port", "80", "x-forwarded-host", "example.com"], { trustedProxy: "*", trust }));
  assert.equal(b.host, "example.com");
  const c = ok(run(["x-forwarded-port", "80", "x-forwarded-host", "example.com"], {
    trustedProxy: "*",
    trust,
    scheme: "https",
  }));
  assert.equal(c.host, "example.com:80");
});

// ---------------------------------------------------------------- X-Forwarded-For

test("proxy: X-Forwarded-For sets the client address, keeping the peer port", () => {
  const r = run(["x-forwarded-for", "192.0.2.1"], { trustedProxy: "*", trust: ["x-forwarded-for"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "192.0.2.1");
  assert.equal(v.remotePort, 8080);
  assert.equal(v.headers, r.input);
});

test("proxy: X-Forwarded-For IPv6 without brackets", () => {
  const v = ok(run(["x-forwarded-for", "2001:db8::0"], { trustedProxy: "*", trust: ["x-forwarded-for"] }));
  assert.equal(v.remoteHost, "2001:db8::0");
  assert.equal(v.remotePort, 8080);
  const mapped = ok(run(["x-forwarded-for", "::ffff:192.0.2.1"], { trustedProxy: "*", trust: ["x-forwarded-for"] }));
  assert.equal(mapped.remoteHost, "::ffff:192.0.2.1");
  assert.equal(mapped.remotePort, 8080);
});

test("proxy: X-Forwarded-For with a port sets the client port; brackets are removed", () => {
  const trust = ["x-forwarded-for"];
  const v4 = ok(run(["x-forwarded-for", "192.0.2.1:4711"], { trustedProxy: "*", trust }));
  assert.deepEqual([v4.remoteHost, v4.remotePort], ["192.0.2.1", 4711]);
  const v6 = ok(run(["x-forwarded-for", "[2001:db8::1]:3821"], { trustedProxy: "*", trust }));
  assert.deepEqual([v6.remoteHost, v6.remotePort], ["2001:db8::1", 3821]);
  const bracketed = ok(run(["x-forwarded-for", "[2001:db8::1]"], { trustedProxy: "*", trust }));
  assert.deepEqual([bracketed.remoteHost, bracketed.remotePort], ["2001:db8::1", 8080]);
});

test("proxy: X-Forwarded-For entries are trimmed and unquoted", () => {
  const v = ok(run(["x-forwarded-for", ' "192.0.2.1" '], { trustedProxy: "*", trust: ["x-forwarded-for"] }));
  assert.equal(v.remoteHost, "192.0.2.1");
  const escaped = ok(run(["x-forwarded-for", '"192.0.2.\\1"'], { trustedProxy: "*", trust: ["x-forwarded-for"] }));
  assert.equal(escaped.remoteHost, "192.0.2.1");
});

test("proxy: X-Forwarded-For with count 2 keeps the last two, the first of them is the client", () => {
  const r = run(["x-forwarded-for", "192.0.2.1, 198.51.100.2, 203.0.113.1"], {
    trustedProxy: "*",
    count: 2,
    trust: ["x-forwarded-for"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.deepEqual(v.headers, ["x-forwarded-for", "198.51.100.2, 203.0.113.1"]);
});

test("proxy: 3.0.2 trimming: '9.9.9.9, 1.2.3.4' with count 1 -> client and header 1.2.3.4", () => {
  const r = run(["host", "h", "x-forwarded-for", "9.9.9.9, 1.2.3.4", "x-a", "1"], {
    trustedProxy: "192.168.1.1",
    trust: ["x-forwarded-for"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "1.2.3.4");
  assert.deepEqual(v.headers, ["host", "h", "x-forwarded-for", "1.2.3.4", "x-a", "1"]);
});

test("proxy: a count larger than the list trusts the whole list, header unchanged", () => {
  const r = run(["x-forwarded-for", "9.9.9.9, 1.2.3.4"], { trustedProxy: "*", count: 5, trust: ["x-forwarded-for"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "9.9.9.9");
  assert.equal(v.headers, r.input);
});

test("proxy: repeated X-Forwarded-For lines are one list, rewritten as one line", () => {
  const r = run(["x-forwarded-for", "9.9.9.9", "x-b", "2", "x-forwarded-for", "8.8.8.8, 1.2.3.4"], {
    trustedProxy: "*",
    count: 2,
    trust: ["x-forwarded-for"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "8.8.8.8");
  assert.deepEqual(v.headers, ["x-forwarded-for", "8.8.8.8, 1.2.3.4", "x-b", "2"]);
  const all = ok(run(["x-forwarded-for", "9.9.9.9", "x-forwarded-for", "1.2.3.4"], {
    trustedProxy: "*",
    count: 2,
    trust: ["x-forwarded-for"],
  }));
  assert.equal(all.remoteHost, "9.9.9.9");
  assert.deepEqual(all.headers, ["x-forwarded-for", "9.9.9.9, 1.2.3.4"]);
});

test("proxy: an empty trusted X-Forwarded-For entry leaves the peer address", () => {
  const v = ok(run(["x-forwarded-for", "1.2.3.4, "], { trustedProxy: "*", trust: ["x-forwarded-for"] }));
  assert.equal(v.remoteHost, "192.168.1.1");
  assert.equal(v.remotePort, 8080);
});

test("proxy: X-Forwarded-For with an empty address part is malformed", () => {
  const trust = ["x-forwarded-for"];
  assert.equal(
    err(run(["x-forwarded-for", ":80"], { trustedProxy: "*", trust })).error,
    'Header "X-Forwarded-For" malformed.',
  );
  assert.equal(
    err(run(["x-forwarded-for", "[]:80"], { trustedProxy: "*", trust })).error,
    'Header "X-Forwarded-For" malformed.',
  );
});

test("proxy: X-Forwarded-For bad quoting is malformed, even in an untrusted hop", () => {
  const trust = ["x-forwarded-for"];
  const e = err(run(["x-forwarded-for", '"foo'], { trustedProxy: "*", trust }));
  assert.equal(e.error, 'Header "X-Forwarded-For" malformed.');
  assert.match(e.warning, /Invalid quoting in value value: "foo$/);
  assert.equal(err(run(["x-forwarded-for", 'a", 1.2.3.4'], { trustedProxy: "*", trust })).error, e.error);
  assert.equal(err(run(["x-forwarded-for", '"'], { trustedProxy: "*", trust })).error, e.error);
  assert.equal(err(run(["x-forwarded-for", '"a"b"'], { trustedProxy: "*", trust })).error, e.error);
});

test("proxy: obfuscated or out-of-range client ports become 0", () => {
  const trust = ["x-forwarded-for"];
  assert.equal(ok(run(["x-forwarded-for", "192.0.2.1:x"], { trustedProxy: "*", trust })).remotePort, 0);
  assert.equal(ok(run(["x-forwarded-for", "192.0.2.1:"], { trustedProxy: "*", trust })).remotePort, 0);
  assert.equal(ok(run(["x-forwarded-for", "192.0.2.1:70000"], { trustedProxy: "*", trust })).remotePort, 0);
  assert.equal(ok(run(["x-forwarded-for", "unknown"], { trustedProxy: "*", trust })).remoteHost, "unknown");
});

// ---------------------------------------------------------------- X-Forwarded-Host

test("proxy: X-Forwarded-Host with a port is used as is", () => {
  const r = run([
    "x-forwarded-for",
    "192.0.2.1, 198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com:8080",
  ], { trustedProxy: "*", count: 2, trust: ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, [
    "x-forwarded-for",
    "198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com:8080",
  ]);
});

test("proxy: X-Forwarded-Host's own port beats X-Forwarded-Port", () => {
  const v = ok(run(["x-forwarded-host", "example.com:8080", "x-forwarded-port", "9000", "x-forwarded-proto", "https"], {
    trustedProxy: "*",
    trust: ["x-forwarded-port", "x-forwarded-proto", "x-forwarded-host"],
  }));
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "https");
});

test("proxy: X-Forwarded-Host without a port and proto http -> bare host", () => {
  const v = ok(run([
    "x-forwarded-for",
    "192.0.2.1, 198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com",
  ], { trustedProxy: "*", count: 2, trust: ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"] }));
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com");
});

test("proxy: X-Forwarded-Host without proto or port -> bare host", () => {
  const v = ok(run(["x-forwarded-host", "example.com"], { trustedProxy: "*", trust: ["x-forwarded-host"] }));
  assert.equal(v.host, "example.com");
  assert.equal(v.scheme, "http");
});

test("proxy: X-Forwarded-Host with X-Forwarded-Port 8080", () => {
  const v = ok(run([
    "x-forwarded-for",
    "192.0.2.1, 198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com",
    "x-forwarded-port",
    "8080",
  ], {
    trustedProxy: "*",
    count: 2,
    trust: ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"],
  }));
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
});

test("proxy: multiple X-Forwarded-Host with count 2: the older trusted host, header kept whole", () => {
  const r = run([
    "x-forwarded-for",
    "192.0.2.1, 198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com, example.org",
    "x-forwarded-port",
    "8080",
  ], {
    trustedProxy: "*",
    count: 2,
    trust: ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
  assert.deepEqual(v.headers, [
    "x-forwarded-for",
    "198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com, example.org",
    "x-forwarded-port",
    "8080",
  ]);
});

test("proxy: multiple X-Forwarded-Host with count 1: the last host, both headers trimmed", () => {
  const v = ok(run([
    "x-forwarded-for",
    "192.0.2.1, 198.51.100.2, 203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.com, example.org",
    "x-forwarded-port",
    "8080",
  ], {
    trustedProxy: "*",
    count: 1,
    trust: ["x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-forwarded-port"],
  }));
  assert.equal(v.remoteHost, "203.0.113.1");
  assert.equal(v.host, "example.org:8080");
  assert.deepEqual(v.headers, [
    "x-forwarded-for",
    "203.0.113.1",
    "x-forwarded-proto",
    "http",
    "x-forwarded-host",
    "example.org",
    "x-forwarded-port",
    "8080",
  ]);
});

test("proxy: X-Forwarded-Host IPv6 literal, quoted host", () => {
  const trust = ["x-forwarded-host", "x-forwarded-port"];
  assert.equal(
    ok(run(["x-forwarded-host", "[2001:db8::1]", "x-forwarded-port", "8443"], { trustedProxy: "*", trust })).host,
    "[2001:db8::1]:8443",
  );
  assert.equal(
    ok(run(["x-forwarded-host", "[2001:db8::1]:81"], { trustedProxy: "*", trust })).host,
    "[2001:db8::1]:81",
  );
  assert.equal(ok(run(["x-forwarded-host", '"example.com"'], { trustedProxy: "*", trust })).host, "example.com");
});

test("proxy: X-Forwarded-Host bad quoting is malformed", () => {
  const e = err(run(["x-forwarded-host", '"foo'], { trustedProxy: "*", trust: ["x-forwarded-host"] }));
  assert.equal(e.error, 'Header "X-Forwarded-Host" malformed.');
});

test("proxy: an untrusted X-Forwarded-Host is removed and ignored", () => {
  const v = ok(run(["x-forwarded-host", "evil.example", "x-forwarded-proto", "https"], {
    trustedProxy: "*",
    trust: ["x-forwarded-proto"],
  }));
  assert.equal(v.host, "localhost:8080");
  assert.equal(v.scheme, "https");
  assert.deepEqual(v.headers, ["x-forwarded-proto", "https"]);
});

// ---------------------------------------------------------------- Forwarded

test("proxy: Forwarded for/host/proto with a client port", () => {
  const r = run(["forwarded", "For=198.51.100.2:5858;host=example.com:8080;proto=https"], {
    trustedProxy: "*",
    trust: ["forwarded"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.remotePort, 5858);
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "https");
  assert.equal(v.headers, r.input);
});

test("proxy: trusted Forwarded wins, X-Forwarded-For is removed and logged", () => {
  const r = run([
    "x-forwarded-for",
    "[2001:db8::1]",
    "forwarded",
    "For=198.51.100.2;host=example.com:8080;proto=https",
  ], { trustedProxy: "192.168.1.1", trust: ["forwarded"], log: true });
  const v = ok(r);
  assert.equal(r.warnings.length, 1);
  assert.match(r.warnings[0], /X-Forwarded-For/);
  assert.deepEqual(v.headers, ["forwarded", "For=198.51.100.2;host=example.com:8080;proto=https"]);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "https");
});

test("proxy: Forwarded trusted but absent: nothing applied, X- headers removed", () => {
  const v = ok(run(["x-forwarded-for", "1.2.3.4", "x-forwarded-proto", "https"], {
    trustedProxy: "*",
    trust: ["forwarded"],
  }));
  assert.equal(v.remoteHost, "192.168.1.1");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, []);
});

test("proxy: Forwarded with three proxies, trusting two", () => {
  const r = run([
    "forwarded",
    "For=192.0.2.1;host=fake.com, For=198.51.100.2;host=example.com:8080, For=203.0.113.1",
  ], { trustedProxy: "*", count: 2, trust: ["forwarded"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, ["forwarded", "For=198.51.100.2;host=example.com:8080, For=203.0.113.1"]);
});

test("proxy: Forwarded: the oldest trusted element wins each field (IPv6 client with port)", () => {
  const value = 'for="[2001:db8::1]:3821";host="example.com:8443";proto="https", ' +
    'for=192.0.2.1;host="example.internal:8080"';
  const r = run(["forwarded", value], { trustedProxy: "*", count: 2, trust: ["forwarded"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "2001:db8::1");
  assert.equal(v.remotePort, 3821);
  assert.equal(v.host, "example.com:8443");
  assert.equal(v.scheme, "https");
  assert.equal(v.headers, r.input);
});

test("proxy: Forwarded minimal: proto from one element, host from another, default port omitted", () => {
  const r = run(["forwarded", 'for="[2001:db8::1]";proto="https", for=192.0.2.1;host="example.org"'], {
    trustedProxy: "*",
    count: 2,
    trust: ["forwarded"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "2001:db8::1");
  assert.equal(v.remotePort, 8080);
  assert.equal(v.host, "example.org");
  assert.equal(v.scheme, "https");
});

test("proxy: Forwarded proto http with a host keeps the default port out", () => {
  const v = ok(run(["forwarded", "host=example.org;proto=http"], { trustedProxy: "*", trust: ["forwarded"] }));
  assert.equal(v.host, "example.org");
  assert.equal(v.scheme, "http");
  const s = ok(run(["forwarded", "host=example.org"], { trustedProxy: "*", trust: ["forwarded"], scheme: "https" }));
  assert.equal(s.host, "example.org");
});

test("proxy: Forwarded with count 1 is trimmed to the last element", () => {
  const r = run(["forwarded", "for=192.0.2.1;host=a.example;proto=https, for=198.51.100.7"], {
    trustedProxy: "*",
    trust: ["forwarded"],
  });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.7");
  assert.equal(v.host, "localhost:8080");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, ["forwarded", "for=198.51.100.7"]);
});

test("proxy: Forwarded tokens and values are case-insensitive (values lower-cased, as waitress)", () => {
  const v = ok(run(["forwarded", "FOR=192.0.2.1;HOST=Example.COM;PROTO=HTTPS"], {
    trustedProxy: "*",
    trust: ["forwarded"],
  }));
  assert.equal(v.remoteHost, "192.0.2.1");
  assert.equal(v.host, "example.com");
  assert.equal(v.scheme, "https");
});

test("proxy: Forwarded empty pairs are skipped, by= is accepted", () => {
  const r = run(["forwarded", "For=198.51.100.2;;proto=https;by=_unused"], { trustedProxy: "*", trust: ["forwarded"] });
  const v = ok(r);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.scheme, "https");
  assert.deepEqual(r.warnings, []);
});

test("proxy: Forwarded obfuscated identifiers", () => {
  const trust = ["forwarded"];
  const hidden = ok(run(["forwarded", "for=_hidden"], { trustedProxy: "*", trust }));
  assert.deepEqual([hidden.remoteHost, hidden.remotePort], ["_hidden", 8080]);
  const port = ok(run(["forwarded", 'for="[2001:db8::1]:_p"'], { trustedProxy: "*", trust }));
  assert.deepEqual([port.remoteHost, port.remotePort], ["2001:db8::1", 0]);
  const escaped = ok(run(["forwarded", 'for="\\_x"'], { trustedProxy: "*", trust }));
  assert.equal(escaped.remoteHost, "_x");
});

test("proxy: Forwarded unknown token is logged and ignored", () => {
  const r = run(["forwarded", 'For=198.51.100.2;host=example.com:8080;proto=https;unknown="yolo"'], {
    trustedProxy: "*",
    trust: ["forwarded"],
  });
  const v = ok(r);
  assert.deepEqual(r.warnings, ["Unknown Forwarded token: unknown"]);
  assert.equal(v.remoteHost, "198.51.100.2");
  assert.equal(v.host, "example.com:8080");
  assert.equal(v.scheme, "https");
});

test("proxy: Forwarded whitespace around a token or value is malformed", () => {
  const trust = ["forwarded"];
  const token = err(run(["forwarded", "For=198.51.100.2; proto =https"], { trustedProxy: "*", trust }));
  assert.equal(token.error, 'Header "Forwarded" malformed.');
  assert.match(token.warning, /Token may not be surrounded by whitespace/);
  const value = err(run(["forwarded", 'For= "198.51.100.2"; proto =https'], { trustedProxy: "*", trust }));
  assert.equal(value.error, 'Header "Forwarded" malformed.');
  assert.match(value.warning, /Value may not be surrounded by whitespace/);
});

test("proxy: Forwarded pair without '=' is malformed", () => {
  const e = err(run(["forwarded", "For"], { trustedProxy: "*", trust: ["forwarded"] }));
  assert.equal(e.error, 'Header "Forwarded" malformed.');
  assert.match(e.warning, /missing "="/);
});

test("proxy: Forwarded bad quoting is malformed", () => {
  const e = err(run(["forwarded", 'for="192.0.2.1'], { trustedProxy: "*", trust: ["forwarded"] }));
  assert.equal(e.error, 'Header "Forwarded" malformed.');
});

test("proxy: Forwarded bad proto is reported as 'Forwarded Proto='", () => {
  const e = err(run(["forwarded", "for=192.0.2.1;proto=gopher"], { trustedProxy: "*", trust: ["forwarded"] }));
  assert.equal(e.error, 'Header "Forwarded Proto=" malformed.');
  assert.match(e.warning, /unsupported proto value value: gopher$/);
});

test("proxy: Forwarded with an empty client address is malformed", () => {
  const e = err(run(["forwarded", 'for=":80"'], { trustedProxy: "*", trust: ["forwarded"] }));
  assert.equal(e.error, 'Header "Forwarded" malformed.');
});

test("proxy: an untrusted Forwarded is removed and ignored", () => {
  const v = ok(run(["forwarded", "for=1.2.3.4;proto=https", "x-forwarded-for", "5.6.7.8"], {
    trustedProxy: "*",
    trust: ["x-forwarded-for"],
  }));
  assert.equal(v.remoteHost, "5.6.7.8");
  assert.equal(v.scheme, "http");
  assert.deepEqual(v.headers, ["x-forwarded-for", "5.6.7.8"]);
});

test("proxy: a forwarded host that is not host[:port] is malformed (it becomes request.url's authority)", () => {
  // Stricter than waitress, which copies any text to HTTP_HOST: "evil/x" would move the path, "a@b" hide the host.
  for (const value of ["a@b.com", "evil.example/x", "b.com#x", "b.com?x", ":80", "a b"]) {
    const e = err(run(["x-forwarded-host", value], { trustedProxy: "*", trust: ["x-forwarded-host"] }));
    assert.equal(e.error, 'Header "X-Forwarded-Host" malformed.', value);
  }
  for (const value of ["a@b.com", '"b.com/x"', '":80"']) {
    const e = err(run(["forwarded", `host=${value}`], { trustedProxy: "*", trust: ["forwarded"] }));
    assert.equal(e.error, 'Header "Forwarded Host=" malformed.', value);
  }
  for (const value of ["ok.example:81", "[2001:db8::1]:8080", "xn--nxasmq6b.example"]) {
    assert.equal(ok(run(["x-forwarded-host", value], { trustedProxy: "*", trust: ["x-forwarded-host"] })).host, value);
  }
});
