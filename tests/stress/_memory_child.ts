/**
 * Child of memory_test.ts, run as
 * `deno run -A --unstable-net --v8-flags=--expose-gc _memory_child.ts ROUNDS CLIENTS`.
 * Each round runs the same load (TCP and unix echo clients, short
 * connections, UDP datagrams), closes everything, collects garbage and
 * prints one JSON line: `{ round, rss, heapUsed, external, descriptors }`.
 */
import * as tcp from "../../tcp/mod.ts";
import * as unix from "../../unix/mod.ts";
import { bind } from "../../udp/mod.ts";
import type { Stream } from "../../common/stream.ts";
import { firstDifference, openDescriptors, pattern, peakRssMiB } from "./_scale.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");

const rounds = Number(Deno.args[0] ?? 5);
const clients = Number(Deno.args[1] ?? 50);

async function echoRound(
  listener: AsyncIterable<Stream> & { close(): unknown },
  connect: () => Promise<Stream>,
): Promise<void> {
  const serving = (async () => {
    const handlers: Promise<void>[] = [];
    for await (const stream of listener) {
      handlers.push((async () => {
        try {
          for (let chunk = await stream.read(); chunk !== null; chunk = await stream.read()) {
            await stream.writeAll(chunk);
          }
        } finally {
          stream.close();
        }
      })());
    }
    await Promise.all(handlers);
  })();
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    const stream = await connect();
    try {
      for (let round = 0; round < 10; round++) {
        const sent = pattern(client, round, 1 + (client * 131 + round * 977) % 8192);
        await stream.writeAll(sent);
        const got = await stream.readExact(sent.length, { timeout: 30_000 });
        if (firstDifference(sent, got) !== -1) throw new Error("echo differs");
      }
    } finally {
      stream.close();
    }
  }));
  listener.close();
  await serving;
}

async function shortConnections(): Promise<void> {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  for (let i = 0; i < clients * 4; i++) {
    const [client, server] = await Promise.all([
      tcp.connect("127.0.0.1", listener.addr.port),
      listener.accept(),
    ]);
    await client.writeAll("x");
    await server.readExact(1);
    client.close();
    server.close();
  }
}

async function datagrams(): Promise<void> {
  await using a = await bind({ hostname: "127.0.0.1", port: 0 });
  await using b = await bind({ hostname: "127.0.0.1", port: 0 });
  for (let i = 0; i < clients * 20; i++) {
    await a.sendTo(pattern(i, 1, 512), "127.0.0.1", b.addr.port);
    await b.receive({ timeout: 10_000 });
  }
}

const dir = await Deno.makeTempDir({ prefix: "netkit-memory-" });
try {
  for (let round = 1; round <= rounds; round++) {
    const tcpListener = tcp.listen({ hostname: "127.0.0.1", port: 0, backlog: 4096 });
    const port = tcpListener.addr.port;
    await echoRound(tcpListener, () => tcp.connect("127.0.0.1", port));
    await tcpListener[Symbol.asyncDispose]();
    const path = `${dir}/echo.sock`;
    const unixListener = await unix.listen(path);
    await echoRound(unixListener, () => unix.connect(path));
    await unixListener[Symbol.asyncDispose]();
    await shortConnections();
    await datagrams();
    // Let closed resources' callbacks run, then collect twice (weak refs, finalizers).
    await new Promise((resolve) => setTimeout(resolve, 0));
    gc();
    gc();
    const { rss, heapUsed, external } = Deno.memoryUsage();
    const descriptors = openDescriptors();
    const peakMiB = peakRssMiB();
    console.log(JSON.stringify({ round, rss, heapUsed, external, descriptors, peakMiB }));
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
