/**
 * The one rule for a unix socket's file before binding, shared by the server
 * and by a supervisor that binds for its workers.
 *
 * @module
 */
import { lstatSync, unlinkSync } from "node:fs";

/** Removes a socket file left behind by a crashed server; refuses to remove anything else. */
export function removeStaleUnixSocket(path: string): void {
  let isSocket = false;
  try {
    isSocket = lstatSync(path).isSocket();
  } catch {
    return; // Nothing there.
  }
  if (!isSocket) throw new Error(`Cannot listen on unix socket ${path}: a file that is not a socket is in the way`);
  unlinkSync(path);
}
