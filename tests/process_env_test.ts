import assert from "node:assert/strict";
import { env } from "../process/mod.ts";

Deno.test("env is a frozen snapshot of our environment", () => {
  assert.equal(env.PATH, Deno.env.get("PATH"));
  assert.ok(Object.isFrozen(env));
  assert.throws(() => {
    (env as Record<string, string>).NETKIT_NEW = "x";
  }, TypeError);
  Deno.env.set("NETKIT_LATER", "1");
  try {
    assert.equal(env.NETKIT_LATER, undefined);
  } finally {
    Deno.env.delete("NETKIT_LATER");
  }
});
