/**
 * lsocket's tcp server and client samples, on netkit: an echo server that
 * serves every client in its own task, and a client that sends a few lines
 * and reads each echo back, over IPv4 (127.0.0.1) and IPv6 (::1).
 *
 * Run it: `deno run --allow-net examples/tcp_echo.ts`.
 *
 * @module
 */

import { connect, listen, type TcpListener, type TcpStream } from "../tcp/mod.ts";

/** Serves one client: echoes each line until the client ends its side. */
async function serveClient(stream: TcpStream): Promise<void> {
  try {
    for (;;) {
      const line = await stream.readLine({ timeout: 10_000 });
      if (line === null) break;
      await stream.writeAll(`echo: ${line}\n`);
    }
    await stream.shutdown("w");
  } finally {
    stream.close();
  }
}

/** Accepts clients until the listener closes. */
async function serve(listener: TcpListener): Promise<void> {
  const clients: Promise<void>[] = [];
  for await (const stream of listener) clients.push(serveClient(stream));
  await Promise.all(clients);
}

/** The client: sends each message, prints each echo. */
async function client(hostname: string, port: number, messages: string[]): Promise<string[]> {
  await using stream = await connect(hostname, port, { timeout: 5000 });
  const lines: string[] = [];
  for (const message of messages) {
    await stream.writeAll(`${message}\n`);
    lines.push((await stream.readLine({ timeout: 5000 })) ?? "(end of stream)");
  }
  await stream.shutdown("w"); // FIN: the server sees end of stream and finishes
  const rest = await stream.readAll({ timeout: 5000 });
  if (rest.length > 0) lines.push(`(unexpected: ${rest.length} more bytes)`);
  return lines;
}

/**
 * Runs the echo server and a client over IPv4 and IPv6.
 *
 * @returns What the clients saw, one line each.
 */
export async function demo(): Promise<string[]> {
  const out: string[] = [];
  for (const [family, hostname] of [["IPv4", "127.0.0.1"], ["IPv6", "::1"]]) {
    await using listener = listen({ hostname, port: 0 });
    const server = serve(listener);
    const { port } = listener.addr;
    const where = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
    try {
      for (const line of await client(hostname, port, ["hello", `from ${family}`])) {
        out.push(`tcp ${family} ${where} -> ${line}`);
      }
    } finally {
      listener.close();
      await server;
    }
  }
  return out;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
