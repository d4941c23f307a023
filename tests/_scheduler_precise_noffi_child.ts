/**
 * Child of scheduler_precise_test.ts, run WITHOUT `--allow-ffi`: a
 * `precise: true` scheduler falls back to the host timer and works as the
 * default one does. Prints one JSON object: what each step gave.
 */
import { NetError, Scheduler } from "../scheduler/mod.ts";

const scheduler = new Scheduler({ precise: true });
const report: Record<string, unknown> = {
  permission: Deno.permissions.querySync({ name: "ffi" }).state,
  precise: scheduler.precise,
};

const order: number[] = [];
const t = scheduler.clock();
// 10 ms apart: a time already past fires at once in scheduling order, so the three
// must be queued before the first is due (a cold process can stall a few ms).
await Promise.all(
  [30, 10, 20].map((ms) => scheduler.sleepUntil(t + ms).then(() => order.push(ms))),
);
report.order = order;

const codeOf = (error: unknown) => error instanceof NetError ? error.code : String(error);
report.timeout = await scheduler.sleep(60_000, { timeout: 1 }).then(() => "resolved", codeOf);
const controller = new AbortController();
const sleeping = scheduler.sleep(60_000, { signal: controller.signal });
controller.abort();
report.aborted = await sleeping.then(() => "resolved", codeOf);

let ticks = 0;
await new Promise<void>((resolve) => {
  scheduler.runEvery(1, () => {
    if (++ticks < 3) return true;
    resolve();
    return false;
  });
});
report.ticks = ticks;

try {
  new Scheduler({ precise: "yes" as never });
  report.invalid = "accepted";
} catch (error) {
  report.invalid = (error as NetError).field;
}
report.pending = scheduler.pendingTimers;
console.log(JSON.stringify(report));
