/**
 * listenFds (systemd socket activation): a child started with LISTEN_PID
 * (its own pid, via `sh -c 'LISTEN_PID=$$ exec …'`), LISTEN_FDS=2 and
 * LISTEN_FDNAMES=web:admin and two listeners at fd 3 and 4 adopts both with
 * their names and serves on them; a wrong LISTEN_PID gives []; the
 * variables are gone afterwards.
 */
import assert from "node:assert/strict";
import { listenFds } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { tempDir } from "./_unix_util.ts";
import { childLine, passing, shell } from "./_adopt_helpers.ts";

Deno.test("listenFds: two named listeners at fd 3 and 4, adopted and served", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/admin.sock`;
  await using child = await passing(
    ["tcp-listen", `unix-listen:${path}`],
    shell(
      `LISTEN_PID=$$ LISTEN_FDS=2 LISTEN_FDNAMES=web:admin exec ${childLine("listenfds")}`,
    ),
  );
  const report = await child.next() as {
    entries: { name: string; kind: string; fd: number; addr: Record<string, unknown> }[];
    env: (string | null)[];
    again: number;
  };
  assert.deepEqual(report.entries.map((e) => [e.name, e.kind, e.fd]), [
    ["web", "TcpListener", 3],
    ["admin", "UnixListener", 4],
  ]);
  assert.equal(report.entries[0].addr.port, child.made[0].port);
  assert.equal(report.entries[1].addr.path, path);
  assert.deepEqual(report.env, [null, null, null], "the variables are unset");
  assert.equal(report.again, 0);
  {
    await using web = await tcp.connect("127.0.0.1", child.made[0].port!, { timeout: 5000 });
    assert.equal(await web.readLine({ timeout: 10_000 }), "web");
  }
  {
    await using admin = await unix.connect(path);
    assert.equal(await admin.readLine({ timeout: 10_000 }), "admin");
  }
  assert.deepEqual(await child.next(), { done: true });
  const { code, stderr } = await child.done();
  assert.equal(code, 0, stderr);
});

Deno.test("listenFds: another process's LISTEN_PID gives [] (and the variables go)", async () => {
  await using child = await passing(
    ["tcp-listen"],
    shell(`LISTEN_PID=1 LISTEN_FDS=1 LISTEN_FDNAMES=web exec ${childLine("listenfds")}`),
  );
  const report = await child.next();
  assert.deepEqual(report.entries, []);
  assert.deepEqual(report.env, [null, null, null]);
  assert.deepEqual(await child.next(), { done: true });
  assert.equal((await child.done()).code, 0);
});

Deno.test("listenFds in this process: nothing passed, another pid, a bad count", async () => {
  assert.deepEqual(listenFds(), []);
  Deno.env.set("LISTEN_PID", String(Deno.pid + 1));
  Deno.env.set("LISTEN_FDS", "1");
  assert.deepEqual(listenFds(), []);
  assert.equal(Deno.env.get("LISTEN_FDS"), undefined);
  Deno.env.set("LISTEN_PID", String(Deno.pid));
  Deno.env.set("LISTEN_FDS", "two");
  await rejectsWith(() => listenFds(), "invalid_argument", "LISTEN_FDS");
  assert.equal(Deno.env.get("LISTEN_PID"), undefined);
});
