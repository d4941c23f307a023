/**
 * STARTTLS, as SMTP, IMAP or LDAP do it: a plain-text greeting, the client
 * asks `STARTTLS`, both sides upgrade the same TCP connection, and the rest
 * of the exchange is encrypted. The client is netkit (`connect`, then
 * `startTls`); the server upgrades in place with `node:tls` (netkit's
 * `startTls` is the client side).
 *
 * Run it: `deno run -A examples/starttls.ts` (needs openssl on PATH).
 *
 * @module
 */

import * as net from "node:net";
import * as tls from "node:tls";
import { connect, startTls } from "../tcp/mod.ts";
import { sampleCert } from "./_tls_cert.ts";

/** A tiny SMTP-like server: greets, upgrades on STARTTLS, then answers one encrypted line. */
function server(cert: string, key: string): net.Server {
  return net.createServer((socket) => {
    socket.write("220 netkit.example ESMTP ready\r\n");
    socket.once("data", (request) => {
      if (request.toString() !== "STARTTLS\r\n") return socket.end("500 expected STARTTLS\r\n");
      socket.write("220 go ahead\r\n", () => {
        const secure = new tls.TLSSocket(socket, { isServer: true, cert, key });
        secure.once("data", (line) => {
          secure.end(`250 got ${line.toString().trim()} (encrypted, ${secure.getProtocol()})\r\n`);
        });
        secure.on("error", () => secure.destroy());
      });
    });
  });
}

/**
 * Runs the exchange once.
 *
 * @returns What the client saw, one line each.
 */
export async function demo(): Promise<string[]> {
  await using pem = await sampleCert();
  const listener = server(pem.cert, pem.key);
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as net.AddressInfo;
  const out: string[] = [];
  try {
    const plain = await connect("127.0.0.1", port, { timeout: 5000 });
    out.push(`plain <- ${await plain.readLine({ timeout: 5000 })}`);
    await plain.writeAll("STARTTLS\r\n");
    out.push(`plain <- ${await plain.readLine({ timeout: 5000 })}`);
    await using secure = await startTls(plain, {
      caCerts: [pem.ca],
      serverName: "localhost",
      timeout: 5000,
    });
    out.push(`plain stream after the upgrade: closed = ${plain.closed}`);
    await secure.writeAll("MAIL FROM:<demo@netkit.example>\r\n");
    out.push(`tls <- ${await secure.readLine({ timeout: 5000 })}`);
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
  return out;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
