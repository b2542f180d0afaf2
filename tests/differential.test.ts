// The differential corpus (tests/support/differential_corpus.ts), run against our server
// only: every case must get exactly the answers its `expect` records (which
// are also the "ours" column of docs/differential.md), so the report cannot
// drift from behaviour. The comparison with node:http itself is
// `node scripts/differential.ts [--write]`.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pool, send, startOurs } from "./support/differential.ts";
import { CASES } from "./support/differential_corpus.ts";
import { exchange } from "./support/raw_client.ts";
import { startServer } from "./support/server.ts";

test("differential: the corpus is large enough and its ids are unique", () => {
  assert.ok(CASES.length >= 60, `${CASES.length} cases`);
  assert.equal(new Set(CASES.map((c) => c.id)).size, CASES.length);
});

test("differential: our server answers every corpus case as recorded", async () => {
  const ours = await startOurs();
  try {
    const results = await pool(CASES.map((c) => () => send(ours.port, c.raw, 250, 3000)), 32);
    const wrong: string[] = [];
    CASES.forEach((c, i) => {
      // An interim 100 Continue depends on how the bytes were split into reads; only final answers are recorded.
      const got = results[i].answers.filter((a) => a !== "100");
      if (JSON.stringify(got) !== JSON.stringify(c.expect)) {
        wrong.push(`${c.id}: expected ${JSON.stringify(c.expect)}, got ${JSON.stringify(got)}`);
      }
      // Every error answer closes the connection (waitress: an error response is followed by a close).
      if (got.some((a) => !a.startsWith("2"))) assert.ok(results[i].closed, `${c.id}: not closed after an error`);
    });
    assert.deepEqual(wrong, []);
  } finally {
    await ours.server.close();
  }
});

// Found by the differential run: on Node and Bun the socket delivers
// node:buffer Buffers, whose slice() is a view, not a copy; the body then
// aliased the socket's read buffer and arrayBuffer() returned all of it.
// InputBuffer now copies with `new Uint8Array(chunk)`.
test("differential: request.arrayBuffer() is exactly the body", async () => {
  const s = await startServer(async (req) => {
    const ab = await req.arrayBuffer();
    return new Response(`${ab.byteLength}:${new TextDecoder().decode(ab)}`);
  });
  try {
    const [r] = await exchange(s.port, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
    assert.equal(r.text, "5:hello");
  } finally {
    await s.stop();
  }
});
