import assert from "node:assert/strict";
import { Deadline, withDeadline } from "../common/_deadline.ts";
import { NetError } from "../common/errors.ts";
import { Lock } from "../common/_lock.ts";

const never = () => new Promise<never>(() => {});

Deno.test("withDeadline returns the promise itself without a deadline", () => {
  const promise = Promise.resolve(1);
  assert.equal(withDeadline(promise, undefined, "op"), promise);
  assert.equal(withDeadline(promise, {}, "op"), promise);
});

Deno.test("withDeadline rejects timeout and clears its timer", async () => {
  await assert.rejects(
    () => withDeadline(never(), { timeout: 5 }, "read", "here"),
    (e: NetError) => e.code === "timeout" && e.op === "read" && e.address === "here",
  );
});

Deno.test("withDeadline rejects aborted with the reason as cause and removes its listener", async () => {
  const controller = new AbortController();
  const waiting = withDeadline(never(), { signal: controller.signal, timeout: 10_000 }, "accept");
  controller.abort("enough");
  await assert.rejects(
    () => waiting,
    (e: NetError) => e.code === "aborted" && e.cause === "enough",
  );
});

Deno.test("withDeadline resolves with the value when it comes first", async () => {
  const controller = new AbortController();
  assert.equal(
    await withDeadline(Promise.resolve(7), { timeout: 1000, signal: controller.signal }, "op"),
    7,
  );
  controller.abort();
});

Deno.test("an expired deadline fails before any work", async () => {
  await assert.rejects(
    () => withDeadline(Promise.resolve(1), { timeout: 0 }, "op"),
    (e: NetError) => e.code === "timeout",
  );
  await assert.rejects(
    () => withDeadline(Promise.resolve(1), { signal: AbortSignal.abort() }, "op"),
    (e: NetError) => e.code === "aborted",
  );
});

Deno.test("a deadline's signal aborts Deno.connect-style waits with the NetError as reason", async () => {
  const deadline = Deadline.of({ timeout: 5 }, "connect", "127.0.0.1:1")!;
  await new Promise((resolve) => deadline.signal.addEventListener("abort", resolve));
  assert.ok(deadline.signal.reason instanceof NetError);
  assert.equal(deadline.signal.reason.code, "timeout");
  deadline.dispose();
  assert.equal(Deadline.of(undefined, "connect"), undefined);
  using disposed = Deadline.of({ timeout: 10_000 }, "connect")!;
  assert.equal(disposed.signal.aborted, false);
});

Deno.test("a Lock waiter whose deadline passes gives up its turn", async () => {
  const lock = new Lock();
  assert.ok(lock.tryAcquire());
  await assert.rejects(
    () => lock.acquire(Deadline.of({ timeout: 5 }, "read")),
    (e: NetError) => e.code === "timeout",
  );
  const next = lock.acquire();
  lock.release();
  await next;
  assert.ok(lock.held);
  lock.release();
  assert.equal(lock.held, false);
});
