import assert from "node:assert/strict";
import { bind, connect } from "../udp/mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

const GROUP = "239.255.77.1";

Deno.test("multicast on loopback: a receiver joined on 127.0.0.1 gets a 127.0.0.1 sender's datagram", async () => {
  await using receiver = await bind({ hostname: "0.0.0.0", port: 0 });
  const membership = await receiver.joinMulticast(GROUP, "127.0.0.1");
  assert.equal(membership.group, GROUP);
  assert.equal(membership.iface, "127.0.0.1");
  assert.deepEqual(receiver.memberships, [membership]);
  await using sender = await bind({ hostname: "127.0.0.1", loopback: true });
  await sender.setMulticastTTL(1);
  await sender.sendTo("to the group", GROUP, receiver.addr.port);
  const got = await receiver.receive({ timeout: 2000 });
  assert.equal(text(got.data), "to the group");
  assert.equal(got.port, sender.addr.port);
  await membership.leave();
  await membership.leave();
  assert.equal(membership.left, true);
  assert.deepEqual(receiver.memberships, []);
});

Deno.test("lsocket's mcast pair: bind with multicast joins, connect to a group sends with a TTL unfiltered", async () => {
  await using receiver = await bind({
    hostname: "0.0.0.0",
    multicast: GROUP,
    multicastInterface: "127.0.0.1",
  });
  assert.equal(receiver.memberships.length, 1);
  await using sender = await connect(GROUP, receiver.addr.port, {
    hostname: "127.0.0.1",
    multicastTTL: 2,
  });
  await sender.send("hello members");
  const got = await receiver.receive({ timeout: 2000 });
  assert.equal(text(got.data), "hello members");
  // A member's unicast reply passes: a group peer is not filtered.
  await receiver.sendTo("reply", got.hostname, got.port);
  assert.equal(text((await sender.receive({ timeout: 2000 })).data), "reply");
});

Deno.test("leave after the socket closed is harmless", async () => {
  const receiver = await bind({ hostname: "0.0.0.0" });
  const membership = await receiver.joinMulticast(GROUP, "127.0.0.1");
  receiver.close();
  assert.equal(membership.left, true);
  await membership.leave();
  await receiver[Symbol.asyncDispose]();
});

Deno.test("joinMulticast rejects non-groups, wrong families and bad interfaces", async () => {
  await using v4 = await bind({ hostname: "0.0.0.0" });
  await using v6 = await bind({ hostname: "::1" });
  await rejectsWith(v4.joinMulticast("127.0.0.1"), "invalid_argument", "group");
  await rejectsWith(v4.joinMulticast("ff02::1:3"), "invalid_argument", "group");
  await rejectsWith(v6.joinMulticast(GROUP), "invalid_argument", "group");
  await rejectsWith(v4.joinMulticast(GROUP, 1), "invalid_argument", "iface");
  await rejectsWith(v6.joinMulticast("ff02::1:3", "lo" as never), "invalid_argument", "iface");
  await rejectsWith(v4.joinMulticast(GROUP, "198.51.100.1"), "address_not_available");
  await rejectsWith(
    bind({ hostname: "0.0.0.0", multicast: ["not a group"] }),
    "invalid_argument",
    "group",
  );
});

Deno.test("multicast options: TTL range, IPv6 hop limit set and read back, loopback needs a boolean", async () => {
  await using v4 = await bind({ hostname: "127.0.0.1" });
  await using v6 = await bind({ hostname: "::1" });
  await rejectsWith(v4.setMulticastTTL(256), "invalid_argument", "ttl");
  await rejectsWith(v4.setMulticastLoopback("yes" as never), "invalid_argument", "on");
  await v6.setMulticastTTL(2);
  assert.equal(v6.getOption("ipv6_multicast_hops"), 2);
  await v6.setMulticastTTL(0);
  assert.equal(v6.getOption("ipv6_multicast_hops"), 0);
  await rejectsWith(v6.setMulticastTTL(256), "invalid_argument", "ttl");
  await v6.setMulticastLoopback(false);
  await rejectsWith(bind({ multicastTTL: -1 }), "invalid_argument", "multicastTTL");
  v4.close();
  await rejectsWith(v4.setMulticastTTL(2), "closed");
});

const strace = await new Deno.Command("strace", { args: ["-V"], stdout: "null", stderr: "null" })
  .output().then((r) => r.success, () => false);

Deno.test({
  name: "setMulticastLoopback and setMulticastTTL reach the kernel without a joined group",
  ignore: !strace,
  async fn() {
    const script = `
      import { bind } from ${JSON.stringify(new URL("../udp/mod.ts", import.meta.url).href)};
      const sender = await bind({ hostname: "127.0.0.1", loopback: true });
      await sender.setMulticastLoopback(false);
      await sender.setMulticastTTL(7);
      await sender.setMulticastLoopback(true);
      console.log(sender.memberships.length);
      sender.close();
    `;
    const { stdout, stderr, success } = await new Deno.Command("strace", {
      args: ["-f", "-e", "trace=setsockopt", Deno.execPath(), "eval", "--unstable-net", script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, text(stderr));
    assert.equal(text(stdout).trim(), "0");
    const calls = text(stderr).split("\n").filter((line) => line.includes("IP_MULTICAST"))
      .map((line) => /IP_MULTICAST_\w+, \[\d+\]/.exec(line)?.[0]);
    assert.deepEqual(calls, [
      "IP_MULTICAST_LOOP, [1]", // bind: loopback passed explicitly
      "IP_MULTICAST_LOOP, [0]",
      "IP_MULTICAST_TTL, [7]",
      "IP_MULTICAST_LOOP, [1]",
    ]);
  },
});

Deno.test("multicastInterface also chooses the interface multicast is sent on (read back, and delivered on loopback)", async () => {
  await using receiver = await bind({
    hostname: "0.0.0.0",
    multicast: GROUP,
    multicastInterface: "127.0.0.1",
  });
  // Bound to 0.0.0.0, the sender would go out the default route; the option sends it on lo.
  await using sender = await bind({ hostname: "0.0.0.0", multicastInterface: "127.0.0.1" });
  assert.equal(sender.getOption("ip_multicast_if"), "127.0.0.1");
  await sender.sendTo("on lo", GROUP, receiver.addr.port);
  assert.equal(text((await receiver.receive({ timeout: 2000 })).data), "on lo");
  await sender.setMulticastInterface("0.0.0.0");
  assert.equal(sender.getOption("ip_multicast_if"), "0.0.0.0");
  await sender.setMulticastInterface("127.0.0.1");
  assert.equal(sender.getOption("ip_multicast_if"), "127.0.0.1");
  await using v6 = await bind({ hostname: "::1", multicastInterface: 1 });
  assert.equal(v6.getOption("ipv6_multicast_if"), 1);
  await using dual = await bind({ hostname: "::" });
  await dual.setMulticastInterface("127.0.0.1");
  await dual.setMulticastInterface(1);
  assert.equal(dual.getOption("ip_multicast_if"), "127.0.0.1");
  assert.equal(dual.getOption("ipv6_multicast_if"), 1);
  await rejectsWith(sender.setMulticastInterface(1), "invalid_argument", "iface");
  await rejectsWith(v6.setMulticastInterface("127.0.0.1"), "invalid_argument", "iface");
  await rejectsWith(sender.setMulticastInterface("198.51.100.1"), "address_not_available");
  await rejectsWith(
    bind({ hostname: "::1", multicastInterface: "127.0.0.1" }),
    "invalid_argument",
    "multicastInterface",
  );
  sender.close();
  await rejectsWith(sender.setMulticastInterface("127.0.0.1"), "closed");
});

Deno.test("setMulticastTTL on a dual-stack socket sets the IPv4 TTL and the IPv6 hop limit", async () => {
  await using dual = await bind({ hostname: "::", multicastTTL: 5 });
  assert.equal(dual.getOption("ip_multicast_ttl"), 5);
  assert.equal(dual.getOption("ipv6_multicast_hops"), 5);
  await dual.setMulticastTTL(9);
  assert.equal(dual.getOption("ip_multicast_ttl"), 9);
  assert.equal(dual.getOption("ipv6_multicast_hops"), 9);
});
