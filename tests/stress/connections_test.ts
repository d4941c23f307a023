/**
 * Load: many short connections one after another (go TestTCPSelfConnect's
 * churn, libuv tcp-connect/close loops): each one exchanges a numbered
 * message both ways and closes; nothing may leak. Sized by NETKIT_STRESS_SCALE.
 */
import assert from "node:assert/strict";
import * as tcp from "../../tcp/mod.ts";
import * as unix from "../../unix/mod.ts";
import type { Stream } from "../../common/stream.ts";
import { openDescriptors, report, SCALE } from "./_scale.ts";

interface Accepting {
  accept(options?: { timeout?: number }): Promise<Stream>;
}

async function shortConnections(
  name: string,
  listener: Accepting,
  connect: () => Promise<Stream>,
): Promise<void> {
  const { connections } = SCALE;
  const started = performance.now();
  const message = new Uint8Array(4);
  const view = new DataView(message.buffer);
  for (let i = 0; i < connections; i++) {
    const [client, server] = await Promise.all([connect(), listener.accept({ timeout: 10_000 })]);
    try {
      view.setUint32(0, i);
      await client.writeAll(message);
      const got = await server.readExact(4, { timeout: 10_000 });
      assert.equal(new DataView(got.buffer, got.byteOffset, 4).getUint32(0), i);
      await server.writeAll(got);
      await server.shutdown("w");
      const back = await client.readAll({ timeout: 10_000 });
      assert.equal(new DataView(back.buffer, back.byteOffset, 4).getUint32(0), i);
      assert.equal(back.length, 4, `${name}: connection ${i} got extra bytes`);
    } finally {
      client.close();
      server.close();
    }
  }
  report(`short connections ${name}`, {
    connections,
    per_second: Math.round(connections / ((performance.now() - started) / 1000)),
  });
}

Deno.test(`stress: ${SCALE.connections} short TCP connections in a row, each verified, no descriptor left`, async () => {
  const before = openDescriptors();
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { port } = listener.addr;
    await shortConnections("tcp", listener, () => tcp.connect("127.0.0.1", port));
  } finally {
    await listener[Symbol.asyncDispose]();
  }
  assert.equal(openDescriptors(), before, "tcp: descriptors leaked");
});

Deno.test(`stress: ${SCALE.connections} short unix connections in a row, each verified, no descriptor left`, async () => {
  const before = openDescriptors();
  const dir = await Deno.makeTempDir({ prefix: "netkit-stress-" });
  try {
    const path = `${dir}/short.sock`;
    const listener = await unix.listen(path);
    try {
      await shortConnections("unix", listener, () => unix.connect(path));
    } finally {
      await listener[Symbol.asyncDispose]();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  assert.equal(openDescriptors(), before, "unix: descriptors leaked");
});
