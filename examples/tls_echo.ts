/**
 * A TLS echo server and client on netkit: a certificate made at run time,
 * `listenTls` serving each client in its own task, and `connectTls`
 * verifying the server against the throwaway CA, sending lines and ending
 * with a half-close (close_notify) while it still reads.
 *
 * Run it: `deno run -A examples/tls_echo.ts` (needs openssl on PATH).
 *
 * @module
 */

import { connectTls, listenTls, type TlsListener, type TlsStream } from "../tcp/mod.ts";
import { sampleCert } from "./_tls_cert.ts";

/** Echoes each line until the client ends its side. */
async function serveClient(stream: TlsStream): Promise<void> {
  try {
    for (;;) {
      const line = await stream.readLine({ timeout: 10_000 });
      if (line === null) break;
      await stream.writeAll(`echo: ${line}\n`);
    }
    await stream.shutdown("w");
  } catch {
    // A client that failed its handshake: nothing to echo.
  } finally {
    stream.close();
  }
}

async function serve(listener: TlsListener): Promise<void> {
  const clients: Promise<void>[] = [];
  for await (const stream of listener) clients.push(serveClient(stream));
  await Promise.all(clients);
}

/**
 * Runs the server and one client over TLS.
 *
 * @returns What the client saw, one line each.
 */
export async function demo(): Promise<string[]> {
  await using pem = await sampleCert();
  await using listener = listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: pem.cert,
    key: pem.key,
  });
  const server = serve(listener);
  const out: string[] = [];
  try {
    await using client = await connectTls("localhost", listener.addr.port, {
      caCerts: [pem.ca],
      timeout: 5000,
    });
    for (const message of ["hello", "over TLS"]) {
      await client.writeAll(`${message}\n`);
      out.push(`tls localhost -> ${await client.readLine({ timeout: 5000 })}`);
    }
    await client.shutdown("w"); // close_notify: the server sees end of stream
    out.push(
      `tls end of stream after half-close: ${(await client.read(16, { timeout: 5000 })) ?? "null"}`,
    );
  } finally {
    listener.close();
    await server;
  }
  return out;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
