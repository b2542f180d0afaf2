#!/usr/bin/env -S deno run -A
/**
 * `waitress-serve [OPTS] MODULE:OBJECT`: serves a Fetch application with
 * waitress's semantics. Run it with `deno run -A cli.ts`, `bun cli.ts` or
 * `node cli.ts` (Node 24 strips the types); `--help` lists every option.
 *
 * @module
 */
import { isMainModule, runCli } from "./lib/cli/main.ts";

if (isMainModule(import.meta)) runCli();
