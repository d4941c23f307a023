import assert from "node:assert/strict";
import { closeSync, openSync } from "node:fs";
import { fdopen, type FileSpec, pipe, socketpair, spawn } from "../process/mod.ts";
import { Stream } from "../mod.ts";
import { rawUnixPair } from "./_helpers.ts";
import {
  denoChild,
  processGroup,
  randomBytes,
  rejectsWith,
  text,
  zombieChildren,
} from "./_process_helpers.ts";

const isRoot = Deno.uid() === 0;

// --- bad input: invalid_argument naming the field, nothing started ---------

Deno.test("spawn rejects empty and non-string args", async () => {
  await rejectsWith(spawn([]), "invalid_argument", "args");
  await rejectsWith(spawn([42 as unknown as string]), "invalid_argument", "args");
  await rejectsWith(spawn("true" as unknown as string[]), "invalid_argument", "args");
  await rejectsWith(spawn(["echo", "a\0b"]), "invalid_argument", "args");
});

Deno.test("spawn rejects env names with '=' or NUL, empty names and values with NUL", async () => {
  for (
    const env of [{ "A=B": "1" }, { "A\0": "1" }, { "": "1" }, { A: "x\0y" }, {
      A: 1,
    }] as Record<string, string>[]
  ) {
    await rejectsWith(spawn(["true"], { env }), "invalid_argument", "env");
  }
});

Deno.test("spawn rejects an unknown option and wrong option types", async () => {
  await rejectsWith(spawn(["true"], { bogus: 1 } as never), "invalid_argument", "bogus");
  await rejectsWith(spawn(["true"], { uid: -1 }), "invalid_argument", "uid");
  await rejectsWith(spawn(["true"], { cwd: 5 } as never), "invalid_argument", "cwd");
  await rejectsWith(spawn(["true"], { pgroup: "yes" } as never), "invalid_argument", "pgroup");
  await rejectsWith(spawn(["true"], { exe: "" }), "invalid_argument", "exe");
});

Deno.test("spawn rejects files keys that are not fd numbers", async () => {
  for (const key of ["-1", "1.5", "x", "01", "5000"]) {
    await rejectsWith(
      spawn(["true"], { files: { [key]: "null" } as never }),
      "invalid_argument",
      "files",
    );
  }
});

Deno.test("spawn rejects unknown files values and closed streams", async () => {
  for (const value of ["pipe", -1, 1.5, {}, null, true]) {
    await rejectsWith(
      spawn(["true"], { files: { 1: value } as never }),
      "invalid_argument",
      "files",
    );
  }
  const [a, b] = await socketpair();
  a.close();
  await rejectsWith(spawn(["true"], { files: { 1: a } }), "invalid_argument", "files");
  b.close();
});

Deno.test("a parent descriptor that is not open is invalid_argument naming files", async () => {
  await rejectsWith(spawn(["true"], { files: { 1: 999 } }), "invalid_argument", "files");
});

Deno.test("files may be an array: index = child fd", async () => {
  await using child = await spawn(["sh", "-c", "echo from-array"], { files: ["null", "piped"] });
  assert.equal(await child.stdout.readLine(), "from-array");
  assert.deepEqual(await child.wait(), { exited: 0 });
});

Deno.test("spawn with an already aborted signal starts nothing", async () => {
  const controller = new AbortController();
  controller.abort("no");
  const error = await rejectsWith(spawn(["true"], { signal: controller.signal }), "aborted");
  assert.equal(error.cause, "no");
});

Deno.test("joining another process group is not_supported", async () => {
  await using leader = await spawn(["true"], { files: {} });
  await leader.wait();
  await rejectsWith(
    spawn(["true"], { pgroup: leader as never }),
    "not_supported",
    "pgroup",
  );
});

// --- faults ------------------------------------------------------------------

Deno.test("a missing program is not_found, on both engines, and leaks nothing", async () => {
  await rejectsWith(spawn(["netkit-no-such-program"]), "not_found");
  await rejectsWith(spawn(["/nonexistent/dir/prog"], { files: { 1: "piped" } }), "not_found");
  await rejectsWith(
    spawn(["netkit-no-such-program"], { files: { 1: "piped", 3: "piped" } }),
    "not_found",
  );
  assert.deepEqual(zombieChildren(), []);
});

Deno.test("a file that is not executable is access_denied, on both engines", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-process-" });
  try {
    const path = `${dir}/script.sh`;
    await Deno.writeTextFile(path, "#!/bin/sh\necho hi\n", { mode: 0o644 });
    await Deno.chmod(path, 0o644);
    await rejectsWith(spawn([path]), "access_denied");
    await rejectsWith(spawn([path], { files: { 1: "piped", 3: "piped" } }), "access_denied");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a missing cwd is not_found", async () => {
  await rejectsWith(spawn(["true"], { cwd: "/nonexistent/netkit" }), "not_found");
});

// --- options -----------------------------------------------------------------

Deno.test("PATH is searched for a bare name, and exe sets the image apart from argv[0]", async () => {
  await using child = await spawn(["my-name", "-c", 'echo "$0"'], {
    exe: "sh",
    files: { 1: "piped" },
  });
  assert.equal(await child.stdout.readLine(), "my-name");
  assert.deepEqual(await child.wait(), { exited: 0 });
});

Deno.test("env adds variables; clearEnv starts from nothing (both engines)", async () => {
  Deno.env.set("NETKIT_PARENT_VAR", "parent");
  try {
    const extras: Record<number, "null">[] = [{}, { 3: "null" }];
    for (const extra of extras) {
      {
        await using child = await spawn(["sh", "-c", 'echo "$NETKIT_PARENT_VAR $NETKIT_CHILD"'], {
          env: { NETKIT_CHILD: "child" },
          files: { 1: "piped", ...extra },
        });
        assert.equal(await child.stdout.readLine(), "parent child");
        await child.wait();
      }
      {
        await using child = await spawn(["/usr/bin/env"], {
          env: { ONLY: "this" },
          clearEnv: true,
          files: { 1: "piped", ...extra },
        });
        const lines = text(await child.stdout.readAll())!.trim().split("\n");
        // node:child_process in Deno always adds DENO_EXTRA_STDIO_FDS for fds above 2.
        assert.deepEqual(lines.filter((line) => !line.startsWith("DENO_EXTRA_STDIO_FDS=")), [
          "ONLY=this",
        ]);
        await child.wait();
      }
    }
  } finally {
    Deno.env.delete("NETKIT_PARENT_VAR");
  }
});

Deno.test("cwd sets the child's working directory", async () => {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "netkit-process-" }));
  try {
    await using child = await spawn(["pwd"], { cwd: dir, files: { 1: "piped" } });
    assert.equal(await child.stdout.readLine(), dir);
    await child.wait();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "uid and gid run the child as another user (needs root)",
  ignore: !isRoot,
  fn: async () => {
    // The checkout may sit where that user cannot go; "/" is open to all.
    await using child = await spawn(["sh", "-c", "id -u; id -g"], {
      uid: 65534,
      gid: 65534,
      cwd: "/",
      files: { 1: "piped" },
    });
    assert.equal(text(await child.stdout.readAll()), "65534\n65534\n");
    await child.wait();
  },
});

Deno.test({
  name: "a uid that cannot enter the cwd is access_denied saying so, on both engines (needs root)",
  ignore: !isRoot,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "netkit-process-" }); // 0700, ours
    try {
      const maps: Record<number, FileSpec>[] = [{ 1: "piped" }, { 1: "piped", 3: "piped" }];
      for (const files of maps) {
        const error = await rejectsWith(
          spawn(["true"], { uid: 65534, gid: 65534, cwd: dir, files }),
          "access_denied",
        );
        assert.ok(
          error.message.includes(`(the child runs as uid 65534, gid 65534: can it enter ${dir}?)`),
          error.message,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a uid that cannot enter our own cwd is access_denied suggesting cwd (needs root)",
  ignore: !isRoot,
  fn: async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "netkit-process-" }));
    try {
      const result = await denoChild(
        `
        import { spawn } from "NETKIT_PROCESS";
        for (const files of [{ 1: "piped" }, { 1: "piped", 3: "piped" }]) {
          await spawn(["true"], { uid: 65534, files }).then(
            () => console.log("started"),
            (error) => console.log(error.code, error.message),
          );
        }
      `,
        { cwd: dir },
      );
      assert.equal(result.code, 0, result.stderr);
      const lines = result.stdout.trim().split("\n");
      assert.equal(lines.length, 2, result.stdout);
      for (const line of lines) {
        assert.ok(line.startsWith("access_denied "), line);
        assert.ok(
          line.endsWith(
            `(the child runs as uid 65534: can it enter the working directory ${dir}? pass cwd)`,
          ),
          line,
        );
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("pgroup makes the child a process group leader; without it, it shares ours", async () => {
  await using leader = await spawn(["sleep", "10"], { pgroup: true });
  assert.equal(processGroup(leader.pid), leader.pid);
  await using member = await spawn(["sleep", "10"]);
  assert.equal(processGroup(member.pid), processGroup(Deno.pid));
});

Deno.test("the signal option sends SIGTERM", async () => {
  const controller = new AbortController();
  await using child = await spawn(["sleep", "10"], { signal: controller.signal });
  controller.abort();
  assert.deepEqual(await child.wait(), { signaled: "SIGTERM" });
});

// --- files -------------------------------------------------------------------

Deno.test("fds 0-2 missing from files are /dev/null", async () => {
  await using child = await spawn(["sh", "-c", "cat; ls -l /proc/self/fd/2 >&3"], {
    files: { 3: "piped" },
  });
  assert.match(text(await child.stdio[3]!.readAll())!, /\/dev\/null/);
  assert.deepEqual(await child.wait(), { exited: 0 });
});

/** Our fds ≥ 3 without close-on-exec (inherited from whoever started us). */
function inheritableFds(): number[] {
  const fds: number[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fdinfo")) {
    const fd = Number(entry.name);
    if (fd < 3) continue;
    try {
      const flags = /flags:\s+([0-7]+)/.exec(
        Deno.readTextFileSync(`/proc/self/fdinfo/${entry.name}`),
      )!;
      if ((parseInt(flags[1], 8) & 0o2000000) === 0) fds.push(fd);
    } catch {
      // closed meanwhile
    }
  }
  return fds;
}

Deno.test("only the fds named in files (and ones we inherited) are open in the child", async () => {
  await using child = await spawn(["ls", "/proc/self/fd"], {
    files: { 1: "piped", 5: "null" },
  });
  const fds = text(await child.stdout.readAll())!.trim().split("\n").map(Number);
  // ls opens fd 3 itself (the directory it lists).
  const expected = [0, 1, 2, 3, 5, ...inheritableFds()].sort((a, b) => a - b);
  assert.deepEqual(fds.sort((a, b) => a - b), [...new Set(expected)]);
  await child.wait();
});

Deno.test("child fd 3 works both ways while stdout stays free", async () => {
  await using child = await spawn(
    ["sh", "-c", "echo out; echo report >&3; read reply <&3; echo got $reply"],
    { files: { 1: "piped", 3: "piped" } },
  );
  assert.equal(await child.stdio[3]!.readLine(), "report");
  await child.stdio[3]!.writeAll("ack\n");
  assert.equal(await child.stdout.readLine(), "out");
  assert.equal(await child.stdout.readLine(), "got ack");
  assert.deepEqual(await child.wait(), { exited: 0 });
});

Deno.test("a parent fd number is handed over itself ({ 1: fd } from openSync)", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-process-" });
  const path = `${dir}/out.txt`;
  const fd = openSync(path, "w");
  try {
    {
      await using child = await spawn(["sh", "-c", "echo one; echo two >&2; echo three >&3"], {
        files: { 1: fd, 2: fd, 3: fd },
      });
      assert.deepEqual(await child.wait(), { exited: 0 });
    }
    {
      await using child = await spawn(["echo", "four"], { files: { 1: fd } });
      assert.deepEqual(await child.wait(), { exited: 0 });
    }
    assert.equal(await Deno.readTextFile(path), "one\ntwo\nthree\nfour\n");
  } finally {
    closeSync(fd);
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("an fdopen stream in files hands over that descriptor ({ 1: fdopen(2) })", async () => {
  const result = await denoChild(`
    import { fdopen, spawn } from "NETKIT_PROCESS";
    const stderr = fdopen(2);
    await using child = await spawn(["echo", "via stderr"], { files: { 1: stderr } });
    await child.wait();
    console.log("closed:", stderr.closed);
  `);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, "via stderr\n");
  assert.equal(result.stdout, "closed: true\n");
});

Deno.test("a child with an fd above 2 needs --allow-env, even without env", async () => {
  const code = `
    import { spawn } from "NETKIT_PROCESS";
    for (const files of [{ 1: "null" }, { 3: "piped" }, { 1: 2 }]) {
      try {
        await using child = await spawn(["true"], { files });
        await child.wait();
        console.log("ok");
      } catch (error) {
        console.log(error.code, /--allow-env/.test(error.message));
      }
    }
  `;
  const narrow = await denoChild(code, { flags: ["--no-prompt", "--allow-run"] });
  assert.equal(narrow.code, 0, narrow.stderr);
  assert.equal(narrow.stdout, "ok\naccess_denied true\naccess_denied true\n");
  const withEnv = await denoChild(code, { flags: ["--no-prompt", "--allow-run", "--allow-env"] });
  assert.equal(withEnv.stdout, "ok\nok\nok\n", withEnv.stderr);
});

Deno.test("inherit at fd 1 with no files: the child writes where we write", async () => {
  const result = await denoChild(`
    import { spawn } from "NETKIT_PROCESS";
    await using child = await spawn(["echo", "inherited"]);
    await child.wait();
  `);
  assert.equal(result.stdout, "inherited\n");
});

Deno.test("a pipe() pipeline: producer | consumer", async () => {
  const [reader, writer] = await pipe();
  await using producer = await spawn(["seq", "1", "1000"], { files: { 1: writer } });
  await using consumer = await spawn(["wc", "-l"], { files: { 0: reader, 1: "piped" } });
  assert.ok(reader.closed && writer.closed, "handed-over ends are closed in the parent");
  assert.equal((await consumer.stdout.readLine())?.trim(), "1000");
  assert.deepEqual(await producer.wait(), { exited: 0 });
  assert.deepEqual(await consumer.wait(), { exited: 0 });
});

Deno.test("a socketpair end handed to a child is pumped both ways without loss", async () => {
  const [mine, theirs] = await socketpair();
  await using child = await spawn(["cat"], { files: { 0: theirs, 1: theirs } });
  assert.ok(theirs.closed);
  const data = randomBytes(1 << 20);
  const [, echoed] = await Promise.all([
    mine.writeAll(data).then(() => mine.shutdown("w")),
    mine.readAll(),
  ]);
  assert.deepEqual(echoed, data);
  assert.deepEqual(await child.wait(), { exited: 0 });
  mine.close();
});

Deno.test("a socketpair end at child fd 3 carries both ways", async () => {
  const [mine, theirs] = await socketpair();
  await using child = await spawn(["sh", "-c", "read x <&3; echo hello $x >&3"], {
    files: { 3: theirs },
  });
  await mine.writeAll("socket\n");
  assert.equal(await mine.readLine(), "hello socket");
  assert.equal(await mine.read(), null);
  assert.deepEqual(await child.wait(), { exited: 0 });
  mine.close();
});

Deno.test("a plain Stream without a descriptor is pumped and closed when the pump ends", async () => {
  await using pair = await rawUnixPair();
  assert.ok(pair.server instanceof Stream);
  await using child = await spawn(["echo", "over unix"], { files: { 1: pair.server } });
  assert.equal(await pair.client.readLine(), "over unix");
  assert.equal(await pair.client.read(), null);
  assert.deepEqual(await child.wait(), { exited: 0 });
  assert.ok(pair.server.closed);
});

Deno.test("a stream can be handed over only once", async () => {
  const [a, b] = await socketpair();
  await using child = await spawn(["true"], { files: { 1: b } });
  await rejectsWith(spawn(["true"], { files: { 1: b } }), "invalid_argument", "files");
  await child.wait();
  a.close();
});

Deno.test("a pipe end given to spawn that fails stays with the caller", async () => {
  const [reader, writer] = await pipe();
  await rejectsWith(spawn(["netkit-no-such-program"], { files: { 1: writer } }), "not_found");
  assert.equal(writer.closed, false);
  await writer.writeAll("still mine");
  writer.close();
  assert.equal(text(await reader.readAll()), "still mine");
  reader.close();
});

// --- reaping -------------------------------------------------------------------

Deno.test("100 processes spawned concurrently are all reaped (no zombies)", async () => {
  const children = await Promise.all(
    Array.from({ length: 100 }, (_, i) => spawn(["sh", "-c", `exit ${i % 7}`], { files: {} })),
  );
  const statuses = await Promise.all(children.map((child) => child.wait()));
  statuses.forEach((status, i) => assert.deepEqual(status, { exited: i % 7 }));
  await Promise.all(children.map((child) => child.close()));
  assert.deepEqual(zombieChildren(), []);
});

Deno.test("fdopen rejects a descriptor number that is not a whole number from 0", async () => {
  await rejectsWith(() => fdopen(-1 as 0), "invalid_argument", "n");
});
