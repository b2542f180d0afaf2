/**
 * Which runtime runs the tests or a tool, as reports name it.
 *
 * @module
 */
import process from "node:process";

/** "Node v24.21.0", "Deno 2.9.6", "Bun 1.4.5". */
export function runtimeName(): string {
  const g = globalThis as { Deno?: { version: { deno: string } }; Bun?: { version: string } };
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  if (g.Bun) return `Bun ${g.Bun.version}`;
  return `Node ${process.version}`;
}
