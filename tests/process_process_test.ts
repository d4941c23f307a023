import assert from "node:assert/strict";
import { pollable } from "../common/readiness.ts";
import { Process, spawn } from "../process/mod.ts";
import { Stream } from "../mod.ts";
import { randomBytes, rejectsWith, zombieChildren } from "./_process_helpers.ts";

// Each case runs once through Deno.Command (fds 0-2 only) and once through
// node:child_process (an extra fd 9 forces it).
const ENGINES: [string, Record<number, "null">][] = [["Deno.Command", {}], ["node", { 9: "null" }]];

for (const [engine, extra] of ENGINES) {
  Deno.test(`${engine}: exit codes come back as { exited }`, async () => {
    await using child = await spawn(["sh", "-c", "exit 3"], { files: { ...extra } });
    assert.deepEqual(await child.wait(), { exited: 3 });
    assert.deepEqual(child.tryWait(), { exited: 3 });
  });

  Deno.test(`${engine}: kill() gives { signaled: "SIGTERM" } and is harmless after exit`, async () => {
    await using child = await spawn(["sleep", "30"], { files: { ...extra } });
    assert.equal(child.tryWait(), undefined);
    child.kill();
    assert.deepEqual(await child.wait(), { signaled: "SIGTERM" });
    child.kill();
    child.kill("SIGKILL");
    assert.deepEqual(await child.wait(), { signaled: "SIGTERM" });
  });

  Deno.test(`${engine}: kill right after a natural exit is harmless`, async () => {
    await using child = await spawn(["true"], { files: { ...extra } });
    await child.wait();
    child.kill("SIGKILL");
    assert.deepEqual(child.tryWait(), { exited: 0 });
  });

  Deno.test(`${engine}: a child that exits before reading its stdin`, async () => {
    await using child = await spawn(["true"], { files: { 0: "piped", ...extra } });
    assert.deepEqual(await child.wait(), { exited: 0 });
    const error = await rejectsWith(child.stdin.writeAll(new Uint8Array(1 << 20)), "broken_pipe");
    assert.equal(typeof error.written, "number");
  });

  Deno.test(`${engine}: killing the child makes a blocked writeAll reject`, async () => {
    await using child = await spawn(["sleep", "30"], { files: { 0: "piped", ...extra } });
    const writing = child.stdin.writeAll(new Uint8Array(8 << 20));
    child.kill();
    const error = await rejectsWith(writing, "broken_pipe");
    assert.ok(error.written! < 8 << 20);
    assert.deepEqual(await child.wait(), { signaled: "SIGTERM" });
  });

  Deno.test(`${engine}: cat with 4 MiB written while reading concurrently is byte-exact`, async () => {
    await using child = await spawn(["cat"], { files: { 0: "piped", 1: "piped", ...extra } });
    const data = randomBytes(4 << 20);
    const [, echoed] = await Promise.all([
      child.stdin.writeAll(data).then(() => child.stdin.shutdown("w")),
      child.stdout.readAll(),
    ]);
    assert.equal(echoed.length, data.length);
    assert.deepEqual(echoed, data);
    assert.deepEqual(await child.wait(), { exited: 0 });
  });

  Deno.test(`${engine}: 50 MiB read slowly: backpressure stops the child, nothing is lost`, async () => {
    const size = 50 << 20;
    await using child = await spawn(["sh", "-c", `yes 0123456 | head -c ${size}`], {
      files: { 1: "piped", ...extra },
    });
    const buffer = new Uint8Array(4096);
    let total = 0;
    while (total < 1 << 20) total += (await child.stdout.readInto(buffer))!;
    // A pipe holds 64 KiB: having read 1 MiB of 50, the writer must be blocked.
    assert.equal(child.tryWait(), undefined);
    const pattern = new TextEncoder().encode("0123456\n");
    for (;;) {
      const n = await child.stdout.readInto(buffer);
      if (n === null) break;
      for (let i = 0; i < n; i += 997) {
        assert.equal(buffer[i], pattern[(total + i) % 8]);
      }
      total += n;
    }
    assert.equal(total, size);
    assert.deepEqual(await child.wait(), { exited: 0 });
  });

  Deno.test(`${engine}: dispose kills, reaps and closes the pipes`, async () => {
    const child = await spawn(["sleep", "30"], { files: { 0: "piped", 1: "piped", ...extra } });
    await child[Symbol.asyncDispose]();
    assert.deepEqual(child.tryWait(), { signaled: "SIGKILL" });
    assert.ok(child.stdin.closed && child.stdout.closed);
    await child.close();
    assert.deepEqual(zombieChildren(), []);
  });

  Deno.test(`${engine}: dispose rejects a read pending on a pipe a grandchild holds`, async () => {
    const child = await spawn(["sh", "-c", "sleep 30 & echo started; wait"], {
      pgroup: true,
      files: { 1: "piped", ...extra },
    });
    assert.equal(await child.stdout.readLine(), "started");
    const reading = child.stdout.read();
    await child.close();
    await rejectsWith(reading, "closed");
    child.kill("SIGKILL", { group: true });
  });
}

Deno.test("kill({ group: true }) reaches a grandchild; plain kill() does not", async () => {
  await using child = await spawn(["sh", "-c", "sleep 30 & echo $!; wait"], {
    pgroup: true,
    files: { 1: "piped" },
  });
  assert.match((await child.stdout.readLine())!, /^\d+$/); // the grandchild runs
  child.kill();
  assert.deepEqual(await child.wait(), { signaled: "SIGTERM" });
  // The grandchild still holds the stdout pipe open.
  await rejectsWith(child.stdout.read(16384, { timeout: 100 }), "timeout");
  child.kill("SIGTERM", { group: true });
  assert.equal(await child.stdout.read(), null);
  child.kill("SIGTERM", { group: true }); // an empty group is harmless
});

Deno.test("kill({ group: true }) needs pgroup; bad signals are invalid_argument", async () => {
  await using child = await spawn(["sleep", "30"]);
  await rejectsWith(() => child.kill("SIGTERM", { group: true }), "invalid_argument", "group");
  await rejectsWith(() => child.kill("SIGBOGUS" as Deno.Signal), "invalid_argument", "signal");
  await rejectsWith(() => child.kill(0), "invalid_argument", "signal");
  await rejectsWith(() => child.kill("SIGTERM", { grp: true } as never), "invalid_argument", "grp");
  assert.equal(child.tryWait(), undefined);
  child.kill(9);
  assert.deepEqual(await child.wait(), { signaled: "SIGKILL" });
});

Deno.test("wait takes a timeout and leaves the child running", async () => {
  await using child = await spawn(["sleep", "30"]);
  await rejectsWith(child.wait({ timeout: 20 }), "timeout");
  await rejectsWith(child.wait({ timeout: -1 }), "invalid_argument", "timeout");
  assert.equal(child.tryWait(), undefined);
});

Deno.test("stdin/stdout/stderr that were not piped are invalid_argument naming files", async () => {
  await using child = await spawn(["true"], { files: { 1: "piped" } });
  await rejectsWith(() => child.stdin, "invalid_argument", "files");
  await rejectsWith(() => child.stderr, "invalid_argument", "files");
  assert.deepEqual(Object.keys(child.stdio), ["1"]);
  assert.equal(child.stdout, child.stdio[1]);
  await child.wait();
});

Deno.test("stdio is a frozen record that is undefined at fds not piped", async () => {
  await using child = await spawn(["true"], { files: { 0: "null", 3: "piped" } });
  // The type says so too: without the check, stdio[0].read() does not compile.
  const none: Stream | undefined = child.stdio[0];
  assert.equal(none, undefined);
  assert.equal(child.stdio[2], undefined);
  assert.ok(child.stdio[3] instanceof Stream);
  assert.ok(Object.isFrozen(child.stdio));
  await child.wait();
});

Deno.test("a Process cannot be constructed: it comes from spawn", async () => {
  // @ts-expect-error the constructor is private
  await rejectsWith(() => new Process(), "invalid_argument");
});

Deno.test("a piped stdout is read-only and a piped stdin write-only", async () => {
  await using child = await spawn(["cat"], { files: { 0: "piped", 1: "piped" } });
  await rejectsWith(child.stdout.write("x"), "not_supported");
  await rejectsWith(child.stdin.read(), "not_supported");
});

Deno.test("Process is pollable: readable once the child exited", async () => {
  await using child = await spawn(["sleep", "30"]);
  const poll = child[pollable]();
  assert.equal(poll.pollRead(), false);
  const exited = poll.waitRead();
  child.kill();
  await exited;
  assert.equal(poll.pollRead(), true);
  assert.equal(poll.closed, false);
  await child.close();
  assert.equal(poll.closed, true);
});
