/**
 * Load: many concurrent echo clients over unix and TCP, every byte verified
 * (go TestTCPStress, tokio echo_server, libuv tcp-writealot). Sized by
 * NETKIT_STRESS_SCALE (see `_scale.ts`).
 */
import assert from "node:assert/strict";
import * as tcp from "../../tcp/mod.ts";
import * as unix from "../../unix/mod.ts";
import type { Stream } from "../../common/stream.ts";
import { firstDifference, openDescriptors, pattern, peakRssMiB, report, SCALE } from "./_scale.ts";

interface EchoServer {
  accept(): Promise<Stream>;
  close(): unknown;
}

/** Echoes every connection until its end of stream; resolves when the listener closes. */
async function serveEcho(listener: EchoServer & AsyncIterable<Stream>): Promise<{
  served: number;
  failures: unknown[];
}> {
  const handlers: Promise<void>[] = [];
  const failures: unknown[] = [];
  let served = 0;
  for await (const stream of listener) {
    served++;
    handlers.push((async () => {
      try {
        for (;;) {
          const chunk = await stream.read(65536);
          if (chunk === null) break;
          await stream.writeAll(chunk);
        }
      } catch (error) {
        failures.push(error);
      } finally {
        stream.close();
      }
    })());
  }
  await Promise.all(handlers);
  return { served, failures };
}

/** Size of a client's message in a round: 1..4096 bytes, varied. */
const sizeOf = (client: number, round: number) => 1 + ((client * 7919 + round * 104729) % 4096);

async function echoLoad(
  name: string,
  listener: EchoServer & AsyncIterable<Stream>,
  connect: () => Promise<Stream>,
): Promise<void> {
  const { clients, roundTrips } = SCALE;
  const serving = serveEcho(listener);
  let streams: Stream[] = [];
  try {
    // Hold every client open at once before any traffic.
    streams = await Promise.all(Array.from({ length: clients }, connect));
    const held = openDescriptors();
    assert.ok(held >= clients, `${name}: only ${held} descriptors open for ${clients} clients`);
    let verified = 0;
    await Promise.all(streams.map(async (stream, client) => {
      for (let round = 0; round < roundTrips; round++) {
        const sent = pattern(client, round, sizeOf(client, round));
        await stream.writeAll(sent);
        const got = await stream.readExact(sent.length, { timeout: 30_000 });
        const at = firstDifference(sent, got);
        assert.equal(at, -1, `${name}: client ${client} round ${round} differs at byte ${at}`);
        verified += got.length;
      }
      await stream.shutdown("w");
      assert.equal(await stream.read(), null, `${name}: client ${client} got bytes after the echo`);
    }));
    const expected = Array.from({ length: clients }, (_, c) => c)
      .reduce((sum, c) => {
        for (let r = 0; r < roundTrips; r++) sum += sizeOf(c, r);
        return sum;
      }, 0);
    assert.equal(verified, expected);
    for (const stream of streams) stream.close();
    streams = [];
    listener.close();
    const { served, failures } = await serving;
    assert.deepEqual(failures, [], `${name}: server side failures`);
    assert.equal(served, clients);
    const peak = peakRssMiB();
    report(`echo ${name}`, {
      clients_held: clients,
      round_trips: clients * roundTrips,
      bytes_verified_each_way: verified,
      peak_rss_mib: peak,
    });
    // Generous: ~500 MiB measured for 1000 clients (the whole test process's peak).
    assert.ok(peak < 2048, `${name}: peak RSS ${peak} MiB`);
  } finally {
    for (const stream of streams) stream.close();
    listener.close();
    await serving.catch(() => {});
  }
}

Deno.test(`stress: ${SCALE.clients} concurrent TCP echo clients × ${SCALE.roundTrips} round trips, every byte verified`, async () => {
  const before = openDescriptors();
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0, backlog: 4096 });
  const { port } = listener.addr;
  await echoLoad("tcp", listener, () => tcp.connect("127.0.0.1", port, { timeout: 30_000 }));
  await listener[Symbol.asyncDispose]();
  assert.equal(openDescriptors(), before, "tcp: descriptors leaked");
});

Deno.test(`stress: ${SCALE.clients} concurrent unix echo clients × ${SCALE.roundTrips} round trips, every byte verified`, async () => {
  const before = openDescriptors();
  const dir = await Deno.makeTempDir({ prefix: "netkit-stress-" });
  try {
    const path = `${dir}/echo.sock`;
    const listener = await unix.listen(path);
    await echoLoad("unix", listener, () => unix.connect(path, { timeout: 30_000 }));
    await listener[Symbol.asyncDispose]();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(openDescriptors(), before, "unix: descriptors leaked");
});
