/** Helpers for the tcp tests: connected pairs, error capture, child processes. */
import assert from "node:assert/strict";
import {
  connect,
  type ConnectOptions,
  listen,
  type NetError,
  type TcpListener,
  type TcpStream,
} from "../tcp/mod.ts";

/** A listener with one connected client and its accepted server side. */
export interface TcpPair extends AsyncDisposable {
  listener: TcpListener;
  client: TcpStream;
  server: TcpStream;
}

/** Listens on `host` (127.0.0.1 by default), connects and accepts. */
export async function tcpPair(
  host = "127.0.0.1",
  options: ConnectOptions = {},
): Promise<TcpPair> {
  const listener = listen({ hostname: host, port: 0 });
  try {
    const [client, server] = await Promise.all([
      connect(host, listener.addr.port, options),
      listener.accept(),
    ]);
    return {
      listener,
      client,
      server,
      async [Symbol.asyncDispose]() {
        client.close();
        server.close();
        await listener[Symbol.asyncDispose]();
      },
    };
  } catch (error) {
    await listener[Symbol.asyncDispose]();
    throw error;
  }
}

/** Awaits a promise (or calls a function) and returns the NetError it rejects with. */
export { rejection as failure } from "./_helpers.ts";

/** Asserts a NetError has `code` (and `field` when given). */
export function assertCode(error: NetError, code: string, field?: string): void {
  assert.equal(error.code, code, error.message);
  if (field !== undefined) {
    assert.equal(error.field, field, error.message);
  }
}

/** A port on 127.0.0.1 nothing listens on (just freed). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const listener = listen({ hostname: host, port: 0 });
  const { port } = listener.addr;
  await listener[Symbol.asyncDispose]();
  return port;
}

/** Runs a child process to completion and returns its exit code and output. */
export async function run(
  program: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(program, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Concatenates byte arrays. */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Deterministic pseudo-random bytes (xorshift32). */
export function bytes(length: number, seed = 1): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
