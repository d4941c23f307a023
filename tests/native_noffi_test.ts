/**
 * The native layer without `--allow-ffi`: a child `deno run` granted every
 * flag it needs except that one. Every capability below Deno fails
 * `not_supported` with a message naming `--allow-ffi`, validation is the
 * same as with it, and the rest of netkit works as before.
 */
import assert from "node:assert/strict";
import { tempDir } from "./_unix_util.ts";

const CHILD = new URL("./_native_noffi_child.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

interface Outcome {
  value?: unknown;
  code?: string;
  field?: string | null;
  message?: string;
}

Deno.test("without --allow-ffi: not_supported naming the flag, and nothing else broke", async () => {
  await using dir = await tempDir();
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      CHILD,
      dir.path,
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<string, unknown>;
  const support = report.support as { available: boolean; reason: string };
  assert.equal(support.available, false);
  assert.match(support.reason, /--allow-ffi/);
  assert.equal(report.permission, "prompt"); // asked, never prompted
  for (
    const key of [
      "fileno",
      "listenerFileno",
      "setRcvbuf",
      "getRcvbuf",
      "listenerOption",
      "abort",
      "unixPeercred",
      "unixAbort",
      "udpFileno",
      "udpOption",
    ]
  ) {
    const outcome = report[key] as Outcome;
    assert.equal(outcome.code, "not_supported", `${key}: ${JSON.stringify(outcome)}`);
    assert.match(outcome.message!, /--allow-ffi/, key);
  }
  // tcp_nodelay and so_keepalive keep working through Deno.
  assert.deepEqual(report.setNodelay, { value: null });
  assert.deepEqual(report.getNodelay, { value: false });
  assert.deepEqual(report.setKeepalive, { value: null });
  assert.deepEqual(report.getKeepalive, { value: true });
  // Validation does not depend on the flag.
  assert.equal((report.badName as Outcome).code, "invalid_argument");
  assert.equal((report.badName as Outcome).field, "name");
  assert.equal((report.badValue as Outcome).field, "value");
  assert.equal((report.wrongSocket as Outcome).field, "name");
  assert.equal((report.readOnly as Outcome).code, "not_supported");
  assert.doesNotMatch((report.readOnly as Outcome).message!, /--allow-ffi/);
  // A failed abort leaves the stream open and working.
  assert.equal(report.stillOpen, true);
  assert.equal(report.echo, "still works");
  assert.equal(report.afterClose, null);
  assert.equal(report.unixEcho, "unix ok");
  assert.equal(report.udpEcho, "udp ok");
});
