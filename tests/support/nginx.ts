/**
 * A real nginx in front of a server under test: the README's "Behind nginx"
 * recipe (TLS left out) written into a temporary directory that also holds
 * nginx's pid file, logs and temp paths, started on a free loopback port in the
 * foreground (`daemon off`, with a master process, so that it stops as one
 * unit), and removed again by `stop()`.
 *
 *   const nginx = await startNginx({ upstream: `127.0.0.1:${port}` });
 *   // ... talk to 127.0.0.1:nginx.port ...
 *   await nginx.stop();
 *
 * Under CI (`CI=true`) a missing nginx is a failure: use `nginxSkip()` as a
 * test's `skip` option; it only skips outside CI.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** Where Debian's nginx-light puts the binary (`npm test` installs it when missing). */
export const NGINX_BIN = "/usr/sbin/nginx";

/** The README this recipe is taken from. */
export const README_PATH: string = fileURLToPath(new URL("../../README.md", import.meta.url));

/** What to start nginx with. */
export interface NginxOptions {
  /** What the recipe's upstream points at instead of `127.0.0.1:8080`: `"127.0.0.1:PORT"` or `"unix:/path"`. */
  upstream: string;
  /** The recipe's `location` path; default `/` as in the recipe, `/app/` for its url-prefix variant. */
  location?: string;
  /** How long to wait for nginx to accept connections (default 10 s). */
  startTimeoutMs?: number;
}

/** A running nginx. */
export interface Nginx {
  /** The loopback port nginx listens on (127.0.0.1). */
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The temporary directory holding the config, pid file, logs and temp paths; removed by `stop()`. */
  dir: string;
  /** The master process's pid. */
  pid: number;
  /** The nginx.conf that was written. */
  config: string;
  /** nginx's error log so far. */
  errorLog(): string;
  /** nginx's access log so far. */
  accessLog(): string;
  /** Stops nginx (SIGQUIT, then SIGKILL after 5 s) and removes its directory. */
  stop(): Promise<void>;
}

/** Whether the nginx binary is there. */
export function nginxAvailable(): boolean {
  return existsSync(NGINX_BIN);
}

/**
 * A `skip` value for tests that need nginx: false when it is installed, and
 * false under CI too (so that the test runs and fails there), else the reason.
 */
export function nginxSkip(): string | false {
  if (nginxAvailable() || process.env.CI === "true") return false;
  return `${NGINX_BIN} is missing (Debian's nginx-light; npm test installs it when run as root)`;
}

/** The first ```nginx block of the README's "Behind nginx" section, verbatim. */
export function readmeRecipe(readme: string = readFileSync(README_PATH, "utf8")): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Behind nginx"));
  if (!section) throw new Error("README has no '## Behind nginx' section");
  const m = section.match(/```nginx\n([\s\S]*?)```/);
  if (!m) throw new Error("README's 'Behind nginx' section has no ```nginx block");
  return m[1];
}

/**
 * The options of the README's `waitress-serve` command next to the recipe, as
 * argv words (line continuations joined, double quotes removed), without the
 * command name, `--listen` (the test picks its own port) and the app.
 */
export function readmeServeArgs(readme: string = readFileSync(README_PATH, "utf8")): string[] {
  const section = readme.split(/^## /m).find((s) => s.startsWith("Behind nginx"));
  const m = section?.match(/```sh\n([\s\S]*?)```/);
  if (!m) throw new Error("README's 'Behind nginx' section has no ```sh block");
  const line = m[1].replace(/\\\n\s*/g, " ").trim();
  const words = line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? [];
  if (words[0] !== "waitress-serve") throw new Error(`README's command does not start with waitress-serve: ${line}`);
  return words.slice(1).map((w) => w.replace(/"/g, "")).filter((w) => w.startsWith("--") && !w.startsWith("--listen"));
}

/** Replaces exactly one match of `pattern` in `text`, or throws (the recipe changed shape). */
function replaceOnce(text: string, pattern: RegExp, replacement: string, what: string): string {
  const count =
    text.match(new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g"))
      ?.length ?? 0;
  if (count !== 1) throw new Error(`README nginx recipe: expected one ${what}, found ${count}`);
  return text.replace(pattern, replacement);
}

/**
 * The recipe made runnable on loopback: its upstream server replaced, its TLS
 * listener replaced by a plain one on 127.0.0.1:port, its `ssl_*` lines
 * dropped, and its `location /` moved to `location` when asked.
 */
export function recipeForLoopback(recipe: string, upstream: string, port: number, location = "/"): string {
  let text = replaceOnce(recipe, /^(\s*)server\s+127\.0\.0\.1:8080\s*;/m, `$1server ${upstream};`, "upstream server");
  text = replaceOnce(text, /^(\s*)listen\s+443\s+ssl\s*;/m, `$1listen 127.0.0.1:${port};`, "listen 443 ssl");
  text = text.split("\n").filter((line) => !/^\s*#?\s*ssl_/.test(line)).join("\n");
  if (location !== "/") text = replaceOnce(text, /^(\s*)location\s+\/\s*\{/m, `$1location ${location} {`, "location /");
  return text;
}

/** The whole nginx.conf: process and log settings around the recipe, every path inside `dir`. */
export function nginxConfig(dir: string, recipe: string): string {
  // A master started as root runs its workers as `nobody` unless told otherwise; they would not reach `dir`.
  // (uid 0 is named, not looked up: Bun's os.userInfo() reports "unknown" as the name.)
  const user = process.getuid?.() === 0 ? "user root;\n" : "";
  return `# written by tests/support/nginx.ts
daemon off;
master_process on;
worker_processes 1;
${user}pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "error.log")} info;
events {
    worker_connections 512;
}
http {
    access_log ${join(dir, "access.log")};
    client_body_temp_path ${join(dir, "client_body")};
    proxy_temp_path ${join(dir, "proxy")};
    fastcgi_temp_path ${join(dir, "fastcgi")};
    uwsgi_temp_path ${join(dir, "uwsgi")};
    scgi_temp_path ${join(dir, "scgi")};

${recipe.replace(/^/gm, "    ").trimEnd()}
}
`;
}

/** A port nobody listens on right now (bound and released; nginx binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Waits until nginx accepts on `port`; throws with its error log if it exits or `ms` passes first. */
async function awaitListening(child: ChildProcess, port: number, dir: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let gone = false;
  child.once("exit", () => (gone = true));
  while (!gone && Date.now() < deadline) {
    if (await canConnect(port)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  const log = readIfThere(join(dir, "error.log"));
  throw new Error(`nginx ${gone ? `exited (${child.exitCode ?? child.signalCode})` : "did not listen"}:\n${log}`);
}

function readIfThere(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGQUIT"); // graceful: finish the requests in flight
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited(child);
  clearTimeout(timer);
}

async function startOnce(options: NginxOptions, recipe: string): Promise<Nginx> {
  if (!nginxAvailable()) throw new Error(`${NGINX_BIN} is missing (install Debian's nginx-light)`);
  const dir = mkdtempSync(join(tmpdir(), "waitress-nginx-"));
  let child: ChildProcess | null = null;
  try {
    const port = await freePort();
    const config = nginxConfig(dir, recipeForLoopback(recipe, options.upstream, port, options.location));
    const confPath = join(dir, "nginx.conf");
    writeFileSync(confPath, config);
    // -e: even the messages before the config is read go to our log, not to the compiled-in path.
    child = spawn(NGINX_BIN, ["-p", dir, "-e", join(dir, "error.log"), "-c", confPath], { stdio: "ignore" });
    await awaitListening(child, port, dir, options.startTimeoutMs ?? 10000);
    const running = child;
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      dir,
      pid: running.pid!,
      config,
      errorLog: () => readIfThere(join(dir, "error.log")),
      accessLog: () => readIfThere(join(dir, "access.log")),
      stop: async () => {
        await stopChild(running);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Starts nginx with the README's recipe in front of `options.upstream`. The
 * free port is found by binding and releasing one, so another process may take
 * it in between: a start that fails is retried on a new port, twice.
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  const recipe = readmeRecipe();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(options, recipe);
    } catch (error) {
      lastError = error;
      if (!String(error).includes("Address already in use")) break;
    }
  }
  throw lastError;
}
