import assert from "node:assert/strict";
import { bind } from "../udp/mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

Deno.test("bind on 127.0.0.1 and ::1 gets a kernel-picked port and exchanges datagrams", async () => {
  for (const hostname of ["127.0.0.1", "::1"]) {
    await using a = await bind({ hostname, port: 0 });
    await using b = await bind({ hostname, port: 0 });
    assert.equal(a.addr.hostname, hostname);
    assert.ok(a.addr.port > 0);
    await a.sendTo(`hello ${hostname}`, hostname, b.addr.port);
    const got = await b.receive({ timeout: 2000 });
    assert.equal(text(got.data), `hello ${hostname}`);
    assert.equal(got.hostname, hostname);
    assert.equal(got.port, a.addr.port);
    assert.equal(got.truncated, false);
  }
});

Deno.test("bind accepts an address string in XPIO's format", async () => {
  await using v4 = await bind("127.0.0.1:0");
  await using v6 = await bind("[::1]:0", { reuseAddress: true });
  assert.equal(v4.addr.hostname, "127.0.0.1");
  assert.equal(v6.addr.hostname, "::1");
});

Deno.test("bind rejects unknown options, bad ports and bad hosts naming the field", async () => {
  await rejectsWith(bind({ hostname: "127.0.0.1", prot: 1 } as never), "invalid_argument", "prot");
  for (const port of [70000, -1, 1.5, "80"]) {
    await rejectsWith(bind({ hostname: "127.0.0.1", port } as never), "invalid_argument", "port");
  }
  await rejectsWith(bind({ hostname: "999.1.1.1" }), "invalid_argument", "hostname");
  await rejectsWith(bind({ hostname: "" }), "invalid_argument", "hostname");
  await rejectsWith(bind({ bufferSize: 0 }), "invalid_argument", "bufferSize");
  await rejectsWith(bind("127.0.0.1:0", { port: 1 }), "invalid_argument", "port");
  await rejectsWith(bind("127.0.0.1:99999"), "invalid_argument", "address");
});

Deno.test("bind on a port in use is address_in_use, on a foreign address address_not_available", async () => {
  await using first = await bind({ hostname: "127.0.0.1", port: 0 });
  const error = await rejectsWith(
    bind({ hostname: "127.0.0.1", port: first.addr.port }),
    "address_in_use",
  );
  assert.match(error.message, /127\.0\.0\.1:\d+/);
  await rejectsWith(bind({ hostname: "198.51.100.1", port: 0 }), "address_not_available");
});

Deno.test("broadcast: true keeps SO_BROADCAST, false clears it (read back from the kernel)", async () => {
  await using on = await bind({ hostname: "127.0.0.1", broadcast: true });
  assert.equal(on.getOption("so_broadcast"), true);
  await using off = await bind({ hostname: "127.0.0.1", broadcast: false });
  assert.equal(off.getOption("so_broadcast"), false);
  await using plain = await bind({ hostname: "127.0.0.1" });
  assert.equal(plain.getOption("so_broadcast"), true);
  await using anyAddress = await bind({ hostname: "0.0.0.0", broadcast: false });
  assert.equal(anyAddress.getOption("so_broadcast"), false);
  await rejectsWith(anyAddress.sendTo("x", "255.255.255.255", 9), "access_denied");
  await on.sendTo("x", "255.255.255.255", 9).catch(() => {}); // allowed (the route may still refuse)
});

Deno.test("a datagram longer than bufferSize is cut and flagged truncated; the next is whole", async () => {
  await using receiver = await bind({ hostname: "127.0.0.1", bufferSize: 100 });
  await using sender = await bind({ hostname: "127.0.0.1" });
  const long = new Uint8Array(200).map((_, i) => i);
  await sender.sendTo(long, "127.0.0.1", receiver.addr.port);
  await sender.sendTo(long.subarray(0, 100), "127.0.0.1", receiver.addr.port);
  const cut = await receiver.receive({ timeout: 2000 });
  assert.equal(cut.truncated, true);
  assert.deepEqual(cut.data, long.subarray(0, 100));
  const whole = await receiver.receive({ timeout: 2000 });
  assert.equal(whole.truncated, false);
  assert.deepEqual(whole.data, long.subarray(0, 100));
});

Deno.test("without --unstable-net bind fails not_supported and names the flag", async () => {
  const script = `
    import { bind } from ${JSON.stringify(new URL("../udp/mod.ts", import.meta.url).href)};
    try { await bind(); console.log("bound"); } catch (e) { console.log(e.code, e.message); }
  `;
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", script],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  assert.ok(success);
  const line = text(stdout).trim();
  assert.match(line, /^not_supported /);
  assert.match(line, /--unstable-net/);
});

Deno.test("bind checks its multicast options before it opens anything (a bad group on a taken port is invalid_argument, not address_in_use)", async () => {
  await using taken = await bind({ hostname: "127.0.0.1", port: 0 });
  const port = taken.addr.port;
  await rejectsWith(
    bind({ hostname: "127.0.0.1", port, multicast: "not a group" }),
    "invalid_argument",
    "group",
  );
  await rejectsWith(
    bind({ hostname: "127.0.0.1", port, multicast: "239.255.10.9", multicastInterface: 3 }),
    "invalid_argument",
    "iface",
  );
  await using v6 = await bind({ hostname: "::1", multicastTTL: 2 });
  assert.equal(v6.getOption("ipv6_multicast_hops"), 2);
});
