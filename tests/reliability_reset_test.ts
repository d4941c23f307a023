/**
 * Faults: a peer resets, or is killed, while our read or writeAll is in
 * flight. Each case must end in a clean NetError with the right code, nothing
 * uncaught, nothing leaked, and no loss of what the peer acknowledged:
 * bytes it confirmed reading are counted in `written`; bytes it sent before
 * we confirmed receiving them reach us before the error.
 */
import assert from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { spawn } from "../process/mod.ts";
import { NetError } from "../common/errors.ts";
import type { Stream } from "../common/stream.ts";
import { rejection } from "./_helpers.ts";

const decoder = new TextDecoder();

/** Runs python3 code; resolves to its stdout once it exits 0. */
async function python(code: string, ...args: string[]): Promise<string> {
  const { code: status, stdout, stderr } = await new Deno.Command("python3", {
    args: ["-c", code, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(status, 0, decoder.decode(stderr));
  return decoder.decode(stdout);
}

const RESET_AFTER_ACK = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"acknowledged data")
assert s.recv(1) == b"k"
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`;

Deno.test("tcp: a reset arriving while a read is pending rejects it connection_reset, after the acknowledged data", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const peer = python(RESET_AFTER_ACK, String(listener.addr.port));
  await using stream = await listener.accept({ timeout: 5000 });
  assert.equal(decoder.decode(await stream.readExact(17, { timeout: 5000 })), "acknowledged data");
  const pending = rejection(stream.read()); // waiting when the RST comes
  await stream.writeAll("k");
  const error = await pending;
  assert.equal(error.code, "connection_reset", error.message);
  assert.equal(error.op, "read");
  await peer;
  // The reset stays: every later call says so (Deno alone would report EOF next).
  assert.equal((await rejection(stream.read())).code, "connection_reset");
  assert.equal((await rejection(stream.readAll())).code, "connection_reset");
  assert.equal((await rejection(stream.writeAll("more"))).code, "connection_reset");
});

const READ_THEN_RESET = `
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
want, got = int(sys.argv[2]), 0
while got < want:
    chunk = s.recv(min(65536, want - got))
    if not chunk:
        break
    got += len(chunk)
print(got, flush=True)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
`;

Deno.test("tcp: a reset during writeAll rejects it connection_reset or broken_pipe, written covering what the peer read", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const acknowledged = 1024 * 1024;
  const peer = python(READ_THEN_RESET, String(listener.addr.port), String(acknowledged));
  await using stream = await listener.accept({ timeout: 5000 });
  const data = new Uint8Array(64 * 1024 * 1024);
  const error = await rejection(stream.writeAll(data, { timeout: 20_000 }));
  assert.ok(["connection_reset", "broken_pipe"].includes(error.code), error.message);
  const read = Number((await peer).trim());
  assert.equal(read, acknowledged);
  assert.ok(error.written !== undefined, "writeAll errors say how much was written");
  assert.ok(error.written >= read, `written ${error.written} < ${read} read by the peer`);
  assert.ok(error.written < data.length);
  const next = await rejection(stream.write("x"));
  assert.ok(["connection_reset", "broken_pipe"].includes(next.code), next.message);
});

Deno.test("unix: a peer closing with unread input during writeAll rejects it, written covering what the peer read", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-reset-" });
  try {
    const path = `${dir}/reset.sock`;
    await using listener = await unix.listen(path);
    const [client, server] = await Promise.all([unix.connect(path), listener.accept()]);
    await using _client = client;
    const acknowledged = 512 * 1024;
    const writing = rejection(
      client.writeAll(new Uint8Array(64 * 1024 * 1024), { timeout: 20_000 }),
    );
    const got = await server.readExact(acknowledged, { timeout: 5000 });
    assert.equal(got.length, acknowledged);
    server.close(); // with the rest unread: the kernel resets the writer
    const error = await writing;
    assert.ok(["connection_reset", "broken_pipe"].includes(error.code), error.message);
    assert.ok(error.written! >= acknowledged, `written ${error.written} < ${acknowledged}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** A deno child that connects, reads everything and prints its running total every 64 KiB. */
const COUNTING_READER = `
const [transport, where] = Deno.args;
const conn = transport === "tcp"
  ? await Deno.connect({ hostname: "127.0.0.1", port: Number(where) })
  : await Deno.connect({ transport: "unix", path: where });
const buffer = new Uint8Array(65536);
let total = 0, reported = 0;
for (;;) {
  const n = await conn.read(buffer);
  if (n === null) break;
  total += n;
  if (total - reported >= 65536) {
    reported = total;
    await Deno.stdout.write(new TextEncoder().encode(total + "\\n"));
  }
}
`;

async function killedReader(
  transport: "tcp" | "unix",
  where: string,
  accept: () => Promise<Stream>,
): Promise<void> {
  await using child = await spawn(
    [Deno.execPath(), "eval", "--no-config", COUNTING_READER, transport, where],
    { files: { 1: "piped", 2: "inherit" } },
  );
  await using stream = await accept();
  const chunk = new Uint8Array(1024 * 1024).fill(7);
  let written = 0;
  const writing = (async () => {
    // Bounded: 4 GiB at most, far beyond what the child reads before it dies.
    for (let i = 0; i < 4096; i++) {
      try {
        await stream.writeAll(chunk, { timeout: 20_000 });
      } catch (error) {
        assert.ok(error instanceof NetError, String(error));
        written += error.written ?? 0;
        return error;
      }
      written += chunk.length;
    }
    assert.fail("the writes never failed");
  })();
  let acknowledged = 0;
  while (acknowledged < 2 * 1024 * 1024) {
    const line = await child.stdout.readLine({ timeout: 20_000 });
    assert.ok(line !== null, "the child ended before it was killed");
    acknowledged = Number(line);
  }
  child.kill("SIGKILL");
  assert.deepEqual(await child.wait(), { signaled: "SIGKILL" });
  const error = await writing;
  assert.ok(["connection_reset", "broken_pipe"].includes(error.code), error.message);
  assert.ok(written >= acknowledged, `written ${written} < ${acknowledged} acknowledged`);
  assert.ok(error.written !== undefined);
  // Whatever the next call is, it fails cleanly too.
  const next = await rejection(stream.write("x"));
  assert.ok(["connection_reset", "broken_pipe"].includes(next.code), next.message);
}

Deno.test("tcp: a reader killed with SIGKILL mid-transfer fails our writes cleanly; written covers its acknowledgements", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await killedReader("tcp", String(listener.addr.port), () => listener.accept({ timeout: 20_000 }));
});

Deno.test("unix: a reader killed with SIGKILL mid-transfer fails our writes cleanly; written covers its acknowledgements", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-kill-" });
  try {
    const path = `${dir}/kill.sock`;
    await using listener = await unix.listen(path);
    await killedReader("unix", path, () => listener.accept({ timeout: 20_000 }));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
