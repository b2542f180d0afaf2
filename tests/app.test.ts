// lib/app.ts: the one place an application becomes the function the engine calls.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeValue, handlerOf } from "../lib/app.ts";
import type { ServeInfo } from "../lib/types.ts";

const INFO = {} as ServeInfo;

test("app: a function is served as it is", () => {
  const fn = () => new Response("fn");
  assert.equal(handlerOf(fn), fn);
});

test("app: an object's fetch method is bound to it, even when the object is callable", async () => {
  const app = {
    tag: "bound",
    fetch(this: { tag: string }) {
      return new Response(this.tag);
    },
  };
  assert.equal(await (await handlerOf(app)(new Request("http://x/"), INFO)).text(), "bound");
  const callable = Object.assign(() => new Response("called"), { fetch: () => new Response("fetched") });
  assert.equal(await (await handlerOf(callable)(new Request("http://x/"), INFO)).text(), "fetched");
});

test("app: anything else is a TypeError naming what was given and what it is", () => {
  for (
    const [value, got] of [[42, "a number"], [null, "null"], [[], "an array"], [{}, "an object without a fetch method"]]
  ) {
    assert.throws(() => handlerOf(value), (e: Error) => {
      return e instanceof TypeError && e.message.startsWith("The app given to serve() is not an application") &&
        e.message.endsWith(`got ${got}`);
    });
    assert.equal(describeValue(value), got);
  }
  assert.throws(() => handlerOf(undefined, '"app.ts:x"'), /^TypeError: "app\.ts:x" is not an application/);
});
