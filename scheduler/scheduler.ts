/**
 * The {@linkcode Scheduler}: one ordered timer queue behind one host timer,
 * sleeps, sleep jobs, threads, `run`/`stop` and `select`.
 *
 * @module
 */

import type { DeadlineOptions } from "../common/deadline.ts";
import { NetError } from "../common/errors.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import { watchDispatch } from "../common/_dispatch.ts";
import type { Schema } from "../common/_options.ts";
import { type Clock, systemClock } from "./clock.ts";
import { attachCore, SchedulerCore } from "./_core.ts";
import { preciseAvailable, PreciseClock } from "./_alarm.ts";
import { SleepJob } from "./sleep_job.ts";
import type { SelectResult, SelectTarget } from "./select.ts";
import { selectOn } from "./_select.ts";
import type { Thread } from "./thread.ts";
import { Group, threadContext, ThreadImpl } from "./_thread_impl.ts";
import type { Timer, TimerCallback } from "./timer.ts";

/** Options of {@linkcode Scheduler}. */
export interface SchedulerOptions {
  /** The clock (default: the system clock; a `ManualClock` in tests). */
  clock?: Clock;
  /**
   * Called when a timer callback or a finish hook throws (or the promise it
   * returns rejects), and when a thread that is not under `run` fails before
   * anyone has read its `done` (otherwise the error goes to `done` / `run`
   * only). The scheduler goes on either way. Default: `console.error`.
   * Pass `reportError` to make such errors fatal, as they are for
   * `setTimeout`.
   */
  onError?: (error: unknown, source: Timer | Thread) => void;
  /**
   * Wakes for timers from a runtime thread instead of a host timer (default
   * `false`). With `--allow-ffi` on Linux, the scheduler's one alarm is a
   * timerfd waited on by a `poll(2)` on a runtime thread, so a 1 ms sleep
   * ends about 0.1 ms late instead of about 1.2 ms. Still one alarm for the
   * whole queue, never one per timer, and nothing pending while no timer is
   * queued. Without `--allow-ffi` (or off Linux) the scheduler silently uses
   * the ordinary host timer; {@linkcode Scheduler.precise} says which one
   * it got. Ignored with a `clock` other than `systemClock` (a
   * `ManualClock` has no real time to be late on).
   *
   * @example A precise 1 ms sleep
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler({ precise: true });
   * const start = scheduler.clock();
   * await scheduler.sleep(1);
   * console.log(scheduler.clock() - start >= 1); // true
   * console.log(scheduler.precise); // true under --allow-ffi, false without it
   * ```
   */
  precise?: boolean;
}

const SCHEDULER_RULES: Schema = {
  clock: {
    type: "custom",
    accepts: "a Clock (now, setAlarm, clearAlarm)",
    check: (value) =>
      typeof value === "object" && value !== null &&
      typeof (value as Clock).now === "function" &&
      typeof (value as Clock).setAlarm === "function" &&
      typeof (value as Clock).clearAlarm === "function",
  },
  onError: { type: "function" },
  precise: { type: "boolean" },
};

function defaultOnError(error: unknown, source: Timer | Thread): void {
  const what = "name" in source ? `thread ${source.name}` : "timer callback";
  console.error(`netkit scheduler: ${what} failed:`, error);
}

function checkFunction(op: string, fn: unknown): void {
  if (typeof fn !== "function") throw invalidArgument(op, "fn", "a function", fn);
}

/** The error of a call that only a thread may make. */
function outsideThread(op: string): NetError {
  return new NetError("invalid_argument", `${op}() must be called inside a thread`, {
    op,
    field: "thread",
  });
}

function isThread(value: unknown): value is ThreadImpl<unknown> {
  return value instanceof ThreadImpl;
}

/**
 * A cooperative scheduler (sock's scheduling, lsocket's `select`, the clock
 * behind XPIO's task queues). All times are milliseconds of its clock.
 *
 * Timers live in one binary heap ordered by due time, then by scheduling
 * order, behind **one** host timer that is re-armed only when the earliest
 * due time moves earlier, and cleared when the queue empties. One host
 * callback fires every timer that is due, so a storm of `runAfter(0, …)`
 * costs one host timer, not thousands. Timers scheduled while timers fire
 * run on the next tick, never in the same one.
 *
 * Timer callbacks run outside any thread (`currentThread()` is
 * `undefined` in them).
 *
 * @example Timers driven by a manual clock
 * ```ts
 * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
 *
 * const clock = new ManualClock();
 * const scheduler = new Scheduler({ clock });
 * const log: string[] = [];
 * scheduler.runAt(30, () => log.push("at 30"));
 * const every = scheduler.runEvery(20, () => log.push(`tick ${clock.now()}`));
 * clock.advance(45);
 * every.cancel();
 * console.log(log); // [ "tick 20", "at 30", "tick 40" ]
 * ```
 */
export class Scheduler {
  #core: SchedulerCore;
  #precise: boolean;

  /**
   * Makes a scheduler.
   *
   * @param options `clock`, `onError` and `precise`.
   * @throws {NetError} `invalid_argument` naming a bad option.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const errors: unknown[] = [];
   * const scheduler = new Scheduler({
   *   clock: new ManualClock(),
   *   onError: (error) => errors.push(error),
   * });
   * console.log(scheduler.clock()); // 0
   * ```
   */
  constructor(options?: SchedulerOptions) {
    const { clock, onError, precise } = validateOptions<SchedulerOptions>(
      "Scheduler",
      options,
      SCHEDULER_RULES,
    );
    let chosen = clock ?? systemClock;
    if (precise === true && chosen === systemClock && preciseAvailable()) {
      chosen = new PreciseClock();
    }
    this.#precise = chosen instanceof PreciseClock;
    this.#core = new SchedulerCore(chosen, onError ?? defaultOnError);
    attachCore(this, this.#core);
  }

  /**
   * Whether the timers wake from a runtime thread (`precise: true` was asked
   * and `--allow-ffi` is granted on Linux), rather than from the host timer.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * console.log(new Scheduler().precise); // false
   * console.log(new Scheduler({ clock: new ManualClock(), precise: true }).precise); // false
   * ```
   */
  get precise(): boolean {
    return this.#precise;
  }

  // --- the timer queue --------------------------------------------------------

  /**
   * How many timers and timed sleeps are queued.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler({ clock: new ManualClock() });
   * using _timer = scheduler.runAfter(5, () => {});
   * console.log(scheduler.pendingTimers); // 1
   * ```
   */
  get pendingTimers(): number {
    return this.#core.pending;
  }

  // --- time -----------------------------------------------------------------

  /**
   * The scheduler's clock, in milliseconds (monotonic).
   *
   * @returns The time.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * console.log(scheduler.clock() >= 0); // true
   * ```
   */
  clock(): number {
    return this.#core.now();
  }

  /**
   * Sleeps for `ms` milliseconds without blocking anything else.
   *
   * @param ms Milliseconds (≥ 0; `Infinity` sleeps until aborted).
   * @param options `{ signal }` aborts the sleep (`aborted`); a `timeout`
   *   shorter than `ms` rejects it with `timeout` at that time.
   * @returns Resolves when the time has passed.
   * @throws {NetError} `invalid_argument`, `aborted`, `timeout`; `aborted`
   *   too when the calling thread is cancelled.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const start = scheduler.clock();
   * await scheduler.sleep(5);
   * console.log(scheduler.clock() - start >= 5); // true
   * ```
   */
  sleep(ms: number, options?: DeadlineOptions): Promise<void> {
    return this.#sleep("sleep", () => this.#core.dueIn("sleep", ms), options);
  }

  /**
   * Sleeps until the clock reads `t` (at once when `t` has passed).
   *
   * @param t A time of {@linkcode Scheduler.clock}, in milliseconds.
   * @param options `{ timeout, signal }` as for {@linkcode Scheduler.sleep}.
   * @returns Resolves at `t`.
   * @throws {NetError} `invalid_argument`, `aborted`, `timeout`.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const scheduler = new Scheduler({ clock });
   * const woke = scheduler.sleepUntil(50).then(() => clock.now());
   * clock.advance(60);
   * console.log(await woke); // 50
   * ```
   */
  sleepUntil(t: number, options?: DeadlineOptions): Promise<void> {
    return this.#sleep("sleepUntil", () => this.#core.dueAt("sleepUntil", t), options);
  }

  /** A sleep until the time `due()` computes; bad input rejects instead of throwing. */
  #sleep(op: string, due: () => number, options: DeadlineOptions | undefined): Promise<void> {
    try {
      return this.#core.wait<void>(op, due(), options, undefined, undefined).promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Makes a sleep job: a sleep another thread can end early (see
   * {@linkcode SleepJob} for the exact semantics).
   *
   * @returns A new sleep job on this scheduler's clock.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const job = scheduler.sleepJob<[string]>();
   * setTimeout(() => job.wakeup("now"), 1);
   * console.log(await job.sleep(60_000)); // [ "now" ]
   * ```
   */
  sleepJob<T extends unknown[] = unknown[]>(): SleepJob<T> {
    return new SleepJob<T>(this);
  }

  // --- timers ---------------------------------------------------------------

  /**
   * Calls `fn` when the clock reads `t` (on the next tick when `t` has
   * passed). A one-shot timer is inactive once it ran, even if `fn` threw.
   *
   * @param t A clock time in milliseconds.
   * @param fn The callback; it receives the timer. A throw (or a rejected
   *   promise it returns) goes to `onError`.
   * @returns The {@linkcode Timer}.
   * @throws {NetError} `invalid_argument` for a bad `t` or `fn`.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock(100);
   * const scheduler = new Scheduler({ clock });
   * scheduler.runAt(150, () => console.log("at", clock.now())); // at 150
   * clock.advance(100);
   * ```
   */
  runAt(t: number, fn: TimerCallback): Timer {
    if (typeof t !== "number" || !Number.isFinite(t)) {
      throw invalidArgument("runAt", "t", "a finite clock time in milliseconds", t);
    }
    checkFunction("runAt", fn);
    return this.#core.at(t, fn);
  }

  /**
   * Calls `fn` after `ms` milliseconds.
   *
   * @param ms Milliseconds (finite, ≥ 0).
   * @param fn The callback; it receives the timer.
   * @returns The {@linkcode Timer}.
   * @throws {NetError} `invalid_argument` for a bad `ms` or `fn`.
   *
   * @example
   * ```ts
   * import { runAfter } from "@netkit/netkit/scheduler";
   *
   * await new Promise<void>((resolve) => runAfter(1, () => resolve()));
   * console.log("fired"); // fired
   * ```
   */
  runAfter(ms: number, fn: TimerCallback): Timer {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw invalidArgument("runAfter", "ms", "a finite number ≥ 0", ms);
    }
    if (typeof fn !== "function") checkFunction("runAfter", fn);
    return this.#core.after(ms, fn);
  }

  /**
   * Calls `fn` every `ms` milliseconds, first after `ms`, without drift:
   * the n-th call is due at start + n × ms whatever each call cost. Calls
   * missed while the process was busy are skipped, not stacked. The timer
   * keeps running when `fn` throws (the error goes to `onError`); it stops
   * when cancelled or when `fn` returns `false`. An async `fn` is not
   * awaited.
   *
   * @param ms The period (finite, > 0).
   * @param fn The callback; it receives the timer.
   * @returns The {@linkcode Timer}.
   * @throws {NetError} `invalid_argument` for a bad `ms` or `fn`.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const scheduler = new Scheduler({ clock });
   * const seen: number[] = [];
   * scheduler.runEvery(10, () => seen.push(clock.now()) < 3);
   * clock.advance(100);
   * console.log(seen); // [ 10, 20, 30 ]
   * ```
   */
  runEvery(ms: number, fn: TimerCallback): Timer {
    if (typeof ms !== "number" || !(ms > 0) || ms === Infinity) {
      throw invalidArgument("runEvery", "ms", "a finite number > 0", ms);
    }
    checkFunction("runEvery", fn);
    return this.#core.every(ms, fn);
  }

  // --- threads --------------------------------------------------------------

  #create<A extends unknown[], T>(
    op: string,
    fn: (...args: A) => T | Promise<T>,
    name: string | undefined,
  ): ThreadImpl<T> {
    checkFunction(op, fn);
    if (name !== undefined && typeof name !== "string") {
      throw invalidArgument(op, "name", "a string", name);
    }
    const parent = threadContext.getStore();
    const group = parent !== undefined && parent.host === this.#core ? parent.group : undefined;
    return new ThreadImpl<T>(
      this.#core,
      fn as unknown as (...args: never[]) => T | Promise<T>,
      name,
      parent,
      group,
    );
  }

  /**
   * Creates a thread and starts it at once with `args` (sock's `thread`).
   * A thread started inside `run` belongs to that run.
   *
   * @param fn The body (sync or async).
   * @param args Its arguments.
   * @returns The running {@linkcode Thread}.
   * @throws {NetError} `invalid_argument` when `fn` is not a function.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const worker = scheduler.thread(async (n: number) => n * 2, 21);
   * console.log(await worker.done); // 42
   * ```
   */
  thread<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, ...args: A): Thread<T> {
    const thread = this.#create("thread", fn, undefined);
    thread.start(args);
    return thread;
  }

  /**
   * Creates a thread without starting it (sock's `newthread`); `resume`
   * starts it.
   *
   * @param fn The body.
   * @param name Its name (default `thread-<n>`).
   * @returns The {@linkcode Thread}, in state `"new"`.
   * @throws {NetError} `invalid_argument` for a bad `fn` or `name`.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const greeter = scheduler.newThread((who: string) => `hi ${who}`, "greeter");
   * console.log(greeter.name, greeter.state); // greeter new
   * scheduler.resume(greeter, "you");
   * console.log(await greeter.done); // hi you
   * ```
   */
  newThread<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, name?: string): Thread<T> {
    return this.#create("newThread", fn, name);
  }

  /**
   * Starts a new thread with `args`, or wakes a thread waiting in
   * `suspend()` (which then resolves with `args`).
   *
   * @param thread A thread of this scheduler.
   * @param args Arguments (new thread) or `suspend`'s result.
   * @throws {NetError} `invalid_argument` when `thread` is neither new nor
   *   suspended.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const echo = scheduler.thread(async () => (await scheduler.suspend())[0]);
   * scheduler.resume(echo, "back");
   * console.log(await echo.done); // back
   * ```
   */
  resume(thread: Thread, ...args: unknown[]): void {
    if (!isThread(thread) || thread.host !== this.#core) {
      throw invalidArgument("resume", "thread", "a thread of this scheduler", thread);
    }
    if (thread.state === "new") return thread.start(args);
    if (thread.suspended !== undefined) return thread.suspended.resolve(args);
    throw new NetError(
      "invalid_argument",
      `thread ${thread.name} is ${thread.state}, neither new nor suspended`,
      { op: "resume", field: "thread" },
    );
  }

  /**
   * Suspends the current thread until `resume(thread, ...values)` (sock's
   * `suspend`).
   *
   * @param options `{ timeout, signal }`.
   * @returns The values passed to `resume`.
   * @throws {NetError} `invalid_argument` outside a thread of this
   *   scheduler; `aborted`, `timeout`.
   *
   * @example
   * ```ts
   * import { resume, suspend, thread } from "@netkit/netkit/scheduler";
   *
   * const waiting = thread(() => suspend());
   * resume(waiting, 1, 2);
   * console.log(await waiting.done); // [ 1, 2 ]
   * ```
   */
  suspend(options?: DeadlineOptions): Promise<unknown[]> {
    const thread = this.#ownThread();
    if (thread === undefined) return Promise.reject(outsideThread("suspend"));
    try {
      const waiter = this.#core.wait<unknown[]>("suspend", Infinity, options, [], undefined);
      if (!waiter.settled) thread.suspended = waiter;
      return waiter.promise;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The running thread when it is one of this scheduler's. */
  #ownThread(): ThreadImpl<unknown> | undefined {
    const thread = threadContext.getStore();
    return thread !== undefined && thread.host === this.#core ? thread : undefined;
  }

  /**
   * Resumes `thread` with `values` and suspends the calling thread until
   * something resumes or transfers back to it (sock's `transfer`, a
   * coroutine hand-over).
   *
   * @param thread A new or suspended thread of this scheduler, not the caller.
   * @param values What `thread` starts with, or what its `suspend` returns.
   * @returns The values the caller is resumed with.
   * @throws {NetError} `invalid_argument` outside a thread of this
   *   scheduler, for the caller itself, or for a thread that is neither new
   *   nor suspended (the caller is then not suspended).
   *
   * @example Two threads passing a counter back and forth
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const pong = scheduler.newThread(async (n: number) => {
   *   const [next] = await scheduler.transfer(ping, n + 1); // hands 1 to ping
   *   return next;
   * });
   * const ping = scheduler.newThread(async () => {
   *   const [got] = await scheduler.transfer(pong, 0) as [number]; // starts pong with 0
   *   scheduler.resume(pong, got + 1); // pong returns 2
   *   return got;
   * });
   * scheduler.resume(ping);
   * console.log(await ping.done, await pong.done); // 1 2
   * ```
   */
  transfer(thread: Thread, ...values: unknown[]): Promise<unknown[]> {
    const self = this.#ownThread();
    if (self === undefined) return Promise.reject(outsideThread("transfer"));
    const target = thread as ThreadImpl<unknown>;
    if (
      !(thread instanceof ThreadImpl) || target.host !== this.#core || target === self ||
      (target.state !== "new" && target.suspended === undefined)
    ) {
      return Promise.reject(
        invalidArgument(
          "transfer",
          "thread",
          "another thread of this scheduler, new or suspended",
          thread,
        ),
      );
    }
    const suspended = this.suspend();
    this.resume(thread, ...values);
    return suspended;
  }

  /**
   * Resolves after the next batch of completions netkit dispatches (sock's
   * `poll`): runtime operations landing (a read, an accept, a receive of
   * any netkit socket) or scheduler timers firing, with how many there were;
   * or with 0 when `timeout` passes first. Deno owns the event loop, so
   * this cannot run it, only wait for it: it is a way to wake when
   * anything happened, not a way to make progress.
   *
   * @param options `{ timeout, signal }`; without `timeout` it waits for
   *   the next batch however long it takes.
   * @returns How many completions the batch had (0 on timeout).
   * @throws {NetError} `aborted`; `invalid_argument` for bad options.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * scheduler.runAfter(1, () => {});
   * scheduler.runAfter(1, () => {});
   * console.log(await scheduler.poll({ timeout: 1000 })); // 2
   * console.log(await scheduler.poll({ timeout: 0 })); // 0
   * ```
   */
  poll(options?: DeadlineOptions): Promise<number> {
    let timeout: number | undefined;
    let signal: AbortSignal | undefined;
    try {
      ({ timeout, signal } = validateOptions<DeadlineOptions>("poll", options, DEADLINE_RULES));
    } catch (error) {
      return Promise.reject(error);
    }
    if (timeout === 0 && !signal?.aborted) return Promise.resolve(0);
    // The waiter owns the timeout (resolving 0) and the signal; a dispatch settles it first.
    const due = timeout === undefined ? Infinity : this.#core.now() + timeout;
    const waiter = this.#core.wait<number>("poll", due, { signal }, 0, undefined);
    if (waiter.settled) return waiter.promise;
    const unwatch = watchDispatch((count) => waiter.resolve(count));
    waiter.promise.then(unwatch, unwatch);
    return waiter.promise;
  }

  /**
   * The thread whose code is running (kept across `await`), or `undefined`
   * outside threads.
   *
   * @returns The current {@linkcode Thread}.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const named = scheduler.newThread(async () => {
   *   await scheduler.sleep(1);
   *   return scheduler.currentThread()?.name;
   * }, "worker");
   * scheduler.resume(named);
   * console.log(await named.done, scheduler.currentThread()); // worker undefined
   * ```
   */
  currentThread(): Thread | undefined {
    return threadContext.getStore();
  }

  /**
   * Calls `fn(thread)` when `thread` finishes, whatever the outcome (done,
   * failed or cancelled), before its `done` settles; at once when it has
   * already finished. Hooks run in the order added; one that throws is
   * reported to `onError`.
   *
   * @param thread The thread.
   * @param fn The hook.
   * @throws {NetError} `invalid_argument` for a bad argument.
   *
   * @example
   * ```ts
   * import { onThreadFinish, thread } from "@netkit/netkit/scheduler";
   *
   * const worker = thread(async () => "result");
   * onThreadFinish(worker, (t) => console.log(`${t.state}`)); // done
   * await worker.done;
   * ```
   */
  onThreadFinish<T>(thread: Thread<T>, fn: (thread: Thread<T>) => unknown): void {
    if (!isThread(thread)) throw invalidArgument("onThreadFinish", "thread", "a thread", thread);
    checkFunction("onThreadFinish", fn);
    const impl = thread as unknown as ThreadImpl<T>;
    if (impl.finished) impl.runHook(fn);
    else (impl.hooks ??= []).push(fn);
  }

  /**
   * A thread's environment: a `Map` of its own (sock's `threadenv`). A
   * thread starts with a **copy** of its creator's environment (inherited
   * values, but changes on either side stay on that side).
   *
   * @param thread The thread (default: the current one).
   * @returns Its `Map`.
   * @throws {NetError} `invalid_argument` outside threads without a thread.
   *
   * @example
   * ```ts
   * import { thread, threadEnv } from "@netkit/netkit/scheduler";
   *
   * const parent = thread(async () => {
   *   threadEnv().set("user", "ada");
   *   const child = thread(() => threadEnv().get("user"));
   *   return await child.done;
   * });
   * console.log(await parent.done); // ada
   * ```
   */
  threadEnv(thread?: Thread): Map<unknown, unknown> {
    const target = thread ?? threadContext.getStore();
    if (!isThread(target)) {
      throw invalidArgument("threadEnv", "thread", "a thread (or a call inside one)", thread);
    }
    return target.env ??= new Map();
  }

  /**
   * Runs `fn` as a thread and resolves when it and every thread started
   * under it (transitively, nested runs included) have finished (sock's
   * `run`).
   *
   * @param fn The body.
   * @param args Its arguments.
   * @returns `fn`'s result.
   * @throws {NetError|unknown} The first error any thread under it threw
   *   (a thread cancelled on its own is not an error); `aborted` when the
   *   run was stopped with {@linkcode Scheduler.stop}.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const order: string[] = [];
   * await scheduler.run(() => {
   *   scheduler.thread(async () => {
   *     await scheduler.sleep(2);
   *     order.push("child");
   *   });
   *   order.push("main");
   * });
   * console.log(order); // [ "main", "child" ]
   * ```
   */
  async run<A extends unknown[], T>(fn: (...args: A) => T | Promise<T>, ...args: A): Promise<T> {
    checkFunction("run", fn);
    const parent = threadContext.getStore();
    const parentGroup = parent !== undefined && parent.host === this.#core && !parent.group?.closed
      ? parent.group
      : undefined;
    const group = new Group(parentGroup);
    const root = new ThreadImpl<T>(
      this.#core,
      fn as unknown as (...args: never[]) => T | Promise<T>,
      "run",
      parent,
      group,
    );
    root.start(args);
    await group.finished;
    if (group.failed) throw group.error;
    if (root.state === "done") return root.value as T;
    throw root.value;
  }

  /**
   * Cancels every unfinished thread of this scheduler (sock's `stop`):
   * each `run` then rejects `aborted`. Timers are not touched.
   *
   * @param reason Kept as the `cause` of the threads' `aborted` errors.
   * @returns How many threads were cancelled.
   *
   * @example
   * ```ts
   * import { Scheduler } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler();
   * const serving = scheduler.run(() => scheduler.sleep(Infinity));
   * console.log(scheduler.stop("shutting down")); // 1
   * console.log(await serving.catch((error) => error.code)); // aborted
   * ```
   */
  stop(reason?: unknown): number {
    let cancelled = 0;
    for (const thread of [...this.#core.live]) {
      if (thread.cancel(reason)) cancelled++;
    }
    return cancelled;
  }

  // --- readiness ------------------------------------------------------------

  /**
   * Waits until some of the given objects are ready (lsocket's `select`):
   * `read` — a read, accept or receive would not wait (data or end of
   * stream buffered, a connection pending, a datagram queued, a process
   * exited); `write` — a write would not wait. Objects are netkit streams,
   * listeners, UDP sockets (anything with `[pollable]()`) and processes
   * (anything with `wait()`/`tryWait()`). Closed objects are ignored.
   * Waiting consumes nothing; each object costs one registered wait,
   * shared with other selects on it, and no polling.
   *
   * @param read Objects to watch for reading.
   * @param write Objects to watch for writing.
   * @param options `timeout`: resolve with empty lists after that many ms
   *   (not an error; `0` polls); `signal`: reject `aborted`.
   * @returns The ready objects of each list, in the order given.
   * @throws {NetError} `invalid_argument` for something not selectable, or
   *   when nothing is open and no timeout is given (lsocket: an error);
   *   `aborted`.
   *
   * @example
   * ```ts
   * import { select } from "@netkit/netkit/scheduler";
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * console.log(await select([b], [], { timeout: 5 })); // { read: [], write: [] }
   * await a.writeAll("x");
   * const { read } = await select([b]);
   * console.log(read.length, read[0] === b); // 1 true
   * a.close();
   * b.close();
   * ```
   */
  select<R extends SelectTarget, W extends SelectTarget = never>(
    read: readonly R[] | undefined,
    write?: readonly W[],
    options?: DeadlineOptions,
  ): Promise<SelectResult<R, W>> {
    return selectOn<R, W>(this.#core, read, write, options);
  }
}
