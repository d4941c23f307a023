/**
 * How late a 1 ms sleep ends: `deno bench` measures throughput, not this, so
 * it is a script. Each case runs in fresh processes (default 5), each
 * awaiting 200 sequential sleeps of 1 ms and reporting the mean of
 * `end − start − 1` in milliseconds, with `start`/`end` read by
 * `performance.now()` right around the `await`, with no warm-up (as the
 * cross-stack harness does):
 *
 *   deno run -A bench/sleep_lateness.ts [processes] [sleeps]
 *
 * Cases: a raw `setTimeout(1)`, netkit's `sleep(1)` (the default scheduler),
 * and `new Scheduler({ precise: true }).sleep(1)` with and without
 * `--allow-ffi`. A process run with a case name as its first argument runs
 * that case alone and prints its mean.
 */
import { Scheduler, sleep } from "../scheduler/mod.ts";

const CASES: Record<string, { flags: string[]; make: () => () => Promise<unknown> }> = {
  "raw setTimeout(1)": {
    flags: ["-A"],
    make: () => () => new Promise((resolve) => setTimeout(resolve, 1)),
  },
  "netkit sleep(1), default scheduler": { flags: ["-A"], make: () => () => sleep(1) },
  "netkit sleep(1), precise, --allow-ffi": {
    flags: ["-A"],
    make: () => {
      const scheduler = new Scheduler({ precise: true });
      if (!scheduler.precise) throw new Error("precise is not active under -A");
      return () => scheduler.sleep(1);
    },
  },
  "netkit sleep(1), precise, no --allow-ffi": {
    flags: ["--allow-read", "--allow-env"],
    make: () => {
      const scheduler = new Scheduler({ precise: true });
      if (scheduler.precise) throw new Error("precise is active without --allow-ffi");
      return () => scheduler.sleep(1);
    },
  },
};

async function child(name: string, sleeps: number): Promise<void> {
  const once = CASES[name].make();
  let late = 0;
  for (let i = 0; i < sleeps; i++) {
    const t0 = performance.now();
    await once();
    late += performance.now() - t0 - 1;
  }
  console.log(JSON.stringify({ mean: late / sleeps }));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function parent(processes: number, sleeps: number): Promise<void> {
  const self = new URL(import.meta.url).pathname;
  const means: Record<string, number[]> = {};
  for (let round = 0; round < processes; round++) {
    for (const [name, { flags }] of Object.entries(CASES)) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, self, name, String(sleeps)],
        stdin: "null",
        stdout: "piped",
        stderr: "inherit",
      }).output();
      if (output.code !== 0) throw new Error(`${name}: exit ${output.code}`);
      (means[name] ??= []).push(JSON.parse(new TextDecoder().decode(output.stdout)).mean);
    }
  }
  console.log(`1 ms sleep, mean lateness (ms), ${sleeps} sleeps × ${processes} processes`);
  for (const [name, values] of Object.entries(means)) {
    const shown = values.map((v) => v.toFixed(3)).join(" ");
    console.log(`${name.padEnd(42)} median ${median(values).toFixed(3)}   runs ${shown}`);
  }
}

const [first, second] = Deno.args;
if (first !== undefined && first in CASES) await child(first, Number(second ?? 200));
else await parent(Number(first ?? 5), Number(second ?? 200));
