/**
 * `--reload`'s eyes: watches every directory under a root, except
 * `node_modules` and dot-directories, and calls back once per burst of
 * changes. One non-recursive watcher per directory, so the skipped trees are
 * never walked (a recursive watch would put a watch on every directory of
 * node_modules); directories that appear later are watched as they come.
 *
 * @module
 */
import { type FSWatcher, readdirSync, statSync, watch } from "node:fs";
import { join } from "node:path";

/** Changes closer together than this are one reload. */
const SETTLE_MS = 150;

function skipped(name: string): boolean {
  return name === "node_modules" || name.startsWith(".");
}

/** A running watch; `close()` ends it. */
export interface TreeWatch {
  close(): void;
}

/** Watches `root`; `onChange(path)` runs once changes have settled, with the last path that changed. */
export function watchTree(root: string, onChange: (path: string) => void): TreeWatch {
  const watchers = new Map<string, FSWatcher>();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let last = "";

  const changed = (path: string): void => {
    last = path;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      onChange(last);
    }, SETTLE_MS);
  };

  const add = (dir: string): void => {
    if (watchers.has(dir)) return;
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
      const watcher = watch(dir, (_event, name) => {
        if (name === null || skipped(String(name).split("/")[0])) return;
        const path = join(dir, String(name));
        // A new directory: watch it too (and what is already in it).
        if (isDirectory(path)) add(path);
        changed(path);
      });
      watcher.on("error", () => forget(dir)); // the directory went away
      watchers.set(dir, watcher);
    } catch {
      return; // unreadable or gone: nothing to watch
    }
    for (const entry of entries) {
      if (entry.isDirectory() && !skipped(entry.name)) add(join(dir, entry.name));
    }
  };

  const forget = (dir: string): void => {
    watchers.get(dir)?.close();
    watchers.delete(dir);
  };

  add(root);
  return {
    close(): void {
      if (timer !== null) clearTimeout(timer);
      for (const watcher of watchers.values()) watcher.close();
      watchers.clear();
    },
  };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
