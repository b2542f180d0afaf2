/**
 * The access log: the formatter's atoms (unit level), the buffered file
 * writer, and, through real sockets and the CLI, the lines a server writes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { type AccessRecord, clfTime, compileAccessFormat, escapeValue } from "../lib/access_log.ts";
import { LogFile } from "../lib/log_file.ts";
import type { ServeInit } from "../mod.ts";
import { writeFileSync } from "node:fs";
import { runtimeCommand, startCli, waitForStderr } from "./support/cli.ts";
import { runToEnd, sendSignal } from "./support/process.ts";
import { RawClient } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";
import { sleep } from "./support/time.ts";

const WHEN = Date.UTC(2026, 11, 3, 10, 49, 17, 250);

function record(over: Partial<AccessRecord> = {}): AccessRecord {
  const responseHeaders: Record<string, string> = { "content-type": "text/plain", "x-trace": "abc" };
  return {
    remoteAddr: "127.0.0.1",
    requestLine: null,
    method: "GET",
    target: "/p?x=1",
    protocol: "HTTP/1.1",
    requestHeaders: ["host", "example.com", "user-agent", "curl/8.5"],
    status: 200,
    bodyBytes: 13,
    responseHeader: (name) => responseHeaders[name] ?? null,
    startTime: WHEN,
    duration: 1234.5678,
    ...over,
  };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "waitress-accesslog-"));
}

describe("access log format", () => {
  it("writes the Apache combined line by default, byte for byte", () => {
    const line = compileAccessFormat()(record());
    assert.equal(line, '127.0.0.1 - - [03/Dec/2026:10:49:17 +0000] "GET /p?x=1 HTTP/1.1" 200 13 "-" "curl/8.5"');
  });

  it("knows every gunicorn atom", () => {
    const r = record({
      requestHeaders: [
        "referer",
        "http://ref/",
        "user-agent",
        "ua",
        "authorization",
        `Basic ${btoa("alice:secret")}`,
        "x-id",
        "7",
      ],
    });
    const cases: Array<[string, string]> = [
      ["h", "127.0.0.1"],
      ["l", "-"],
      ["u", "alice"],
      ["t", "[03/Dec/2026:10:49:17 +0000]"],
      ["r", "GET /p?x=1 HTTP/1.1"],
      ["m", "GET"],
      ["U", "/p"],
      ["q", "x=1"],
      ["H", "HTTP/1.1"],
      ["s", "200"],
      ["B", "13"],
      ["b", "13"],
      ["f", "http://ref/"],
      ["a", "ua"],
      ["T", "1"],
      ["M", "1234"],
      ["D", "1234567"],
      ["L", "1.234568"],
      ["p", `<${process.pid}>`],
      ["{X-Id}i", "7"],
      ["{x-missing}i", "-"],
      ["{X-Trace}o", "abc"],
      ["{content-type}o", "text/plain"],
      ["{nope}o", "-"],
    ];
    for (const [atom, expected] of cases) {
      assert.equal(compileAccessFormat(`%(${atom})s`)(r), expected, atom);
    }
  });

  it("says - for no body, no user and no query, and 0 for B", () => {
    const r = record({ bodyBytes: 0, target: "/" });
    assert.equal(compileAccessFormat("%(b)s %(B)s %(u)s [%(q)s]")(r), "- 0 - [-]");
  });

  it("joins repeated request headers and keeps literal text and %%", () => {
    const r = record({ requestHeaders: ["x-a", "1", "x-a", "2"] });
    assert.equal(compileAccessFormat("100%% %({x-a}i)s;")(r), "100% 1, 2;");
  });

  it("escapes quotes, backslashes and control bytes from the client", () => {
    assert.equal(escapeValue('a"b\\c\x01\x7f'), 'a\\"b\\\\c\\x01\\x7f');
    const r = record({ requestHeaders: ["user-agent", 'evil" 200 1 "x'] });
    assert.equal(compileAccessFormat('"%(a)s"')(r), '"evil\\" 200 1 \\"x"');
  });

  it("logs a request refused before its head parsed with the line as received, escaped, or -", () => {
    const refused = { method: "", target: "", protocol: "", requestHeaders: [], status: 400 };
    const format = compileAccessFormat('"%(r)s" %(m)s %(U)s %(q)s %(H)s %(s)s "%(a)s" %(u)s');
    assert.equal(
      format(record({ ...refused, requestLine: 'GET /"\x01 HTTP/1.1' })),
      '"GET /\\"\\x01 HTTP/1.1" - - - - 400 "-" -',
    );
    assert.equal(format(record({ ...refused, requestLine: "" })), '"-" - - - - 400 "-" -');
  });

  it("refuses an unknown atom and a bare %", () => {
    assert.throws(() => compileAccessFormat("%(zz)s"), /unknown access log atom %\(zz\)s/);
    assert.throws(() => compileAccessFormat("%h"), /bad access log format/);
  });

  it("formats the time in UTC, cached per second but never stale", () => {
    assert.equal(clfTime(Date.UTC(2026, 0, 5, 1, 2, 3)), "[05/Jan/2026:01:02:03 +0000]");
    assert.equal(clfTime(Date.UTC(2026, 0, 5, 1, 2, 4)), "[05/Jan/2026:01:02:04 +0000]");
  });
});

describe("access log file", () => {
  it("buffers lines and writes them whole at close", () => {
    const dir = tempDir();
    try {
      const path = join(dir, "access.log");
      const log = new LogFile(path);
      log.write("one");
      log.write("two");
      assert.equal(readFileSync(path, "utf8"), "", "nothing is written per line");
      log.close();
      assert.equal(readFileSync(path, "utf8"), "one\ntwo\n");
      log.write("after close");
      assert.equal(readFileSync(path, "utf8"), "one\ntwo\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("flushes within about a second without being asked", async () => {
    const dir = tempDir();
    const log = new LogFile(join(dir, "a.log"));
    try {
      log.write("soon");
      const deadline = Date.now() + 3000;
      while (readFileSync(join(dir, "a.log"), "utf8") === "" && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(readFileSync(join(dir, "a.log"), "utf8"), "soon\n");
    } finally {
      log.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("appends to an existing file, and reopen() starts a new one at the path (logrotate)", () => {
    const dir = tempDir();
    try {
      const path = join(dir, "access.log");
      const first = new LogFile(path);
      first.write("a");
      first.close();
      const log = new LogFile(path);
      log.write("b");
      log.flush();
      renameSync(path, `${path}.1`);
      log.write("c");
      log.reopen();
      log.write("d");
      log.close();
      assert.equal(readFileSync(`${path}.1`, "utf8"), "a\nb\nc\n");
      assert.equal(readFileSync(path, "utf8"), "d\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("- is standard output, written whole at close", async () => {
    const dir = tempDir();
    try {
      const script = join(dir, "stdout.ts");
      const lib = new URL("../lib/log_file.ts", import.meta.url).href;
      writeFileSync(
        script,
        `import { LogFile } from "${lib}";\nconst log = new LogFile("-");\nlog.write("a");\nlog.write("b");\nlog.close();\n`,
      );
      const [cmd, args] = runtimeCommand(script, []);
      const result = await runToEnd(cmd, args, { cwd: dir, timeoutMs: 20_000 });
      assert.equal(result.stdout, "a\nb\n", result.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("fails clearly when the file cannot be opened", () => {
    assert.throws(() => new LogFile("/nonexistent-dir/x/access.log"), /cannot open access log file/);
  });

  it("writes large batches as whole lines", () => {
    const dir = tempDir();
    try {
      const path = join(dir, "big.log");
      const log = new LogFile(path);
      const line = "x".repeat(999);
      for (let i = 0; i < 300; i++) log.write(`${i} ${line}`);
      log.close();
      const lines = readFileSync(path, "utf8").split("\n");
      assert.equal(lines.pop(), "");
      assert.equal(lines.length, 300);
      lines.forEach((l, i) => assert.equal(l, `${i} ${line}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Serves `app` with the access log in a fresh file; returns the lines written once the server stopped. */
async function linesServed(
  app: Parameters<typeof startServer>[0],
  options: ServeInit,
  talk: (port: number) => Promise<void>,
): Promise<string[]> {
  const dir = tempDir();
  try {
    const path = join(dir, "access.log");
    const ts = await startServer(app, { accessLogfile: path, ...options });
    try {
      await talk(ts.port);
    } finally {
      await ts.server.shutdown();
    }
    return readFileSync(path, "utf8").split("\n").filter((l) => l !== "");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function exchange(port: number, request: string, count = 1): Promise<void> {
  const c = await RawClient.open(port);
  c.send(request);
  await c.responses(count, 5000, request.startsWith("HEAD"));
  c.destroy();
}

describe("access log through a server", () => {
  it("writes the combined line for a request, byte for byte", async () => {
    const before = Date.now();
    const lines = await linesServed(
      () => new Response("Hello, world!"),
      {},
      (port) => exchange(port, "GET /p?x=1 HTTP/1.1\r\nHost: h\r\nUser-Agent: curl/8.5\r\n\r\n"),
    );
    const after = Date.now();
    assert.equal(lines.length, 1);
    const times = new Set([clfTime(before), clfTime(after)]);
    const expected = [...times].map((t) => `127.0.0.1 - - ${t} "GET /p?x=1 HTTP/1.1" 200 13 "-" "curl/8.5"`);
    assert.ok(expected.includes(lines[0]), `${lines[0]} is not one of ${expected.join(" | ")}`);
  });

  it("logs every response of a keep-alive connection, with headers both ways, - for no body", async () => {
    const format = '%(m)s %(U)s %(q)s %(s)s %(b)s %(B)s "%({x-id}i)s" "%({x-out}o)s" %(H)s %(M)s';
    const lines = await linesServed(
      (request) => {
        const path = new URL(request.url).pathname;
        if (path === "/missing") return new Response("nope", { status: 404 });
        return new Response(request.method === "HEAD" ? null : "abc", { headers: { "x-out": "o1" } });
      },
      { accessLogformat: format },
      (port) =>
        exchange(
          port,
          "GET /a?k=v HTTP/1.1\r\nHost: h\r\nX-Id: 42\r\n\r\n" +
            "GET /missing HTTP/1.1\r\nHost: h\r\n\r\n",
          2,
        ).then(() => exchange(port, "HEAD /h HTTP/1.0\r\n\r\n")),
    );
    assert.equal(lines.length, 3);
    assert.match(lines[0], /^GET \/a k=v 200 3 3 "42" "o1" HTTP\/1\.1 \d+$/);
    assert.match(lines[1], /^GET \/missing - 404 4 4 "-" "-" HTTP\/1\.1 \d+$/);
    assert.match(lines[2], /^HEAD \/h - 200 - 0 "-" "o1" HTTP\/1\.0 \d+$/);
  });

  it("logs the client a trusted proxy names as h", async () => {
    const lines = await linesServed(
      () => new Response("x"),
      { trustedProxy: "127.0.0.1", trustedProxyHeaders: "x-forwarded-for", accessLogformat: "%(h)s" },
      (port) => exchange(port, "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 203.0.113.7\r\n\r\n"),
    );
    assert.deepEqual(lines, ["203.0.113.7"]);
  });

  it("logs a client that left early with the body bytes it was sent", async () => {
    const total = 64 * 1024 * 1024;
    const lines = await linesServed(
      () => {
        let left = total / 65536;
        return new Response(
          new ReadableStream({
            pull(controller) {
              if (left-- > 0) controller.enqueue(new Uint8Array(65536));
              else controller.close();
            },
          }),
        );
      },
      { accessLogformat: "%(s)s %(b)s" },
      async (port) => {
        const c = await RawClient.open(port);
        c.send("GET /big HTTP/1.1\r\nHost: h\r\n\r\n");
        await c.waitFor(() => c.received.length > 100_000, 5000, "some of the body");
        c.destroy();
        await sleep(300);
      },
    );
    assert.equal(lines.length, 1);
    const [status, sent] = lines[0].split(" ");
    assert.equal(status, "200");
    assert.ok(Number(sent) > 0 && Number(sent) < total, lines[0]);
  });

  it("logs the errors answered before a request existed: a malformed head, 413, 431 (line read or not), 408", async () => {
    const answers: Array<[string, number, number]> = []; // [what was sent, status, body bytes the client got]
    const talk = async (port: number, request: string, slowTail = "") => {
      const c = await RawClient.open(port);
      c.send(request);
      if (slowTail !== "") {
        await sleep(1300);
        c.send(slowTail);
      }
      const [r] = await c.responses(1, 5000);
      answers.push([request, r.status, r.body.length]);
      await c.waitClosed();
      c.destroy();
    };
    const long = "a".repeat(300);
    const lines = await linesServed(
      () => new Response("never"),
      { maxRequestHeaderSize: 200, maxRequestBodySize: 10, bodyTimeout: 1, bodyMinRate: 100_000 },
      async (port) => {
        await talk(port, "GET /a?x=1 HTTP/1.1\r\nHost: h\r\nNo colon here\r\n\r\n");
        await talk(port, 'GET /"\x01 HTTP/1.1\r\nHost: h\r\n\r\n');
        // Refused by its head (the headers are not known then), and by its body (they are).
        await talk(port, "POST /up HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nContent-Length: 11\r\n\r\n");
        await talk(
          port,
          "POST /chunks HTTP/1.1\r\nHost: h\r\nUser-Agent: ua\r\nTransfer-Encoding: chunked\r\n\r\nb\r\n",
        );
        await talk(port, `GET /big HTTP/1.1\r\nHost: h\r\nX: ${long}\r\n\r\n`);
        await talk(port, `GET /${long} HTTP/1.1\r\nHost: h\r\n\r\n`);
        await talk(port, "POST /slow HTTP/1.1\r\nHost: h\r\nContent-Length: 9\r\n\r\nabc", "d");
      },
    );
    const statuses = answers.map(([, status]) => status);
    assert.deepEqual(statuses, [400, 400, 413, 413, 431, 431, 408]);
    const expected = [
      "GET /a?x=1 HTTP/1.1",
      'GET /\\"\\x01 HTTP/1.1',
      "POST /up HTTP/1.1",
      "POST /chunks HTTP/1.1",
      "GET /big HTTP/1.1",
      "-",
      "POST /slow HTTP/1.1",
    ];
    const agents = ["-", "-", "-", "ua", "-", "-", "-"];
    assert.equal(lines.length, expected.length, lines.join("\n"));
    lines.forEach((line, i) => {
      const [, status, bytes] = answers[i];
      const tail = `"${expected[i]}" ${status} ${bytes} "-" "${agents[i]}"`;
      assert.match(line, /^127\.0\.0\.1 - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] /, line);
      assert.ok(line.endsWith(` ${tail}`), `${line}\n does not end with ${tail}`);
    });
  });

  it("refuses an unknown atom when the server starts", async () => {
    await assert.rejects(async () => {
      const ts = await startServer(() => new Response("x"), { accessLogfile: "-", accessLogformat: "%(nope)s" });
      await ts.stop();
    }, /accessLogformat|access-logformat|unknown access log atom/);
  });
});

describe("access log through waitress-serve", () => {
  for (const workers of [1, 2]) {
    const title = workers === 1 ? "" : " (--workers=2: the supervisor passes SIGUSR1 on)";
    it(`--access-logfile writes lines, and SIGUSR1 reopens the file after logrotate moved it${title}`, async () => {
      const dir = tempDir();
      try {
        writeFileSync(
          join(dir, "app.ts"),
          `export default (r: Request): Response => new Response("hi " + new URL(r.url).pathname);\n`,
        );
        const path = join(dir, "access.log");
        const running = await startCli(
          [
            "--listen=127.0.0.1:0",
            `--workers=${workers}`,
            `--access-logfile=${path}`,
            "--access-logformat=%(r)s %(s)s %(b)s",
            "app.ts",
          ],
          dir,
        );
        if (workers > 1) await waitForStderr(running, "workers serving", 20_000);
        try {
          const port = Number(new URL(running.urls[0]).port);
          const read = (p: string) => {
            try {
              return readFileSync(p, "utf8");
            } catch {
              return "";
            }
          };
          const waitFor = async (p: string, text: string) => {
            const deadline = Date.now() + 5000;
            while (!read(p).includes(text) && Date.now() < deadline) await sleep(50);
            return read(p);
          };
          await exchange(port, "GET /one HTTP/1.1\r\nHost: h\r\n\r\n");
          assert.equal(await waitFor(path, "/one"), "GET /one HTTP/1.1 200 7\n");
          renameSync(path, `${path}.1`);
          sendSignal(running.child, "SIGUSR1");
          await sleep(300);
          await exchange(port, "GET /two HTTP/1.1\r\nHost: h\r\n\r\n");
          assert.equal(await waitFor(path, "/two"), "GET /two HTTP/1.1 200 7\n");
          assert.equal(read(`${path}.1`), "GET /one HTTP/1.1 200 7\n");
        } finally {
          sendSignal(running.child, "SIGTERM");
          assert.equal((await running.exited).code, 0);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
