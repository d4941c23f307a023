/**
 * `resolve` through getaddrinfo(3) (`--allow-ffi`): canonical names, type
 * and protocol per entry, service names as ports, each AI_* flag's effect,
 * the EAI_* answers as netkit codes, the deadline (the call finishes on its
 * thread and its list is freed), and `not_supported` without the flag.
 *
 * The host's /etc/hosts names `localhost` 127.0.0.1 (no ::1), and eth0 has
 * IPv4 and IPv6 addresses; tests that need other conditions (a host with
 * loopback only, a silent DNS server) run a child in its own network (and
 * mount) namespace with `unshare`.
 */
import assert from "node:assert/strict";
import { NetError, resolve } from "../mod.ts";
import { lookupsSettled } from "../common/_address.ts";
import { addrinfoCounts, ipv6Text } from "../common/_native/getaddrinfo.ts";
import { addressToBytes, bytesToAddress } from "../mod.ts";
import fc from "fast-check";

const ROOT = new URL("..", import.meta.url).pathname;
const CHILD = new URL("./_resolve_native_child.ts", import.meta.url).pathname;

/** The NetError `work` rejects with. */
async function failure(work: () => Promise<unknown>): Promise<NetError> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof NetError, String(error));
    return error;
  }
  assert.fail("expected a NetError");
}

/** The cause's `code` (the EAI_* name) of a getaddrinfo failure. */
function eai(error: NetError): string | undefined {
  return (error.cause as { code?: string } | undefined)?.code;
}

const hostsHaveV6Localhost = Deno.readTextFileSync("/etc/hosts").split("\n").some((line) =>
  /^\s*::1\s.*\blocalhost\b/.test(line)
);

Deno.test("resolve: canonicalName on every entry, with type and protocol per entry", async () => {
  const entries = await resolve("localhost", { canonicalName: true });
  assert.ok(entries.length >= 3, JSON.stringify(entries));
  for (const entry of entries) {
    assert.equal(entry.canonicalName, "localhost");
    assert.ok(entry.type === "tcp" || entry.type === "udp" || entry.type === "raw");
    assert.equal(typeof entry.protocol, "number");
    assert.equal(entry.port, undefined); // no port asked
  }
  // Without type, each address comes once per socket type.
  const v4 = entries.filter((e) => e.address === "127.0.0.1");
  assert.deepEqual(v4.map((e) => [e.type, e.protocol]), [["tcp", 6], ["udp", 17], ["raw", 0]]);
  // The first entry is the one glibc names; the others got a copy.
  const one = await resolve("localhost", { canonicalName: true, type: "tcp", family: "inet" });
  assert.deepEqual(one, [{
    family: "inet",
    address: "127.0.0.1",
    type: "tcp",
    protocol: 6,
    canonicalName: "localhost",
  }]);
  // A numeric host's canonical name is itself.
  const [literal] = await resolve("127.0.0.1", { canonicalName: true, type: "udp" });
  assert.equal(literal.canonicalName, "127.0.0.1");
});

Deno.test("resolve: a service name as port (http → 80, domain → 53), a numeric string too", async () => {
  const http = await resolve("localhost", { port: "http", type: "tcp", family: "inet" });
  assert.deepEqual(http.map((e) => e.port), [80]);
  const domain = await resolve("localhost", { port: "domain", family: "inet" });
  assert.deepEqual(domain.map((e) => [e.type, e.port]), [["tcp", 53], ["udp", 53]]);
  const numeric = await resolve("127.0.0.1", { port: "8080", type: "tcp" });
  assert.equal(numeric[0].port, 8080);
  // A number still works on this path, and is attached to every entry.
  const withNumber = await resolve("127.0.0.1", { port: 9, type: "udp" });
  assert.deepEqual(withNumber.map((e) => e.port), [9]);
  // An unknown service, or one the type has not (raw has no ports): name_not_resolved.
  const unknown = await failure(() => resolve("localhost", { port: "no-such-service" }));
  assert.equal(unknown.code, "name_not_resolved");
  assert.equal(eai(unknown), "EAI_SERVICE");
  assert.match(unknown.message, /no-such-service/);
  const raw = await failure(() => resolve("localhost", { port: "http", type: "raw" }));
  assert.equal(raw.code, "name_not_resolved");
  assert.equal(eai(raw), "EAI_SERVICE");
});

Deno.test("resolve: numericHost refuses a name (EAI_NONAME → name_not_resolved), takes literals", async () => {
  const error = await failure(() => resolve("localhost", { numericHost: true }));
  assert.equal(error.code, "name_not_resolved");
  assert.equal(eai(error), "EAI_NONAME");
  assert.match(error.message, /Name or service not known/); // gai_strerror's text
  const v4 = await resolve("127.0.0.1", { numericHost: true, type: "tcp" });
  assert.deepEqual(v4.map((e) => e.address), ["127.0.0.1"]);
  const v6 = await resolve("::1", { numericHost: true, type: "tcp" });
  assert.deepEqual(v6.map((e) => [e.family, e.address]), [["inet6", "::1"]]);
});

Deno.test("resolve: numericService refuses a service name and takes digits", async () => {
  const error = await failure(() => resolve("127.0.0.1", { port: "http", numericService: true }));
  assert.equal(error.code, "name_not_resolved");
  assert.equal(eai(error), "EAI_NONAME");
  const [entry] = await resolve("127.0.0.1", {
    port: "443",
    numericService: true,
    type: "tcp",
  });
  assert.equal(entry.port, 443);
});

Deno.test("resolve: type and protocol choose the entries", async () => {
  const udp = await resolve("localhost", { type: "udp" });
  assert.ok(udp.length > 0);
  for (const entry of udp) assert.deepEqual([entry.type, entry.protocol], ["udp", 17]);
  const tcp = await resolve("localhost", { type: "tcp" });
  for (const entry of tcp) assert.deepEqual([entry.type, entry.protocol], ["tcp", 6]);
  const raw = await resolve("127.0.0.1", { type: "raw", protocol: "icmp" });
  assert.deepEqual(raw.map((e) => [e.type, e.protocol]), [["raw", 1]]);
  const byProtocol = await resolve("127.0.0.1", { protocol: 17 });
  assert.deepEqual(byProtocol.map((e) => e.type), ["udp"]);
  // A protocol the type does not carry: EAI_SOCKTYPE → invalid_argument naming protocol.
  const mismatch = await failure(() => resolve("127.0.0.1", { type: "tcp", protocol: "udp" }));
  assert.equal(mismatch.code, "invalid_argument");
  assert.equal(mismatch.field, "protocol");
  assert.equal(eai(mismatch), "EAI_SOCKTYPE");
});

Deno.test("resolve: passive with no name gives the wildcard addresses, without it loopback", async () => {
  const wildcard = await resolve(null, { passive: true, type: "tcp", port: 8080 });
  assert.deepEqual(
    wildcard.map((e) => [e.family, e.address, e.port]).sort(),
    [["inet", "0.0.0.0", 8080], ["inet6", "::", 8080]],
  );
  const loopback = await resolve(null, { type: "tcp" });
  assert.deepEqual(loopback.map((e) => e.address).sort(), ["127.0.0.1", "::1"]);
  // passive changes nothing for a given name.
  const named = await resolve("127.0.0.1", { passive: true, type: "tcp" });
  assert.deepEqual(named.map((e) => e.address), ["127.0.0.1"]);
  // No name and canonicalName cannot go together (getaddrinfo: EAI_BADFLAGS); checked first.
  const bad = await failure(() => resolve(null, { canonicalName: true }));
  assert.equal(bad.code, "invalid_argument");
  assert.equal(bad.field, "canonicalName");
});

Deno.test("resolve: v4Mapped gives IPv4 addresses as ::ffff:a.b.c.d for family inet6, all adds them to IPv6 ones", async () => {
  const without = await failure(() => resolve("127.0.0.1", { family: "inet6", type: "tcp" }));
  assert.equal(without.code, "name_not_resolved");
  const mapped = await resolve("127.0.0.1", { family: "inet6", v4Mapped: true, type: "tcp" });
  assert.deepEqual(mapped.map((e) => [e.family, e.address]), [["inet6", "::ffff:127.0.0.1"]]);
  // localhost here: 127.0.0.1 only (no ::1 in /etc/hosts), so v4Mapped alone maps it.
  const both = await resolve("localhost", {
    family: "inet6",
    v4Mapped: true,
    all: true,
    type: "tcp",
  });
  assert.ok(both.some((e) => e.address === "::ffff:127.0.0.1"), JSON.stringify(both));
  if (hostsHaveV6Localhost) {
    assert.ok(both.some((e) => e.address === "::1"));
    const only = await resolve("localhost", { family: "inet6", v4Mapped: true, type: "tcp" });
    assert.ok(only.every((e) => e.address === "::1"), "v4Mapped without all: IPv6 wins");
  } else {
    const only = await resolve("localhost", { family: "inet6", v4Mapped: true, type: "tcp" });
    assert.deepEqual(only.map((e) => e.address), ["::ffff:127.0.0.1"]);
  }
  // all without v4Mapped changes nothing.
  const allAlone = await failure(() =>
    resolve("127.0.0.1", { family: "inet6", all: true, type: "tcp" })
  );
  assert.equal(allAlone.code, "name_not_resolved");
});

Deno.test("resolve: addrConfig keeps what this host has (IPv4 and IPv6 configured here)", async () => {
  const entries = await resolve("localhost", { addrConfig: true, type: "tcp" });
  assert.deepEqual(entries.map((e) => e.address), ["127.0.0.1"]);
  const v6 = await resolve("::1", { addrConfig: true, family: "inet6", type: "tcp" });
  assert.deepEqual(v6.map((e) => e.address), ["::1"]);
});

/** Runs the child in fresh namespaces (`unshare`), or says why it cannot. */
async function inNamespace(
  flags: string[],
  setup: string,
  mode: string,
): Promise<Record<string, unknown> | string> {
  const script = `${setup}\nexec "${Deno.execPath()}" run -A "${CHILD}" ${mode}`;
  let output: Deno.CommandOutput;
  try {
    output = await new Deno.Command("unshare", {
      args: [...flags, "sh", "-c", script],
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (error) {
    return `unshare cannot run here: ${(error as Error).message}`;
  }
  const stderr = new TextDecoder().decode(output.stderr);
  if (output.code !== 0 && /unshare:/.test(stderr)) return `unshare failed: ${stderr.trim()}`;
  assert.equal(output.code, 0, stderr);
  return JSON.parse(new TextDecoder().decode(output.stdout));
}

Deno.test("resolve: addrConfig on a host with loopback only (a network namespace): one family finds nothing", async () => {
  const report = await inNamespace(["-n"], "ip link set lo up", "addrconfig");
  if (typeof report === "string") {
    console.log(`skipped: ${report}`);
    return;
  }
  // Without addrConfig the literal resolves; with it, IPv4 counts as not
  // configured (loopback does not count) and getaddrinfo answers EAI_NONAME.
  assert.deepEqual(report.plain, { value: ["127.0.0.1"] });
  assert.deepEqual(report.v4, { code: "name_not_resolved", eai: "EAI_NONAME" });
  assert.deepEqual(report.v6, { code: "name_not_resolved", eai: "EAI_NONAME" });
  // Any family: neither is configured, so nothing is narrowed.
  assert.deepEqual(report.any, { value: ["127.0.0.1"] });
});

Deno.test("resolve: a deadline passing while the resolver is silent rejects at once; the call finishes and is freed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // A resolver that waits 1 s for an answer, from a server that never gives one.
    await Deno.writeTextFile(
      `${dir}/resolv.conf`,
      "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    );
    const report = await inNamespace(
      ["-m", "-n"],
      `ip link set lo up && mount --bind "${dir}/resolv.conf" /etc/resolv.conf`,
      "slow",
    );
    if (typeof report === "string") {
      console.log(`skipped: ${report}`);
      return;
    }
    assert.equal(report.code, "timeout");
    assert.equal(report.queried, true); // the question reached the (silent) server
    assert.equal(report.pendingAtTimeout, 1); // the call was still on its thread
    // Both calls returned; neither had a list to free (the resolver failed).
    assert.deepEqual(report.after, { pending: 0, freed: 0 });
    // What a call without a deadline ends with when the resolver gives up: EAI_AGAIN, a
    // temporary failure, is name_not_resolved with gai_strerror's text and the name as cause.
    assert.equal(report.lateCode, "name_not_resolved");
    assert.equal(report.lateEai, "EAI_AGAIN");
    assert.match(report.lateMessage as string, /Temporary failure in name resolution/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolve: an abort during the call rejects aborted at once; the call lands later and frees its list", async () => {
  const before = addrinfoCounts();
  const controller = new AbortController();
  const pending = resolve("localhost", { canonicalName: true, signal: controller.signal });
  controller.abort(new Error("enough"));
  const error = await failure(() => pending);
  assert.equal(error.code, "aborted");
  await lookupsSettled(); // the call on its thread returns (microseconds for localhost)
  const after = addrinfoCounts();
  assert.equal(after.started - before.started, 1);
  assert.equal(after.returned - before.returned, 1);
  assert.equal(after.freed - before.freed, 1); // the list nobody waited for was freed
  // timeout 0 fails before any call.
  const zero = await failure(() => resolve("localhost", { type: "tcp", timeout: 0 }));
  assert.equal(zero.code, "timeout");
  assert.equal(addrinfoCounts().started, after.started);
  // An already aborted signal too.
  const gone = await failure(() =>
    resolve("localhost", { type: "tcp", signal: AbortSignal.abort() })
  );
  assert.equal(gone.code, "aborted");
  assert.equal(addrinfoCounts().started, after.started);
  // A timeout that does not pass changes nothing.
  const fine = await resolve("localhost", { type: "tcp", timeout: 10_000 });
  assert.equal(fine[0].address, "127.0.0.1");
});

Deno.test("resolve: every returned list is freed, a failed call has none", async () => {
  const before = addrinfoCounts();
  await resolve("localhost", { type: "tcp" });
  await failure(() => resolve("localhost", { numericHost: true }));
  await Promise.all([1, 2, 3].map(() => resolve("127.0.0.1", { canonicalName: true })));
  const after = addrinfoCounts();
  assert.equal(after.started - before.started, 5);
  assert.equal(after.returned - before.returned, 5);
  assert.equal(after.freed - before.freed, 4); // the EAI_NONAME call returned no list
});

Deno.test("resolve: without getaddrinfo options the runtime's path answers as before", async () => {
  assert.deepEqual(await resolve("localhost", { family: "inet" }), [{
    family: "inet",
    address: "127.0.0.1",
  }]);
  assert.deepEqual(await resolve("127.0.0.1", { port: 80 }), [{
    family: "inet",
    address: "127.0.0.1",
    port: 80,
  }]);
  // false flags ask for nothing.
  const before = addrinfoCounts().started;
  assert.deepEqual(await resolve("::1", { canonicalName: false, passive: false }), [{
    family: "inet6",
    address: "::1",
  }]);
  assert.equal(addrinfoCounts().started, before);
  // The deadline works on this path too.
  const zero = await failure(() => resolve("localhost", { timeout: 0 }));
  assert.equal(zero.code, "timeout");
});

Deno.test("resolve: bad option values are invalid_argument naming the field", async () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ type: "sctp" }, "type"],
    [{ protocol: 256 }, "protocol"],
    [{ protocol: "esp" }, "protocol"],
    [{ port: "" }, "port"],
    [{ port: "99999" }, "port"],
    [{ port: "a b" }, "port"],
    [{ port: 1.5 }, "port"],
    [{ canonicalName: "yes" }, "canonicalName"],
    [{ passive: 1 }, "passive"],
    [{ numericHost: null }, "numericHost"],
    [{ numericService: "no" }, "numericService"],
    [{ v4Mapped: 0 }, "v4Mapped"],
    [{ addrConfig: [] }, "addrConfig"],
    [{ all: {} }, "all"],
    [{ timeout: -1 }, "timeout"],
    [{ flags: 4 }, "flags"],
  ];
  for (const [options, field] of cases) {
    const error = await failure(() => resolve("localhost", options as never));
    assert.equal(error.code, "invalid_argument", JSON.stringify(options));
    assert.equal(error.field, field, JSON.stringify(options));
  }
  const badName = await failure(() => resolve("bad name", { canonicalName: true }));
  assert.equal(badName.field, "name");
});

Deno.test("resolve without --allow-ffi: getaddrinfo options are not_supported naming the flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", CHILD, "noffi"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<
    string,
    { value?: unknown; code?: string; field?: string; message?: string }
  >;
  for (
    const key of [
      "canonicalName",
      "service",
      "type",
      "protocol",
      "passive",
      "numericHost",
      "numericService",
      "v4Mapped",
      "addrConfig",
      "all",
      "noName",
    ]
  ) {
    assert.equal(report[key].code, "not_supported", `${key}: ${JSON.stringify(report[key])}`);
    assert.match(report[key].message!, /--allow-ffi/, key);
  }
  // Bad values fail the same way with or without the flag, before it is asked for.
  assert.deepEqual([report.badType.code, report.badType.field], ["invalid_argument", "type"]);
  assert.deepEqual([report.badPort.code, report.badPort.field], ["invalid_argument", "port"]);
  // The runtime's path keeps working.
  assert.deepEqual(report.plain.value, ["127.0.0.1"]);
});

Deno.test("resolve: IPv6 addresses are written in the compressed form bytesToAddress uses (::ffff:a.b.c.d when mapped)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.boolean(), (bytes, mapped) => {
      if (mapped) bytes.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]);
      const text = ipv6Text(bytes);
      if (mapped) assert.equal(text, `::ffff:${bytes.subarray(12).join(".")}`);
      else assert.equal(text, bytesToAddress(bytes));
    }),
    { numRuns: 500, seed: 17 },
  );
  for (
    const address of ["::", "::1", "fe80::1", "1::", "1:0:0:2::3", "2001:db8::1:0:0:1", "::2:3"]
  ) {
    assert.equal(ipv6Text(addressToBytes(address)), address);
  }
});
