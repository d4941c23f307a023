/**
 * Load: datagrams paced by acknowledgements, counted and verified byte for
 * byte (sizes 4..1400 B), over UDP and unix datagram sockets. Loss, duplicates
 * and reordering are reported and must be zero on loopback. Sized by
 * NETKIT_STRESS_SCALE.
 */
import assert from "node:assert/strict";
import { bind, bindUnix } from "../../udp/mod.ts";
import { firstDifference, pattern, report, SCALE } from "./_scale.ts";

/** Datagrams sent before waiting for an acknowledgement (fits the default socket buffer). */
const WINDOW = 50;

const sizeOf = (n: number) => 4 + (n * 2654435761 >>> 0) % 1397;

function datagram(n: number): Uint8Array {
  const bytes = pattern(n, 0, sizeOf(n));
  new DataView(bytes.buffer).setUint32(0, n);
  return bytes;
}

interface Endpoint {
  send(data: Uint8Array): Promise<unknown>;
  receive(): Promise<{ data: Uint8Array; reply: (data: Uint8Array) => Promise<unknown> }>;
}

async function pacedDatagrams(name: string, sender: Endpoint, receiver: Endpoint): Promise<void> {
  const total = SCALE.datagrams;
  let counted = 0;
  let bytes = 0;
  let outOfOrder = 0;
  let corrupt = 0;
  const ack = new Uint8Array([1]);
  const counting = (async () => {
    let expected = 0;
    while (counted < total) {
      const { data, reply } = await receiver.receive();
      const n = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(0);
      if (n !== expected) outOfOrder++;
      if (firstDifference(data, datagram(n)) !== -1) corrupt++;
      expected = n + 1;
      counted++;
      bytes += data.length;
      if (counted % WINDOW === 0 || counted === total) await reply(ack);
    }
  })();
  for (let sent = 0; sent < total;) {
    for (let i = 0; i < WINDOW && sent < total; i++, sent++) await sender.send(datagram(sent));
    await sender.receive();
  }
  await counting;
  report(`datagrams ${name}`, {
    sent: total,
    received: counted,
    lost: total - counted,
    out_of_order: outOfOrder,
    corrupt,
    bytes_verified: bytes,
  });
  assert.equal(counted, total, `${name}: lost ${total - counted}`);
  assert.equal(outOfOrder, 0, `${name}: out of order`);
  assert.equal(corrupt, 0, `${name}: corrupt datagrams`);
}

Deno.test(`stress: ${SCALE.datagrams} UDP datagrams paced by acknowledgements all arrive intact and in order`, async () => {
  await using receiver = await bind({ hostname: "127.0.0.1", port: 0 });
  await using sender = await bind({ hostname: "127.0.0.1", port: 0 });
  const to = receiver.addr.port;
  const timeout = { timeout: 10_000 };
  await pacedDatagrams("udp", {
    send: (data) => sender.sendTo(data, "127.0.0.1", to),
    receive: async () => ({
      data: (await sender.receive(timeout)).data,
      reply: () => Promise.resolve(),
    }),
  }, {
    send: () => Promise.resolve(),
    receive: async () => {
      const { data, hostname, port } = await receiver.receive(timeout);
      return { data, reply: (bytes) => receiver.sendTo(bytes, hostname, port) };
    },
  });
});

Deno.test(`stress: ${SCALE.datagrams} unix datagrams paced by acknowledgements all arrive intact and in order`, async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-stress-" });
  try {
    await using receiver = await bindUnix(`${dir}/receiver.sock`);
    await using sender = await bindUnix(`${dir}/sender.sock`);
    const timeout = { timeout: 10_000 };
    await pacedDatagrams("unix", {
      send: (data) => sender.sendTo(data, receiver.path),
      receive: async () => ({
        data: (await sender.receive(timeout)).data,
        reply: () => Promise.resolve(),
      }),
    }, {
      send: () => Promise.resolve(),
      receive: async () => {
        const { data, path } = await receiver.receive(timeout);
        assert.ok(path !== null, "the sender is bound, so it has a path");
        return { data, reply: (bytes) => receiver.sendTo(bytes, path) };
      },
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
