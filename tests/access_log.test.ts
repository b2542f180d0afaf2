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

const WHEN = Date.UTC(2026, 11, 3, 10, 49, 17, 250);

function record(over: Partial<AccessRecord> = {}): AccessRecord {
  const responseHeaders: Record<string, string> = { "content-type": "text/plain", "x-trace": "abc" };
  return {
    remoteAddr: "127.0.0.1",
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
