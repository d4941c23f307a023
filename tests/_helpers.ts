/** Test helpers shared by the common-core tests: connected stream pairs over real sockets. */
import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";
import { Stream } from "../common/stream.ts";

/** A connected pair over TCP or unix, and a way to drop everything. */
export interface Pair extends AsyncDisposable {
  client: Stream;
  server: Stream;
}

/**
 * A connected pair of plain Streams over raw `Deno.connect`/`Deno.listen` on
 * 127.0.0.1: the common core on its own (the tcp module's tests use
 * `tcpPair` from `_tcp_helpers.ts`, over netkit's own connect and listen).
 */
export async function rawTcpPair(): Promise<Pair> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [c, s] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
    c.setNoDelay(true);
    s.setNoDelay(true);
    return pairOf(new Stream(c), new Stream(s));
  } finally {
    listener.close();
  }
}

/** A connected pair of plain Streams over a raw unix socket in a temp dir. */
export async function rawUnixPair(): Promise<Pair> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-test-" });
  const path = `${dir}/s.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const [c, s] = await Promise.all([
      Deno.connect({ transport: "unix", path }),
      listener.accept(),
    ]);
    return pairOf(new Stream(c), new Stream(s), dir);
  } finally {
    listener.close();
  }
}

function pairOf(client: Stream, server: Stream, dir?: string): Pair {
  return {
    client,
    server,
    async [Symbol.asyncDispose]() {
      client.close();
      server.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}

/** Both kinds, for tests that must hold over TCP and unix alike. */
export const PAIRS: [string, () => Promise<Pair>][] = [["tcp", rawTcpPair], ["unix", rawUnixPair]];

/** Runs python3 code to completion (for peers that need raw socket control). */
export async function python(code: string, ...args: string[]): Promise<void> {
  const { code: status } = await new Deno.Command("python3", {
    args: ["-c", code, ...args],
    stdout: "null",
    stderr: "inherit",
    stdin: "null",
  }).output();
  if (status !== 0) throw new Error(`python3 exited ${status}`);
}

/**
 * A python3 peer that connects to 127.0.0.1:PORT, waits for one byte (so the
 * connection is accepted before it dies), sends DATA, then resets (SO_LINGER 0).
 */
export const RESET_PEER = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.recv(1)
s.sendall(sys.argv[2].encode())
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`;

/** Accepts the RESET_PEER's connection on `listener`, tells it to go, and returns our end. */
export async function resetPeer(data: string): Promise<{ stream: Stream; done: Promise<void> }> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const done = python(RESET_PEER, String(listener.addr.port), data);
    const stream = new Stream(await listener.accept());
    await stream.writeAll("g");
    return { stream, done };
  } finally {
    listener.close();
  }
}

/** Awaits `work`, asserting it rejects with a NetError (any code), and returns that error. */
export async function rejection(
  work: Promise<unknown> | (() => unknown),
  expected = "a rejection",
): Promise<NetError> {
  try {
    await (typeof work === "function" ? work() : work);
  } catch (error) {
    assert.ok(error instanceof NetError, `expected a NetError, got ${error}`);
    return error;
  }
  assert.fail(`expected ${expected}`);
}

/** Awaits `work`, asserting it rejects with a NetError of `code` (and `field`, when given). */
export async function rejectsWith(
  work: Promise<unknown> | (() => unknown),
  code: string,
  field?: string,
): Promise<NetError> {
  const error = await rejection(work, `a NetError ${code}`);
  assert.equal(error.code, code, error.message);
  if (field !== undefined) assert.equal(error.field, field, error.message);
  return error;
}
