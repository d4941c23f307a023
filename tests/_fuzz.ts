/**
 * Helpers of the property-based bad-input tests (`tests/reliability_input_*`):
 * arbitrary values of every JS type, option objects mixing valid and bogus
 * fields, and the one outcome rule: a call succeeds or fails with a NetError
 * (never a TypeError, a crash or a hang).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { NetError } from "../common/errors.ts";

/** Runs per property: bounded so the whole suite stays fast. */
export const RUNS = 150;

/**
 * The seed: fixed by default, so `deno task test` (and CI) runs the same
 * inputs every time; `NETKIT_FUZZ_SEED=random` (`deno task test:fuzz`) explores
 * new ones, and `NETKIT_FUZZ_SEED=<n>` replays the seed a failure printed.
 */
const SEED = Deno.env.get("NETKIT_FUZZ_SEED") ?? "20261126";

/** fast-check parameters: `numRuns` runs from {@linkcode SEED}. */
export function params(numRuns: number = RUNS): fc.Parameters<unknown> {
  return SEED === "random" ? { numRuns } : { numRuns, seed: Number(SEED) };
}

/** fast-check parameters shared by every property. */
export const PARAMS: fc.Parameters<unknown> = params();

/** Values no generator thinks of but callers pass. */
const SPECIALS: unknown[] = [
  undefined,
  null,
  NaN,
  Infinity,
  -Infinity,
  -0,
  -1,
  0.5,
  2 ** 31,
  2 ** 32,
  2 ** 53,
  Number.MAX_VALUE,
  1n,
  "",
  "\0",
  " ",
  "x".repeat(5000),
  [],
  {},
  Object.create(null),
  new Uint8Array(0),
  new Uint8Array(3),
  new ArrayBuffer(4),
  new Uint16Array(2),
  new DataView(new ArrayBuffer(2)),
  () => {},
  Symbol("netkit"),
  new Date(0),
  /re/,
  Promise.resolve(1),
  new Error("boom"),
  AbortSignal.abort("reason"),
  new AbortController().signal,
  { toString: () => "x" },
  { valueOf: () => 1 },
];

/** Any JS value at all: primitives, objects, arrays, typed arrays, symbols, functions. */
export const anything: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIALS) },
  {
    weight: 4,
    arbitrary: fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withTypedArray: true,
      withSparseArray: true,
      maxDepth: 2,
    }),
  },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double() },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
);

/** Deadline values that are plausible, borderline or wrong. */
export const deadlineValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(0, 1, 10, 2 ** 31 - 1, 2 ** 31, 2 ** 40, -1, NaN, Infinity),
  fc.integer({ min: 0, max: 5000 }),
  fc.double({ min: 0, max: 1e12, noNaN: true }),
  anything,
);

/**
 * An options object: some known fields with plausible or wrong values, and
 * sometimes a field nobody knows. Also `undefined`, `null` or a non-object.
 */
export function options(
  fields: Record<string, fc.Arbitrary<unknown>>,
): fc.Arbitrary<unknown> {
  const entries: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, value] of Object.entries(fields)) {
    entries[name] = fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: anything });
  }
  const known = fc.record(entries, { requiredKeys: [] });
  const withUnknown = fc.tuple(known, fc.string({ minLength: 1, maxLength: 8 }), anything)
    .map(([object, key, value]) => ({ ...object, [key]: value }));
  return fc.oneof(
    { weight: 6, arbitrary: known },
    { weight: 1, arbitrary: withUnknown },
    { weight: 1, arbitrary: fc.constantFrom(undefined, null, 5, "opts", [], true) },
  );
}

/** `{ timeout, signal }` options. */
export const deadlineOptions: fc.Arbitrary<unknown> = options({
  timeout: deadlineValue,
  signal: fc.constantFrom(AbortSignal.abort("stop"), new AbortController().signal),
});

/** What a call ended with. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: NetError };

/**
 * Calls `fn` (sync or async) and checks the outcome rule: it returns, or it
 * throws/rejects a NetError whose code is known. Anything else (TypeError,
 * RangeError, a plain Error, a non-Error) fails the property. A call still
 * pending after `hangMs` fails it too.
 */
export async function outcome<T>(fn: () => T | Promise<T>, hangMs = 5000): Promise<Outcome<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const value = await Promise.race([
      Promise.resolve().then(fn),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HangError(hangMs)), hangMs);
      }),
    ]);
    return { ok: true, value };
  } catch (error) {
    if (error instanceof HangError) throw error;
    assert.ok(
      error instanceof NetError,
      `expected success or a NetError, got ${(error as Error)?.name}: ${
        (error as Error)?.message ?? String(error)
      }`,
    );
    assert.notEqual(error.code, "unknown", error.message);
    return { ok: false, error };
  } finally {
    clearTimeout(timer);
  }
}

class HangError extends Error {
  constructor(ms: number) {
    super(`the call did not settle within ${ms} ms`);
  }
}

/** A short description of any value, for messages (never throws, unlike `String(value)`). */
export function label(value: unknown): string {
  try {
    if (typeof value === "bigint") return `${value}n`;
    if (typeof value === "symbol") return value.toString();
    if (typeof value === "string") return JSON.stringify(value.slice(0, 30));
    if (typeof value !== "object" && typeof value !== "function") return String(value);
    return Object.prototype.toString.call(value);
  } catch {
    return "(unprintable)";
  }
}

/** Asserts the outcome failed `invalid_argument`. */
export function assertInvalid(result: Outcome<unknown>, why: string): void {
  assert.ok(!result.ok, `${why}: expected invalid_argument, but it succeeded`);
  assert.equal(result.error.code, "invalid_argument", `${why}: ${result.error.message}`);
}

/** Is `value` a valid deadline options object (or absent)? */
export function validDeadline(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    // An unknown field is refused whatever its value (Ward: no silent misconfiguration).
    if (key !== "timeout" && key !== "signal") return false;
    if (field === undefined) continue;
    if (key === "timeout") {
      if (typeof field !== "number" || !Number.isFinite(field) || field < 0) return false;
    } else if (!(field instanceof AbortSignal)) return false;
  }
  return true;
}

/** Every socket option name of the table, for the option properties. */
export const OPTION_NAMES = [
  "so_rcvbuf",
  "so_sndbuf",
  "so_keepalive",
  "so_reuseaddr",
  "so_reuseport",
  "so_broadcast",
  "so_linger",
  "so_error",
  "so_type",
  "so_acceptconn",
  "so_peercred",
  "tcp_nodelay",
  "tcp_keepidle",
  "tcp_keepintvl",
  "tcp_keepcnt",
  "tcp_user_timeout",
  "tcp_congestion",
  "ip_ttl",
  "ip_tos",
  "ipv6_unicast_hops",
  "ipv6_v6only",
  "ip_multicast_ttl",
  "ip_multicast_loop",
  "ip_multicast_if",
  "ipv6_multicast_hops",
  "ipv6_multicast_loop",
  "ipv6_multicast_if",
  "o_nonblock",
] as const;

/** Option names: the table's, near misses (case, prefix, typo) and anything at all. */
export const optionName: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...OPTION_NAMES) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "SO_RCVBUF",
      "so_rcvbuf ",
      "so_nodelay",
      "tcp_cork",
      "",
      "__proto__",
    ),
  },
  { weight: 1, arbitrary: anything },
);

/**
 * Option values: in range, at and past the edges, of the wrong type.
 * Congestion names are only ones the kernel has or plainly lacks (an
 * unknown one would make it try to load a module).
 */
export const optionValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: fc.integer({ min: -2, max: 300 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(null, 0, 1, 127, 128, 255, 256, 32767, 32768, 2 ** 31 - 1, 2 ** 31),
  },
  { weight: 1, arbitrary: fc.constantFrom("reno", "127.0.0.1", "0.0.0.0", "::1", "4096") },
  { weight: 1, arbitrary: anything },
);

/** A value that may be handed to the kernel as a congestion control name. */
function safeValue(name: unknown, value: unknown): unknown {
  return name === "tcp_congestion" && typeof value === "string" && value !== "reno" ? 7 : value;
}

/** What `setOption`/`getOption` may answer besides success. */
const OPTION_FAILURES = [
  "invalid_argument",
  "not_supported",
  "access_denied",
  "address_not_available",
];

/** Socket-like objects with the native option calls. */
export interface OptionTarget {
  setOption(name: never, value: never): void;
  getOption(name: never): unknown;
  fileno(): number;
  readonly closed: boolean;
}

/**
 * The option rule, for one name and value on `target`: a set either works
 * (and a boolean, `tcp_keepidle` or `ip_ttl` reads back as set) or fails
 * `invalid_argument` naming `name`/`value`, `not_supported`,
 * `access_denied` or `address_not_available` (no such interface); on a
 * closed object also `closed`. A `so_linger` set is undone at once (0 would
 * make the close a reset).
 */
export async function checkOption(
  target: OptionTarget,
  name: unknown,
  value: unknown,
): Promise<void> {
  value = safeValue(name, value);
  const set = await outcome(() => target.setOption(name as never, value as never));
  const allowed = target.closed ? [...OPTION_FAILURES, "closed"] : OPTION_FAILURES;
  if (!set.ok) {
    assert.ok(allowed.includes(set.error.code), set.error.message);
    if (set.error.code === "invalid_argument") {
      assert.ok(set.error.field === "name" || set.error.field === "value", set.error.message);
    }
  }
  const get = await outcome(() => target.getOption(name as never));
  if (!get.ok) {
    assert.ok(allowed.includes(get.error.code), get.error.message);
  } else if (
    set.ok && (typeof value === "boolean" || name === "tcp_keepidle" || name === "ip_ttl")
  ) {
    assert.deepEqual(get.value, value, `${String(name)} read back`);
  }
  if (set.ok && name === "so_linger") target.setOption("so_linger" as never, null as never);
  const fd = await outcome(() => target.fileno());
  if (!fd.ok) assert.ok([...allowed, "closed"].includes(fd.error.code), fd.error.message);
}

/** {@linkcode checkOption} over arbitrary names and values on any of `targets`, `runs` times. */
export async function checkOptionsOn(targets: OptionTarget[], runs: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: targets.length - 1 }),
      optionName,
      optionValue,
      async (which, name, value) => await checkOption(targets[which], name, value),
    ),
    params(runs),
  );
}
