import assert from "node:assert/strict";
import { output } from "../process/mod.ts";
import { randomBytes, rejectsWith, text, zombieChildren } from "./_process_helpers.ts";

Deno.test("output collects stdout, stderr and the status", async () => {
  const result = await output(["sh", "-c", "echo out; echo err >&2; exit 4"]);
  assert.equal(text(result.stdout), "out\n");
  assert.equal(text(result.stderr), "err\n");
  assert.deepEqual(result.status, { exited: 4 });
});

Deno.test("output feeds stdin data; stdin is /dev/null without it", async () => {
  const data = randomBytes(1 << 20);
  const echoed = await output(["cat"], { stdin: data });
  assert.deepEqual(echoed.stdout, data);
  const empty = await output(["cat"]);
  assert.equal(empty.stdout.length, 0);
  assert.equal(text((await output(["cat"], { stdin: "text" })).stdout), "text");
});

Deno.test("output with stdin data for a child that never reads it", async () => {
  const result = await output(["true"], { stdin: new Uint8Array(4 << 20) });
  assert.deepEqual(result.status, { exited: 0 });
});

Deno.test("output reads large stdout and stderr at once without deadlock", async () => {
  const result = await output([
    "sh",
    "-c",
    "head -c 3000000 /dev/zero; head -c 2000000 /dev/zero >&2",
  ]);
  assert.equal(result.stdout.length, 3_000_000);
  assert.equal(result.stderr.length, 2_000_000);
});

Deno.test("output: timeout kills and reaps the child", async () => {
  await rejectsWith(output(["sleep", "30"], { timeout: 50 }), "timeout");
  assert.deepEqual(zombieChildren(), []);
});

Deno.test("output: an aborted signal kills the child and rejects aborted", async () => {
  const controller = new AbortController();
  const running = output(["sleep", "30"], { signal: controller.signal });
  controller.abort("enough");
  await rejectsWith(running, "aborted");
});

Deno.test("output validates its options", async () => {
  await rejectsWith(output(["true"], { stdin: 5 as never }), "invalid_argument", "stdin");
  await rejectsWith(output(["true"], { files: {} } as never), "invalid_argument", "files");
  await rejectsWith(output(["true"], { bogus: 1 } as never), "invalid_argument", "bogus");
  await rejectsWith(output([]), "invalid_argument", "args");
  await rejectsWith(output(["netkit-no-such-program"]), "not_found");
});
