/**
 * Cooperative scheduling for netkit, after sock, XPIO and lsocket: a clock,
 * sleeps and interruptible sleep jobs, timers (`runAt`, `runAfter`,
 * `runEvery`) on one ordered queue behind one host timer, threads with
 * names, finish hooks, environments, `run`/`stop`, lsocket's `select` over
 * streams, listeners, UDP sockets and processes, and XPIO's task queues
 * with `try…` functions that answer `"retry"`. A {@linkcode ManualClock}
 * makes timer code testable without waiting.
 *
 * @example A ticker, a sleeper woken early, and select
 * ```ts
 * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
 *
 * const clock = new ManualClock();
 * const scheduler = new Scheduler({ clock });
 * const job = scheduler.sleepJob<[string]>();
 * const sleeper = scheduler.thread(() => job.sleep(1_000));
 * let ticks = 0;
 * scheduler.runEvery(10, () => ++ticks === 3 ? (job.wakeup(`woken at ${clock.now()}`), false) : true);
 * clock.advance(100);
 * console.log(await sleeper.done, ticks); // [ "woken at 30" ] 3
 * ```
 *
 * @module
 */

export { Scheduler } from "./scheduler.ts";
export type { SchedulerOptions } from "./scheduler.ts";
export { ManualClock, systemClock } from "./clock.ts";
export type { Clock } from "./clock.ts";
export type { Timer, TimerCallback } from "./timer.ts";
export { SleepJob } from "./sleep_job.ts";
export type { Thread, ThreadState } from "./thread.ts";
export type { SelectResult, SelectTarget, Waitable } from "./select.ts";
export { TaskQueue, tryAccept, tryRead, tryReceive, tryWait, tryWrite } from "./task_queue.ts";
export type {
  Retry,
  TaskQueueOptions,
  TryAcceptable,
  TryReadable,
  TryReceivable,
  TryWritable,
} from "./task_queue.ts";
export {
  clock,
  currentThread,
  defaultScheduler,
  newThread,
  onThreadFinish,
  poll,
  resume,
  run,
  runAfter,
  runAt,
  runEvery,
  select,
  sleep,
  sleepJob,
  sleepUntil,
  stop,
  suspend,
  thread,
  threadEnv,
  transfer,
} from "./functions.ts";
export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
export type { DeadlineOptions } from "../common/deadline.ts";
export { pollable } from "../common/readiness.ts";
export type { Pollable, Selectable } from "../common/readiness.ts";
