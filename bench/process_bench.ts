/**
 * process benches: netkit `spawn` against raw `Deno.Command` and raw
 * `node:child_process`, grouped so that `deno bench` prints the ratios.
 *
 * Run: `deno bench -A bench/process_bench.ts`
 */

import { spawn as nodeSpawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { spawn } from "../process/mod.ts";

const SPAWNS = 20;
const CHUNK = 64 * 1024;
const CAT_BYTES = 64 << 20;
const FD3_BYTES = 64 << 20;
const chunk = new Uint8Array(CHUNK).fill(7);

function nodeExit(child: ReturnType<typeof nodeSpawn>): Promise<number | null> {
  return new Promise((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", (code) => resolve(code));
  });
}

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(what);
}

// --- spawn and wait `true` -------------------------------------------------------

Deno.bench({
  name: `Deno.Command: spawn+wait true ×${SPAWNS}`,
  group: "spawn",
  baseline: true,
  async fn() {
    for (let i = 0; i < SPAWNS; i++) {
      const child = new Deno.Command("true", { stdin: "null", stdout: "null", stderr: "null" })
        .spawn();
      check((await child.status).code === 0, "true failed");
    }
  },
});

Deno.bench({
  name: `node:child_process: spawn+wait true ×${SPAWNS}`,
  group: "spawn",
  async fn() {
    for (let i = 0; i < SPAWNS; i++) {
      check(await nodeExit(nodeSpawn("true", [], { stdio: "ignore" })) === 0, "true failed");
    }
  },
});

Deno.bench({
  name: `netkit spawn+wait true ×${SPAWNS}`,
  group: "spawn",
  async fn() {
    for (let i = 0; i < SPAWNS; i++) {
      const child = await spawn(["true"], { files: { 0: "null", 1: "null", 2: "null" } });
      check((await child.wait()).exited === 0, "true failed");
    }
  },
});

// --- 64 MiB through cat ------------------------------------------------------------

Deno.bench({
  name: "Deno.Command: 64 MiB through cat",
  group: "cat",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const child = new Deno.Command("cat", { stdin: "piped", stdout: "piped", stderr: "null" })
      .spawn();
    const writing = (async () => {
      const writer = child.stdin.getWriter();
      for (let sent = 0; sent < CAT_BYTES; sent += CHUNK) await writer.write(chunk);
      await writer.close();
    })();
    let total = 0;
    for await (const part of child.stdout) total += part.length;
    await writing;
    check((await child.status).code === 0 && total === CAT_BYTES, "cat lost bytes");
  },
});

Deno.bench({
  name: "node:child_process: 64 MiB through cat",
  group: "cat",
  n: 5,
  warmup: 1,
  async fn() {
    const child = nodeSpawn("cat", [], { stdio: ["pipe", "pipe", "ignore"] });
    const exited = nodeExit(child);
    const stdin = child.stdin as Writable;
    const writing = (async () => {
      for (let sent = 0; sent < CAT_BYTES; sent += CHUNK) {
        if (!stdin.write(chunk)) await new Promise((resolve) => stdin.once("drain", resolve));
      }
      stdin.end();
    })();
    let total = 0;
    for await (const part of child.stdout as Readable) total += part.length;
    await writing;
    check(await exited === 0 && total === CAT_BYTES, "cat lost bytes");
  },
});

Deno.bench({
  name: "netkit: 64 MiB through cat",
  group: "cat",
  n: 5,
  warmup: 1,
  async fn() {
    await using child = await spawn(["cat"], { files: { 0: "piped", 1: "piped", 2: "null" } });
    const writing = (async () => {
      for (let sent = 0; sent < CAT_BYTES; sent += CHUNK) await child.stdin.writeAll(chunk);
      child.stdin.close();
    })();
    const buffer = new Uint8Array(CHUNK);
    let total = 0;
    for (;;) {
      const n = await child.stdout.readInto(buffer);
      if (n === null) break;
      total += n;
    }
    await writing;
    check((await child.wait()).exited === 0 && total === CAT_BYTES, "cat lost bytes");
  },
});

// --- 64 MiB out of a child's fd 3 (only node:child_process maps fd 3) ------------

const FD3_SCRIPT = `head -c ${FD3_BYTES} /dev/zero >&3`;

Deno.bench({
  name: "node:child_process: 64 MiB out of fd 3",
  group: "fd3",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const child = nodeSpawn("sh", ["-c", FD3_SCRIPT], {
      stdio: ["ignore", "ignore", "ignore", "pipe"],
    });
    const exited = nodeExit(child);
    let total = 0;
    for await (const part of child.stdio[3] as Readable) total += part.length;
    check(await exited === 0 && total === FD3_BYTES, "fd 3 lost bytes");
  },
});

Deno.bench({
  name: "netkit: 64 MiB out of fd 3",
  group: "fd3",
  n: 5,
  warmup: 1,
  async fn() {
    await using child = await spawn(["sh", "-c", FD3_SCRIPT], { files: { 3: "piped" } });
    const buffer = new Uint8Array(CHUNK);
    let total = 0;
    for (;;) {
      const n = await child.stdio[3]!.readInto(buffer);
      if (n === null) break;
      total += n;
    }
    check((await child.wait()).exited === 0 && total === FD3_BYTES, "fd 3 lost bytes");
  },
});
