/**
 * Bad input, property-based (fast-check), for `bindRaw` and `RawSocket`,
 * and for the native unix datagram sockets (`connectUnix`, `bindUnix()`):
 * arbitrary options, hosts, payloads, deadlines and socket options give
 * success or a NetError (`invalid_argument` for bad input) — never a
 * TypeError, a crash, a hang or a leak. Raw datagrams use IP protocol 253
 * (for experiments) and go to 127.0.0.1 or ::1 only.
 */
import fc from "fast-check";
import { bindRaw, bindUnix, connectUnix, type RawSocket } from "../udp/mod.ts";
import {
  anything,
  assertInvalid,
  checkOptionsOn,
  deadlineValue,
  label,
  options,
  outcome,
  params,
  validDeadline,
} from "./_fuzz.ts";

const IS_ROOT = Deno.uid() === 0;
const EXPERIMENT = 253;
const MAX_BUFFER = 16 * 1024 * 1024;

const protocol = fc.oneof(
  fc.constantFrom("icmp", "icmpv6", EXPERIMENT, 0, 255, 256, -1, 1.5, "udp"),
  fc.integer({ min: -3, max: 300 }).map((n) => (n >= 0 && n <= 255 ? EXPERIMENT : n)),
);

const rawOptions = options({
  family: fc.constantFrom("inet", "inet6", "ipv4", ""),
  protocol,
  hostname: fc.constantFrom("127.0.0.1", "::1", "0.0.0.0", "::", "localhost", "192.0.2.1", ""),
  ping: fc.boolean(),
  bufferSize: fc.oneof(fc.integer({ min: -1, max: 70_000 }), fc.constant(MAX_BUFFER + 1)),
});

/** Whether each field has an acceptable type and range (the cross-field rules aside). */
function wellTyped(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const known = ["family", "protocol", "hostname", "ping", "bufferSize"];
  for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
    if (!known.includes(key)) return false;
    if (field === undefined) continue;
    if (key === "family" && field !== "inet" && field !== "inet6") return false;
    if (
      key === "protocol" && field !== "icmp" && field !== "icmpv6" &&
      !(Number.isInteger(field) && (field as number) >= 0 && (field as number) <= 255)
    ) return false;
    if (key === "hostname" && (typeof field !== "string" || field === "")) return false;
    if (key === "ping" && typeof field !== "boolean") return false;
    if (
      key === "bufferSize" &&
      !(Number.isInteger(field) && (field as number) >= 1 && (field as number) <= MAX_BUFFER)
    ) return false;
  }
  return true;
}

Deno.test("bindRaw with arbitrary options opens a socket or fails with a NetError (invalid_argument for bad fields)", async () => {
  await fc.assert(
    fc.asyncProperty(rawOptions, async (opts) => {
      const result = await outcome(() => bindRaw(opts as never));
      if (!wellTyped(opts)) {
        assertInvalid(result, `bindRaw(${label(opts)})`);
      }
      if (result.ok) await result.value[Symbol.asyncDispose]();
    }),
    params(200),
  );
});

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 1500 }),
  fc.constantFrom(new Uint8Array(0), new Uint8Array(65_600), "text"),
  anything,
);

const host = fc.oneof(
  fc.constantFrom("127.0.0.1", "::1", "localhost", "[::1]", "", "999.1.1.1", "no such host!"),
  anything,
);

const receiveOptions = options({
  timeout: deadlineValue,
  signal: fc.constantFrom(AbortSignal.abort("stop"), new AbortController().signal),
  peek: fc.boolean(),
});

/** Receives what a property sent, so nothing stays queued. */
async function drain(socket: RawSocket): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (!(await outcome(() => socket.receive({ timeout: 1 }))).ok) return;
  }
}

Deno.test("RawSocket sendTo/receive with arbitrary arguments succeed or fail with a NetError", {
  ignore: !IS_ROOT,
}, async () => {
  await using v4 = await bindRaw({ protocol: EXPERIMENT, hostname: "127.0.0.1" });
  await using v6 = await bindRaw({ family: "inet6", protocol: EXPERIMENT, hostname: "::1" });
  await fc.assert(
    fc.asyncProperty(
      fc.boolean(),
      payload,
      host,
      receiveOptions,
      async (six, data, to, opts) => {
        const socket = six ? v6 : v4;
        const sent = await outcome(() => socket.sendTo(data as never, to as never));
        if (typeof to !== "string" || to === "") assertInvalid(sent, `sendTo host ${label(to)}`);
        // Our own datagram is there, so a receive never waits long.
        await socket.sendTo("self", six ? "::1" : "127.0.0.1");
        const received = await outcome(() => socket.receive(opts as never));
        const validReceive = opts === undefined || opts === null ||
          (typeof opts === "object" &&
            validDeadline(Object.fromEntries(
              Object.entries(opts as Record<string, unknown>).filter(([key]) => key !== "peek"),
            )) &&
            [undefined, true, false].includes((opts as { peek?: unknown }).peek as never));
        if (!validReceive) assertInvalid(received, `receive(${label(opts)})`);
        await drain(socket);
      },
    ),
    params(150),
  );
});

Deno.test("RawSocket setOption/getOption with arbitrary names and values", {
  ignore: !IS_ROOT,
}, async () => {
  await using v4 = await bindRaw({ protocol: EXPERIMENT });
  await using v6 = await bindRaw({ family: "inet6", protocol: EXPERIMENT });
  const closed = await bindRaw({ protocol: EXPERIMENT });
  await closed[Symbol.asyncDispose]();
  await checkOptionsOn([v4, v6, closed], 200);
});

Deno.test("connectUnix and an unbound bindUnix with arbitrary paths, options and payloads succeed or fail with a NetError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-fuzz-" });
  // Arbitrary strings as localPath are relative paths: they land in the temp dir, not the checkout.
  const cwd = Deno.cwd();
  Deno.chdir(dir);
  try {
    await using server = await bindUnix(`${dir}/server.sock`);
    const name = fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((n) => n !== "." && n !== "..");
    const path = fc.oneof(
      { weight: 3, arbitrary: fc.constant(server.path) },
      { weight: 2, arbitrary: name.map((n) => `${dir}/${n}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("", "\0", `${dir}/a\0b`, `${dir}/${"y".repeat(120)}`),
      },
      { weight: 1, arbitrary: anything.filter((v) => typeof v !== "string") },
    );
    const connectOptions = options({
      localPath: fc.oneof(name.map((n) => `${dir}/local-${n}`), fc.constantFrom("", "@")),
      bufferSize: fc.oneof(fc.integer({ min: -1, max: 70_000 }), anything),
      mode: fc.constantFrom(0o600, 0o1777, -1),
      unlinkOnClose: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(path, connectOptions, payload, async (to, opts, data) => {
        const connected = await outcome(() => connectUnix(to as never, opts as never));
        if (typeof to !== "string" || to === "") {
          assertInvalid(connected, `connectUnix ${label(to)}`);
        }
        if (connected.ok) {
          await outcome(() => connected.value.send(data as never, { timeout: 100 }));
          await connected.value[Symbol.asyncDispose]();
        }
        const unbound = await outcome(() => bindUnix(undefined, opts as never));
        if (unbound.ok) {
          await outcome(() => unbound.value.sendTo(data as never, to as never, { timeout: 100 }));
          await unbound.value[Symbol.asyncDispose]();
        }
        for (let i = 0; i < 100; i++) {
          if (!(await outcome(() => server.receive({ timeout: 1 }))).ok) break;
        }
      }),
      params(100),
    );
  } finally {
    Deno.chdir(cwd);
    await Deno.remove(dir, { recursive: true });
  }
});
