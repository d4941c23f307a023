/**
 * Load over TLS: many concurrent netkit TLS clients against a netkit TLS
 * echo server, every byte verified. Sized by NETKIT_STRESS_SCALE (see
 * `_scale.ts`): 200 × 20 by default (twice the plain echo tests' clients),
 * 1,000 × 100 at full scale.
 */
import assert from "node:assert/strict";
import { connectTls, listenTls, type TlsStream } from "../../tcp/mod.ts";
import { makeCerts, released, trust } from "../_tls_helpers.ts";
import { firstDifference, openDescriptors, pattern, peakRssMiB, report, SCALE } from "./_scale.ts";

const sizeOf = (client: number, round: number) => 1 + ((client * 7919 + round * 104729) % 4096);

/** The TLS load holds at least 200 clients, the full scale's 1,000 when asked. */
const CLIENTS = Math.max(200, SCALE.clients);

Deno.test(`stress: ${CLIENTS} concurrent TLS echo clients × ${SCALE.roundTrips} round trips, every byte verified`, async () => {
  const certs = await makeCerts();
  const before = openDescriptors();
  const clients = CLIENTS;
  const { roundTrips } = SCALE;
  const listener = listenTls({
    hostname: "127.0.0.1",
    port: 0,
    backlog: 4096,
    cert: certs.leaf.cert,
    key: certs.leaf.key,
  });
  const failures: unknown[] = [];
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const stream of listener) {
      handlers.push((async () => {
        try {
          for (;;) {
            const chunk = await stream.read(65536);
            if (chunk === null) break;
            await stream.writeAll(chunk);
          }
          await stream.shutdown("w");
        } catch (error) {
          failures.push(error);
        } finally {
          stream.close();
        }
      })());
    }
  })();
  let streams: TlsStream[] = [];
  try {
    streams = await Promise.all(
      Array.from(
        { length: clients },
        () => connectTls("localhost", listener.addr.port, { ...trust(certs), timeout: 60_000 }),
      ),
    );
    let verified = 0;
    await Promise.all(streams.map(async (stream, client) => {
      for (let round = 0; round < roundTrips; round++) {
        const sent = pattern(client, round, sizeOf(client, round));
        await stream.writeAll(sent);
        const got = await stream.readExact(sent.length, { timeout: 60_000 });
        const at = firstDifference(sent, got);
        assert.equal(at, -1, `client ${client} round ${round} differs at byte ${at}`);
        verified += got.length;
      }
      await stream.shutdown("w");
      assert.equal(await stream.read(), null);
    }));
    for (const stream of streams) stream.close();
    streams = [];
    listener.close();
    await serving;
    await Promise.all(handlers);
    assert.deepEqual(failures, []);
    report("echo tls", {
      clients_held: clients,
      round_trips: clients * roundTrips,
      bytes_verified_each_way: verified,
      peak_rss_mib: peakRssMiB(),
    });
  } finally {
    for (const stream of streams) stream.close();
    await listener[Symbol.asyncDispose]();
    await serving.catch(() => {});
    await certs.remove();
  }
  assert.equal(await released(openDescriptors, before), before, "tls: descriptors leaked");
});
