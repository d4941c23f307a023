/**
 * Why `pgroup: <process>` is `not_supported`: a `pgroup: true` child leads
 * a new session as well as a new group (the runtime's `detached` calls
 * setsid), and Linux lets a process join only a group of its own session.
 */
import assert from "node:assert/strict";
import { spawn } from "../process/mod.ts";
import { rejectsWith } from "./_process_helpers.ts";

/** Fields 5 and 6 of /proc/<pid>/stat: process group and session. */
function groupAndSession(pid: number): [number, number] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return [Number(fields[2]), Number(fields[3])];
}

Deno.test("a pgroup: true child leads a new group and a new session; joining it is not_supported", async () => {
  await using leader = await spawn(["sleep", "30"], { pgroup: true });
  const [group, session] = groupAndSession(leader.pid);
  assert.equal(group, leader.pid);
  assert.equal(session, leader.pid);
  assert.notEqual(session, groupAndSession(Deno.pid)[1]);
  const error = await rejectsWith(
    spawn(["true"], { pgroup: leader as never }),
    "not_supported",
    "pgroup",
  );
  assert.match(error.message, /session/);
});
