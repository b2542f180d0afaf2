// The socket contract, run against the adapter of whichever runtime runs this file (node:net on Node and Deno, Bun's own on Bun).
// Clients use node:net on 127.0.0.1, which all three runtimes provide.
import { test } from "node:test";
import assert from "node:assert/strict";
import { connect as netConnect, type Socket } from "node:net";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { loadSocketRuntime } from "../lib/socket/index.ts";
import type { Connection, Listener, ListenSpec, SocketRuntime } from "../lib/socket/types.ts";
import { withUnmappedIPv4 } from "../lib/peer.ts";

const TIMEOUT = { timeout: 15_000 };
const MiB = 1024 * 1024;
const runtime: Promise<SocketRuntime> = loadSocketRuntime();

/** What one server-side connection saw. */
interface Recorder {
  conn: Connection;
  chunks: Uint8Array[];
  received: number;
  ends: number;
  drains: number;
  closes: number;
  closeError: unknown;
  ended: Promise<void>;
  closed: Promise<void>;
  onChunk?: (rec: Recorder) => void;
  onDrain?: () => void;
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function record(conn: Connection): Recorder {
  const end = deferred();
  const close = deferred();
  const rec: Recorder = {
    conn,
    chunks: [],
    received: 0,
    ends: 0,
    drains: 0,
    closes: 0,
    closeError: undefined,
    ended: end.promise,
    closed: close.promise,
  };
  conn.start({
    onData(chunk) {
      rec.chunks.push(new Uint8Array(chunk)); // only valid during the call (Buffer#slice would be a view)
      rec.received += chunk.length;
      rec.onChunk?.(rec);
    },
    onEnd() {
      rec.ends++;
      end.resolve();
    },
    onDrain() {
      rec.drains++;
      rec.onDrain?.();
    },
    onClose(error) {
      rec.closes++;
      rec.closeError = error;
      close.resolve();
    },
  });
  return rec;
}

/** A listener whose accepted connections are recorded, in arrival order. */
async function serve(
  spec?: Partial<ListenSpec>,
): Promise<{ listener: Listener; conns: Recorder[]; next: () => Promise<Recorder> }> {
  const rt = await runtime;
  const conns: Recorder[] = [];
  const waiters: Array<(r: Recorder) => void> = [];
  const full = { transport: "tcp", hostname: "127.0.0.1", port: 0, backlog: 128, ...spec } as ListenSpec;
  const listener = await rt.listen(full, (conn) => {
    const rec = record(conn);
    conns.push(rec);
    waiters.shift()?.(rec);
  });
  let taken = 0;
  const next = () => {
    const i = taken++;
    if (i < conns.length) return Promise.resolve(conns[i]);
    return new Promise<Recorder>((resolve) => waiters.push(resolve));
  };
  return { listener, conns, next };
}

function connect(port: number, host = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ port, host, allowHalfOpen: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

function connectUnix(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = netConnect({ path, allowHalfOpen: true });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Everything the client reads until the server's FIN. */
function readAll(s: Socket): Promise<Buffer> {
  const parts: Buffer[] = [];
  s.on("data", (d: Buffer) => parts.push(d));
  return new Promise((resolve, reject) => {
    s.once("end", () => resolve(Buffer.concat(parts)));
    s.once("error", reject);
  });
}

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Deterministic bytes, so reordering or loss shows. */
function pattern(size: number, seed = 0): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + (i >>> 11) + seed) & 255;
  return out;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks);
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms: ${what}`);
    await sleep(5);
  }
}

/** Listens, connects one client and accepts it, runs `body`, and always closes the listener. */
async function withAcceptedClient(body: (client: Socket, rec: Recorder) => Promise<void>): Promise<void> {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    const rec = await within(next(), 2000, "accept");
    await body(client, rec);
  } finally {
    await listener.close();
  }
}

/** Closes our side, checks the client read exactly `data` before its end, then ends the client and waits for onClose. */
async function closeAndExpect(
  client: Socket,
  rec: Recorder,
  got: Promise<Buffer>,
  data: Uint8Array,
  ms: number,
): Promise<void> {
  rec.conn.close();
  assert.ok(Buffer.from(data).equals(await within(got, ms, "client end")));
  client.end();
  await within(rec.closed, 2000, "onClose");
  client.destroy();
}

test("socket: port 0, remote address, bytes in and out, clean close", TIMEOUT, async () => {
  const rt = await runtime;
  // Bun has its own adapter; Node and Deno share the node:net one.
  const expected = { node: "node:net", deno: "node:net", bun: "bun" }[process.env.WAITRESS_TEST_RUNTIME ?? ""];
  assert.equal(rt.name, expected ?? rt.name);
  const { listener, next } = await serve();
  try {
    assert.equal(listener.address.transport, "tcp");
    assert.equal(listener.address.hostname, "127.0.0.1");
    assert.ok(listener.address.port > 0);
    const client = await connect(listener.address.port);
    const rec = await within(next(), 2000, "accept");
    assert.deepEqual(rec.conn.remote, { transport: "tcp", hostname: "127.0.0.1", port: client.localPort });
    client.write("hello");
    await waitFor(() => rec.received === 5, 2000, "data");
    assert.equal(Buffer.from(concat(rec.chunks)).toString(), "hello");
    const got = readAll(client);
    assert.equal(rec.conn.write(new TextEncoder().encode("world")), true);
    rec.conn.close();
    assert.equal(Buffer.from(await within(got, 2000, "client end")).toString(), "world");
    client.end();
    await within(rec.closed, 2000, "onClose");
    assert.equal(rec.closes, 1);
    assert.equal(rec.closeError, undefined);
    assert.equal(rec.conn.write(new Uint8Array(3)), false); // after close: no-op
    rec.conn.close();
    rec.conn.destroy();
    await sleep(20);
    assert.equal(rec.closes, 1);
    client.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: 8 MiB to a slow reader arrives intact, with back-pressure and onDrain", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    client.pause();
    const rec = await within(next(), 2000, "accept");
    const data = pattern(8 * MiB);
    let refused = 0;
    // Ignore the return value: the adapter must still keep every byte.
    for (let off = 0; off < data.length; off += 256 * 1024) {
      if (!rec.conn.write(data.subarray(off, off + 256 * 1024))) refused++;
    }
    assert.ok(refused > 0, "write returned false at some point");
    assert.ok(rec.conn.bufferedAmount > 0, "bytes queued in the adapter");
    const drained = new Promise<void>((r) => (rec.onDrain = r));
    const parts: Buffer[] = [];
    let total = 0;
    client.on("data", (d: Buffer) => {
      parts.push(d);
      total += d.length;
      // Slow reader: stop now and then.
      if (parts.length % 8 === 0) {
        client.pause();
        setTimeout(() => client.resume(), 1);
      }
    });
    await sleep(100);
    client.resume();
    await within(drained, 10_000, "onDrain");
    assert.equal(rec.conn.bufferedAmount, 0);
    rec.conn.close();
    await within(new Promise((r) => client.once("end", r)), 10_000, "client end");
    assert.equal(total, data.length);
    assert.ok(Buffer.from(data).equals(Buffer.concat(parts)), "bytes intact and in order");
    client.end();
    await within(rec.closed, 2000, "onClose");
    assert.equal(rec.closes, 1);
    client.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: write back-pressure loop (write until false, wait for onDrain)", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    const rec = await within(next(), 2000, "accept");
    const data = pattern(6 * MiB, 7);
    const got = readAll(client);
    let off = 0;
    let waits = 0;
    const pump = () => {
      while (off < data.length) {
        const chunk = data.subarray(off, off + 16 * 1024);
        off += chunk.length;
        if (!rec.conn.write(chunk)) {
          waits++;
          return;
        }
      }
      rec.conn.close();
    };
    rec.onDrain = pump;
    pump();
    const body = await within(got, 10_000, "client end");
    assert.ok(waits > 0);
    assert.ok(Buffer.from(data).equals(body));
    client.end();
    await within(rec.closed, 2000, "onClose");
    assert.equal(rec.closes, 1);
  } finally {
    await listener.close();
  }
});

test("socket: peer half-close gives onEnd and the response still goes out", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    const rec = await within(next(), 2000, "accept");
    const got = readAll(client);
    client.end("GET / HTTP/1.0\r\n\r\n");
    await within(rec.ended, 2000, "onEnd");
    assert.equal(rec.ends, 1);
    assert.equal(rec.closes, 0, "half-open: not closed yet");
    await sleep(50);
    const reply = pattern(300_000, 3);
    rec.conn.write(reply);
    rec.conn.close();
    assert.ok(Buffer.from(reply).equals(await within(got, 5000, "client end")));
    await within(rec.closed, 2000, "onClose");
    assert.equal(rec.closes, 1);
    assert.equal(rec.ends, 1);
    assert.equal(Buffer.from(concat(rec.chunks)).toString(), "GET / HTTP/1.0\r\n\r\n");
    client.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: destroy drops queued bytes and onClose fires once", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    client.pause();
    const rec = await within(next(), 2000, "accept");
    rec.conn.write(pattern(8 * MiB));
    rec.conn.destroy();
    await within(rec.closed, 2000, "onClose");
    const closed = new Promise((r) => {
      client.once("end", r);
      client.once("close", r);
    });
    client.on("error", () => {});
    client.resume();
    await within(closed, 5000, "client sees the close");
    assert.doesNotThrow(() => rec.conn.write(new Uint8Array(1)));
    rec.conn.destroy();
    rec.conn.close();
    await sleep(20);
    assert.equal(rec.closes, 1);
  } finally {
    await listener.close();
  }
});

test("socket: peer reset mid-write gives one onClose and nothing escapes", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    for (let round = 0; round < 3; round++) {
      const client = await connect(listener.address.port);
      client.on("error", () => {});
      const rec = await within(next(), 2000, "accept");
      client.write("x");
      await waitFor(() => rec.received === 1, 2000, "data");
      let writes = 0;
      // Keep writing as the app would while the peer goes away.
      const pump = () => {
        for (let i = 0; i < 4 && writes < 200; i++, writes++) rec.conn.write(pattern(128 * 1024, round));
      };
      rec.onDrain = pump;
      pump();
      await waitFor(() => client.bytesRead > 0, 2000, "some bytes reach the client");
      // Unread data in the client's receive buffer makes destroy() send a RST.
      client.destroy();
      await within(rec.closed, 5000, "onClose after reset");
      pump();
      rec.conn.write(new Uint8Array(1));
      rec.conn.close();
      await sleep(30);
      assert.equal(rec.closes, 1);
    }
  } finally {
    await listener.close();
  }
});

test("socket: peer gone while idle and while closing: onClose once", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const a = await connect(listener.address.port);
    a.on("error", () => {});
    const ra = await within(next(), 2000, "accept a");
    a.destroy(); // a FIN: half-open on our side, so only onEnd...
    await within(ra.ended, 2000, "onEnd a");
    assert.equal(ra.closes, 0);
    // ...until writing meets the peer's RST.
    for (let i = 0; i < 100 && ra.closes === 0; i++) {
      ra.conn.write(pattern(1000));
      await sleep(10);
    }
    await within(ra.closed, 2000, "onClose a");
    assert.equal(ra.closes, 1);

    const b = await connect(listener.address.port);
    b.on("error", () => {});
    b.pause();
    const rb = await within(next(), 2000, "accept b");
    rb.conn.write(pattern(4 * MiB));
    rb.conn.close(); // waits for the queue to flush...
    await sleep(20);
    b.destroy(); // ...which never happens: unread data makes this a RST
    await within(rb.closed, 5000, "onClose b");
    await sleep(20);
    assert.equal(rb.closes, 1);
  } finally {
    await listener.close();
  }
});

test(
  "socket: pauseReading stops data with TCP back-pressure, resumeReading delivers it in order",
  TIMEOUT,
  async () => {
    const { listener, next } = await serve();
    try {
      const client = await connect(listener.address.port);
      const rec = await within(next(), 2000, "accept");
      rec.conn.pauseReading();
      const data = pattern(32 * MiB, 9);
      client.write(data);
      await sleep(500);
      const seen = rec.received;
      assert.ok(seen < data.length, `paused connection read everything (${seen})`);
      assert.ok(client.writableLength > 0, "client is pushed back");
      await sleep(100);
      assert.equal(rec.received, seen, "no data while paused");
      rec.conn.resumeReading();
      // Pause and resume a few more times on the way.
      let toggles = 0;
      rec.onChunk = (r) => {
        if (toggles < 5 && r.received > (toggles + 1) * 4 * MiB) {
          toggles++;
          r.conn.pauseReading();
          setTimeout(() => r.conn.resumeReading(), 20);
        }
      };
      await waitFor(() => rec.received === data.length, 10_000, "all data after resume");
      assert.ok(Buffer.from(data).equals(concat(rec.chunks)));
      client.end();
      await within(rec.ended, 2000, "onEnd");
      rec.conn.close();
      await within(rec.closed, 2000, "onClose");
      client.destroy();
    } finally {
      await listener.close();
    }
  },
);

test("socket: onEnd waits while reading is paused, then comes after the data", TIMEOUT, async () => {
  const { listener, next } = await serve();
  try {
    const client = await connect(listener.address.port);
    const rec = await within(next(), 2000, "accept");
    rec.conn.pauseReading();
    client.end("abc");
    await sleep(200);
    assert.equal(rec.received, 0);
    rec.conn.resumeReading();
    await within(rec.ended, 2000, "onEnd");
    assert.equal(Buffer.from(concat(rec.chunks)).toString(), "abc");
    rec.conn.close();
    await within(rec.closed, 2000, "onClose");
    client.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: pauseAccepting holds new clients, resumeAccepting hands them over in order", TIMEOUT, async () => {
  const { listener, conns, next } = await serve();
  try {
    const first = await connect(listener.address.port);
    const r0 = await within(next(), 2000, "accept first");
    listener.pauseAccepting();
    const clients: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const c = await connect(listener.address.port);
      c.on("error", () => {});
      c.write(String(i));
      clients.push(c);
      await sleep(20);
    }
    await sleep(200);
    assert.equal(conns.length, 1, "no connection handed over while paused");
    listener.resumeAccepting();
    const recs: Recorder[] = [];
    for (let i = 0; i < 4; i++) recs.push(await within(next(), 2000, `accept ${i}`));
    assert.deepEqual(recs.map((r) => r.conn.remote.port), clients.map((c) => c.localPort));
    for (let i = 0; i < 4; i++) {
      await waitFor(() => recs[i].received === 1, 2000, `data ${i}`);
      assert.equal(Buffer.from(concat(recs[i].chunks)).toString(), String(i));
      recs[i].conn.close();
      clients[i].end();
    }
    await Promise.all(recs.map((r) => within(r.closed, 2000, "close")));
    r0.conn.destroy();
    first.destroy();
    for (const c of clients) c.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: a client that gives up while parked is not handed over (or closes once)", TIMEOUT, async () => {
  const { listener, conns, next } = await serve();
  try {
    listener.pauseAccepting();
    const gone = await connect(listener.address.port);
    gone.destroy();
    const stays = await connect(listener.address.port);
    stays.write("s");
    await sleep(100);
    listener.resumeAccepting();
    await within(next(), 2000, "accept");
    await sleep(100);
    for (const r of conns) {
      if (r.conn.remote.port === stays.localPort) continue;
      // The adapter may hand over a parked socket before it has seen the peer leave: then it is a half-open one.
      if (r.closes === 0) {
        await within(r.ended, 2000, "abandoned conn ends");
        r.conn.close();
      }
      await within(r.closed, 2000, "abandoned conn closes");
      assert.equal(r.closes, 1);
    }
    const stay = conns.find((r) => r.conn.remote.port === stays.localPort);
    assert.ok(stay);
    await waitFor(() => stay.received === 1, 2000, "data");
    stay.conn.destroy();
    stays.destroy();
    gone.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: IPv6 ::1", TIMEOUT, async (t) => {
  const rt = await runtime;
  let listener: Listener;
  try {
    listener = await rt.listen({ transport: "tcp", hostname: "::1", port: 0, backlog: 16, ipv6Only: true }, (conn) => {
      const rec = record(conn);
      rec.onChunk = () => rec.conn.close();
    });
  } catch (error) {
    t.skip(`no IPv6 loopback: ${error}`);
    return;
  }
  try {
    assert.equal(listener.address.hostname, "::1");
    assert.ok(listener.address.port > 0);
    const client = await connect(listener.address.port, "::1");
    const got = readAll(client);
    client.write("x");
    await within(got, 2000, "client end");
    client.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: binding an address in use rejects with a clear Error", TIMEOUT, async () => {
  const rt = await runtime;
  const { listener } = await serve();
  try {
    await assert.rejects(
      rt.listen({ transport: "tcp", hostname: "127.0.0.1", port: listener.address.port, backlog: 16 }, () => {}),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${listener.address.port}`));
        assert.match(error.message, /in use/i);
        return true;
      },
    );
  } finally {
    await listener.close();
  }
});

test("socket: unix socket listen, unix peer address, close removes the file", TIMEOUT, async () => {
  const rt = await runtime;
  const dir = mkdtempSync(join(tmpdir(), "waitress-sock-"));
  const path = join(dir, "s.sock");
  try {
    let rec: Recorder | undefined;
    const listener = await rt.listen({ transport: "unix", path, backlog: 16 }, (conn) => {
      rec = record(conn);
      rec.onChunk = (r) => {
        r.conn.write(concat(r.chunks));
        r.conn.close();
      };
    });
    try {
      assert.deepEqual(listener.address, { transport: "unix", hostname: path, port: 0 });
      assert.ok(existsSync(path));
      const client = await connectUnix(path);
      const got = readAll(client);
      client.write("ping");
      assert.equal((await within(got, 2000, "echo")).toString(), "ping");
      assert.ok(rec);
      assert.deepEqual(rec.conn.remote, { transport: "unix", hostname: "", port: 0 });
      client.end();
      await within(rec.closed, 2000, "onClose");
      client.destroy();
    } finally {
      await listener.close();
    }
    assert.equal(existsSync(path), false, "socket file removed");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("socket: onClose never runs inside close() or destroy(), even when called from onData", TIMEOUT, async () => {
  const rt = await runtime;
  let inside = false;
  let reentered = false;
  let closes = 0;
  let handled = 0;
  const listener = await rt.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0, backlog: 16 }, (conn) => {
    handled++;
    const which = handled;
    conn.start({
      onData() {
        inside = true;
        if (which === 1) conn.close();
        else conn.destroy();
        conn.write(new Uint8Array(1));
        inside = false;
      },
      onEnd() {},
      onDrain() {},
      onClose() {
        if (inside) reentered = true;
        closes++;
      },
    });
  });
  try {
    for (let i = 0; i < 2; i++) {
      const c = await connect(listener.address.port);
      c.on("error", () => {});
      const done = new Promise((r) => c.once("close", r));
      c.on("end", () => c.end());
      c.resume();
      c.write("x");
      await within(done, 2000, "client closed");
    }
    await waitFor(() => closes === 2, 2000, "two onClose");
    assert.equal(reentered, false);
  } finally {
    await listener.close();
  }
});

test("socket: a throwing onData closes only that connection, with the error", TIMEOUT, async () => {
  const rt = await runtime;
  const boom = new Error("handler bug");
  const errors: unknown[] = [];
  const listener = await rt.listen({ transport: "tcp", hostname: "127.0.0.1", port: 0, backlog: 16 }, (conn) => {
    conn.start({
      onData(chunk) {
        if (chunk[0] === 0x21) throw boom;
        conn.write(new Uint8Array(chunk));
        conn.close();
      },
      onEnd() {},
      onDrain() {},
      onClose(error) {
        errors.push(error);
      },
    });
  });
  try {
    const bad = await connect(listener.address.port);
    bad.on("error", () => {});
    const badClosed = new Promise((r) => {
      bad.once("end", r);
      bad.once("close", r);
    });
    bad.write("!");
    await within(badClosed, 2000, "bad connection dropped");
    await waitFor(() => errors.length === 1, 2000, "onClose");
    assert.equal(errors[0], boom);
    const good = await connect(listener.address.port);
    const got = readAll(good);
    good.write("ok");
    assert.equal((await within(got, 2000, "echo")).toString(), "ok");
    good.end();
    await waitFor(() => errors.length === 2, 2000, "second onClose");
    assert.equal(errors[1], undefined);
    bad.destroy();
    good.destroy();
  } finally {
    await listener.close();
  }
});

test("socket: many small writes arrive in order (queued writes are batched)", TIMEOUT, async () => {
  await withAcceptedClient(async (client, rec) => {
    const got = readAll(client);
    const data = pattern(200_000, 11);
    for (let off = 0; off < data.length; off += 100) rec.conn.write(data.subarray(off, off + 100));
    await closeAndExpect(client, rec, got, data, 5000);
  });
});

test("socket: listener close leaves open connections working", TIMEOUT, async () => {
  const { listener, next } = await serve();
  const client = await connect(listener.address.port);
  const rec = await within(next(), 2000, "accept");
  await listener.close();
  const got = readAll(client);
  client.write("q");
  await waitFor(() => rec.received === 1, 2000, "data after listener close");
  rec.conn.write(new TextEncoder().encode("ok"));
  rec.conn.close();
  assert.equal((await within(got, 2000, "client end")).toString(), "ok");
  client.end();
  await within(rec.closed, 2000, "onClose");
  client.destroy();
});

test(
  "socket: writev sends its pieces in order, mixed with plain writes, and reports back-pressure",
  TIMEOUT,
  async () => {
    await withAcceptedClient(async (client, rec) => {
      assert.equal(typeof rec.conn.gathersWrites, "boolean");
      const got = readAll(client);
      const data = pattern(8 * MiB, 5);
      const sizes = [1, 2, 1024, 16_384, 16_385, 70_000, 3];
      let off = 0;
      let sawFalse = false;
      for (let i = 0; off < data.length; i++) {
        const parts: Uint8Array[] = [];
        for (let k = 0; k < 3 && off < data.length; k++) {
          const n = Math.min(sizes[(i + k) % sizes.length], data.length - off);
          parts.push(data.subarray(off, off + n));
          off += n;
        }
        // Alternate gathered and plain writes so the two keep one order.
        if (i % 4 === 3) { for (const p of parts) sawFalse = !rec.conn.write(p) || sawFalse; }
        else sawFalse = !rec.conn.writev(parts) || sawFalse;
      }
      assert.ok(sawFalse, "8 MiB unread by the client must report back-pressure at some point");
      await closeAndExpect(client, rec, got, data, 10_000);
    });
  },
);

test("socket: writev that the kernel takes whole reports no back-pressure", TIMEOUT, async () => {
  await withAcceptedClient(async (client, rec) => {
    let received = 0;
    client.on("data", (d: Buffer) => (received += d.length));
    const parts = [pattern(1), pattern(64 * 1024, 3), pattern(2)];
    const size = parts.reduce((n, p) => n + p.length, 0);
    let takenWhole = 0;
    for (let i = 1; i <= 20; i++) {
      const ok = rec.conn.writev(parts);
      if (rec.conn.bufferedAmount === 0) {
        takenWhole++;
        // Nothing is queued, so the caller must not be told to wait for a drain.
        assert.equal(ok, true, `writev ${i} was taken whole but reported back-pressure`);
      }
      await waitFor(() => received === i * size, 5000, "client read");
      await sleep(1);
    }
    assert.ok(takenWhole > 0, "the loopback kernel never took 64 KiB at once: the check above never ran");
    rec.conn.close();
    client.end();
    await within(rec.closed, 2000, "onClose");
    client.destroy();
  });
});

test("socket: an IPv4-mapped IPv6 peer address is reported as plain IPv4; other addresses stay as they are", () => {
  const tcp = (hostname: string) => ({ transport: "tcp" as const, hostname, port: 1 });
  assert.equal(withUnmappedIPv4(tcp("::ffff:127.0.0.1")).hostname, "127.0.0.1");
  assert.equal(withUnmappedIPv4(tcp("::FFFF:192.0.2.10")).hostname, "192.0.2.10");
  for (const kept of ["::1", "127.0.0.1", "::ffff:7f00:1", "2001:db8::ffff:1.2.3.4", "fe80::1"]) {
    assert.equal(withUnmappedIPv4(tcp(kept)).hostname, kept);
  }
  const unix = { transport: "unix" as const, hostname: "", port: 0 };
  assert.equal(withUnmappedIPv4(unix), unix);
});
