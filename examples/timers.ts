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

/**
 * The sock-style program: a ticker wakes a sleeping worker on its 3rd tick.
 * It waits for the events themselves (the 4th tick), never for a guessed
 * time, so it says the same on a loaded machine, where `runEvery` skips the
 * ticks it missed. Times are shown only on the manual clock, where they are
 * exact.
 */
async function program(scheduler: Scheduler, lines: string[], timed: boolean): Promise<void> {
  const start = scheduler.clock();
  const at = () => timed ? ` at +${Math.round(scheduler.clock() - start)} ms` : "";
  await scheduler.run(async () => {
    const job = scheduler.sleepJob<[string]>();
    let workerDone = false;
    const worker = scheduler.newThread(async () => {
      const woken = await job.sleep(10_000);
      lines.push(`worker woken${at()} with ${JSON.stringify(woken)}`);
      workerDone = true;
    }, "worker");
    scheduler.onThreadFinish(worker, (t) => lines.push(`${t.name} finished: ${t.state}`));
    scheduler.resume(worker);

    const never = scheduler.runAfter(10_000, () => lines.push("never printed"));
    let ticks = 0;
    let fourth!: () => void;
    const fourthTick = new Promise<void>((resolve) => fourth = resolve);
    const ticker = scheduler.runEvery(10, () => {
      ticks++;
      if (ticks === 2) lines.push(`tick 2${at()}; cancelling the 10 s timer: ${never.cancel()}`);
      if (ticks === 3) lines.push(`tick 3${at()}; wakeup → ${job.wakeup("tick 3")}`);
      if (ticks === 4) fourth();
      return ticks < 4; // returning false stops a runEvery timer
    });
    await fourthTick;
    lines.push(`ticker active after 4 ticks: ${ticker.active}; worker done: ${workerDone}`);
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
  const running = program(onManual, lines, true);
  await manual.advanceAsync(50);
  await running;

  lines.push("real clock:");
  await program(new Scheduler(), lines, false);
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
