/**
 * Faults: descriptor exhaustion (libuv test-emfile, Deno #10148). A child
 * `deno` under a limit of 64 or 65 descriptors opens connections until one fails:
 * the failure is a NetError `resource_exhausted` (on connect or accept and,
 * with the table full of files, on accept), and the listener keeps serving once
 * descriptors are freed — including the client the kernel queued meanwhile.
 */
import assert from "node:assert/strict";

const CHILD = new URL("./_reliability_fd_child.ts", import.meta.url).pathname;

async function underLimit(
  transport: "tcp" | "unix",
  limit: number,
): Promise<Record<string, unknown>> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-fd-" });
  try {
    // `ulimit -n` in sh works wherever prlimit(1) is missing.
    const command = `ulimit -n ${limit} && exec "$0" run -A --no-config "$1" "$2" "$3"`;
    const { code, stdout, stderr } = await new Deno.Command("sh", {
      args: ["-c", command, Deno.execPath(), CHILD, transport, dir],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const errors = new TextDecoder().decode(stderr);
    assert.equal(code, 0, `child failed (an uncaught error or rejection):\n${errors}`);
    const entries = [...Deno.readDirSync(dir)];
    assert.deepEqual(entries, [], "the child left files behind");
    return JSON.parse(new TextDecoder().decode(stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// Each connection takes one descriptor per side, so two limits one apart make
// connect fail first under one and accept under the other, whatever the
// runtime itself holds open.
for (const transport of ["tcp", "unix"] as const) {
  for (const limit of [64, 65]) {
    Deno.test(`${transport}: out of descriptors (limit ${limit}), connect or accept fails resource_exhausted and the listener keeps serving`, async () => {
      const result = await underLimit(transport, limit);
      const first = result.first as { op: string; code: string };
      assert.ok(first !== undefined, "the descriptors never ran out");
      assert.equal(first.code, "resource_exhausted", JSON.stringify(first));
      assert.ok(["connect", "accept"].includes(first.op), first.op);
      assert.ok((result.held as number) >= 10, `only ${result.held} streams before exhaustion`);
      if (first.op === "accept") {
        assert.equal(result.orphanServed, true, "the client whose accept failed was not served");
      } else {
        assert.equal(result.orphanServed, undefined);
      }
      assert.equal(result.servesAfterFreeing, true);
      const acceptFailure = result.acceptFailure as { op: string; code: string };
      assert.deepEqual(
        { op: acceptFailure?.op, code: acceptFailure?.code },
        { op: "accept", code: "resource_exhausted" },
      );
      assert.equal(result.queuedServed, true, "the client queued during exhaustion was not served");
    });
  }
}
