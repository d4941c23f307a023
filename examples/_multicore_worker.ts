/**
 * One Worker of examples/multicore_server.ts: adopts a duplicate of the
 * parent's listener (`fdopen(fd, { duplicate: true })`), accepts on it, and
 * serves HTTP/1.1 keep-alive requests until told to stop:
 *
 * - `GET /echo/<text>` answers `<text>`;
 * - `GET /hash/<text>` answers the SHA-256 (hex) of 64 KiB made from
 *   `<text>`: a CPU-bound request, the case where more cores help.
 *
 * Messages: in `{ fd }` (start on a duplicate of `fd`) or `{ bind: {
 * hostname, port } }` (start on a listener of its own with SO_REUSEPORT, for
 * comparison), then `{ stop: true }`; out `{ ready, fd, port }` (its own
 * descriptor, -1 for its own listener, and port), `{ stopped, served,
 * requests }`.
 *
 * @module
 */

/// <reference lib="deno.worker" />

import { createHash } from "node:crypto";
import { fdopen } from "../process/mod.ts";
import { listen, TcpListener, type TcpStream } from "../tcp/mod.ts";

const HASHED = 64 * 1024;
const encoder = new TextEncoder();
let served = 0;
let requests = 0;

/** The SHA-256 of 64 KiB filled with `text` (at least one byte). */
export function hash64k(text: string): string {
  const block = new Uint8Array(HASHED);
  const seed = encoder.encode(text.length === 0 ? "-" : text).subarray(0, HASHED);
  block.set(seed);
  for (let filled = seed.length; filled < HASHED; filled *= 2) block.copyWithin(filled, 0, filled);
  return createHash("sha256").update(block).digest("hex");
}

function answer(path: string): [number, string] {
  if (path.startsWith("/echo/")) return [200, decodeURIComponent(path.slice(6))];
  if (path.startsWith("/hash/")) return [200, hash64k(decodeURIComponent(path.slice(6)))];
  return [404, "not found"];
}

/** Serves one connection's requests until the client closes it (or asks to). */
async function serveConnection(stream: TcpStream): Promise<void> {
  served++;
  try {
    for (;;) {
      const request = await stream.readLine({ timeout: 30_000 });
      if (request === null) break;
      let close = false;
      for (;;) {
        const header = await stream.readLine({ timeout: 30_000 });
        if (header === null || header === "" || header === "\r") break;
        if (/^connection:\s*close/i.test(header)) close = true;
      }
      const [, path = "/"] = request.split(" ");
      const [status, body] = answer(path);
      requests++;
      const bytes = encoder.encode(body + "\n");
      await stream.writeAll(
        `HTTP/1.1 ${status} ${status === 200 ? "OK" : "Not Found"}\r\n` +
          `content-length: ${bytes.length}\r\ncontent-type: text/plain\r\n` +
          (close ? "connection: close\r\n" : "") + "\r\n",
      );
      await stream.writeAll(bytes);
      if (close) break;
    }
  } catch {
    // A client that went away or stalled ends only its own connection.
  } finally {
    stream.close();
  }
}

interface Start {
  fd?: number;
  bind?: { hostname: string; port: number };
}

/** The Worker's listener: a duplicate of the parent's, or its own on a shared port. */
function listenerOf(start: Start): TcpListener {
  if (start.bind !== undefined) return listen({ ...start.bind, reusePort: true });
  const adopted = fdopen(start.fd!, { duplicate: true });
  if (!(adopted instanceof TcpListener)) throw new Error("the descriptor is no TCP listener");
  return adopted;
}

self.onmessage = async (event: MessageEvent<Start>) => {
  if (event.data.fd === undefined && event.data.bind === undefined) return;
  const listener = listenerOf(event.data);
  const connections = new Set<Promise<void>>();
  self.onmessage = async (next: MessageEvent<{ stop?: boolean }>) => {
    if (!next.data.stop) return;
    await listener[Symbol.asyncDispose]();
    await Promise.all(connections);
    self.postMessage({ stopped: true, served, requests });
  };
  // Listeners of one port with SO_REUSEPORT look alike: fileno() would not guess between them.
  const fd = event.data.bind === undefined ? listener.fileno() : -1;
  self.postMessage({ ready: true, fd, port: listener.addr.port });
  for await (const stream of listener) {
    const serving = serveConnection(stream);
    connections.add(serving);
    serving.then(() => connections.delete(serving));
  }
};
