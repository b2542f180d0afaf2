import { test } from "node:test";
import assert from "node:assert/strict";
import {
  invalidFieldTextAt,
  isChunkExtensions,
  isFieldLine,
  isFieldText,
  isFieldTextChar,
  isScheme,
  quotedStringEnd,
  quotedStringValue,
  TOKEN_CHARS,
} from "../lib/grammar.ts";

test("grammar: chunk extensions and trailer field lines", () => {
  assert.equal(isChunkExtensions(";a=b", 0, 4), true);
  assert.equal(isChunkExtensions(';a="b;c" ; d', 0, 12), true);
  assert.equal(isChunkExtensions(";a=", 0, 3), false);
  assert.equal(isChunkExtensions(';a="b', 0, 5), false);
  assert.equal(isFieldLine("A: b", 0, 4), true);
  assert.equal(isFieldLine("A:", 0, 2), true);
  assert.equal(isFieldLine("A", 0, 1), false);
  assert.equal(isFieldLine("A: b\x7f", 0, 5), false);
});

test("grammar: quoted strings (RFC 9110 5.6.4): qdtext and quoted-pairs, nothing else", () => {
  assert.equal(quotedStringEnd('"a\\"b" x', 0, 8), 6);
  assert.equal(quotedStringEnd('"a', 0, 2), -1);
  assert.equal(quotedStringEnd('"a\\', 0, 3), -1);
  assert.equal(quotedStringEnd('"a\rb"', 0, 5), -1);
  assert.equal(quotedStringValue('"a\\"b\\\\c"'), 'a"b\\c');
  assert.equal(quotedStringValue('""'), "");
  assert.equal(quotedStringValue('"'), null);
  assert.equal(quotedStringValue('"a"b"'), null);
  assert.equal(quotedStringValue("abc"), null);
  assert.equal(quotedStringValue('"\xe9"'), "\xe9");
});

test("grammar: field text is HTAB, SP, VCHAR and obs-text; every other code is refused", () => {
  for (let c = 0; c < 0x200; c++) {
    const expected = c === 9 || (c >= 0x20 && c <= 0x7e) || (c >= 0x80 && c <= 0xff);
    assert.equal(isFieldText(String.fromCharCode(c)), expected, `0x${c.toString(16)}`);
    assert.equal(isFieldTextChar(c), expected);
  }
  assert.equal(invalidFieldTextAt("ab\ncd", 0, 5), 2);
  assert.equal(invalidFieldTextAt("ab\ncd", 3, 5), -1);
});

test("grammar: tokens and schemes", () => {
  const tchars = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (let c = 0; c < 256; c++) assert.equal(TOKEN_CHARS[c] === 1, tchars.includes(String.fromCharCode(c)));
  assert.equal(isScheme("https"), true);
  assert.equal(isScheme("coap+tcp"), true);
  assert.equal(isScheme("1http"), false);
  assert.equal(isScheme("foo bar"), false);
  assert.equal(isScheme(""), false);
});
