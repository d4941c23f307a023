/**
 * Bad input, property-based (fast-check), for `scheduler`: arbitrary times,
 * callbacks, deadlines and select targets give success or a NetError
 * (`invalid_argument` for bad input) — never a TypeError, a crash, a hang or
 * a timer left behind. Time is a ManualClock, so nothing waits for real.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ManualClock,
  Scheduler,
  TaskQueue,
  tryAccept,
  tryRead,
  tryReceive,
  tryWait,
  tryWrite,
} from "../scheduler/mod.ts";
import { socketpair } from "../process/mod.ts";
import { anything, assertInvalid, label, options, outcome, PARAMS } from "./_fuzz.ts";

/** A time in ms: small and valid (so advancing the clock ends it), or anything. */
const ms = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.double({ min: 0, max: 1_000_000, noNaN: true }),
  fc.constantFrom(-1, NaN, Infinity, -Infinity, "5", 5n, null, undefined, {}),
  anything.filter((value) => typeof value !== "number"),
);
const callback = fc.oneof(fc.constant(() => {}), anything);
const isSmallTime = (value: unknown) =>
  typeof value === "number" && value >= 0 && value <= 1_000_000;

Deno.test("sleep, sleepUntil and sleepJob with arbitrary times and options settle with success or a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      ms.filter((value) => value !== Infinity), // Infinity sleeps forever, by design
      options({
        timeout: ms,
        signal: fc.constantFrom(AbortSignal.abort(), new AbortController().signal),
      }),
      async (time, opts) => {
        const clock = new ManualClock();
        const scheduler = new Scheduler({ clock });
        const job = scheduler.sleepJob();
        // Started now (not in a microtask), so the clock moves after every sleep began.
        const start = (fn: () => Promise<unknown>) => {
          try {
            const promise = fn();
            return outcome(() => promise);
          } catch (error) {
            return outcome(() => Promise.reject(error));
          }
        };
        const pending = [
          start(() => scheduler.sleep(time as number, opts as never)),
          start(() => scheduler.sleepUntil(time as number, opts as never)),
          start(() => job.sleep(time as number)),
        ];
        clock.advance(2_000_001); // past every valid time: each sleep ends
        const [sleep, until, jobSleep] = await Promise.all(pending);
        if (!isSmallTime(time) && typeof time !== "number") {
          assertInvalid(sleep, `sleep(${label(time)})`);
          assertInvalid(until, `sleepUntil(${label(time)})`);
          assertInvalid(jobSleep, `sleepJob().sleep(${label(time)})`);
        }
        assert.equal(scheduler.pendingTimers, 0, "a settled sleep left a timer");
        assert.equal(clock.pending, 0, "a settled sleep left an alarm");
      },
    ),
    PARAMS,
  );
});

Deno.test("a sleep of Infinity waits until its signal aborts it, leaving no timer", async () => {
  const scheduler = new Scheduler({ clock: new ManualClock() });
  const controller = new AbortController();
  const sleeping = outcome(() => scheduler.sleep(Infinity, { signal: controller.signal }));
  controller.abort("enough");
  const result = await sleeping;
  assert.ok(!result.ok && result.error.code === "aborted");
  assert.equal(scheduler.pendingTimers, 0);
});

Deno.test("runAt, runAfter and runEvery with arbitrary times and callbacks give a timer or invalid_argument, and cancel leaves none", async () => {
  await fc.assert(
    fc.asyncProperty(ms, callback, async (time, fn) => {
      const clock = new ManualClock();
      const scheduler = new Scheduler({ clock });
      const results = [
        await outcome(() => scheduler.runAt(time as number, fn as never)),
        await outcome(() => scheduler.runAfter(time as number, fn as never)),
        await outcome(() => scheduler.runEvery(time as number, fn as never)),
      ];
      for (const result of results) {
        if (result.ok) {
          assert.equal(result.value.active, true);
          result.value.cancel();
          result.value.cancel(); // twice is harmless
          assert.equal(result.value.active, false);
        } else {
          assertInvalid(result, `timer(${label(time)}, ${label(fn)})`);
        }
      }
      if (typeof fn !== "function") { for (const result of results) assert.ok(!result.ok); }
      assert.equal(scheduler.pendingTimers, 0, "cancelled timers stayed queued");
    }),
    PARAMS,
  );
});

const countArgs = (...args: unknown[]): number => args.length;

Deno.test("thread, newThread and run with arbitrary functions and arguments finish or fail with a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.constant(countArgs), anything),
      fc.array(anything, { maxLength: 3 }),
      fc.oneof(fc.string({ maxLength: 8 }), anything),
      async (fn, args, name) => {
        const scheduler = new Scheduler({ clock: new ManualClock() });
        const started = await outcome(() => scheduler.thread(fn as never, ...args));
        if (typeof fn !== "function") assertInvalid(started, "thread(non-function)");
        const counts = fn === countArgs;
        if (started.ok) {
          const done = await started.value.done;
          if (counts) assert.equal(done, args.length);
        }
        const created = await outcome(() => scheduler.newThread(fn as never, name as never));
        if (created.ok) {
          scheduler.resume(created.value);
          const done = await created.value.done;
          if (counts) assert.equal(done, 0);
        }
        const ran = await outcome(() => scheduler.run(fn as never, ...args));
        if (ran.ok && counts) assert.equal(ran.value, args.length);
        assert.equal(scheduler.stop(), 0);
      },
    ),
    PARAMS,
  );
});

Deno.test("select, TaskQueue and the try* calls with arbitrary targets answer or fail with a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.array(fc.oneof(fc.constant("stream"), anything), { maxLength: 3 }), anything),
      fc.oneof(fc.array(fc.oneof(fc.constant("stream"), anything), { maxLength: 3 }), anything),
      anything,
      async (readList, writeList, other) => {
        const clock = new ManualClock();
        const scheduler = new Scheduler({ clock });
        const [a, b] = await socketpair();
        try {
          await b.writeAll("ready");
          const real = (list: unknown) =>
            Array.isArray(list) ? list.map((item) => (item === "stream" ? a : item)) : list;
          const selected = await outcome(() =>
            scheduler.select(real(readList) as never, real(writeList) as never, { timeout: 0 })
          );
          if (selected.ok) {
            assert.ok(Array.isArray(selected.value.read) && Array.isArray(selected.value.write));
          }
          const queue = new TaskQueue({ scheduler });
          const task = {};
          const registered = await outcome(() => queue.whenReadable(task, other as never));
          if (registered.ok) registered.value();
          await outcome(() => queue.whenWritable(task, other as never));
          await outcome(() => queue.whenExit(task, other as never));
          await outcome(() => queue.wait(0));
          queue.dequeue(task);
          await outcome(() => new TaskQueue(other as never));
          for (const attempt of [tryRead, tryWrite, tryAccept, tryReceive, tryWait]) {
            await outcome(() => (attempt as (x: unknown) => unknown)(other));
          }
          const read = await tryRead(a);
          assert.ok(read === "retry" || read instanceof Uint8Array, label(read));
        } finally {
          a.close();
          b.close();
        }
      },
    ),
    PARAMS,
  );
});
