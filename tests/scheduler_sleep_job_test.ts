import assert from "node:assert/strict";
import { rejectsNetError, throwsNetError } from "./_scheduler_helpers.ts";
import { ManualClock, Scheduler, SleepJob, sleepJob } from "../scheduler/mod.ts";

function manual(): { clock: ManualClock; scheduler: Scheduler } {
  const clock = new ManualClock();
  return { clock, scheduler: new Scheduler({ clock }) };
}

Deno.test("a sleep woken early resolves with the wakeup values and cancels its timer", async () => {
  const { clock, scheduler } = manual();
  const job = scheduler.sleepJob<[string, number]>();
  const sleeping = job.sleep(1000);
  clock.advance(10);
  assert.equal(job.wakeup("early", 10), true);
  assert.deepEqual(await sleeping, ["early", 10]);
  assert.equal(scheduler.pendingTimers, 0);
  assert.equal(clock.pending, 0);
});

Deno.test("a sleep that runs out resolves undefined; a wakeup without values gives []", async () => {
  const { clock, scheduler } = manual();
  const job = scheduler.sleepJob();
  const timedOut = job.sleep(20);
  clock.advance(20);
  assert.equal(await timedOut, undefined);
  const woken = job.sleepUntil(100);
  job.wakeup();
  assert.deepEqual(await woken, []);
});

Deno.test("a wakeup before the sleep is kept: the next sleep returns it at once, latest values win", async () => {
  const { scheduler } = manual();
  const job = scheduler.sleepJob<[string]>();
  assert.equal(job.wakeup("first"), false);
  assert.equal(job.wakeup("second"), false);
  assert.deepEqual(await job.sleep(1000), ["second"]);
  assert.equal(scheduler.pendingTimers, 0);
  // Consumed: the following sleep really sleeps.
  const next = job.sleep(1000);
  assert.equal(job.sleeping, true);
  job.wakeup("third");
  assert.deepEqual(await next, ["third"]);
});

Deno.test("wakeup wakes every pending sleep of the job", async () => {
  const { scheduler } = manual();
  const job = scheduler.sleepJob<[number]>();
  const sleeps = [job.sleep(100), job.sleep(200), job.sleep(Infinity)];
  assert.equal(job.wakeup(7), true);
  assert.deepEqual(await Promise.all(sleeps), [[7], [7], [7]]);
  assert.equal(job.sleeping, false);
});

Deno.test("another thread wakes a sleeping thread (sock's sleep_job pattern)", async () => {
  const { clock, scheduler } = manual();
  const job = scheduler.sleepJob<[string]>();
  const sleeper = scheduler.thread(async () => {
    const got = await job.sleep(10_000);
    return `${got?.[0]} at ${clock.now()}`;
  });
  scheduler.thread(async () => {
    await scheduler.sleep(30);
    job.wakeup("ping");
  });
  await clock.advanceAsync(30);
  assert.equal(await sleeper.done, "ping at 30");
});

Deno.test("an aborted or timed-out job sleep rejects and does not swallow a later wakeup", async () => {
  const { clock, scheduler } = manual();
  const job = scheduler.sleepJob<[number]>();
  const controller = new AbortController();
  const aborted = job.sleep(100, { signal: controller.signal });
  controller.abort();
  await rejectsNetError(aborted, "aborted");
  const timedOut = job.sleep(100, { timeout: 5 });
  clock.advance(5);
  await rejectsNetError(timedOut, "timeout");
  assert.equal(job.sleeping, false);
  assert.equal(job.wakeup(1), false);
  assert.deepEqual(await job.sleep(100), [1]);
});

Deno.test("a sleep job sleep in a cancelled thread rejects aborted", async () => {
  const { scheduler } = manual();
  const job = scheduler.sleepJob();
  const sleeper = scheduler.thread(() => job.sleep(Infinity));
  const outcome = sleeper.done.catch((error) => error);
  assert.equal(job.sleeping, true);
  sleeper.cancel("bye");
  assert.equal(job.sleeping, false);
  assert.equal((await outcome).code, "aborted");
});

Deno.test("sleep job arguments are validated", async () => {
  const job = sleepJob();
  await rejectsNetError(job.sleep(-3), "invalid_argument", "ms");
  await rejectsNetError(job.sleepUntil("x" as never), "invalid_argument", "t");
  throwsNetError(() => new SleepJob({} as never), "invalid_argument", "scheduler");
});
