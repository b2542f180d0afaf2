import { test } from "node:test";
import assert from "node:assert/strict";
import {
  closeIdleTempFiles,
  idleHeadCount,
  idleTempFileCount,
  InputBuffer,
  openTempFileCount,
  OutputBuffer,
} from "../lib/buffers.ts";
import { Dispatcher } from "../lib/dispatcher.ts";

const bytes = (n: number, seed = 0) => new Uint8Array(n).map((_, i) => (i + seed) % 256);

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const p of stream) parts.push(p);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), o += p.length);
  return out;
}

test("buffers: an input buffer copies what it is given and stays in memory under the limit", async () => {
  const b = new InputBuffer(100);
  const chunk = bytes(50);
  b.append(chunk);
  chunk.fill(0);
  assert.equal(b.inFile, false);
  assert.deepEqual(b.bytes(), bytes(50));
  assert.deepEqual(await readAll(b.stream()), bytes(50));
  b.dispose();
});

test("buffers: an input buffer spills to an unlinked temporary file above the limit", async () => {
  const before = openTempFileCount();
  const b = new InputBuffer(100);
  for (let i = 0; i < 10; i++) b.append(bytes(50, i * 50));
  assert.equal(b.inFile, true);
  assert.equal(openTempFileCount(), before + 1);
  assert.equal(b.length, 500);
  assert.deepEqual(b.bytes(), bytes(500));
  assert.deepEqual(await readAll(b.stream()), bytes(500));
  b.dispose();
  assert.equal(openTempFileCount(), before);
});

test("buffers: an announced length fills one array in place, handed over once; clones and later reads get copies", () => {
  const b = new InputBuffer(1000, 300);
  const chunk = bytes(100);
  for (let i = 0; i < 3; i++) {
    chunk.set(bytes(100, i * 100));
    b.append(chunk);
    chunk.fill(0); // the read buffer is reused: the body kept its own copy
  }
  assert.equal(b.inFile, false);
  assert.equal(b.length, 300);
  const first = b.bytes();
  assert.deepEqual(first, bytes(300));
  first.fill(7); // the caller owns what it got...
  assert.deepEqual(b.bytes(), bytes(300).fill(7), "...without a copy: it was the body's own array");
  b.dispose();

  const shared = new InputBuffer(1000, 300);
  shared.append(bytes(300));
  shared.share(); // a clone will read it too
  const a = shared.bytes();
  a.fill(9);
  assert.deepEqual(shared.bytes(), bytes(300), "a shared body hands out copies");
  shared.dispose();

  const lone = new InputBuffer(1000); // unknown length, one piece
  lone.append(bytes(50));
  lone.bytes().fill(1);
  assert.deepEqual(lone.bytes(), bytes(50), "a lone piece is handed out as a copy");
  lone.dispose();
});

test("buffers: an announced length streams in copies, and more bytes than announced stay correct", async () => {
  const b = new InputBuffer(1000, 150);
  b.append(bytes(100));
  b.append(bytes(100, 100)); // 50 more than announced: falls back to pieces
  assert.equal(b.length, 200);
  assert.deepEqual(await readAll(b.stream()), bytes(200));
  assert.deepEqual(b.bytes(), bytes(200));
  b.dispose();
  const short = new InputBuffer(1000, 150);
  short.append(bytes(40));
  const got = short.bytes();
  assert.deepEqual(got, bytes(40), "a body cut short gives what arrived");
  assert.equal(got.buffer.byteLength, 40, "and nothing of the unfilled rest of its array");
  short.dispose();
});

test("buffers: an announced length above the limit keeps its first `overflow` bytes in memory, the rest in a file", async () => {
  const before = openTempFileCount();
  const b = new InputBuffer(100, 500);
  assert.equal(b.memoryBytes, 0, "a head alone costs no body memory");
  b.append(bytes(10));
  assert.equal(b.memoryBytes, 100, "the head: exactly the overflow, not the announced length");
  for (let i = 1; i < 10; i++) b.append(bytes(10, i * 10));
  assert.equal(b.inFile, false, "the first 100 bytes fill the head");
  assert.equal(openTempFileCount(), before, "no file yet");
  b.append(bytes(10, 100));
  assert.equal(b.inFile, true, "the 101st byte opens the file");
  assert.equal(openTempFileCount(), before + 1);
  for (let i = 11; i < 50; i++) b.append(bytes(10, i * 10));
  assert.equal(b.memoryBytes, 100, "memory stays bounded by the overflow");
  assert.deepEqual(b.bytes(), bytes(500));
  assert.deepEqual(await readAll(b.stream()), bytes(500));
  b.dispose();
  assert.equal(openTempFileCount(), before);
});

test("buffers: a piece that straddles the head's end is split between memory and the file", async () => {
  const b = new InputBuffer(100, 300);
  b.append(bytes(70));
  b.append(bytes(230, 70)); // 30 to the head, 200 to the file
  assert.equal(b.inFile, true);
  assert.equal(b.memoryBytes, 100);
  const all = b.bytes();
  assert.deepEqual(all, bytes(300));
  all.fill(0); // the caller's own copy: the head is not handed out
  assert.deepEqual(b.bytes(), bytes(300));
  const pieces: number[] = [];
  for await (const p of b.stream()) pieces.push(p.length);
  assert.deepEqual(pieces, [100, 200], "a stream reads the head, then the file");
  b.dispose();
});

test("buffers: an unknown length moves its pieces into a head when it passes the overflow", async () => {
  const before = openTempFileCount();
  const b = new InputBuffer(100);
  for (let i = 0; i < 3; i++) b.append(bytes(40, i * 40)); // 120: 100 in the head, 20 in the file
  assert.equal(b.inFile, true);
  assert.equal(b.memoryBytes, 100);
  for (let i = 3; i < 10; i++) b.append(bytes(40, i * 40));
  assert.equal(b.length, 400);
  assert.equal(b.memoryBytes, 100);
  assert.deepEqual(b.bytes(), bytes(400));
  assert.deepEqual(await readAll(b.stream()), bytes(400));
  b.dispose();
  assert.equal(openTempFileCount(), before);
});

test("buffers: a head is recycled for the next spilled body, which never sees the old bytes", async () => {
  closeIdleTempFiles();
  const first = new InputBuffer(100, 500);
  first.append(new Uint8Array(500).fill(0xee));
  first.dispose();
  assert.equal(idleHeadCount(), 1, "the head is kept");
  const second = new InputBuffer(100, 150);
  second.append(bytes(60)); // shorter than the head: the rest of the head still holds 0xee
  assert.equal(idleHeadCount(), 0, "the kept head was taken again");
  const cut = second.bytes();
  assert.deepEqual(cut, bytes(60), "a body cut short inside the head gives only what arrived");
  assert.deepEqual(await readAll(second.stream()), bytes(60));
  second.append(bytes(90, 60));
  assert.deepEqual(second.bytes(), bytes(150));
  assert.deepEqual(await readAll(second.stream()), bytes(150));
  second.dispose();
  closeIdleTempFiles();
  assert.equal(idleHeadCount(), 0, "and dropped with the idle files");
});

test("buffers: idle heads are kept up to a total size only", () => {
  closeIdleTempFiles();
  const size = 400 * 1024;
  const bodies = [1, 2, 3].map(() => new InputBuffer(size, size + 1));
  for (const b of bodies) b.append(bytes(1));
  for (const b of bodies) b.dispose();
  assert.equal(idleHeadCount(), 2, "three 400 KiB heads exceed the pool's 1 MiB: the third is dropped");
  closeIdleTempFiles();
});

test("buffers: a released temporary file is reused for the next body, which never sees the old bytes", async () => {
  closeIdleTempFiles();
  const first = new InputBuffer(100, 500);
  first.append(new Uint8Array(500).fill(0xee));
  first.dispose();
  assert.equal(idleTempFileCount(), 1, "the file is kept, not closed");
  const second = new InputBuffer(100, 200);
  second.append(bytes(200));
  assert.equal(idleTempFileCount(), 0, "the kept file was taken again");
  assert.equal(second.inFile, true);
  assert.deepEqual(second.bytes(), bytes(200));
  assert.deepEqual(await readAll(second.stream()), bytes(200), "nothing of the older, longer body shows through");
  second.dispose();
  assert.equal(idleTempFileCount(), 1);
  closeIdleTempFiles();
  assert.equal(idleTempFileCount(), 0);
});

test("buffers: an output buffer keeps order across memory and file, and frees the file once drained", () => {
  const before = openTempFileCount();
  const out = new OutputBuffer(100);
  out.append(bytes(60, 0));
  out.append(bytes(60, 60)); // over the limit: goes to the file
  out.append(bytes(10, 120));
  assert.equal(out.length, 130);
  assert.equal(out.inFile, true);
  const got: number[] = [];
  for (let c = out.take(16); c !== null; c = out.take(16)) got.push(...c);
  assert.deepEqual(Uint8Array.from(got), bytes(130));
  assert.equal(out.length, 0);
  assert.equal(out.inFile, false);
  assert.equal(openTempFileCount(), before);
  out.append(bytes(5));
  assert.equal(out.inFile, false);
  out.dispose();
});

test("dispatcher: runs at most `limit` tasks and starts the rest in arrival order", () => {
  const d = new Dispatcher(2);
  const started: number[] = [];
  const task = (i: number) => ({ start: () => started.push(i) });
  for (let i = 1; i <= 5; i++) d.run(task(i));
  assert.deepEqual(started, [1, 2]);
  assert.equal(d.queued, 3);
  d.release();
  assert.deepEqual(started, [1, 2, 3]);
  d.release();
  d.release();
  assert.deepEqual(started, [1, 2, 3, 4, 5]);
  assert.equal(d.queued, 0);
  assert.equal(d.active, 2, "five tasks, three finished");
  d.release();
  d.release();
  assert.equal(d.active, 0);
});
