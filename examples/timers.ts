/**
 * sock's timers and sleep jobs, on netkit: a `runEvery` ticker that never
 * drifts, a worker thread parked on a sleep job that the ticker wakes with
 * a value, a `runAfter` that gets cancelled, and `run` waiting for every
 * thread. Runs once on a manual clock (exact, instant) and once on the
 * real clock (a few tens of milliseconds).
 *
 * Run it: `deno run examples/timers.ts`.
 *
 * @module
 */

import { ManualClock, Scheduler } from "../scheduler/mod.ts";

/** The sock-style program: a ticker wakes a sleeping worker on its 3rd tick. */
async function program(scheduler: Scheduler, lines: string[]): Promise<void> {
  const start = scheduler.clock();
  const at = () => `+${Math.round(scheduler.clock() - start)} ms`;
  await scheduler.run(async () => {
    const job = scheduler.sleepJob<[string]>();
    const worker = scheduler.newThread(async () => {
      const woken = await job.sleep(10_000);
      lines.push(`worker woken at ${at()} with ${JSON.stringify(woken)}`);
      threadDone = true;
    }, "worker");
    let threadDone = false;
    scheduler.onThreadFinish(worker, (t) => lines.push(`${t.name} finished: ${t.state}`));
    scheduler.resume(worker);

    const never = scheduler.runAfter(25, () => lines.push("never printed"));
    let ticks = 0;
    const ticker = scheduler.runEvery(10, () => {
      ticks++;
      if (ticks === 2) {
        lines.push(`tick 2 at ${at()}; cancelling the 25 ms timer: ${never.cancel()}`);
      }
      if (ticks === 3) lines.push(`tick 3 at ${at()}; wakeup → ${job.wakeup("tick 3")}`);
      return ticks < 4; // returning false stops a runEvery timer
    });
    await scheduler.sleep(45);
    lines.push(`ticker active after 4 ticks: ${ticker.active}; worker done: ${threadDone}`);
  });
}

/**
 * Runs the program on a manual clock, then on the real clock.
 *
 * @returns Readable lines describing what happened.
 */
export async function demo(): Promise<string[]> {
  const lines: string[] = ["manual clock (deterministic):"];
  const manual = new ManualClock();
  const onManual = new Scheduler({ clock: manual });
  const running = program(onManual, lines);
  await manual.advanceAsync(50);
  await running;

  lines.push("real clock:");
  await program(new Scheduler(), lines);
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
