/**
 * `new Scheduler({ precise: true })`: the one alarm waits on a runtime
 * thread (a timerfd and a `poll` through FFI). Order, re-arming earlier,
 * cancellation, one alarm for many timers, and the fallback to the host timer
 * without `--allow-ffi` (a child process). The count of alarm waits in flight
 * is read from the alarm's own counter; no timing is asserted.
 */
import assert from "node:assert/strict";
import { ManualClock, type NetError, Scheduler, systemClock } from "../scheduler/mod.ts";
import { alarmsIdle, alarmWaits } from "../scheduler/_alarm.ts";

const CHILD = new URL("./_scheduler_precise_noffi_child.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

Deno.test("precise: active under --allow-ffi, and sleeps end in due order", async () => {
  const scheduler = new Scheduler({ precise: true });
  assert.equal(scheduler.precise, true);
  assert.equal(new Scheduler({ clock: systemClock, precise: true }).precise, true);
  // A sleep holding the alarm open first, so that opening it (the C library,
  // the timerfd) does not delay the others past their due times.
  const holder = new AbortController();
  const held = scheduler.sleep(60_000, { signal: holder.signal }).catch(() => "stopped");
  const order: number[] = [];
  const t = scheduler.clock();
  await Promise.all(
    [25, 5, 15, 10, 20].map((ms) => scheduler.sleepUntil(t + ms).then(() => order.push(ms))),
  );
  assert.deepEqual(order, [5, 10, 15, 20, 25]);
  holder.abort();
  assert.equal(await held, "stopped");
  const start = scheduler.clock();
  await scheduler.sleep(1);
  assert.ok(scheduler.clock() - start >= 1, "never early");
  await alarmsIdle();
  assert.equal(alarmWaits(), 0);
});

Deno.test("precise: an earlier sleep added while a later alarm waits fires first, on the same alarm", async () => {
  const scheduler = new Scheduler({ precise: true });
  const order: string[] = [];
  const late = scheduler.sleep(200).then(() => order.push("late"));
  assert.equal(alarmWaits(), 1);
  const early = scheduler.sleep(1).then(() => order.push("early"));
  assert.equal(alarmWaits(), 1, "re-armed, not a second wait");
  await early;
  assert.deepEqual(order, ["early"]);
  assert.equal(alarmWaits(), 1, "the later sleep's alarm is armed again");
  await late;
  assert.deepEqual(order, ["early", "late"]);
  await alarmsIdle();
});

Deno.test("precise: aborting the only sleep stops the alarm", async () => {
  const scheduler = new Scheduler({ precise: true });
  const controller = new AbortController();
  const sleeping = scheduler.sleep(60_000, { signal: controller.signal });
  assert.equal(alarmWaits(), 1);
  assert.equal(scheduler.pendingTimers, 1);
  controller.abort();
  await assert.rejects(sleeping, (error: NetError) => error.code === "aborted");
  assert.equal(scheduler.pendingTimers, 0);
  await alarmsIdle(); // the stopped wait returned and the timerfd is closed
  assert.equal(alarmWaits(), 0);
});

Deno.test("precise: a sleep's timeout rejects it, then nothing is pending", async () => {
  const scheduler = new Scheduler({ precise: true });
  await assert.rejects(
    scheduler.sleep(60_000, { timeout: 2 }),
    (error: NetError) => error.code === "timeout",
  );
  assert.equal(scheduler.pendingTimers, 0);
  await alarmsIdle();
});

Deno.test("precise: a cancelled timer and a re-armed one leave nothing behind", async () => {
  const scheduler = new Scheduler({ precise: true });
  const timer = scheduler.runAfter(60_000, () => assert.fail("cancelled"));
  timer.cancel();
  // Cleared and set again in the same task: the wait in flight is re-armed, not stopped.
  const first = scheduler.runAfter(60_000, () => assert.fail("cancelled"));
  const fired = new Promise<void>((resolve) => scheduler.runAfter(1, () => resolve()));
  first.cancel();
  await fired;
  assert.equal(scheduler.pendingTimers, 0);
  await alarmsIdle();
  assert.equal(alarmWaits(), 0);
});

Deno.test("precise: a thousand concurrent sleeps and a ticker share one alarm", async () => {
  const scheduler = new Scheduler({ precise: true });
  let most = 0;
  let ticks = 0;
  const ticking = new Promise<void>((resolve) => {
    scheduler.runEvery(1, () => {
      most = Math.max(most, alarmWaits());
      if (++ticks < 5) return true;
      resolve();
      return false;
    });
  });
  const sleeps: Promise<void>[] = [];
  for (let i = 0; i < 1000; i++) {
    sleeps.push(
      scheduler.sleep(1 + (i % 10) / 2).then(() => {
        most = Math.max(most, alarmWaits());
      }),
    );
  }
  most = Math.max(most, alarmWaits());
  assert.equal(alarmWaits(), 1);
  await Promise.all([...sleeps, ticking]);
  assert.equal(most, 1);
  assert.equal(scheduler.pendingTimers, 0);
  await alarmsIdle();
});

Deno.test("precise: each scheduler has its own alarm; zero-delay timers need none", async () => {
  const a = new Scheduler({ precise: true });
  const b = new Scheduler({ precise: true });
  const both = Promise.all([a.sleep(1), b.sleep(1)]);
  assert.equal(alarmWaits(), 2);
  await both;
  let fired = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < 1000; i++) a.runAfter(0, () => ++fired === 1000 && resolve());
    assert.equal(alarmWaits(), 0, "a due alarm is the next turn of the loop");
  });
  await alarmsIdle();
});

Deno.test("precise: threads sleeping in a loop on a precise scheduler", async () => {
  const scheduler = new Scheduler({ precise: true });
  const seen: string[] = [];
  await scheduler.run(() => {
    for (const name of ["a", "b"]) {
      scheduler.thread(async () => {
        for (let i = 0; i < 3; i++) {
          await scheduler.sleep(name === "a" ? 1 : 0.5);
          seen.push(name);
        }
      });
    }
  });
  assert.equal(seen.length, 6);
  assert.deepEqual(seen.filter((n) => n === "a").length, 3);
  await alarmsIdle();
});

Deno.test("precise: bad values are invalid_argument naming precise; a ManualClock ignores it", () => {
  for (const precise of [1, "yes", null, {}]) {
    assert.throws(
      () => new Scheduler({ precise: precise as never }),
      (error: NetError) => error.code === "invalid_argument" && error.field === "precise",
    );
  }
  const clock = new ManualClock();
  const scheduler = new Scheduler({ clock, precise: true });
  assert.equal(scheduler.precise, false);
  assert.equal(new Scheduler({ precise: false }).precise, false);
  const fired: number[] = [];
  scheduler.runAfter(5, () => fired.push(clock.now()));
  assert.equal(alarmWaits(), 0);
  clock.advance(10);
  assert.deepEqual(fired, [5]);
});

Deno.test("precise without --allow-ffi: the host timer, and everything still works", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", CHILD],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.deepEqual(report, {
    permission: "prompt",
    precise: false,
    order: [10, 20, 30],
    timeout: "timeout",
    aborted: "aborted",
    ticks: 3,
    invalid: "precise",
    pending: 0,
  });
});
