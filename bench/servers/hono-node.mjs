// @hono/node-server (the adapter Hono apps use on Node) serving the same
// Fetch handler as ours, so the comparison is adapter against engine.
// Default options (overrideGlobalObjects: true, i.e. its lightweight
// Request/Response). keepAliveTimeout raised from Node's 5 s so idle
// keep-alive connections stay open during the RSS measurement.
import process from "node:process";
import { serve } from "@hono/node-server";
import { handler, portFromEnv } from "./app.ts";

const server = serve(
  { fetch: handler, hostname: "127.0.0.1", port: portFromEnv(process.env) },
  () => console.log("ready"),
);
server.keepAliveTimeout = 120_000;

// Exit cleanly on a signal so `node --cpu-prof` writes its profile.
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => process.exit(0));
