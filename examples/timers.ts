/**
 * sock's timers and sleep jobs, on netkit: `runAfter`, `runAt` and a
 * `cancel` ordered by their due times, `sleepUntil` and `sleep`, a
 * `runEvery` ticker that wakes a worker thread parked on a sleep job, and
 * `run` waiting for every thread.
 *
 * The program waits for the events themselves, never for a guessed time.
 * It runs once on a manual clock, which shows the exact times at once, and
 * once on the real clock, which gives the same events in the same order: a
 * loaded machine only makes them late (and `runEvery` then skips the ticks
 * it missed instead of stacking them).
 *
 * Run it: `deno run examples/timers.ts`.
 *
 * @module
 */

import { ManualClock, Scheduler, type Timer } from "../scheduler/mod.ts";

/** Something the program did, and when (milliseconds after it started). */
interface Event {
  at: number;
  what: string;
}

/** The sock-style program; its events come in one order whatever the load. */
async function program(scheduler: Scheduler): Promise<Event[]> {
  const start = scheduler.clock();
  const events: Event[] = [];
  const log = (what: string) => void events.push({ at: scheduler.clock() - start, what });
  let ticker: Timer | undefined;
  await scheduler.run(async () => {
    // One-shot timers fire in the order of their due times, however late.
    const first = scheduler.runAfter(10, () => log("runAfter(10) fires"));
    const doomed = scheduler.runAt(first.due + 20, () => log("never printed"));
    scheduler.runAt(
      first.due + 10,
      () => log(`runAt(+20) cancels the +30 timer: ${doomed.cancel()}`),
    );
    await scheduler.sleepUntil(first.due + 20);
    log(`sleepUntil(+30) wakes; the cancelled timer is active: ${doomed.active}`);

    // A ticker wakes a worker parked on a sleep job; `run` waits for the worker.
    const job = scheduler.sleepJob<[string]>();
    const worker = scheduler.newThread(async () => {
      log("worker sleeps on a sleep job until woken");
      log(`worker woken with ${JSON.stringify(await job.sleep(Infinity))}`);
      await scheduler.sleep(5);
      log("worker slept 5 ms more");
    }, "worker");
    scheduler.onThreadFinish(worker, (t) => log(`${t.name} finished: ${t.state}`));
    scheduler.resume(worker);
    let ticks = 0;
    ticker = scheduler.runEvery(10, () => {
      if (++ticks < 3) return log(`runEvery(10) tick ${ticks}`);
      log(`runEvery(10) tick 3 wakes the worker: ${job.wakeup("tick 3")}`);
      return false; // stops the ticker
    });
  });
  log(`run returns; ticker active: ${ticker?.active}; timers queued: ${scheduler.pendingTimers}`);
  return events;
}

/** Runs the program on a manual clock, moving it until the program is done. */
async function onManualClock(): Promise<Event[]> {
  const clock = new ManualClock();
  let finished = false;
  const running = program(new Scheduler({ clock }));
  running.then(() => void (finished = true), () => void (finished = true));
  for (let steps = 0; !finished && steps < 100; steps++) await clock.advanceAsync(5);
  if (!finished) throw new Error("the program did not finish within 500 ms of manual time");
  return await running;
}

/**
 * Runs the program on a manual clock, then on the real clock.
 *
 * @returns Readable lines describing what happened.
 */
export async function demo(): Promise<string[]> {
  const exact = await onManualClock();
  const real = await program(new Scheduler());
  const same = real.length === exact.length &&
    real.every((event, i) => event.what === exact[i].what);
  // Rounded to the millisecond, so float sums of due times cannot look early.
  const late = same && real.every((event, i) => Math.round(event.at) >= exact[i].at);
  return [
    "manual clock (exact, instant):",
    ...exact.map((event) => `+${String(event.at).padStart(2)} ms  ${event.what}`),
    `real clock: the same ${exact.length} events in the same order: ${same}; none earlier: ${late}`,
  ];
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
