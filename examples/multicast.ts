/**
 * lsocket's multicast sample, on netkit and the loopback interface: a
 * receiver bound to 0.0.0.0 joins group 239.255.42.1 on 127.0.0.1; a sender
 * bound to 127.0.0.1 (multicast loopback on, TTL 1) connects to the group
 * and sends a few datagrams.
 *
 * Run: `deno run -A --unstable-net examples/multicast.ts`.
 *
 * @module
 */

import { bind, connect } from "../udp/mod.ts";

const GROUP = "239.255.42.1";

/** Sends three datagrams to a group on loopback; returns what the member received. */
export async function demo(): Promise<string[]> {
  const decoder = new TextDecoder();
  await using receiver = await bind({
    hostname: "0.0.0.0",
    port: 0,
    multicast: GROUP,
    multicastInterface: "127.0.0.1",
  });
  await using sender = await connect(GROUP, receiver.addr.port, {
    hostname: "127.0.0.1",
    loopback: true,
    multicastTTL: 1,
  });
  const lines: string[] = [];
  for (let i = 1; i <= 3; i++) {
    await sender.send(`announcement ${i}`);
    const { data, hostname, port } = await receiver.receive({ timeout: 2000 });
    lines.push(`multicast ${GROUP}: ${decoder.decode(data)} (from ${hostname}:${port})`);
  }
  for (const membership of receiver.memberships) await membership.leave();
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
