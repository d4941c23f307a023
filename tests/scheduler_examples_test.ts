import assert from "node:assert/strict";
import { demo as timersDemo } from "../examples/timers.ts";
import { demo as selectServerDemo } from "../examples/select_server.ts";

Deno.test("examples/timers.ts: the ticker wakes the worker on its third tick, exactly on the manual clock", async () => {
  const lines = await timersDemo();
  assert.ok(lines.includes('worker woken at +30 ms with ["tick 3"]'), lines.join("\n"));
  assert.equal(lines.filter((line) => line === "worker finished: done").length, 2);
  assert.ok(!lines.some((line) => line.includes("never printed")));
});

Deno.test("examples/select_server.ts: one select loop serves three TCP clients", async () => {
  const lines = await selectServerDemo();
  for (const name of ["alice", "bob", "carol"]) {
    const upper = name.toUpperCase();
    assert.ok(
      lines.includes(`${name} got: HELLO FROM ${upper} | BYE FROM ${upper}`),
      lines.join("\n"),
    );
  }
  assert.ok(lines.includes("server: client 3 done, 0 still connected"));
});
