import { test } from "node:test";
import assert from "node:assert/strict";
import { freshBytes } from "../lib/byte_slab.ts";

test("freshBytes: each array is zero-filled, of the size asked, and shares no byte with another", () => {
  const given: Uint8Array[] = [];
  // Enough small arrays to fill several slabs, of sizes that do not divide a slab evenly.
  for (let i = 0; i < 200; i++) {
    const bytes = freshBytes(1 + (i * 37) % 300);
    assert.equal(bytes.length, 1 + (i * 37) % 300, `array ${i} has the size asked`);
    assert.ok(bytes.every((b) => b === 0), `array ${i} is zero-filled`);
    bytes.fill(i % 255 + 1);
    given.push(bytes);
  }
  // Writing each array after all were handed out changed no other: every one still holds only its own mark.
  given.forEach((bytes, i) => assert.ok(bytes.every((b) => b === i % 255 + 1), `array ${i} was not overwritten`));
  const ranges = given.map((b) => ({ buffer: b.buffer, start: b.byteOffset, end: b.byteOffset + b.length }));
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i];
      const b = ranges[j];
      if (a.buffer !== b.buffer) continue;
      assert.ok(a.end <= b.start || b.end <= a.start, `arrays ${i} and ${j} overlap`);
    }
  }
});

test("freshBytes: a large array gets a buffer of its own", () => {
  const large = freshBytes(64 * 1024);
  assert.equal(large.length, 64 * 1024);
  assert.equal(large.byteOffset, 0);
  assert.equal(large.buffer.byteLength, 64 * 1024);
  assert.ok(large.every((b) => b === 0));
});
