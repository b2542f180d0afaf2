// The benchmark's command line (see the top of bench/run.mjs): --quick, --rounds=N and the others, read once.
import process from "node:process";
import { UPLOAD_BYTES } from "./common.mjs";

const argv = process.argv.slice(2);
export const flag = (name) => argv.includes(`--${name}`);
export const value = (name) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
export const list = (name) => value(name)?.split(",").map((s) => s.trim()).filter(Boolean);
export const quick = flag("quick");
export const config = {
  quick,
  rounds: Number(value("rounds") ?? (quick ? 1 : 5)),
  durationS: Number(value("duration") ?? (quick ? 1 : 3)),
  warmupS: Number(value("warmup") ?? (quick ? 0 : 2)),
  idleConnections: Number(value("idle") ?? (quick ? 200 : 1000)),
  idleRounds: Number(value("idle-rounds") ?? (quick ? 1 : 3)),
  quietWaitS: Number(value("quiet-wait") ?? (quick ? 0 : 300)),
  streamMiB: quick ? 16 : 64,
  pipelineDepth: 16,
  uploadBytes: UPLOAD_BYTES,
};
export const writeResults = flag("write-results");
