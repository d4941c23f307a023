/**
 * lsocket's UDP sample, on netkit: an echo server bound to 127.0.0.1 and a
 * connected client that sends a few lines and prints the replies.
 *
 * Run: `deno run -A --unstable-net examples/udp_echo.ts`.
 *
 * @module
 */

import { bind, connect } from "../udp/mod.ts";

/** Runs an echo server and client on loopback; returns what the client saw. */
export async function demo(): Promise<string[]> {
  const decoder = new TextDecoder();
  await using server = await bind({ hostname: "127.0.0.1", port: 0 });
  const serving = (async () => {
    for await (const { data, hostname, port } of server) {
      await server.sendTo(`echo: ${decoder.decode(data)}`, hostname, port);
    }
  })();
  const lines: string[] = [];
  {
    await using client = await connect("127.0.0.1", server.addr.port);
    for (const message of ["hello", "over", "udp"]) {
      await client.send(message);
      const reply = await client.receive({ timeout: 2000 });
      lines.push(`udp: ${decoder.decode(reply.data)} (from ${reply.hostname}:${reply.port})`);
    }
  }
  server.close();
  await serving;
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
