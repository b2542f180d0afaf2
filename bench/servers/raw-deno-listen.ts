/**
 * A fairness probe over `Deno.listen`, not a benchmark target: the naive loop
 * (one `await conn.read` per connection into its own buffer, then the canned
 * answers written) that bench/README.md's "Why Deno.listen starves
 * connections" measures. On SIGTERM it prints how many requests each
 * connection got (min, median, max and their coefficient of variation): under
 * a closed-loop client such as wrk, a fair server gives every connection about
 * the same count whatever the machine's load, an unfair one spreads them.
 *
 *   PORT=9001 WORK=20 deno run -A bench/servers/raw-deno-listen.ts
 *
 * `WORK` burns that many microseconds per request, standing in for the
 * engine's work; `BUF` sets the read buffer size (default 4096).
 *
 * @module
 */
const ANSWER = new TextEncoder().encode(
  "HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nHello World",
);
const port = Number(Deno.env.get("PORT") ?? 9001);
const bufferSize = Number(Deno.env.get("BUF") ?? 4096);
const workMs = Number(Deno.env.get("WORK") ?? 0) / 1000;
const counts: number[] = [];

/** Requests completed in the first `n` bytes of `buf` (blank lines; the probe sends no bodies). */
function requestsIn(buf: Uint8Array, n: number): number {
  let found = 0;
  for (let i = 3; i < n; i++) if (buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 && buf[i - 3] === 13) found++;
  return found;
}

function work(): void {
  const end = performance.now() + workMs;
  while (workMs > 0 && performance.now() < end) { /* stands in for the engine */ }
}

async function serve(conn: Deno.Conn, id: number): Promise<void> {
  const buf = new Uint8Array(bufferSize);
  try {
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      const found = requestsIn(buf, n);
      counts[id] += found;
      for (let i = 0; i < found; i++) {
        work();
        await conn.write(ANSWER);
      }
    }
  } catch {
    // reset by the peer: the probe only counts
  }
  try {
    conn.close();
  } catch {
    // already closed
  }
}

Deno.addSignalListener("SIGTERM", () => {
  const served = counts.filter((c) => c > 0).sort((a, b) => a - b);
  const mean = served.reduce((a, b) => a + b, 0) / served.length;
  const sd = Math.sqrt(served.reduce((a, b) => a + (b - mean) ** 2, 0) / served.length);
  const median = served[served.length >> 1];
  console.log(
    `connections=${served.length} min=${served[0]} median=${median} max=${served.at(-1)} cv=${(sd / mean).toFixed(3)}`,
  );
  Deno.exit(0);
});

const listener = Deno.listen({ hostname: "127.0.0.1", port });
for await (const conn of listener) {
  conn.setNoDelay(true);
  counts.push(0);
  void serve(conn, counts.length - 1);
}
