/**
 * Bad input, property-based (fast-check), for `udp`: arbitrary bind options,
 * hosts, ports, payloads, multicast groups and unix datagram paths give
 * success or a NetError (`invalid_argument` for bad input) — never a
 * TypeError, a crash, a hang or a leak. Datagrams only go to our own sockets
 * on loopback; unix paths stay in a temporary directory.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { bind, bindUnix, connect, type UdpSocket } from "../udp/mod.ts";
import { parseAddress } from "../mod.ts";
import {
  anything,
  assertInvalid,
  checkOptionsOn,
  deadlineOptions,
  label,
  options,
  outcome,
  PARAMS,
  params,
  validDeadline,
} from "./_fuzz.ts";

const LOOPBACK = ["127.0.0.1", "::1", "localhost"];

function usableHost(value: unknown): boolean {
  if (typeof value !== "string" || value === "") return false;
  try {
    parseAddress(value.includes(":") && !value.startsWith("[") ? `[${value}]` : value);
    return true;
  } catch {
    return false;
  }
}

/** A destination host: loopback, or anything that is not a usable host elsewhere. */
const host = fc.oneof(fc.constantFrom(...LOOPBACK), anything, fc.string({ maxLength: 12 }))
  .map((value) => usableHost(value) && !LOOPBACK.includes(value as string) ? "127.0.0.1" : value);

const portFor = (ours: number) =>
  fc.oneof(fc.constant(ours), fc.integer({ min: -5, max: 70_000 }), anything).map((value) =>
    typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535
      ? ours
      : value
  );

const payload = fc.oneof(
  fc.uint8Array({ maxLength: 2000 }),
  fc.constantFrom(new Uint8Array(65507), new Uint8Array(65508), new Uint8Array(70_000), ""),
  fc.string({ maxLength: 100 }),
  anything,
);

const bindOptions = options({
  hostname: fc.oneof(fc.constantFrom("127.0.0.1", "::1", "0.0.0.0", "::"), host),
  port: fc.oneof(fc.constant(0), anything).map((p) => (typeof p === "number" && p > 0 ? 0 : p)),
  reuseAddress: fc.boolean(),
  loopback: fc.boolean(),
  broadcast: fc.boolean(),
  bufferSize: fc.oneof(fc.integer({ min: -1, max: 70_000 }), anything),
  multicast: fc.oneof(
    fc.constantFrom("239.255.77.1", ["239.255.77.2"], "ff02::77", "1.2.3.4"),
    anything,
  ),
  multicastInterface: fc.constantFrom("127.0.0.1", 0, 1, -1, "lo"),
  multicastTTL: fc.oneof(fc.integer({ min: -1, max: 300 }), anything),
});

/** Drains whatever a property sent to `socket`, so nothing stays queued. */
async function drain(socket: UdpSocket): Promise<number> {
  let n = 0;
  for (let i = 0; i < 1000; i++) {
    try {
      await socket.receive({ timeout: 0 + 1 });
      n++;
    } catch {
      return n;
    }
  }
  return n;
}

Deno.test("udp.bind with arbitrary options or address strings binds or fails with a NetError", async () => {
  const address = fc.oneof(
    fc.constantFrom("127.0.0.1:0", "[::1]:0", ":0", "127.0.0.1"),
    fc.string({ maxLength: 20 }),
  ).filter((text) => {
    try {
      const { hostname, port } = parseAddress(text);
      return port === 0 && ["127.0.0.1", "::1", "0.0.0.0"].includes(hostname);
    } catch {
      return true;
    }
  });
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(bindOptions.map((o) => [o] as const), fc.tuple(address, bindOptions)),
      async (args) => {
        const result = await outcome(() => bind(...(args as [never, never])));
        if (result.ok) await result.value[Symbol.asyncDispose]();
      },
    ),
    PARAMS,
  );
});

Deno.test("UdpSocket send/sendTo/receive/connect with arbitrary arguments succeed or fail with a NetError", async () => {
  await using receiver = await bind({ hostname: "127.0.0.1", port: 0 });
  const ours = receiver.addr.port;
  await fc.assert(
    fc.asyncProperty(
      payload,
      host,
      portFor(ours),
      deadlineOptions,
      async (data, hostname, port, opts) => {
        await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
        const sent = await outcome(() =>
          socket.sendTo(data as never, hostname as never, port as never, opts as never)
        );
        if (typeof port !== "number") assertInvalid(sent, `sendTo port ${label(port)}`);
        const unconnected = await outcome(() => socket.send(data as never));
        assertInvalid(unconnected, "send on an unconnected socket");
        const retarget = await outcome(() =>
          socket.connect(hostname as never, port as never, opts as never)
        );
        if (retarget.ok) {
          await outcome(() => socket.send(data as never, opts as never));
          socket.disconnect();
        }
        // Our own datagram (if any) is there, so a receive never waits long.
        await socket.sendTo("self", "127.0.0.1", socket.addr.port);
        const received = await outcome(() => socket.receive(opts as never));
        if (!validDeadline(opts)) assertInvalid(received, "receive with bad options");
        await drain(receiver);
      },
    ),
    PARAMS,
  );
});

Deno.test("udp.connect and multicast calls with arbitrary arguments succeed or fail with a NetError", async () => {
  await using peer = await bind({ hostname: "127.0.0.1", port: 0 });
  const ours = peer.addr.port;
  await fc.assert(
    fc.asyncProperty(
      host,
      portFor(ours),
      bindOptions,
      fc.oneof(fc.constantFrom("239.255.77.3", "224.0.0.1", "ff02::78", "127.0.0.1"), anything),
      fc.oneof(fc.constantFrom("127.0.0.1", 0, 1, undefined), anything),
      fc.oneof(fc.integer({ min: -1, max: 300 }), anything),
      anything,
      async (hostname, port, opts, group, iface, ttl, on) => {
        const connected = await outcome(() =>
          connect(hostname as never, port as never, opts as never)
        );
        if (!connected.ok) return;
        const socket = connected.value;
        try {
          const joined = await outcome(() => socket.joinMulticast(group as never, iface as never));
          if (joined.ok) {
            joined.value.leave();
            joined.value.leave(); // twice is harmless
          }
          await outcome(() => socket.setMulticastTTL(ttl as never));
          await outcome(() => socket.setMulticastLoopback(on as never));
          if (typeof on !== "boolean") {
            assertInvalid(
              await outcome(() => socket.setMulticastLoopback(on as never)),
              "loopback",
            );
          }
        } finally {
          await socket[Symbol.asyncDispose]();
        }
        await drain(peer);
      },
    ),
    params(100),
  );
});

Deno.test("udp.bindUnix and its sendTo/receive with arbitrary paths, payloads and options succeed or fail with a NetError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-fuzz-" });
  try {
    const name = fc.stringMatching(/^[a-z0-9._-]{1,16}$/).filter((n) => n !== "." && n !== "..");
    const path = fc.oneof(
      { weight: 4, arbitrary: name.map((n) => `${dir}/${n}`) },
      { weight: 1, arbitrary: name.map((n) => `@netkit-fuzz-dgram-${n}`) },
      {
        weight: 1,
        arbitrary: fc.constantFrom("", "\0", `${dir}/a\0b`, `${dir}/${"y".repeat(120)}`),
      },
      { weight: 1, arbitrary: anything.filter((v) => typeof v !== "string") },
    );
    await using receiver = await bindUnix(`${dir}/receiver.sock`);
    await fc.assert(
      fc.asyncProperty(
        path,
        options({
          mode: fc.constantFrom(0o600, 0o777, -1),
          unlink: fc.boolean(),
          unlinkOnClose: fc.boolean(),
          mkdir: fc.boolean(),
          bufferSize: fc.oneof(fc.integer({ min: -1, max: 300_000 }), anything),
        }),
        payload,
        fc.oneof(fc.constant(`${dir}/receiver.sock`), path),
        deadlineOptions,
        async (where, opts, data, to, sendOpts) => {
          const bound = await outcome(() => bindUnix(where as never, opts as never));
          if (typeof where !== "string") assertInvalid(bound, "bindUnix on a non-string path");
          if (!bound.ok) return;
          const socket = bound.value;
          try {
            await outcome(() => socket.sendTo(data as never, to as never, sendOpts as never));
            await socket.sendTo("self", socket.path!);
            const received = await outcome(() => socket.receive(sendOpts as never));
            if (received.ok) assert.ok(received.value.data instanceof Uint8Array);
          } finally {
            await socket[Symbol.asyncDispose]();
          }
          for (let i = 0; i < 100; i++) {
            const got = await outcome(() => receiver.receive({ timeout: 1 }));
            if (!got.ok) break;
          }
        },
      ),
      PARAMS,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("socket options with arbitrary names and values on UDP and unix datagram sockets, open and closed", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-fuzz-" });
  await using v4 = await bind({ hostname: "127.0.0.1", port: 0 });
  await using v6 = await bind({ hostname: "::1", port: 0 });
  await using dual = await bind({ hostname: "::", port: 0 });
  await using local = await bindUnix(`${dir}/d.sock`);
  const gone = await bind({ hostname: "127.0.0.1", port: 0 });
  gone.close();
  const targets = [v4, v6, dual, local, gone];
  try {
    await checkOptionsOn(targets, 300);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Valid receive options: a valid deadline plus `peek` (a boolean or left out). */
function validReceive(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== "object" || Array.isArray(value)) return false;
  const { peek, ...rest } = value as Record<string, unknown>;
  if (peek !== undefined && typeof peek !== "boolean") return false;
  return validDeadline(rest);
}

Deno.test("receive with arbitrary { peek, timeout, signal }: invalid_argument for bad ones; a peek leaves the datagram for the next receive", async () => {
  await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
  const receiveOptions = options({
    peek: fc.boolean(),
    timeout: fc.oneof(fc.constant(1000), fc.integer({ min: -1, max: 5 }), anything),
    signal: fc.constantFrom(AbortSignal.abort("stop"), new AbortController().signal),
  });
  await fc.assert(
    fc.asyncProperty(receiveOptions, fc.uint8Array({ maxLength: 64 }), async (opts, data) => {
      await socket.sendTo(data, "127.0.0.1", socket.addr.port);
      const first = await outcome(() => socket.receive(opts as never));
      if (!validReceive(opts)) {
        assertInvalid(first, `receive ${label(opts)}`);
      } else if (first.ok) {
        assert.deepEqual(first.value.data, data);
      }
      // Peeked, timed out or refused: the datagram is still there, whole, exactly once.
      const peeked = (opts as { peek?: unknown } | null)?.peek === true;
      if (!first.ok || peeked) {
        const next = await socket.receive({ timeout: 2000 });
        assert.deepEqual(next.data, data);
      }
      assert.equal(await drain(socket), 0);
    }),
    PARAMS,
  );
});

Deno.test("broadcast, multicastTTL and multicastInterface with arbitrary values: what was set reads back, or a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("127.0.0.1", "::1", "::", "0.0.0.0"),
      fc.oneof(fc.boolean(), anything),
      fc.oneof(fc.integer({ min: -1, max: 300 }), anything),
      fc.oneof(fc.constantFrom("127.0.0.1", "0.0.0.0", 0, 1, -1, "lo", 2 ** 31), anything),
      async (hostname, broadcast, ttl, iface) => {
        const bound = await outcome(() =>
          bind({ hostname, broadcast, multicastTTL: ttl, multicastInterface: iface } as never)
        );
        if (broadcast !== undefined && typeof broadcast !== "boolean") {
          assertInvalid(bound, `broadcast ${label(broadcast)}`);
        }
        if (
          ttl !== undefined && (typeof ttl !== "number" || !Number.isInteger(ttl) || ttl < 0 ||
            ttl > 255)
        ) {
          assertInvalid(bound, `multicastTTL ${label(ttl)}`);
        }
        if (!bound.ok) return;
        await using socket = bound.value;
        assert.equal(socket.getOption("so_broadcast"), broadcast ?? true);
        if (typeof ttl === "number") {
          const name = hostname.includes(":") ? "ipv6_multicast_hops" : "ip_multicast_ttl";
          assert.equal(socket.getOption(name), ttl);
        }
        if (typeof iface === "string") assert.equal(socket.getOption("ip_multicast_if"), iface);
        if (typeof iface === "number") assert.equal(socket.getOption("ipv6_multicast_if"), iface);
        const again = await outcome(() => socket.setMulticastInterface(iface as never));
        if (typeof iface !== "string" && typeof iface !== "number") {
          assertInvalid(again, `setMulticastInterface ${label(iface)}`);
        }
        const hops = await outcome(() => socket.setMulticastTTL(ttl as never));
        if (typeof ttl !== "number") assertInvalid(hops, `setMulticastTTL ${label(ttl)}`);
      },
    ),
    params(100),
  );
});
