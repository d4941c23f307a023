/**
 * UDP datagram rates: netkit `udp` against raw `Deno.listenDatagram`, on
 * 127.0.0.1. Ping-pong (one datagram each way per round) at 64 and 1400
 * bytes, and one-way bursts of 16 datagrams per acknowledgement at 1400 bytes.
 *
 * Run: `deno bench -A bench/udp_bench.ts`.
 *
 * @module
 */

import { bind, connect } from "../udp/mod.ts";

const HOST = "127.0.0.1";
const ROUNDS = 5000;
const BURST = 16;
const BURSTS = 320;

async function rawPingPong(size: number, reuse = false): Promise<void> {
  const server = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const to = server.addr;
  // Deno's default receive() allocates a 65507-byte buffer per call; `reuse` passes one.
  const serverBuffer = reuse ? new Uint8Array(65536) : undefined;
  const clientBuffer = reuse ? new Uint8Array(65536) : undefined;
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const [data, from] = await server.receive(serverBuffer);
      await server.send(data, from);
    }
  })();
  const request = new Uint8Array(size).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await client.send(request, to);
    await client.receive(clientBuffer);
  }
  await echo;
  client.close();
  server.close();
}

async function netkitPingPong(size: number): Promise<void> {
  await using server = await bind({ hostname: HOST, port: 0 });
  await using client = await bind({ hostname: HOST, port: 0 });
  const port = server.addr.port;
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { data, hostname, port } = await server.receive();
      await server.sendTo(data, hostname, port);
    }
  })();
  const request = new Uint8Array(size).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await client.sendTo(request, HOST, port);
    await client.receive();
  }
  await echo;
}

async function netkitConnectedPingPong(size: number): Promise<void> {
  await using server = await bind({ hostname: HOST, port: 0 });
  await using client = await connect(HOST, server.addr.port, { hostname: HOST });
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const { data, hostname, port } = await server.receive();
      await server.sendTo(data, hostname, port);
    }
  })();
  const request = new Uint8Array(size).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await client.send(request);
    await client.receive();
  }
  await echo;
}

async function rawBursts(size: number): Promise<void> {
  const receiver = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const sender = Deno.listenDatagram({ transport: "udp", hostname: HOST, port: 0 });
  const to = receiver.addr;
  const ack = new Uint8Array(1);
  const counting = (async () => {
    for (let b = 0; b < BURSTS; b++) {
      let from: Deno.Addr = to;
      for (let i = 0; i < BURST; i++) from = (await receiver.receive())[1];
      await receiver.send(ack, from);
    }
  })();
  const payload = new Uint8Array(size).fill(2);
  for (let b = 0; b < BURSTS; b++) {
    for (let i = 0; i < BURST; i++) await sender.send(payload, to);
    await sender.receive();
  }
  await counting;
  sender.close();
  receiver.close();
}

async function netkitBursts(size: number): Promise<void> {
  await using receiver = await bind({ hostname: HOST, port: 0 });
  await using sender = await bind({ hostname: HOST, port: 0 });
  const port = receiver.addr.port;
  const ack = new Uint8Array(1);
  const counting = (async () => {
    for (let b = 0; b < BURSTS; b++) {
      let from = { hostname: HOST, port: 0 };
      for (let i = 0; i < BURST; i++) from = await receiver.receive();
      await receiver.sendTo(ack, from.hostname, from.port);
    }
  })();
  const payload = new Uint8Array(size).fill(2);
  for (let b = 0; b < BURSTS; b++) {
    for (let i = 0; i < BURST; i++) await sender.sendTo(payload, HOST, port);
    await sender.receive();
  }
  await counting;
}

const options = { n: 5, warmup: 1 };

for (const size of [64, 1400]) {
  const group = `udp ping-pong ${size} B x${ROUNDS}`;
  Deno.bench({
    name: `raw Deno ${size} B`,
    group,
    baseline: true,
    ...options,
    fn: async () => await rawPingPong(size),
  });
  Deno.bench({
    name: `raw Deno ${size} B, reused buffers`,
    group,
    ...options,
    fn: async () => await rawPingPong(size, true),
  });
  Deno.bench({
    name: `netkit ${size} B`,
    group,
    ...options,
    fn: async () => await netkitPingPong(size),
  });
  Deno.bench({
    name: `netkit connected ${size} B`,
    group,
    ...options,
    fn: async () => await netkitConnectedPingPong(size),
  });
}

{
  const group = `udp one-way 1400 B, ${BURST} per ack x${BURSTS}`;
  Deno.bench({
    name: "raw Deno bursts",
    group,
    baseline: true,
    ...options,
    fn: async () => await rawBursts(1400),
  });
  Deno.bench({
    name: "netkit bursts",
    group,
    ...options,
    fn: async () => await netkitBursts(1400),
  });
}
