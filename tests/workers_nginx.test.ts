// --workers behind Debian's nginx, as in the README's recipe: a SIGHUP while nginx carries a steady
// load (fresh and keep-alive client connections; nginx keeps its own upstream connections alive)
// replaces every worker and nginx answers no 5xx.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep } from "./support/time.ts";
import { alive, spawnCli } from "./support/cli.ts";
import { steadyLoad } from "./support/load.ts";
import { nginxSkip, startNginx } from "./support/nginx.ts";

const skip = nginxSkip();
let dir = "";

before(() => {
  dir = mkdtempSync(join(tmpdir(), "waitress-workers-nginx-"));
  writeFileSync(
    join(dir, "app.ts"),
    `import process from "node:process";\nexport default () => new Response(String(process.pid));\n`,
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

test("workers behind nginx: SIGHUP during load gives no 5xx at nginx", { skip, timeout: 90_000 }, async () => {
  const cli = spawnCli(["--workers=2", "--listen=127.0.0.1:0", "app.ts"], dir);
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const { match } = await cli.waitFor(/2 workers serving \(pids (\d+), (\d+)\)/);
    const old = [match[1], match[2]];
    const port = Number(cli.stderr().match(/Serving on http:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
    nginx = await startNginx({ upstream: `127.0.0.1:${port}` });
    const load = steadyLoad({ port: nginx.port }, { fresh: 2, keepAlive: 3, maxMs: 40_000 });
    await sleep(500);
    const from = cli.stderr().length;
    cli.signal("SIGHUP");
    const restarted = await cli.waitFor(/Restarted: 2 workers serving \(pids (\d+), (\d+)\)/, 40_000, from);
    const fresh = [restarted.match[1], restarted.match[2]];
    const deadline = Date.now() + 10_000;
    while (old.some((pid) => alive(Number(pid))) && Date.now() < deadline) await sleep(50);
    await sleep(500);
    const report = await load.stop();
    assert.deepEqual(report.failures, []);
    const statuses = [...report.statuses.keys()];
    assert.deepEqual(statuses, [200], `statuses at nginx: ${JSON.stringify([...report.statuses])}`);
    for (const pid of [...old, ...fresh]) assert.ok(report.bodies.has(pid), `nginx reached worker ${pid}`);
    assert.ok(report.ok > 50, `only ${report.ok} requests`);
    cli.signal("SIGTERM");
    assert.equal((await cli.exited).code, 0, cli.stderr());
  } finally {
    await nginx?.stop();
    cli.child.kill("SIGKILL");
  }
});
