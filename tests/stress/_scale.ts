/**
 * The size of the load tests. `deno task test` runs them small (the default);
 * `deno task test:stress` sets `NETKIT_STRESS_SCALE=full`. A number scales the
 * full figures (e.g. `0.5`), never below the small ones.
 */

/** How much each load test does. */
export interface StressFigures {
  /** Concurrent echo clients per transport. */
  clients: number;
  /** Round trips each client makes. */
  roundTrips: number;
  /** Short connections opened one after another. */
  connections: number;
  /** UDP datagrams sent and counted. */
  datagrams: number;
  /** Rounds of the memory test (RSS measured after GC between rounds). */
  rounds: number;
  /** Clients per memory-test round. */
  roundClients: number;
}

const SMALL: StressFigures = {
  clients: 100,
  roundTrips: 20,
  connections: 1_000,
  datagrams: 5_000,
  rounds: 5,
  roundClients: 50,
};

const FULL: StressFigures = {
  clients: 1_000,
  roundTrips: 100,
  connections: 10_000,
  datagrams: 100_000,
  rounds: 6,
  roundClients: 500,
};

function figures(): StressFigures {
  const setting = Deno.env.get("NETKIT_STRESS_SCALE")?.trim() ?? "";
  if (setting === "" || setting === "small") return SMALL;
  if (setting === "full") return FULL;
  const factor = Number(setting);
  if (!Number.isFinite(factor) || factor <= 0) {
    throw new Error(`NETKIT_STRESS_SCALE must be "small", "full" or a number > 0, not ${setting}`);
  }
  const scaled = {} as StressFigures;
  for (const key of Object.keys(FULL) as (keyof StressFigures)[]) {
    scaled[key] = Math.max(SMALL[key], Math.round(FULL[key] * factor));
  }
  return scaled;
}

/** The figures of this run. */
export const SCALE: StressFigures = figures();

/** Prints one line of figures, so the test log carries them. */
export function report(name: string, figures: Record<string, unknown>): void {
  const parts = Object.entries(figures).map(([key, value]) => `${key}=${value}`);
  console.log(`[stress] ${name}: ${parts.join(" ")}`);
}

/** Descriptors this process has open (Linux), to check nothing leaked. */
export function openDescriptors(): number {
  let count = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
  return count;
}

/** Deterministic bytes for (client, round): every byte a peer echoes is checked against them. */
export function pattern(client: number, round: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = (Math.imul(client + 1, 0x9e3779b1) ^ Math.imul(round + 1, 0x85ebca6b)) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 255;
  }
  return out;
}

/** Index of the first differing byte, or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

/** Peak resident set size of this process so far, in MiB (Linux VmHWM). */
export function peakRssMiB(): number {
  const status = Deno.readTextFileSync("/proc/self/status");
  const kib = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kib / 1024);
}
