// The HTTPS and access log targets: ours with TLS on each runtime against node:https, Deno.serve and Bun.serve with
// TLS (a self-signed certificate made by openssl for the run, removed at exit), and ours with the access log on
// (written to a file in the same temporary directory) against ours with it off.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { OPENSSL, selfSignedArgs } from "../../tests/support/openssl.mjs";
import { bin, log } from "./common.mjs";

/** The native server with TLS, per runtime. */
export const NATIVE_TLS = { node: "tls-node-https", deno: "tls-deno-serve", bun: "tls-bun-serve" };

let dir = null;

/** A fresh temporary directory with cert.pem and key.pem, or null without openssl. */
function certificateDir() {
  if (dir !== null) return dir;
  if (!existsSync(OPENSSL)) return null;
  dir = mkdtempSync(join(tmpdir(), "waitress-bench-tls-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const args = selfSignedArgs({
    keyout: join(dir, "key.pem"),
    out: join(dir, "cert.pem"),
    subject: "/CN=127.0.0.1",
    ext: ["subjectAltName=IP:127.0.0.1"],
  });
  execFileSync(OPENSSL, args, { stdio: "ignore" });
  return dir;
}

/** The targets; none (with a log line) when openssl is missing. */
export function secureTargets() {
  const d = certificateDir();
  if (d === null) {
    log("skipping the HTTPS targets: /usr/bin/openssl not found");
    return [];
  }
  const node = bin("node"), deno = bin("deno"), bun = bin("bun");
  const s = (f) => join("bench", "servers", f);
  const env = { BENCH_TLS_CERT: join(d, "cert.pem"), BENCH_TLS_KEY: join(d, "key.pem") };
  const tls = (id, label, runtime, cmd, ours = false) => ({
    id,
    label,
    runtime,
    cmd,
    env,
    tls: true,
    ours,
    scenarios: ["https"],
  });
  const logged = (rt, run) => ({
    id: `log-${rt}`,
    label: `ours on ${rt} with the access log on (to a file)`,
    runtime: rt,
    bound: "log",
    scenarios: ["hello"],
    env: { BENCH_ACCESS_LOG: join(d, `access-${rt}.log`) },
    cmd: [...run, s("ours.ts")],
  });
  // The socket floor over the same TLS as ours: canned answers, no HTTP work (raw-net.mjs, raw-bun.ts).
  const floor = (rt, cmd) => ({
    ...tls(`tls-raw-${rt}`, `socket floor on ${rt} over the TLS ours uses (canned answers)`, rt, cmd),
    bound: "raw",
    env: { ...env, FLOOR: "drop" },
  });
  return [
    floor("node", [node, s("raw-net.mjs")]),
    floor("deno", [deno, "run", "-A", s("raw-net.mjs")]),
    floor("bun", [bun, s("raw-bun.ts")]),
    tls("tls-ours-node", "ours on Node, HTTPS", "node", [node, s("ours.ts")], true),
    tls("tls-node-https", "node:https", "node", [node, s("node-http.mjs")]),
    tls("tls-ours-deno", "ours on Deno, HTTPS", "deno", [deno, "run", "-A", s("ours.ts")], true),
    tls("tls-deno-serve", "Deno.serve, HTTPS", "deno", [deno, "run", "-A", s("deno-serve.ts")]),
    tls("tls-ours-bun", "ours on Bun, HTTPS", "bun", [bun, s("ours.ts")], true),
    tls("tls-bun-serve", "Bun.serve, HTTPS", "bun", [bun, s("bun-serve.ts")]),
    logged("node", [node]),
    logged("deno", [deno, "run", "-A"]),
    logged("bun", [bun]),
  ];
}
