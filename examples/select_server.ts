/**
 * lsocket's select-based server, on netkit: one loop, no task per client.
 * `select` over the listener and every client stream says who is ready; a
 * ready listener is accepted, a ready stream is read (without waiting) and
 * its bytes echoed back upper-cased, and a stream at end of stream is
 * closed. Three clients talk to it at once over 127.0.0.1.
 *
 * Run it: `deno run --allow-net examples/select_server.ts`.
 *
 * @module
 */

import { connect, listen, type TcpListener, type TcpStream } from "../tcp/mod.ts";
import { select } from "../scheduler/mod.ts";

/** The select loop: serves until `expected` clients have come and gone. */
async function serve(listener: TcpListener, expected: number, log: string[]): Promise<void> {
  const clients = new Set<TcpStream>();
  let served = 0;
  try {
    await loop();
  } finally {
    for (const stream of clients) stream.close();
  }

  async function loop(): Promise<void> {
    while (served < expected || clients.size > 0) {
      const { read } = await select<TcpListener | TcpStream>([listener, ...clients], [], {
        timeout: 10_000,
      });
      if (read.length === 0) throw new Error("no client activity for 10 s");
      for (const ready of read) {
        if (ready === listener) {
          clients.add(await listener.accept());
          continue;
        }
        const stream = ready as TcpStream;
        const chunk = await stream.read(); // ready: does not wait
        if (chunk === null) {
          stream.close();
          clients.delete(stream);
          served++;
          log.push(`server: client ${served} done, ${clients.size} still connected`);
          continue;
        }
        await stream.writeAll(new TextDecoder().decode(chunk).toUpperCase());
      }
    }
  }
}

/** One client: sends its lines, half-closes, reads every reply. */
async function client(port: number, name: string): Promise<string> {
  await using stream = await connect("127.0.0.1", port, { timeout: 5000 });
  await stream.writeAll(`hello from ${name}\n`);
  await stream.writeAll(`bye from ${name}\n`);
  await stream.shutdown("w");
  const reply = new TextDecoder().decode(await stream.readAll({ timeout: 10_000 }));
  return `${name} got: ${reply.trim().split("\n").join(" | ")}`;
}

/**
 * Runs the server and three concurrent clients.
 *
 * @returns Readable lines describing what happened.
 */
export async function demo(): Promise<string[]> {
  const log: string[] = [];
  await using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const serving = serve(listener, 3, log);
  const replies = await Promise.all(
    ["alice", "bob", "carol"].map((name) => client(listener.addr.port, name)),
  );
  await serving;
  return [...log, ...replies];
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
