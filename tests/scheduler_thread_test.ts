import assert from "node:assert/strict";
import { rejectsNetError, throwsNetError } from "./_scheduler_helpers.ts";
import {
  currentThread,
  ManualClock,
  NetError,
  run,
  Scheduler,
  sleep,
  type Thread,
  thread,
} from "../scheduler/mod.ts";

function manual(): { clock: ManualClock; scheduler: Scheduler; errors: unknown[] } {
  const clock = new ManualClock();
  const errors: unknown[] = [];
  const scheduler = new Scheduler({ clock, onError: (error) => errors.push(error) });
  return { clock, scheduler, errors };
}

Deno.test("thread runs at once with its arguments and done resolves with the result", async () => {
  const { scheduler } = manual();
  const log: string[] = [];
  const t = scheduler.thread(
    (a: number, b: string) => {
      log.push("ran");
      return `${a}${b}`;
    },
    1,
    "x",
  );
  assert.deepEqual(log, ["ran"]);
  assert.equal(t.state, "done");
  assert.equal(await t.done, "1x");
});

Deno.test("a thread that throws rejects done with the error, sync or async", async () => {
  const { scheduler, errors } = manual();
  const sync = scheduler.thread(() => {
    throw new Error("sync boom");
  });
  const asyncThread = scheduler.thread(async () => {
    await Promise.resolve();
    throw new Error("async boom");
  });
  const asyncDone = asyncThread.done; // observed before it fails: not reported
  await assert.rejects(sync.done, /sync boom/);
  await assert.rejects(asyncDone, /async boom/);
  assert.equal(sync.state, "failed");
  assert.equal(asyncThread.state, "failed");
  // The sync one failed before anyone could look at `done`: it was reported too.
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /sync boom/);
});

Deno.test("newThread waits for resume, which passes the arguments; resume twice is an error", async () => {
  const { scheduler } = manual();
  const t = scheduler.newThread((x: number) => x * 2, "doubler");
  assert.equal(t.name, "doubler");
  assert.equal(t.state, "new");
  scheduler.resume(t, 21);
  assert.equal(await t.done, 42);
  throwsNetError(() => scheduler.resume(t), "invalid_argument", "thread");
  throwsNetError(() => scheduler.resume({} as Thread), "invalid_argument", "thread");
  const other = new Scheduler({ clock: new ManualClock() });
  throwsNetError(() => other.resume(scheduler.newThread(() => 0)), "invalid_argument", "thread");
});

Deno.test("suspend waits for resume and returns its values", async () => {
  const { scheduler } = manual();
  const t = scheduler.thread(async () => {
    const first = await scheduler.suspend();
    const second = await scheduler.suspend();
    return [...first, ...second];
  });
  scheduler.resume(t, "a");
  await Promise.resolve();
  await Promise.resolve();
  scheduler.resume(t, "b", "c");
  assert.deepEqual(await t.done, ["a", "b", "c"]);
  await rejectsNetError(scheduler.suspend(), "invalid_argument", "thread");
});

Deno.test("currentThread is kept across awaits in interleaved threads and is undefined outside", async () => {
  const { clock, scheduler } = manual();
  const seen: string[] = [];
  const body = async (delay: number) => {
    const me = scheduler.currentThread();
    for (let i = 0; i < 3; i++) {
      await scheduler.sleep(delay);
      await Promise.resolve();
      seen.push(`${me?.name}:${scheduler.currentThread() === me}`);
    }
    return me;
  };
  const a = scheduler.newThread(body, "a");
  const b = scheduler.newThread(body, "b");
  scheduler.resume(a, 3);
  scheduler.resume(b, 5);
  assert.equal(scheduler.currentThread(), undefined);
  await clock.advanceAsync(20);
  assert.equal(await a.done, a);
  assert.equal(await b.done, b);
  assert.equal(seen.length, 6);
  assert.ok(seen.every((entry) => entry.endsWith(":true")));
  assert.equal(currentThread(), undefined);
});

Deno.test("timer callbacks run outside any thread even when a thread scheduled them", async () => {
  const { clock, scheduler } = manual();
  let inside: Thread | undefined | "unset" = "unset";
  const t = scheduler.thread(() => {
    scheduler.runAfter(5, () => void (inside = scheduler.currentThread()));
  });
  await t.done;
  clock.advance(5);
  assert.equal(inside, undefined);
});

Deno.test("onThreadFinish hooks run in order for every outcome, before done settles", async () => {
  const { scheduler, errors } = manual();
  const log: string[] = [];
  const ok = scheduler.newThread(() => "v");
  const failing = scheduler.newThread(() => Promise.reject(new Error("no")));
  const cancelled = scheduler.newThread(() => scheduler.sleep(Infinity));
  for (const t of [ok, failing, cancelled] as Thread<unknown>[]) {
    scheduler.onThreadFinish(t, (done) => void log.push(`1:${done.state}`));
    scheduler.onThreadFinish(t, () => {
      log.push("2");
      throw new Error("hook error is reported");
    });
  }
  const settled = Promise.allSettled([ok.done, failing.done, cancelled.done]).then(() =>
    log.push("settled")
  );
  scheduler.resume(ok);
  scheduler.resume(failing);
  scheduler.resume(cancelled);
  cancelled.cancel();
  await settled;
  assert.deepEqual(log, ["1:done", "2", "1:cancelled", "2", "1:failed", "2", "settled"]);
  assert.equal(errors.length, 3);
  // A hook added after the end runs at once.
  let late = "";
  scheduler.onThreadFinish(ok, (t) => void (late = t.state));
  assert.equal(late, "done");
  throwsNetError(() => scheduler.onThreadFinish({} as Thread, () => {}), "invalid_argument");
});

Deno.test("threadEnv: a child starts with a copy of its creator's map; changes stay on their side", async () => {
  const { scheduler } = manual();
  const parent = scheduler.thread(async () => {
    const env = scheduler.threadEnv();
    env.set("user", "ada");
    const child = scheduler.thread(async () => {
      const mine = scheduler.threadEnv();
      const inherited = mine.get("user");
      mine.set("user", "bob");
      mine.set("child-only", true);
      await Promise.resolve();
      return inherited;
    });
    const inherited = await child.done;
    return [
      inherited,
      env.get("user"),
      env.has("child-only"),
      scheduler.threadEnv(child).get("user"),
    ];
  });
  assert.deepEqual(await parent.done, ["ada", "ada", false, "bob"]);
  throwsNetError(() => scheduler.threadEnv(), "invalid_argument", "thread");
});

Deno.test("run resolves with the result once every thread started under it has finished", async () => {
  const { clock, scheduler } = manual();
  const finished: string[] = [];
  const running = scheduler.run(() => {
    scheduler.thread(async () => {
      await scheduler.sleep(10);
      scheduler.thread(async () => {
        await scheduler.sleep(10);
        finished.push("grandchild");
      });
      finished.push("child");
    });
    finished.push("root");
    return "result";
  });
  let settled = false;
  running.then(() => void (settled = true));
  await clock.advanceAsync(15);
  assert.equal(settled, false);
  await clock.advanceAsync(10);
  assert.equal(await running, "result");
  assert.deepEqual(finished, ["root", "child", "grandchild"]);
});

Deno.test("nested run: the inner run waits for its threads, the outer one for all", async () => {
  const { clock, scheduler } = manual();
  const log: string[] = [];
  const outer = scheduler.run(async () => {
    const inner = await scheduler.run(() => {
      scheduler.thread(async () => {
        await scheduler.sleep(5);
        log.push("inner child");
      });
      return "inner";
    });
    log.push(`inner run returned ${inner}`);
    // Not awaited: the outer run still waits for it.
    scheduler.run(async () => {
      await scheduler.sleep(5);
      log.push("detached inner run");
    });
    return "outer";
  });
  await clock.advanceAsync(20);
  assert.equal(await outer, "outer");
  assert.deepEqual(log, ["inner child", "inner run returned inner", "detached inner run"]);
});

Deno.test("run rejects with the first error of any thread under it, after all finished", async () => {
  const { clock, scheduler } = manual();
  let slowDone = false;
  const running = scheduler.run(() => {
    scheduler.thread(async () => {
      await scheduler.sleep(5);
      throw new Error("child failed");
    });
    scheduler.thread(async () => {
      await scheduler.sleep(10);
      slowDone = true;
    });
  });
  const outcome = running.catch((error) => error);
  await clock.advanceAsync(10);
  const error = await outcome;
  assert.match(String(error), /child failed/);
  assert.equal(slowDone, true);
});

Deno.test("stop cancels every thread: sleeps reject aborted, hooks run, signals abort, run rejects aborted", async () => {
  const { scheduler } = manual();
  const events: string[] = [];
  let child: Thread | undefined;
  let signal: AbortSignal | undefined;
  const running = scheduler.run(async () => {
    child = scheduler.thread(async () => {
      signal = scheduler.currentThread()!.signal;
      try {
        await scheduler.sleep(1_000_000);
      } catch (error) {
        events.push(`child sleep: ${(error as NetError).code}`);
        // A cancelled thread's further waits fail at once.
        await scheduler.sleep(1).catch((again) => events.push(`again: ${again.code}`));
      }
    });
    scheduler.onThreadFinish(child, (t) => void events.push(`hook: ${t.state}`));
    await scheduler.sleepJob().sleep(Infinity);
  });
  const outcome = running.catch((error) => error);
  await Promise.resolve();
  assert.equal(scheduler.stop("shutdown"), 2);
  const error = await outcome;
  assert.ok(error instanceof NetError);
  assert.equal(error.code, "aborted");
  assert.equal(child!.state, "cancelled");
  assert.equal(signal!.aborted, true);
  await rejectsNetError(child!.done, "aborted");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(events, ["hook: cancelled", "child sleep: aborted", "again: aborted"]);
  assert.equal(scheduler.pendingTimers, 0);
  assert.equal(scheduler.stop(), 0);
});

Deno.test("cancel before start finishes the thread without running it", async () => {
  const { scheduler } = manual();
  let ran = false;
  const t = scheduler.newThread(() => void (ran = true));
  assert.equal(t.cancel(), true);
  assert.equal(t.cancel(), false);
  await rejectsNetError(t.done, "aborted");
  assert.equal(ran, false);
  throwsNetError(() => scheduler.resume(t), "invalid_argument", "thread");
});

Deno.test("real clock: the default scheduler's run waits for real sleeps in many threads", async () => {
  let count = 0;
  const result = await run(() => {
    for (let i = 0; i < 50; i++) {
      thread(async () => {
        await sleep(i % 3);
        count++;
      });
    }
    return "all started";
  });
  assert.equal(result, "all started");
  assert.equal(count, 50);
});

Deno.test("bad thread arguments throw invalid_argument", async () => {
  const { scheduler } = manual();
  throwsNetError(() => scheduler.thread(5 as never), "invalid_argument", "fn");
  throwsNetError(() => scheduler.newThread(() => 0, 7 as never), "invalid_argument", "name");
  await rejectsNetError(scheduler.run(null as never), "invalid_argument", "fn");
});

Deno.test("async timer callbacks stay outside threads across awaits, even when a thread armed the timer", async () => {
  const scheduler = new Scheduler();
  const seen = await scheduler.thread(() =>
    new Promise<Thread | undefined | "unset">((resolve) => {
      scheduler.runAfter(1, async () => {
        await Promise.resolve();
        resolve(scheduler.currentThread());
      });
    })
  ).done;
  assert.equal(seen, undefined);
});
