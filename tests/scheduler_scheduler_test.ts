import assert from "node:assert/strict";
import { rejectsNetError, throwsNetError } from "./_scheduler_helpers.ts";
import {
  clock,
  defaultScheduler,
  ManualClock,
  runAfter,
  Scheduler,
  sleep,
  sleepUntil,
} from "../scheduler/mod.ts";

Deno.test("sleep resolves when the manual clock reaches its due time, not before", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  let woke = -1;
  const sleeping = scheduler.sleep(50).then(() => void (woke = manual.now()));
  manual.advance(49);
  await Promise.resolve();
  assert.equal(woke, -1);
  manual.advance(1);
  await sleeping;
  assert.equal(woke, 50);
});

Deno.test("sleepUntil wakes at that clock time, and at once for a time already passed", async () => {
  const manual = new ManualClock(1000);
  const scheduler = new Scheduler({ clock: manual });
  const order: string[] = [];
  const later = scheduler.sleepUntil(1200).then(() => order.push(`later@${manual.now()}`));
  const past = scheduler.sleepUntil(10).then(() => order.push(`past@${manual.now()}`));
  manual.advance(0);
  await past;
  manual.advance(199);
  await Promise.resolve();
  assert.deepEqual(order, ["past@1000"]);
  manual.advance(1);
  await later;
  assert.deepEqual(order, ["past@1000", "later@1200"]);
});

Deno.test("an aborted sleep rejects aborted with the signal's reason as cause, and leaves no timer", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  const controller = new AbortController();
  const sleeping = scheduler.sleep(1000, { signal: controller.signal });
  assert.equal(scheduler.pendingTimers, 1);
  controller.abort("enough");
  const error = await rejectsNetError(sleeping, "aborted");
  assert.equal(error.cause, "enough");
  assert.equal(scheduler.pendingTimers, 0);
  assert.equal(manual.pending, 0);
  await rejectsNetError(scheduler.sleep(5, { signal: controller.signal }), "aborted");
});

Deno.test("a sleep with a shorter timeout rejects timeout at the timeout, a longer one sleeps", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  const short = scheduler.sleep(100, { timeout: 10 });
  const long = scheduler.sleep(10, { timeout: 100 });
  manual.advance(10);
  await rejectsNetError(short, "timeout");
  await long;
  assert.equal(scheduler.pendingTimers, 0);
  await rejectsNetError(scheduler.sleep(5, { timeout: 0 }), "timeout");
});

Deno.test("sleep(Infinity) waits until aborted and creates no timer", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  const controller = new AbortController();
  const forever = scheduler.sleep(Infinity, { signal: controller.signal });
  assert.equal(scheduler.pendingTimers, 0);
  manual.advance(1e9);
  controller.abort();
  await rejectsNetError(forever, "aborted");
});

Deno.test("bad sleep arguments reject invalid_argument naming the field", async () => {
  const scheduler = new Scheduler({ clock: new ManualClock() });
  await rejectsNetError(scheduler.sleep(-1), "invalid_argument", "ms");
  await rejectsNetError(scheduler.sleep("5" as never), "invalid_argument", "ms");
  await rejectsNetError(scheduler.sleepUntil(Number.NaN), "invalid_argument", "t");
  await rejectsNetError(scheduler.sleep(1, { timeout: -1 }), "invalid_argument", "timeout");
  await rejectsNetError(
    scheduler.sleep(1, { signal: "no" as never }),
    "invalid_argument",
    "signal",
  );
  await rejectsNetError(scheduler.sleep(1, { after: 1 } as never), "invalid_argument", "after");
  throwsNetError(() => new ManualClock(Number.NaN), "invalid_argument", "start");
});

Deno.test("real clock: the default scheduler's sleep, sleepUntil and clock work together", async () => {
  const start = clock();
  await sleep(2);
  const afterSleep = clock();
  assert.ok(afterSleep >= start + 2);
  await sleepUntil(afterSleep + 1);
  assert.ok(clock() >= afterSleep + 1);
  assert.equal(defaultScheduler.pendingTimers, 0);
});

Deno.test("real clock: many concurrent sleeps and timers share one queue and all complete", async () => {
  const woke: number[] = [];
  await Promise.all(
    Array.from({ length: 200 }, (_, i) => sleep(i % 5).then(() => void woke.push(i))),
  );
  assert.equal(woke.length, 200);
  // Sleeps with the same duration wake in the order they started.
  const zeros = woke.filter((i) => i % 5 === 0);
  assert.deepEqual(zeros, [...zeros].sort((a, b) => a - b));
  await new Promise<void>((resolve) => runAfter(0, () => resolve()));
  assert.equal(defaultScheduler.pendingTimers, 0);
});

Deno.test("the manual clock's advanceAsync lets sleeping loops resume at each due time", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  const seen: number[] = [];
  const loop = (async () => {
    for (let i = 0; i < 5; i++) {
      await scheduler.sleep(10);
      seen.push(manual.now());
    }
  })();
  await manual.advanceAsync(50);
  await loop;
  assert.deepEqual(seen, [10, 20, 30, 40, 50]);
  assert.equal(manual.now(), 50);
});

Deno.test("advance refuses a timer that reschedules itself at the same instant forever", () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  let loops = 0;
  const again = () => {
    loops++;
    scheduler.runAfter(0, again);
  };
  scheduler.runAfter(0, again);
  throwsNetError(() => manual.advance(1), "resource_exhausted");
  assert.ok(loops > 1000);
  scheduler.stop();
});

Deno.test("transfer hands values back and forth between two threads, each suspended until the other transfers", async () => {
  const scheduler = new Scheduler();
  const seen: string[] = [];
  const b = scheduler.newThread(async (n: number) => {
    for (let value = n; value < 10;) {
      seen.push(`b got ${value}`);
      [value] = await scheduler.transfer(a, value + 1) as [number];
    }
    return "b done";
  }, "b");
  const a = scheduler.newThread(async () => {
    let [value] = await scheduler.transfer(b, 0) as [number];
    while (value < 9) {
      seen.push(`a got ${value}`);
      [value] = await scheduler.transfer(b, value + 1) as [number];
    }
    seen.push(`a got ${value}`);
    scheduler.resume(b, 10);
    return "a done";
  }, "a");
  scheduler.resume(a);
  assert.deepEqual([await a.done, await b.done], ["a done", "b done"]);
  assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => `${i % 2 ? "a" : "b"} got ${i}`));
});

Deno.test("transfer refuses outside a thread, to itself and to a thread that cannot be resumed, without suspending the caller", async () => {
  const scheduler = new Scheduler();
  const finished = scheduler.thread(() => 1);
  await finished.done;
  await rejectsNetError(scheduler.transfer(finished), "invalid_argument", "thread");
  const self = scheduler.thread(async () => {
    const me = scheduler.currentThread()!;
    await rejectsNetError(scheduler.transfer(me), "invalid_argument", "thread");
    await rejectsNetError(scheduler.transfer(finished), "invalid_argument", "thread");
    await rejectsNetError(scheduler.transfer({} as never), "invalid_argument", "thread");
    return "still running";
  });
  assert.equal(await self.done, "still running");
  const other = new Scheduler().newThread(() => 0);
  const caller = scheduler.thread(() =>
    rejectsNetError(scheduler.transfer(other), "invalid_argument", "thread")
  );
  await caller.done;
});

Deno.test("poll resolves with the size of the next batch of timers, 0 on timeout, aborted by its signal", async () => {
  const manual = new ManualClock();
  const scheduler = new Scheduler({ clock: manual });
  for (let i = 0; i < 3; i++) scheduler.runAfter(5, () => {});
  const polled = scheduler.poll();
  manual.advance(5);
  assert.equal(await polled, 3);
  const timedOut = scheduler.poll({ timeout: 10 });
  manual.advance(10);
  assert.equal(await timedOut, 0);
  assert.equal(await scheduler.poll({ timeout: 0 }), 0);
  const controller = new AbortController();
  const aborted = scheduler.poll({ signal: controller.signal });
  controller.abort("stop");
  await rejectsNetError(aborted, "aborted");
  await rejectsNetError(scheduler.poll({ timeout: -1 }), "invalid_argument", "timeout");
  await rejectsNetError(scheduler.poll({ wait: 1 } as never), "invalid_argument", "wait");
  assert.equal(scheduler.pendingTimers, 0);
});

Deno.test("poll wakes when a netkit socket's runtime read lands", async () => {
  const { socketpair } = await import("../process/mod.ts");
  const [a, b] = await socketpair();
  try {
    const reading = b.read();
    const polled = new Scheduler().poll({ timeout: 10_000 });
    await a.writeAll("x");
    assert.ok(await polled >= 1);
    assert.equal((await reading)?.length, 1);
  } finally {
    a.close();
    b.close();
  }
});
