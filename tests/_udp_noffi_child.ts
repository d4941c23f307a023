/**
 * Child of udp_connect_native_test.ts, run WITHOUT `--allow-ffi`: the
 * userland "connected" filter works as before, what needs the C library
 * fails `not_supported` naming the flag, and input is checked the same.
 * Prints one JSON object: what each call did.
 */
import { NetError } from "../mod.ts";
import * as udp from "../udp/mod.ts";

const HOST = "127.0.0.1";
const report: Record<string, unknown> = {};
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** What a call did: its value, or the NetError's code, field and message. */
async function attempt(work: () => unknown): Promise<unknown> {
  try {
    return { value: (await work()) ?? null };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return { code: error.code, field: error.field ?? null, message: error.message };
  }
}

{
  await using peer = await udp.bind({ hostname: HOST });
  await using stranger = await udp.bind({ hostname: HOST });
  await using socket = await udp.connect(HOST, peer.addr.port, { hostname: HOST });
  await stranger.sendTo("stranger", HOST, socket.addr.port);
  await peer.sendTo("peer", HOST, socket.addr.port);
  const got = await socket.receive({ timeout: 2000 });
  report.filtered = { data: text(got.data), fromPeer: got.port === peer.addr.port };
  socket.disconnect();
  await stranger.sendTo("anyone", HOST, socket.addr.port);
  report.afterDisconnect = text((await socket.receive({ timeout: 2000 })).data);
  await stranger.sendTo("peeked", HOST, socket.addr.port);
  const peeked = await socket.receive({ peek: true, timeout: 2000 });
  const taken = await socket.receive({ timeout: 2000 });
  report.peek = [text(peeked.data), text(taken.data)];
}
{
  const gone = await udp.bind({ hostname: HOST });
  const port = gone.addr.port;
  await gone[Symbol.asyncDispose]();
  await using socket = await udp.connect(HOST, port);
  await socket.send("nobody");
  await socket.send("nobody");
  // No ICMP error reaches a userland-connected socket: the receive waits for its timeout.
  report.closedPort = await attempt(() => socket.receive({ timeout: 200 }));
}
report.broadcastFalse = await attempt(() => udp.bind({ hostname: HOST, broadcast: false }));
report.broadcastBad = await attempt(() => udp.bind({ hostname: HOST, broadcast: "no" as never }));
report.v6TtlBind = await attempt(() => udp.bind({ hostname: "::1", multicastTTL: 2 }));
report.sendInterfaceBind = await attempt(() =>
  udp.bind({ hostname: "0.0.0.0", multicastInterface: "127.0.0.1" })
);
{
  await using v4 = await udp.bind({ hostname: "0.0.0.0" });
  await using v6 = await udp.bind({ hostname: "::1" });
  report.v6Ttl = await attempt(() => v6.setMulticastTTL(2));
  report.v4Ttl = await attempt(() => v4.setMulticastTTL(2));
  report.sendInterface = await attempt(() => v4.setMulticastInterface("127.0.0.1"));
  report.sendInterfaceBad = await attempt(() => v4.setMulticastInterface(5));
  await using joined = await udp.bind({
    hostname: "0.0.0.0",
    multicast: "239.255.77.5",
    multicastInterface: "127.0.0.1",
  });
  report.joinedWithInterface = joined.memberships.length;
}
console.log(JSON.stringify(report));
