import assert from "node:assert/strict";
import { type FileSpec, spawn } from "../process/mod.ts";
import { randomBytes, rejectsWith } from "./_process_helpers.ts";

const TEN_MIB = 10 << 20;

/**
 * The ways a child's pipe is made: Deno.Command (fds 0–2), node:child_process
 * with a pipe at fd 0 (an fd above 2 elsewhere forces that engine), and
 * node:child_process at fd 3 (a socket pair). Each reads `n` bytes with head.
 */
const ENGINES: {
  name: string;
  fd: number;
  args: (n: number) => string[];
  files: Record<number, FileSpec>;
}[] = [
  {
    name: "Deno.Command, fd 0",
    fd: 0,
    args: (n) => ["head", "-c", `${n}`],
    files: { 0: "piped", 1: "piped" },
  },
  {
    name: "node:child_process, fd 0",
    fd: 0,
    args: (n) => ["head", "-c", `${n}`],
    files: { 0: "piped", 1: "piped", 3: "null" },
  },
  {
    name: "node:child_process, fd 3",
    fd: 3,
    args: (n) => ["sh", "-c", `head -c ${n} <&3`],
    files: { 1: "piped", 3: "piped" },
  },
];

/** Writes `data` to a child that keeps the first `n` bytes; returns the error and its output. */
async function writeToHead(
  engine: (typeof ENGINES)[number],
  n: number,
  data: Uint8Array,
): Promise<{ written: number; output: Uint8Array }> {
  await using child = await spawn(engine.args(n), { files: engine.files });
  const output = child.stdout.readAll();
  const error = await rejectsWith(child.stdio[engine.fd]!.writeAll(data), "broken_pipe");
  assert.deepEqual(await child.wait(), { exited: 0 });
  assert.equal(typeof error.written, "number", error.message);
  return { written: error.written!, output: await output };
}

for (const engine of ENGINES) {
  Deno.test(`writeAll to a child that stops reading reports what went (${engine.name})`, async () => {
    const data = randomBytes(TEN_MIB);
    const { written, output } = await writeToHead(engine, 100, data);
    assert.ok(written >= 100, `written ${written} < the 100 bytes the child consumed`);
    assert.ok(written <= data.length, `written ${written} > the ${data.length} bytes given`);
    assert.deepEqual(output, data.subarray(0, 100));
  });

  Deno.test(`writeAll of a buffer that is no multiple of a write arrives whole (${engine.name})`, async () => {
    const data = randomBytes((3 << 20) + 1);
    const args = engine.fd === 0 ? ["cat"] : ["sh", "-c", "cat <&3"];
    await using child = await spawn(args, { files: engine.files });
    const output = child.stdout.readAll();
    const stream = child.stdio[engine.fd]!;
    await stream.writeAll(data);
    await stream.shutdown("w");
    assert.deepEqual(await output, data);
    assert.deepEqual(await child.wait(), { exited: 0 });
  });
}

Deno.test("writeAll into a socket at fd 3 counts every byte the child read", async () => {
  const fd3 = ENGINES[2];
  const data = randomBytes(TEN_MIB);
  for (const n of [1, 65_537, 100_000, 220_459, 1_000_003]) {
    const { written, output } = await writeToHead(fd3, n, data);
    assert.ok(written >= n, `head -c ${n}: written ${written} < what it consumed`);
    assert.deepEqual(output, data.subarray(0, n));
  }
});
