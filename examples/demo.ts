/**
 * netkit's tour: `deno task demo`. Each module adds its part as it lands.
 *
 * @module
 */

import { Stream } from "../mod.ts";

async function echoOnce(listener: Deno.Listener, connect: () => Promise<Deno.Conn>, label: string) {
  const [clientConn, serverConn] = await Promise.all([connect(), listener.accept()]);
  const client = new Stream(clientConn);
  const server = new Stream(serverConn);
  await client.writeAll(`hello over ${label}\n`);
  await client.shutdown("w");
  const request = await server.readLine();
  await server.writeAll(`echo: ${request}\n`);
  server.close();
  console.log(`${label}: ${await client.readLine()}`);
  client.close();
}

const dir = await Deno.makeTempDir({ prefix: "netkit-demo-" });
try {
  const path = `${dir}/echo.sock`;
  const unixListener = Deno.listen({ transport: "unix", path });
  await echoOnce(unixListener, () => Deno.connect({ transport: "unix", path }), "unix");
  unixListener.close();

  const tcpListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = tcpListener.addr;
  await echoOnce(tcpListener, () => Deno.connect({ hostname: "127.0.0.1", port }), "tcp");
  tcpListener.close();
} finally {
  await Deno.remove(dir, { recursive: true });
}
