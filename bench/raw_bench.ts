/**
 * The native datagram engine: a raw ICMP echo round trip to 127.0.0.1 and
 * ::1 (the kernel answers) against a UDP ping-pong over
 * `Deno.listenDatagram` on 127.0.0.1; and unix datagram round trips to an
 * echo peer in another process (python3) from a connected netkit client
 * (`connectUnix`, the engine), a `bindUnix` client and a raw Deno socket.
 * The raw cases need root (or CAP_NET_RAW) and are skipped otherwise.
 *
 * Run: `deno bench -A bench/raw_bench.ts`.
 *
 * @module
 */

import { bindRaw, bindUnix, connectUnix, type RawSocket } from "../udp/mod.ts";

const ROUNDS = 1000;
const ROOT = Deno.uid() === 0;

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** ROUNDS echo requests, each waiting for its reply (our own request is skipped on loopback). */
async function icmpEcho(socket: RawSocket, host: string, v6: boolean): Promise<void> {
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const message = new Uint8Array(64);
  const view = new DataView(message.buffer);
  message[0] = v6 ? 128 : 8;
  view.setUint16(4, id);
  for (let sequence = 1; sequence <= ROUNDS; sequence++) {
    view.setUint16(6, sequence);
    if (!v6) {
      view.setUint16(2, 0);
      view.setUint16(2, checksum(message));
    }
    await socket.sendTo(message, host);
    for (;;) {
      const { data } = await socket.receive();
      const icmp = v6 ? data : data.subarray((data[0] & 15) * 4);
      const reply = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
      if (
        icmp[0] === (v6 ? 129 : 0) && reply.getUint16(4) === id &&
        reply.getUint16(6) === sequence
      ) break;
    }
  }
}

async function denoUdpPingPong(): Promise<void> {
  const server = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const client = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const serverBuffer = new Uint8Array(65536);
  const clientBuffer = new Uint8Array(65536);
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) {
      const [data, from] = await server.receive(serverBuffer);
      await server.send(data, from);
    }
  })();
  const request = new Uint8Array(64).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await client.send(request, server.addr);
    await client.receive(clientBuffer);
  }
  await echo;
  client.close();
  server.close();
}

/** A python echo server on a unix datagram socket: the peer of the unix cases, in another process. */
const dir = await Deno.makeTempDir({ prefix: "netkit-bench-" });
const PEER = `${dir}/peer.sock`;
const peer = new Deno.Command("python3", {
  args: [
    "-c",
    "import socket,sys\n" +
    "s=socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.bind(sys.argv[1]); print('ready', flush=True)\n" +
    "while True:\n  d,a=s.recvfrom(65536)\n  s.sendto(d,a)\n",
    PEER,
  ],
  stdout: "piped",
}).spawn();
{
  const reader = peer.stdout.getReader();
  await reader.read();
  reader.releaseLock();
}
globalThis.addEventListener("unload", () => {
  peer.kill();
  Deno.removeSync(dir, { recursive: true });
});

async function denoUnixPingPong(): Promise<void> {
  const client = Deno.listenDatagram({ transport: "unixpacket", path: `${dir}/deno-c.sock` });
  const buffer = new Uint8Array(65536);
  const request = new Uint8Array(64).fill(1);
  const to: Deno.UnixAddr = { transport: "unixpacket", path: PEER };
  for (let i = 0; i < ROUNDS; i++) {
    await client.send(request, to);
    await client.receive(buffer);
  }
  client.close();
  await Deno.remove(`${dir}/deno-c.sock`);
}

/** A netkit client made by `connectUnix` (the native engine) or `bindUnix` (Deno's socket). */
async function netkitUnixPingPong(connected: boolean): Promise<void> {
  const local = `${dir}/nk-c.sock`;
  await using client = connected
    ? await connectUnix(PEER, { localPath: local })
    : await bindUnix(local);
  const request = new Uint8Array(64).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await client.sendTo(request, PEER);
    await client.receive();
  }
}

Deno.bench({
  name: "Deno.listenDatagram UDP ping-pong 64 B (1000 rounds)",
  group: "raw round-trip",
  baseline: true,
  async fn() {
    await denoUdpPingPong();
  },
});

Deno.bench({
  name: "netkit bindRaw ICMP echo to 127.0.0.1 (1000 rounds)",
  group: "raw round-trip",
  ignore: !ROOT,
  async fn(b) {
    await using socket = await bindRaw({ protocol: "icmp" });
    b.start();
    await icmpEcho(socket, "127.0.0.1", false);
    b.end();
  },
});

Deno.bench({
  name: "netkit bindRaw ICMPv6 echo to ::1 (1000 rounds)",
  group: "raw round-trip",
  ignore: !ROOT,
  async fn(b) {
    await using socket = await bindRaw({ family: "inet6" });
    b.start();
    await icmpEcho(socket, "::1", true);
    b.end();
  },
});

Deno.bench({
  name: "Deno unix datagram client, 64 B to a python echo peer (1000 rounds)",
  group: "unix datagram ping-pong",
  baseline: true,
  async fn() {
    await denoUnixPingPong();
  },
});

Deno.bench({
  name: "netkit connectUnix client (native engine) (1000 rounds)",
  group: "unix datagram ping-pong",
  async fn() {
    await netkitUnixPingPong(true);
  },
});

Deno.bench({
  name: "netkit bindUnix client (Deno's socket) (1000 rounds)",
  group: "unix datagram ping-pong",
  async fn() {
    await netkitUnixPingPong(false);
  },
});
