import assert from "node:assert/strict";
import { throwsNetError } from "./_scheduler_helpers.ts";
import { type Clock, ManualClock, Scheduler, systemClock, type Timer } from "../scheduler/mod.ts";

function manual(): { clock: ManualClock; scheduler: Scheduler; errors: unknown[] } {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const scheduler = new Scheduler({ clock, onError: (error) => errors.push(error) });
  return { clock, scheduler, errors };
}

/** A clock whose alarms fire only when the test says, at any (late) time. */
class LateClock implements Clock {
  time = 0;
  alarms: { at: number; callback: () => void }[] = [];
  now(): number {
    return this.time;
  }
  setAlarm(at: number, callback: () => void): unknown {
    const alarm = { at, callback };
    this.alarms.push(alarm);
    return alarm;
  }
  clearAlarm(handle: unknown): void {
    this.alarms = this.alarms.filter((alarm) => alarm !== handle);
  }
  fireAt(time: number): void {
    this.time = time;
    const alarms = this.alarms;
    this.alarms = [];
    for (const alarm of alarms) alarm.callback();
  }
}

Deno.test("timers fire in due order, ties in scheduling order, with now() at their due time", () => {
  const { clock, scheduler } = manual();
  const log: string[] = [];
  scheduler.runAfter(30, () => log.push(`c@${clock.now()}`));
  scheduler.runAt(10, () => log.push(`a@${clock.now()}`));
  scheduler.runAfter(20, () => log.push(`b1@${clock.now()}`));
  scheduler.runAfter(20, () => log.push(`b2@${clock.now()}`));
  scheduler.runAfter(0, () => log.push(`zero@${clock.now()}`));
  clock.advance(25);
  assert.deepEqual(log, ["zero@0", "a@10", "b1@20", "b2@20"]);
  clock.advance(5);
  assert.deepEqual(log, ["zero@0", "a@10", "b1@20", "b2@20", "c@30"]);
  assert.deepEqual(scheduler.pendingTimers, 0);
  assert.deepEqual(clock.pending, 0);
});

Deno.test("runAt in the past fires on the next tick", () => {
  const clock = new ManualClock(100);
  const scheduler = new Scheduler({ clock });
  const seen: number[] = [];
  const timer = scheduler.runAt(50, () => seen.push(clock.now()));
  assert.deepEqual(timer.due, 100);
  clock.advance(0);
  assert.deepEqual(seen, [100]);
});

Deno.test("a timer cancelled during a tick by an earlier callback does not fire", () => {
  const { clock, scheduler } = manual();
  const log: string[] = [];
  let victim: Timer | undefined = undefined;
  scheduler.runAfter(10, () => {
    log.push("first");
    assert.ok(victim!.cancel());
  });
  victim = scheduler.runAfter(10, () => log.push("victim"));
  scheduler.runAfter(10, () => log.push("third"));
  clock.advance(10);
  assert.deepEqual(log, ["first", "third"]);
  assert.deepEqual(victim.active, false);
  assert.deepEqual(victim.due, Infinity);
  assert.deepEqual(victim.cancel(), false);
});

Deno.test("timers scheduled during a tick run after that tick, never inside it", () => {
  const { clock, scheduler } = manual();
  const log: string[] = [];
  scheduler.runAfter(5, () => {
    log.push("a");
    scheduler.runAfter(0, () => log.push("scheduled by a"));
  });
  scheduler.runAfter(5, () => log.push("b"));
  clock.advance(5);
  assert.deepEqual(log, ["a", "b", "scheduled by a"]);
});

Deno.test("runEvery over 1000 periods fires exactly at origin + n × period (no drift)", () => {
  const clock = new ManualClock(3);
  const scheduler = new Scheduler({ clock });
  const times: number[] = [];
  const timer = scheduler.runEvery(7, () => void times.push(clock.now()));
  clock.advance(7 * 1000);
  assert.deepEqual(times.length, 1000);
  for (let n = 1; n <= 1000; n++) assert.deepEqual(times[n - 1], 3 + 7 * n);
  assert.deepEqual(timer.due, 3 + 7 * 1001);
  timer.cancel();
  assert.deepEqual(clock.pending, 0);
});

Deno.test("runEvery with a fractional period does not accumulate rounding drift", () => {
  const { clock, scheduler } = manual();
  let count = 0;
  let last = 0;
  const timer = scheduler.runEvery(0.1, () => {
    count++;
    last = clock.now();
  });
  clock.advance(100.05);
  timer.cancel();
  assert.deepEqual(count, 1000);
  assert.deepEqual(last, 1000 * 0.1);
});

Deno.test("runEvery skips ticks missed while late instead of stacking them", () => {
  const clock = new LateClock();
  const scheduler = new Scheduler({ clock });
  const times: number[] = [];
  const timer = scheduler.runEvery(10, () => void times.push(clock.now()));
  clock.fireAt(35); // due 10; 20 and 30 were missed too
  assert.deepEqual(times, [35]);
  assert.deepEqual(timer.due, 40); // still on the grid
  clock.fireAt(40);
  assert.deepEqual(times, [35, 40]);
  assert.deepEqual(timer.due, 50);
  timer.cancel();
  assert.deepEqual(clock.alarms.length, 0);
});

Deno.test("runEvery stops when cancelled from its own callback or when it returns false", () => {
  const { clock, scheduler } = manual();
  let a = 0;
  let b = 0;
  const selfCancel = scheduler.runEvery(10, (timer) => {
    if (++a === 3) timer.cancel();
  });
  const returnsFalse = scheduler.runEvery(10, () => ++b < 2);
  clock.advance(100);
  assert.deepEqual([a, b], [3, 2]);
  assert.deepEqual([selfCancel.active, returnsFalse.active], [false, false]);
  assert.deepEqual(scheduler.pendingTimers, 0);
});

Deno.test("a throwing callback is reported, does not stop the tick, and runEvery keeps going", async () => {
  const { clock, scheduler, errors } = manual();
  const log: string[] = [];
  const once = scheduler.runAfter(10, () => {
    throw new Error("one-shot failed");
  });
  const every = scheduler.runEvery(10, () => {
    log.push(`every@${clock.now()}`);
    throw new Error("periodic failed");
  });
  scheduler.runAfter(10, () => log.push("after the throwers"));
  scheduler.runAfter(15, () => Promise.reject(new Error("async failed")));
  clock.advance(20);
  await Promise.resolve();
  assert.deepEqual(log, ["every@10", "after the throwers", "every@20"]);
  assert.deepEqual(once.active, false);
  assert.deepEqual(every.active, true);
  assert.deepEqual(
    errors.map((error) => (error as Error).message),
    ["one-shot failed", "periodic failed", "periodic failed", "async failed"],
  );
  every.cancel();
});

Deno.test("an onError that throws does not break the scheduler", () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({
    clock,
    onError: () => {
      throw new Error("handler broke");
    },
  });
  const log: number[] = [];
  scheduler.runAfter(1, () => {
    throw new Error("x");
  });
  scheduler.runAfter(2, () => log.push(2));
  const original = console.error;
  console.error = () => {};
  try {
    clock.advance(5);
  } finally {
    console.error = original;
  }
  assert.deepEqual(log, [2]);
});

Deno.test("a timer is cancelled by `using` at the end of its block", () => {
  const { clock, scheduler } = manual();
  let fired = false;
  {
    using timer = scheduler.runAfter(10, () => void (fired = true));
    assert.ok(timer.active);
  }
  clock.advance(20);
  assert.deepEqual(fired, false);
});

Deno.test("a manual-clock scheduler keeps one alarm and none once the queue is empty", () => {
  const { clock, scheduler } = manual();
  const timers = [30, 10, 20].map((ms) => scheduler.runAfter(ms, () => {}));
  assert.deepEqual(clock.pending, 1);
  timers[1].cancel();
  timers[0].cancel();
  assert.deepEqual(clock.pending, 1);
  timers[2].cancel();
  assert.deepEqual(clock.pending, 0);
});

Deno.test("a storm of 100k runAfter(0) uses one host timer and fires everything", async () => {
  let alarms = 0;
  const counting: Clock = {
    now: () => systemClock.now(),
    setAlarm: (at, callback) => {
      alarms++;
      return systemClock.setAlarm(at, callback);
    },
    clearAlarm: (handle) => systemClock.clearAlarm(handle),
  };
  const scheduler = new Scheduler({ clock: counting });
  let fired = 0;
  await new Promise<void>((resolve) => {
    for (let i = 0; i < 100_000; i++) {
      scheduler.runAfter(0, () => {
        if (++fired === 100_000) resolve();
      });
    }
  });
  assert.deepEqual(fired, 100_000);
  assert.deepEqual(alarms, 1);
  assert.deepEqual(scheduler.pendingTimers, 0);
});

Deno.test("real clock: timers fire in order and cancelling the last one clears the host timer", async () => {
  // The system clock, read once for the three timers: a preemption between the calls on a
  // loaded machine would otherwise put the 1 ms timer's due time after the 3 ms one's.
  let frozen: number | undefined;
  const oneInstant: Clock = {
    now: () => frozen ?? systemClock.now(),
    setAlarm: (at, callback) => systemClock.setAlarm(at, callback),
    clearAlarm: (handle) => systemClock.clearAlarm(handle),
  };
  const scheduler = new Scheduler({ clock: oneInstant });
  const log: number[] = [];
  const far = scheduler.runAfter(60_000, () => log.push(0));
  await new Promise<void>((resolve) => {
    frozen = systemClock.now();
    scheduler.runAfter(3, () => log.push(3));
    scheduler.runAfter(1, () => log.push(1));
    scheduler.runAfter(5, () => {
      log.push(5);
      resolve();
    });
    frozen = undefined;
  });
  assert.deepEqual(log, [1, 3, 5]);
  far.cancel(); // the sanitizer fails the test if a host timer stays behind
  assert.deepEqual(scheduler.pendingTimers, 0);
});

Deno.test("bad timer arguments throw invalid_argument naming the field", () => {
  const { scheduler } = manual();
  const cases: [() => unknown, string][] = [
    [() => scheduler.runAfter(-1, () => {}), "ms"],
    [() => scheduler.runAfter(Number.NaN, () => {}), "ms"],
    [() => scheduler.runAfter(Infinity, () => {}), "ms"],
    [() => scheduler.runAfter(1, "x" as never), "fn"],
    [() => scheduler.runEvery(0, () => {}), "ms"],
    [() => scheduler.runEvery(10, null as never), "fn"],
    [() => scheduler.runAt(Number.NaN, () => {}), "t"],
    [() => new Scheduler({ clock: {} as never }), "clock"],
    [() => new Scheduler({ tick: 1 } as never), "tick"],
    [() => new ManualClock().advance(-5), "ms"],
  ];
  for (const [call, field] of cases) throwsNetError(call, "invalid_argument", field);
});

Deno.test("systemClock: an alarm beyond the host timer's range does not fire early", async () => {
  let fired = 0;
  const handle = systemClock.setAlarm(systemClock.now() + 30 * 24 * 3600 * 1000, () => fired++);
  // A host timer that overflowed would fire after ~1 ms; give it ample turns.
  await new Promise((resolve) => setTimeout(resolve, 50));
  systemClock.clearAlarm(handle);
  assert.equal(fired, 0);
});
