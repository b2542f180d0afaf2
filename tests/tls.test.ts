/**
 * TLS termination: loading certificates (unit level), then HTTPS through real
 * sockets on 127.0.0.1 with certificates made by openssl for this file.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from "node:tls";
import { loadTlsConfig, TlsOptionError } from "../lib/tls.ts";
import type { ServeInfo } from "../lib/types.ts";
import { serve } from "../mod.ts";
import { haveOpenssl, makeCerts, type TestCerts } from "./support/certs.ts";
import { ROOT as ROOT_DIR, startCli, waitForStderr } from "./support/cli.ts";
import { runToEnd, sendSignal } from "./support/process.ts";
import { RawClient } from "./support/raw_client.ts";
import { startServer, type TestServer } from "./support/server.ts";
import { sleep, withTimeout } from "./support/time.ts";

const skip = haveOpenssl ? false : "needs /usr/bin/openssl (npm test installs it when run as root)";
let certs: TestCerts;

before(() => {
  if (haveOpenssl) certs = makeCerts();
});
after(() => certs?.remove());

/** TLS options for serve() with the test server certificate. */
function tlsOptions(): { certfile: string; keyfile: string } {
  return { certfile: certs.serverCert, keyfile: certs.serverKey };
}

/** Opens a TLS connection that trusts the test CA; resolves once the handshake is done. */
function openTls(port: number, extra: ConnectionOptions = {}): Promise<RawClient & { socket: TLSSocket }> {
  return withTimeout(
    new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: "127.0.0.1",
        port,
        servername: "localhost",
        ca: certs.read(certs.caCert),
        ALPNProtocols: ["http/1.1"],
        ...extra,
      });
      socket.once("secureConnect", () => resolve(new RawClient(socket) as RawClient & { socket: TLSSocket }));
      socket.once("error", reject);
    }),
    5000,
    "TLS connect",
  );
}

const GET = "GET /x?y=1 HTTP/1.1\r\nHost: localhost\r\n\r\n";

/** An app that reports what it saw: url, TLS info and the peer. */
const reporter = (request: Request, info: ServeInfo) =>
  Response.json({ url: request.url, tls: (info as ServeInfo & { tls?: unknown }).tls ?? null });

describe("TLS options (unit)", { skip }, () => {
  it("loads a certificate and its key, from paths or PEM text", () => {
    const fromPaths = loadTlsConfig({ certfile: certs.serverCert, keyfile: certs.serverKey });
    const fromText = loadTlsConfig({ certfile: certs.read(certs.serverCert), keyfile: certs.read(certs.serverKey) });
    assert.equal(fromPaths.cert, fromText.cert);
    assert.match(fromPaths.cert, /^-----BEGIN CERTIFICATE-----/);
    assert.match(fromPaths.key, /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(fromPaths.requestCert, false);
  });

  it("takes a key and certificate in one file, and decrypts a key with its password", () => {
    const both = loadTlsConfig({ certfile: certs.read(certs.serverKey) + certs.read(certs.serverCert) });
    assert.match(both.key, /PRIVATE KEY/);
    const enc = loadTlsConfig({
      certfile: certs.serverCert,
      keyfile: certs.serverKeyEncrypted,
      keyfilePassword: certs.password,
    });
    assert.equal(enc.key, both.key);
  });

  it("names the option at fault", () => {
    const fails = (source: Parameters<typeof loadTlsConfig>[0], option: string, message: RegExp) =>
      assert.throws(() => loadTlsConfig(source), (e: unknown) => {
        assert.ok(e instanceof TlsOptionError);
        assert.equal(e.option, option);
        assert.match(e.message, message);
        return true;
      });
    fails({ certfile: "/nonexistent/cert.pem", keyfile: certs.serverKey }, "certfile", /cannot read --certfile/);
    fails({ certfile: certs.serverCert }, "keyfile", /no private key: give --keyfile/);
    fails({ certfile: certs.serverCert, keyfile: certs.otherKey }, "keyfile", /does not belong/);
    fails({ certfile: certs.serverCert, keyfile: certs.serverKeyEncrypted }, "keyfilePassword", /encrypted/);
    fails(
      { certfile: certs.serverCert, keyfile: certs.serverKeyEncrypted, keyfilePassword: "wrong" },
      "keyfilePassword",
      /wrong --keyfile-password/,
    );
    fails({ certfile: certs.serverKey, keyfile: certs.serverKey }, "certfile", /no PEM certificate/);
    fails({ ...tlsOptions(), certReqs: "required" }, "certReqs", /needs --ca-certs/);
  });

  it("asks for client certificates as --cert-reqs says", () => {
    const optional = loadTlsConfig({ ...tlsOptions(), caCerts: certs.caCert, certReqs: "optional" });
    assert.deepEqual([optional.requestCert, optional.rejectUnauthorized], [true, false]);
    const required = loadTlsConfig({ ...tlsOptions(), caCerts: certs.caCert, certReqs: "required" });
    assert.deepEqual([required.requestCert, required.rejectUnauthorized], [true, true]);
  });
});

describe("HTTPS", { skip }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startServer(reporter, tlsOptions());
  });
  after(() => ts.stop());

  it("serves a request with the https scheme and the TLS version in info", async () => {
    const c = await openTls(ts.port);
    try {
      c.send(GET);
      const [res] = await c.responses(1);
      assert.equal(res.status, 200);
      const body = JSON.parse(res.text);
      assert.equal(body.url, "https://localhost/x?y=1");
      assert.match(body.tls.protocol, /^TLSv1\.[23]$/);
      assert.equal(body.tls.peerSubject, undefined);
      assert.equal(c.socket.alpnProtocol, "http/1.1");
    } finally {
      c.destroy();
    }
  });

  it("reports https in the listener's url", () => {
    assert.match(ts.server.addrs[0].url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it("keeps the connection alive and answers pipelined requests in order", async () => {
    const c = await openTls(ts.port);
    try {
      c.send(GET);
      await c.responses(1);
      c.send(GET.replace("/x", "/a") + GET.replace("/x", "/b") + GET.replace("/x", "/c"));
      const all = await c.responses(4);
      assert.deepEqual(all.map((r) => JSON.parse(r.text).url.split("?")[0]), [
        "https://localhost/x",
        "https://localhost/a",
        "https://localhost/b",
        "https://localhost/c",
      ]);
      assert.equal(c.closed, false);
    } finally {
      c.destroy();
    }
  });

  it("offers http/1.1 alone: h2,http/1.1 gets http/1.1; h2 alone gets no h2", async () => {
    const both = await openTls(ts.port, { ALPNProtocols: ["h2", "http/1.1"] });
    assert.equal(both.socket.alpnProtocol, "http/1.1");
    both.destroy();
    const h2only = await openTls(ts.port, { ALPNProtocols: ["h2"] }).then((c) => {
      const p = c.socket.alpnProtocol;
      c.destroy();
      return p;
    }, (error: Error) => `refused: ${error.message}`);
    assert.notEqual(h2only, "h2");
  });

  it("closes at once (or answers 400) when plain HTTP arrives, and keeps serving", async () => {
    const raw = await new Promise<RawClient>((resolve, reject) => {
      const s = netConnect({ host: "127.0.0.1", port: ts.port }, () => resolve(new RawClient(s)));
      s.once("error", reject);
    });
    const started = Date.now();
    raw.send(GET);
    await raw.waitClosed(3000);
    assert.ok(Date.now() - started < 3000);
    assert.ok(raw.text() === "" || raw.text().startsWith("HTTP/1.1 400 ") || !raw.text().startsWith("HTTP"));
    const c = await openTls(ts.port);
    c.send(GET);
    assert.equal((await c.responses(1))[0].status, 200);
    c.destroy();
  });
});

describe("HTTPS bodies", { skip }, () => {
  it("takes a 1 MiB upload (spilled to a file) and streams an 8 MiB download", async () => {
    const MiB = 1024 * 1024;
    const ts = await startServer(async (request) => {
      if (request.method === "POST") {
        const body = new Uint8Array(await request.arrayBuffer());
        return new Response(createHash("sha256").update(body).digest("hex"));
      }
      let left = 128;
      return new Response(
        new ReadableStream({
          pull(controller) {
            if (left-- > 0) controller.enqueue(new Uint8Array(64 * 1024).fill(left & 0xff));
            else controller.close();
          },
        }),
      );
    }, tlsOptions());
    try {
      const upload = new Uint8Array(MiB);
      for (let i = 0; i < upload.length; i++) upload[i] = (i * 31) & 0xff;
      const c = await openTls(ts.port);
      c.send(`POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${MiB}\r\n\r\n`);
      c.send(upload);
      const [up] = await c.responses(1, 15_000);
      assert.equal(up.text, createHash("sha256").update(upload).digest("hex"));
      c.send(GET);
      const [down] = await c.responses(2, 20_000).then((r) => r.slice(1));
      assert.equal(down.status, 200);
      assert.equal(down.body.length, 8 * MiB);
      assert.equal(down.body[0], 127);
      assert.equal(down.body[8 * MiB - 1], 0);
      c.destroy();
    } finally {
      await ts.stop();
    }
  });
});

describe("TLS handshakes that fail", { skip }, () => {
  it("cuts a handshake that never completes after channelTimeout", async () => {
    let called = 0;
    const ts = await startServer(() => {
      called++;
      return new Response("no");
    }, { ...tlsOptions(), channelTimeout: 1, cleanupInterval: 1 });
    try {
      const raw = await new Promise<RawClient>((resolve, reject) => {
        const s = netConnect({ host: "127.0.0.1", port: ts.port }, () => resolve(new RawClient(s)));
        s.once("error", reject);
      });
      raw.send(new Uint8Array([0x16, 0x03, 0x01])); // the first bytes of a ClientHello, then nothing
      const started = Date.now();
      await raw.waitClosed(6000);
      assert.ok(Date.now() - started >= 500, "not cut before the timeout");
      assert.equal(called, 0);
    } finally {
      await ts.stop();
    }
  });

  it("never lets a failed handshake reach the app; logs it only with logSocketErrors", async () => {
    for (const logSocketErrors of [true, false]) {
      let called = 0;
      const ts = await startServer(() => {
        called++;
        return new Response("no");
      }, { ...tlsOptions(), logSocketErrors });
      try {
        const raw = await new Promise<RawClient>((resolve, reject) => {
          const s = netConnect({ host: "127.0.0.1", port: ts.port }, () => resolve(new RawClient(s)));
          s.once("error", reject);
        });
        raw.send("\x16\x03\x01\x00\x05hello"); // a record header and a broken ClientHello
        await raw.waitClosed(3000);
        await sleep(100);
        assert.equal(called, 0);
        const warned = ts.logs.some((l) => l.startsWith("WARN") && /TLS|SSL|handshake|alert|record/i.test(l));
        assert.equal(warned, logSocketErrors, ts.logs.join("\n"));
      } finally {
        await ts.stop();
      }
    }
  });
});

describe("client certificates", { skip }, () => {
  it("required: a verified certificate is served with its subject; a missing or unknown one never is", async () => {
    let called = 0;
    const ts = await startServer((request, info) => {
      called++;
      return reporter(request, info);
    }, { ...tlsOptions(), caCerts: certs.caCert, certReqs: "required" });
    try {
      const c = await openTls(ts.port, { cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) });
      c.send(GET);
      const [res] = await c.responses(1);
      assert.equal(JSON.parse(res.text).tls.peerSubject, "CN=alice, O=Example");
      c.destroy();
      assert.equal(called, 1);
      for (const extra of [{}, { cert: certs.read(certs.strangerCert), key: certs.read(certs.strangerKey) }]) {
        const outcome = await openTls(ts.port, extra).then(async (s) => {
          // TLS 1.3 finishes the client's side before the server has judged its certificate.
          s.send(GET);
          await s.waitClosed(3000);
          return s.text();
        }, (error: Error) => error.message);
        assert.doesNotMatch(outcome, /^HTTP\/1\.1 200/);
      }
      assert.equal(called, 1);
    } finally {
      await ts.stop();
    }
  });

  it("optional: served without a certificate; an unverified one gives no subject", async () => {
    const ts = await startServer(reporter, { ...tlsOptions(), caCerts: certs.caCert, certReqs: "optional" });
    try {
      for (
        const [extra, subject] of [
          [{}, undefined],
          [{ cert: certs.read(certs.strangerCert), key: certs.read(certs.strangerKey) }, undefined],
          [{ cert: certs.read(certs.clientCert), key: certs.read(certs.clientKey) }, "CN=alice, O=Example"],
        ] as const
      ) {
        const c = await openTls(ts.port, extra);
        c.send(GET);
        const [res] = await c.responses(1);
        assert.equal(JSON.parse(res.text).tls.peerSubject, subject);
        c.destroy();
      }
    } finally {
      await ts.stop();
    }
  });
});

describe("TLS and the rest of the server", { skip }, () => {
  it("a trusted proxy's X-Forwarded-Proto still decides the scheme", async () => {
    const ts = await startServer(reporter, {
      ...tlsOptions(),
      trustedProxy: "127.0.0.1",
      trustedProxyHeaders: "x-forwarded-proto",
    });
    try {
      const c = await openTls(ts.port);
      c.send("GET / HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: http\r\n\r\n");
      assert.equal(JSON.parse((await c.responses(1))[0].text).url, "http://localhost/");
      c.destroy();
    } finally {
      await ts.stop();
    }
  });

  it("a unix socket stays plain while TCP listeners speak TLS", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-tls-unix-"));
    const path = join(dir, "s.sock");
    const server = serve(reporter, { unixSocket: path, ...tlsOptions(), logger: { info() {}, warn() {}, error() {} } });
    try {
      await server.ready;
      assert.equal(server.addrs[0].url, `http://unix:${path}`);
      const c = await new Promise<RawClient>((resolve, reject) => {
        const s = netConnect({ path }, () => resolve(new RawClient(s)));
        s.once("error", reject);
      });
      c.send(GET);
      const body = JSON.parse((await c.responses(1))[0].text);
      assert.equal(body.url, "http://localhost/x?y=1");
      assert.equal(body.tls, null);
      c.destroy();
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("shuts down gracefully: a request in flight is answered, then the connection closes", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => release = r);
    const ts = await startServer(async () => {
      await gate;
      return new Response("done");
    }, tlsOptions());
    const c = await openTls(ts.port);
    c.send(GET);
    await sleep(100);
    const stopped = ts.server.shutdown();
    release();
    const [res] = await c.responses(1);
    assert.equal(res.text, "done");
    assert.equal(res.headers.get("connection")?.[0], "close");
    await c.waitClosed();
    await withTimeout(stopped, 5000, "shutdown");
  });

  it("threads bound concurrent HTTPS requests as they bound plain ones", async () => {
    let active = 0;
    let peak = 0;
    const ts = await startServer(async () => {
      peak = Math.max(peak, ++active);
      await sleep(50);
      active--;
      return new Response("ok");
    }, { ...tlsOptions(), threads: 2 });
    try {
      const clients = await Promise.all([0, 1, 2, 3, 4].map(() => openTls(ts.port)));
      for (const c of clients) c.send(GET);
      for (const c of clients) assert.equal((await c.responses(1))[0].status, 200);
      assert.equal(peak, 2);
      for (const c of clients) c.destroy();
    } finally {
      await ts.stop();
    }
  });

  it("reloadTls() serves new connections with the certificate now in the files", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-tls-reload-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    copyFileSync(certs.serverCert, cert);
    copyFileSync(certs.serverKey, key);
    const ts = await startServer(reporter, { certfile: cert, keyfile: key });
    try {
      const subjectNow = async () => {
        const c = await openTls(ts.port, { rejectUnauthorized: false });
        const cn = c.socket.getPeerCertificate().subject.CN;
        c.destroy();
        return cn;
      };
      assert.equal(await subjectNow(), "localhost");
      const open = await openTls(ts.port);
      copyFileSync(certs.otherCert, cert);
      copyFileSync(certs.otherKey, key);
      ts.server.reloadTls();
      assert.equal(await subjectNow(), "other.test");
      open.send(GET);
      assert.equal((await open.responses(1))[0].status, 200, "an open connection keeps going");
      open.destroy();
      copyFileSync(certs.serverCert, cert); // a key that does not match: refused, the old certificate stays
      assert.throws(() => ts.server.reloadTls(), /does not belong/);
      assert.equal(await subjectNow(), "other.test");
    } finally {
      await ts.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("TLS through waitress-serve", { skip }, () => {
  it("serves HTTPS with --certfile/--keyfile and re-reads them on SIGHUP", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-tls-cli-"));
    try {
      writeFileSync(join(dir, "app.ts"), `export default (r: Request): Response => new Response(r.url);\n`);
      const cert = join(dir, "cert.pem");
      const key = join(dir, "key.pem");
      copyFileSync(certs.serverCert, cert);
      copyFileSync(certs.serverKey, key);
      const running = await startCli(["--listen=127.0.0.1:0", `--certfile=${cert}`, `--keyfile=${key}`, "app.ts"], dir);
      try {
        assert.match(running.urls[0], /^https:\/\/127\.0\.0\.1:\d+$/);
        const port = Number(new URL(running.urls[0]).port);
        const subjectNow = async () => {
          const c = await openTls(port, { rejectUnauthorized: false });
          c.send("GET /p HTTP/1.1\r\nHost: localhost\r\n\r\n");
          const cn = c.socket.getPeerCertificate().subject.CN;
          const [res] = await c.responses(1);
          c.destroy();
          return `${cn} ${res.text}`;
        };
        assert.equal(await subjectNow(), "localhost https://localhost/p");
        copyFileSync(certs.otherCert, cert);
        copyFileSync(certs.otherKey, key);
        sendSignal(running.child, "SIGHUP");
        await waitForStderr(running, "TLS certificates reloaded");
        assert.equal(await subjectNow(), "other.test https://localhost/p");
        copyFileSync(certs.serverCert, cert); // no longer matches the key: logged, the old certificate stays
        sendSignal(running.child, "SIGHUP");
        await waitForStderr(running, "TLS certificates not reloaded");
        assert.equal(await subjectNow(), "other.test https://localhost/p");
      } finally {
        sendSignal(running.child, "SIGTERM");
        assert.equal((await running.exited).code, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--workers=2: each worker terminates TLS on the connections handed to it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-tls-cli-"));
    try {
      writeFileSync(join(dir, "app.ts"), `export default (r: Request): Response => new Response(r.url);\n`);
      const running = await startCli([
        "--listen=127.0.0.1:0",
        "--workers=2",
        `--certfile=${certs.serverCert}`,
        `--keyfile=${certs.serverKey}`,
        "app.ts",
      ], dir);
      try {
        assert.match(running.urls[0], /^https:\/\/127\.0\.0\.1:\d+$/);
        await waitForStderr(running, "workers serving", 20_000);
        const port = Number(new URL(running.urls[0]).port);
        for (let i = 0; i < 4; i++) {
          const c = await openTls(port);
          c.send(`GET /${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
          assert.equal((await c.responses(1, 10_000))[0].text, `https://localhost/${i}`);
          c.destroy();
        }
      } finally {
        sendSignal(running.child, "SIGTERM");
        assert.equal((await running.exited).code, 0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a wrong --keyfile-password is one line on stderr naming the option, exit status 1", async () => {
    const dir = mkdtempSync(join(tmpdir(), "waitress-tls-cli-"));
    try {
      writeFileSync(join(dir, "app.ts"), `export default (): Response => new Response("x");\n`);
      const cmd = "Deno" in globalThis ? [process.execPath, "run", "-A"] : [process.execPath];
      const result = await runToEnd(cmd[0], [
        ...cmd.slice(1),
        join(ROOT_DIR, "cli.ts"),
        "--listen=127.0.0.1:0",
        `--certfile=${certs.serverCert}`,
        `--keyfile=${certs.serverKeyEncrypted}`,
        "--keyfile-password=wrong",
        "app.ts",
      ], { cwd: dir, timeoutMs: 20_000 });
      assert.equal(result.code, 1);
      assert.match(result.stderr.trim(), /keyfile-password/);
      assert.equal(result.stderr.trim().split("\n").length, 1, result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
