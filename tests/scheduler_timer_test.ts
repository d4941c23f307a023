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

Deno.test("timers due at once and queued timers fire merged in due order, ties by scheduling order", () => {
  // A late alarm: everything below is due when it fires at 10.
  const clock = new LateClock();
  const scheduler = new Scheduler({ clock });
  const log: string[] = [];
  scheduler.runAt(2, () => log.push("heap@2"));
  scheduler.runAfter(0, () => log.push("now@0")); // due at once (0)
  clock.time = 3;
  scheduler.runAt(1, () => log.push("past@1→3")); // past: due at once, at 3
  scheduler.runAt(3, () => log.push("heap@3")); // scheduled later: after it
  scheduler.runAt(5, () => {
    log.push("heap@5");
    scheduler.runAfter(0, () => log.push("during@10")); // next tick, after heap@10
  });
  clock.time = 4;
  scheduler.runAfter(0, () => log.push("now@4"));
  scheduler.runAt(10, () => log.push("heap@10"));
  assert.equal(scheduler.pendingTimers, 7);
  clock.fireAt(10);
  assert.deepEqual(log, ["now@0", "heap@2", "past@1→3", "heap@3", "now@4", "heap@5", "heap@10"]);
  assert.equal(scheduler.pendingTimers, 1);
  clock.fireAt(10);
  assert.equal(log.at(-1), "during@10");
  assert.equal(scheduler.pendingTimers, 0);
  assert.equal(clock.alarms.length, 0);
});

Deno.test("cancelled timers due at once never fire, leave the count right and clear the alarm", () => {
  const clock = new LateClock();
  const scheduler = new Scheduler({ clock });
  const fired: number[] = [];
  // Queued first, so it fires first and cancels a later one of the same tick.
  scheduler.runAfter(0, () => timers[2999].cancel());
  const timers = Array.from({ length: 3000 }, (_, i) => scheduler.runAfter(0, () => fired.push(i)));
  for (let i = 0; i < timers.length; i += 3) assert.equal(timers[i].cancel(), true);
  assert.equal(timers[0].cancel(), false);
  assert.equal(scheduler.pendingTimers, 2001);
  timers[1].cancel();
  clock.fireAt(1);
  const expected = Array.from({ length: 3000 }, (_, i) => i).filter((i) =>
    i % 3 !== 0 && i !== 1 && i !== 2999
  );
  assert.deepEqual(fired, expected);
  assert.equal(scheduler.pendingTimers, 0);
  assert.equal(clock.alarms.length, 0);
  // Every one cancelled before its tick: nothing left armed.
  const last = scheduler.runAfter(0, () => fired.push(-1));
  assert.equal(clock.alarms.length, 1);
  last.cancel();
  assert.equal(clock.alarms.length, 0);
  assert.equal(scheduler.pendingTimers, 0);
});

Deno.test("a chain of 5000 runAfter(0), each scheduled by the last, keeps its order across ticks", () => {
  const clock = new LateClock();
  const scheduler = new Scheduler({ clock });
  const fired: string[] = [];
  const step = (i: number) => {
    fired.push(`step ${i}`);
    // Two per tick: the queue's head moves on while its tail grows.
    if (i < 4999) scheduler.runAfter(0, () => step(i + 1));
    scheduler.runAfter(0, () => fired.push(`after ${i}`));
  };
  scheduler.runAfter(0, () => step(0));
  let ticks = 0;
  for (; ticks < 10_000 && clock.alarms.length > 0; ticks++) clock.fireAt(ticks);
  assert.equal(ticks, 5001);
  const expected = ["step 0"];
  for (let i = 1; i < 5000; i++) expected.push(`step ${i}`, `after ${i - 1}`);
  expected.push("after 4999");
  assert.deepEqual(fired, expected);
  assert.equal(scheduler.pendingTimers, 0);
});

Deno.test("2000 timers due at once, each queuing a follow-up: the follow-ups fire on the next tick, in order", () => {
  const clock = new LateClock();
  const scheduler = new Scheduler({ clock });
  const fired: string[] = [];
  for (let i = 0; i < 2000; i++) {
    scheduler.runAfter(0, () => {
      fired.push(`first ${i}`);
      scheduler.runAfter(0, () => fired.push(`then ${i}`));
    });
  }
  clock.fireAt(0);
  assert.equal(fired.length, 2000);
  assert.equal(scheduler.pendingTimers, 2000);
  scheduler.runAt(0, () => fired.push("past"));
  clock.fireAt(1);
  assert.equal(fired.length, 4001);
  assert.deepEqual(fired.slice(2000, 2003), ["then 0", "then 1", "then 2"]);
  assert.equal(fired[3999], "then 1999");
  assert.equal(fired[4000], "past");
  assert.equal(scheduler.pendingTimers, 0);
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
