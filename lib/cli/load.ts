/**
 * Loading the application named by `MODULE[:OBJECT]`: a file path, a dotted
 * module name resolved from the current directory (as waitress resolves
 * against sys.path), or an importable specifier; then a dotted object path
 * inside it, optionally called (`--call`). Every failure is one line naming
 * what was loaded.
 *
 * @module
 */
import { existsSync, realpathSync, statSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { describeValue, handlerOf } from "../app.ts";
import type { App } from "../types.ts";
import { AppLoadError, reason } from "./errors.ts";

/** Extensions tried for a module name without one, in order. */
export const MODULE_EXTENSIONS: readonly string[] = [".ts", ".js", ".mjs", ".mts", ".tsx", ".jsx", ".cjs", ".cts"];

const OBJECT_PATH = /^[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*$/;
const DOTTED_NAME = /^[A-Za-z_$][\w$-]*(\.[A-Za-z_$][\w$-]*)*$/;
const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]+):/;
/** Schemes `import()` understands somewhere; `jsr:@x/app` alone is a module, not `jsr` plus an object. */
const IMPORT_SCHEMES: ReadonlySet<string> = new Set(["file", "http", "https", "data", "jsr", "npm", "node"]);

/** Splits `MODULE:OBJECT`; a colon that belongs to a URL scheme or drive letter is not the separator. */
export function splitAppSpec(spec: string): { module: string; object: string | undefined } {
  const colon = spec.lastIndexOf(":");
  if (colon <= 0) return { module: spec, object: undefined };
  const module = spec.slice(0, colon);
  const object = spec.slice(colon + 1);
  // `jsr:@x/app`, `npm:hono`, `C:\app.ts`: the only colon is part of the module.
  const moduleIsBareScheme = IMPORT_SCHEMES.has(module.toLowerCase());
  const driveLetter = /^[A-Za-z]$/.test(module);
  if (!OBJECT_PATH.test(object) || moduleIsBareScheme || driveLetter) return { module: spec, object: undefined };
  return { module, object };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The files a path-like module name may mean: itself, with an extension added, or its index. */
function pathCandidates(base: string): string[] {
  return [
    base,
    ...MODULE_EXTENSIONS.map((ext) => base + ext),
    ...MODULE_EXTENSIONS.map((ext) => join(base, "index" + ext)),
  ];
}

/**
 * Turns MODULE into something `import()` takes, resolving file paths and
 * dotted names against `cwd` as waitress resolves against sys.path.
 */
export function resolveModule(module: string, cwd: string): string {
  const scheme = URL_SCHEME.exec(module);
  if (scheme && scheme[1].length > 1) return module;
  const base = isAbsolute(module) ? module : resolve(cwd, module);
  const tried = pathCandidates(base);
  if (DOTTED_NAME.test(module) && module.includes(".")) {
    tried.push(...pathCandidates(resolve(cwd, ...module.split("."))));
  }
  for (const candidate of tried) {
    if (isFile(candidate)) return pathToFileURL(realpathSync(candidate)).href;
  }
  const where = existsSync(base) ? `${module} is not a module file` : `no such file as ${module}`;
  throw new AppLoadError(`Cannot find module ${JSON.stringify(module)}: ${where} (looked in ${cwd})`);
}

/** Walks a dotted object path inside a module's exports. */
function lookup(exports: Record<string, unknown>, object: string, spec: string): unknown {
  let value: unknown = exports;
  const segments = object.split(".");
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    let holder = value;
    // CommonJS modules arrive as { default: module.exports }: look there too.
    if (i === 0 && !(segment in exports) && isObjectLike(exports.default) && segment in exports.default) {
      holder = exports.default;
    }
    if (!isObjectLike(holder) || !(segment in holder)) {
      const at = segments.slice(0, i + 1).join(".");
      throw new AppLoadError(`Cannot find ${JSON.stringify(at)} in ${JSON.stringify(spec)}`);
    }
    value = (holder as Record<string, unknown>)[segment];
  }
  return value;
}

/** The loaded value as an app; what is not one is an AppLoadError naming what was loaded. */
function appOf(value: unknown, what: string): App {
  try {
    return handlerOf(value, what);
  } catch (error) {
    throw new AppLoadError(reason(error));
  }
}

function isObjectLike(value: unknown): value is Record<string, unknown> {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * Loads the application named by `MODULE[:OBJECT]`, calling it first when
 * `call` is set. Throws {@linkcode AppLoadError} with a one-line reason.
 */
export async function loadApp(spec: string, call: boolean, cwd: string = process.cwd()): Promise<App> {
  const { module, object } = splitAppSpec(spec);
  const url = resolveModule(module, cwd);
  let exports: Record<string, unknown>;
  try {
    exports = await import(url);
  } catch (error) {
    throw new AppLoadError(`Cannot load module ${JSON.stringify(module)}: ${reason(error)}`);
  }
  let value: unknown;
  if (object === undefined) {
    if (!("default" in exports) || exports.default === undefined) {
      throw new AppLoadError(
        `Module ${JSON.stringify(module)} has no default export; name the app as ${module}:OBJECT`,
      );
    }
    value = exports.default;
  } else {
    value = lookup(exports, object, spec);
  }
  if (call) {
    if (typeof value !== "function") {
      throw new AppLoadError(`Cannot --call ${JSON.stringify(spec)}: it is ${describeValue(value)}, not a function`);
    }
    try {
      value = await (value as () => unknown)();
    } catch (error) {
      throw new AppLoadError(`Calling ${JSON.stringify(spec)} failed: ${reason(error)}`);
    }
    return appOf(value, `The result of calling ${JSON.stringify(spec)}`);
  }
  return appOf(value, JSON.stringify(spec));
}
