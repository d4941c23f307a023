/**
 * Raw and ping sockets (`bindRaw`): ICMP echo to 127.0.0.1 and ::1 with the
 * reply matched by identifier and sequence, deadlines that lose nothing,
 * close during a pending receive, options, input checks, the privilege
 * (a child as uid 65534) and the missing `--allow-ffi` (a child without it).
 *
 * Raw ICMP sockets receive all of the host's ICMP, and other suites run
 * beside this one: the tests that need silence use IP protocol 253 (set
 * aside for experiments, RFC 3692), which nothing else on the host sends.
 */
import assert from "node:assert/strict";
import { bindRaw, type RawSocket } from "../udp/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { IS_ROOT, nobodyIgnored, runAsNobody, tempDir } from "./_unix_util.ts";

const EXPERIMENT = 253;
const ROOT = new URL("..", import.meta.url).pathname;
const PING_RANGE = "/proc/sys/net/ipv4/ping_group_range";

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function echo(type: number, id: number, sequence: number): Uint8Array {
  const message = new Uint8Array([type, 0, 0, 0, id >> 8, id & 255, sequence >> 8, sequence, 1, 2]);
  if (type === 8) {
    const sum = checksum(message);
    message[2] = sum >> 8;
    message[3] = sum & 255;
  }
  return message;
}

/** Receives until the echo reply with `id` and `sequence` (bounded); returns it and its datagram. */
async function reply(
  socket: RawSocket,
  type: number,
  id: number | null,
  sequence: number,
  header: boolean,
) {
  for (let seen = 0; seen < 1000; seen++) {
    const datagram = await socket.receive({ timeout: 5000 });
    const icmp = header ? datagram.data.subarray((datagram.data[0] & 15) * 4) : datagram.data;
    const matches = icmp[0] === type && (id === null || ((icmp[4] << 8) | icmp[5]) === id) &&
      ((icmp[6] << 8) | icmp[7]) === sequence;
    if (matches) return { datagram, icmp };
  }
  assert.fail("no matching echo reply among 1000 ICMP messages");
}

const randomId = () => crypto.getRandomValues(new Uint16Array(1))[0];

Deno.test(
  "raw ICMP echo to 127.0.0.1: the IP header comes first and the reply matches id and sequence",
  {
    ignore: !IS_ROOT,
  },
  async () => {
    await using socket = await bindRaw({ protocol: "icmp" });
    assert.equal(socket.family, "inet");
    assert.equal(socket.protocol, 1);
    assert.equal(socket.ping, false);
    const id = randomId();
    assert.equal(await socket.sendTo(echo(8, id, 7), "127.0.0.1"), 10);
    const { datagram, icmp } = await reply(socket, 0, id, 7, true);
    const data = datagram.data;
    assert.equal(data[0] >> 4, 4, "IPv4 header version");
    assert.equal(data[9], 1, "IP protocol ICMP");
    assert.deepEqual([...data.subarray(12, 16)], [127, 0, 0, 1], "source address");
    assert.equal(datagram.hostname, "127.0.0.1");
    assert.equal(datagram.truncated, false);
    assert.deepEqual([...icmp.subarray(8)], [1, 2], "the payload comes back");
    assert.equal(data.length, (data[0] & 15) * 4 + 10);
  },
);

Deno.test(
  "raw ICMPv6 echo to ::1: the reply (type 129) matches id and sequence, the kernel did the checksum",
  {
    ignore: !IS_ROOT,
  },
  async () => {
    await using socket = await bindRaw({ family: "inet6", protocol: "icmpv6" });
    assert.equal(socket.protocol, 58);
    const id = randomId();
    await socket.sendTo(echo(128, id, 3), "::1");
    const { datagram, icmp } = await reply(socket, 129, id, 3, false);
    assert.equal(datagram.hostname, "::1");
    assert.equal(icmp.length, 10, "no IPv6 header on an IPv6 raw socket");
    assert.deepEqual([...icmp.subarray(8)], [1, 2]);
  },
);

Deno.test("raw: a receive that times out loses nothing; datagrams come in order; peek keeps one", {
  ignore: !IS_ROOT,
}, async () => {
  await using socket = await bindRaw({ protocol: EXPERIMENT, hostname: "127.0.0.1" });
  await rejectsWith(socket.receive({ timeout: 20 }), "timeout");
  await rejectsWith(socket.receive({ timeout: 5 }), "timeout");
  for (const n of [1, 2, 3]) await socket.sendTo(new Uint8Array([n, n]), "127.0.0.1");
  const peeked = await socket.receive({ peek: true, timeout: 5000 });
  const payloads: number[] = [];
  for (let i = 0; i < 3; i++) {
    const { data, hostname } = await socket.receive({ timeout: 5000 });
    assert.equal(hostname, "127.0.0.1");
    assert.equal(data[9], EXPERIMENT);
    payloads.push(data[(data[0] & 15) * 4]);
  }
  assert.deepEqual(payloads, [1, 2, 3]);
  assert.equal(peeked.data[(peeked.data[0] & 15) * 4], 1);
});

Deno.test("raw: close during a pending receive rejects closed at once and leaves nothing running", {
  ignore: !IS_ROOT,
}, async () => {
  const socket = await bindRaw({ protocol: EXPERIMENT });
  const waiting = rejectsWith(socket.receive(), "closed");
  const timed = rejectsWith(socket.receive({ timeout: 60_000 }), "closed");
  // The receive's poll is on the runtime thread by now (it starts as receive() is called).
  socket.close();
  socket.close();
  await waiting;
  await timed;
  await socket[Symbol.asyncDispose]();
  await rejectsWith(socket.receive(), "closed");
  await rejectsWith(socket.sendTo("x", "127.0.0.1"), "closed");
  assert.throws(() => socket.fileno(), { code: "closed" });
  assert.throws(() => socket.getOption("so_type"), { code: "closed" });
});

Deno.test("raw: async iteration yields datagrams until close; await using closes", {
  ignore: !IS_ROOT,
}, async () => {
  await using socket = await bindRaw({ protocol: EXPERIMENT, hostname: "127.0.0.1" });
  await socket.sendTo("ab", "localhost");
  for await (const { data } of socket) {
    assert.equal(new TextDecoder().decode(data.subarray((data[0] & 15) * 4)), "ab");
    break;
  }
  const iterated = (async () => {
    let count = 0;
    for await (const _ of socket) count++;
    return count;
  })();
  socket.close();
  assert.equal(await iterated, 0);
});

Deno.test("raw: fileno and the IP options; wrong names are invalid_argument", {
  ignore: !IS_ROOT,
}, async () => {
  await using socket = await bindRaw({ protocol: "icmp" });
  assert.ok(socket.fileno() > 2);
  assert.equal(socket.getOption("so_type"), "raw");
  assert.equal(socket.getOption("o_nonblock"), true);
  socket.setOption("ip_ttl", 5);
  assert.equal(socket.getOption("ip_ttl"), 5);
  socket.setOption("so_rcvbuf", 65536);
  assert.equal(socket.getOption("so_rcvbuf"), 131072);
  assert.throws(() => socket.getOption("tcp_nodelay"), { code: "invalid_argument", field: "name" });
  assert.throws(() => socket.getOption("ipv6_unicast_hops"), {
    code: "invalid_argument",
    field: "name",
  });
  assert.throws(() => socket.setOption("ip_ttl", 0), { code: "invalid_argument", field: "value" });
  assert.throws(() => socket.setOption("so_type" as never, "raw" as never), {
    code: "not_supported",
  });
  await using v6 = await bindRaw({ family: "inet6" });
  v6.setOption("ipv6_unicast_hops", 9);
  assert.equal(v6.getOption("ipv6_unicast_hops"), 9);
});

Deno.test("raw: bad options are invalid_argument naming the field, before anything is opened", async () => {
  const cases: [unknown, string][] = [
    [{ family: "inet4" }, "family"],
    [{ protocol: 256 }, "protocol"],
    [{ protocol: -1 }, "protocol"],
    [{ protocol: 1.5 }, "protocol"],
    [{ protocol: "tcp" }, "protocol"],
    [{ protocol: "icmpv6" }, "protocol"],
    [{ family: "inet6", protocol: "icmp" }, "protocol"],
    [{ ping: true, protocol: 17 }, "protocol"],
    [{ ping: "yes" }, "ping"],
    [{ hostname: "" }, "hostname"],
    [{ hostname: "::1" }, "hostname"],
    [{ family: "inet6", hostname: "127.0.0.1" }, "hostname"],
    [{ hostname: "not a host" }, "hostname"],
    [{ bufferSize: 0 }, "bufferSize"],
    [{ port: 1 }, "port"],
  ];
  for (const [options, field] of cases) {
    await rejectsWith(bindRaw(options as never), "invalid_argument", field);
  }
  await rejectsWith(bindRaw("icmp" as never), "invalid_argument", "options");
});

Deno.test("raw: a local address the host lacks, and sends to the wrong family", {
  ignore: !IS_ROOT,
}, async () => {
  await rejectsWith(bindRaw({ hostname: "192.0.2.1" }), "address_not_available");
  await using socket = await bindRaw({ protocol: EXPERIMENT });
  await rejectsWith(socket.sendTo("x", "::1"), "invalid_argument", "host");
  await rejectsWith(socket.sendTo("x", ""), "invalid_argument", "host");
  await rejectsWith(socket.sendTo(42 as never, "127.0.0.1"), "invalid_argument");
});

/** Sets ping_group_range for the duration of `work`, then puts the old value back. */
async function withPingRange<T>(range: string, work: () => Promise<T>): Promise<T> {
  const before = (await Deno.readTextFile(PING_RANGE)).trim();
  await Deno.writeTextFile(PING_RANGE, range);
  try {
    return await work();
  } finally {
    await Deno.writeTextFile(PING_RANGE, before);
  }
}

Deno.test(
  "ping sockets (as root, with the range widened for the test and restored): echo to 127.0.0.1 and ::1",
  {
    ignore: !IS_ROOT,
  },
  async () => {
    const before = (await Deno.readTextFile(PING_RANGE)).trim();
    // Here the range is "1 0": no group, not even root's, may open one; the kernel says EACCES.
    if (before.split(/\s+/).map(Number)[0] > 0) {
      await rejectsWith(bindRaw({ ping: true }), "access_denied");
    }
    await withPingRange("0 0", async () => {
      for (
        const [family, host, type] of [["inet", "127.0.0.1", 8], ["inet6", "::1", 128]] as const
      ) {
        await using socket = await bindRaw({ family, ping: true });
        assert.equal(socket.ping, true);
        assert.equal(socket.getOption("so_type"), "dgram");
        // The kernel sets the identifier (and the checksum); the reply carries the kernel's id.
        await socket.sendTo(echo(type, 0, 11), host);
        const { datagram, icmp } = await reply(socket, type === 8 ? 0 : 129, null, 11, false);
        assert.equal(datagram.hostname, host);
        assert.deepEqual([...icmp.subarray(8)], [1, 2], "no IP header on a ping socket");
      }
    });
    assert.equal((await Deno.readTextFile(PING_RANGE)).trim(), before);
  },
);

Deno.test(
  "as uid 65534: bindRaw is access_denied; ping: true works where the range allows the group",
  {
    ignore: nobodyIgnored(),
  },
  async () => {
    await using dir = await tempDir(true);
    const child = (udpMod: string) =>
      `import { bindRaw } from "${udpMod}";
     const outcome = async (options) => {
       try {
         await using socket = await bindRaw(options);
         await socket.sendTo(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 1]), "127.0.0.1");
         const { data } = await socket.receive({ timeout: 5000 });
         return "reply " + data[0];
       } catch (e) { return e.code; }
     };
     console.log(JSON.stringify([await outcome({}), await outcome({ ping: true })]));`;
    const run = async () =>
      JSON.parse(await runAsNobody(child, [], dir.path, "udp/mod.ts")) as string[];
    const before = (await Deno.readTextFile(PING_RANGE)).trim();
    const [low, high] = before.split(/\s+/).map(Number);
    const allowed = low <= 65534 && 65534 <= high;
    const [raw, ping] = await run();
    assert.equal(raw, "access_denied");
    assert.equal(ping, allowed ? "reply 0" : "access_denied");
    if (!allowed) {
      // The kernel refuses this group here; with it in the range the same child gets its reply.
      const [raw2, ping2] = await withPingRange("65534 65534", run);
      assert.deepEqual([raw2, ping2], ["access_denied", "reply 0"]);
    }
  },
);

Deno.test("without --allow-ffi: bindRaw is not_supported naming the flag; bad input is still invalid_argument", async () => {
  const code = `import { bindRaw } from "${new URL("../udp/mod.ts", import.meta.url).href}";
    const outcome = async (options) => {
      try { await bindRaw(options); return "opened"; }
      catch (e) { return [e.code, e.field ?? null, e.message]; }
    };
    console.log(JSON.stringify([
      await outcome({}),
      await outcome({ ping: true, family: "inet6" }),
      await outcome({ protocol: 300 }),
    ]));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-net", "-"],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const [plain, ping, bad] = JSON.parse(new TextDecoder().decode(output.stdout));
  for (const outcome of [plain, ping]) {
    assert.equal(outcome[0], "not_supported");
    assert.match(outcome[2], /--allow-ffi/);
  }
  assert.deepEqual(bad.slice(0, 2), ["invalid_argument", "protocol"]);
});
