/**
 * Faults over TLS: the peer's TCP connection is reset (netkit's `abort()`,
 * or a python3 `ssl` peer that sets SO_LINGER 0 and closes) while our side
 * reads or writes a large transfer. The netkit side rejects
 * `connection_reset` (a write may see `broken_pipe`), every later call fails
 * the same way, and nothing is left open.
 */
import assert from "node:assert/strict";
import { connectTls, type TlsListener, type TlsStream } from "../tcp/mod.ts";
import { rejection } from "./_helpers.ts";
import { makeCerts, released, type TestCerts, tlsServer, trust } from "./_tls_helpers.ts";

const certs: TestCerts = await makeCerts();
globalThis.addEventListener("unload", () => Deno.removeSync(certs.dir, { recursive: true }));

const RESET = ["connection_reset", "broken_pipe"];

/** Nothing left open: every socket the test made was released (see `released`). */
async function assertNoneLeft(before: number): Promise<void> {
  assert.equal(await released(openDescriptors, before), before, "sockets leaked");
}

/** The sockets this process holds (the runtime opens other descriptors of its own now and then). */
function openDescriptors(): number {
  let count = 0;
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`).startsWith("socket:")) count++;
    } catch {
      // Closed while listed.
    }
  }
  return count;
}
const BIG = 64 * 1024 * 1024;

function server(): TlsListener {
  return tlsServer(certs.leaf);
}

/** A connected pair, both handshakes done. */
async function pair(listener: TlsListener): Promise<[TlsStream, TlsStream]> {
  const accepted = listener.accept({ timeout: 5000 });
  const client = await connectTls("localhost", listener.addr.port, {
    ...trust(certs),
    timeout: 5000,
  });
  const srv = await accepted;
  await srv.handshake({ timeout: 5000 });
  return [client, srv];
}

/** Reads from `stream` until `want` bytes have arrived; resolves to the count. */
async function drain(stream: TlsStream, want: number): Promise<number> {
  let got = 0;
  while (got < want) {
    const chunk = await stream.read(65536, { timeout: 10_000 });
    assert.ok(chunk !== null, "end of stream before the reset");
    got += chunk.length;
  }
  return got;
}

/** The sticky rule: the next read and write fail with a reset code too. */
async function assertStaysFailed(stream: TlsStream): Promise<void> {
  const read = await rejection(stream.read());
  assert.ok(RESET.includes(read.code), read.message);
  const write = await rejection(stream.writeAll("more"));
  assert.ok(RESET.includes(write.code), write.message);
}

for (const [resetter, victim] of [["server", "client"], ["client", "server"]] as const) {
  Deno.test(`tls: the ${resetter} aborts while the ${victim}'s writeAll of 64 MiB is in flight: connection_reset, sticky, nothing leaked`, async () => {
    const before = openDescriptors();
    {
      await using listener = server();
      const [client, srv] = await pair(listener);
      await using _c = client;
      await using _s = srv;
      const [writer, reader] = victim === "client" ? [client, srv] : [srv, client];
      const writing = rejection(writer.writeAll(new Uint8Array(BIG).fill(7), { timeout: 20_000 }));
      await drain(reader, 1024 * 1024);
      reader.abort();
      const error = await writing;
      assert.ok(RESET.includes(error.code), error.message);
      assert.equal(error.op, "writeAll");
      assert.ok(error.written !== undefined && error.written < BIG);
      await assertStaysFailed(writer);
    }
    await assertNoneLeft(before);
  });

  Deno.test(`tls: the ${resetter} aborts while the ${victim}'s read of a transfer is pending: connection_reset, sticky, nothing leaked`, async () => {
    const before = openDescriptors();
    {
      await using listener = server();
      const [client, srv] = await pair(listener);
      await using _c = client;
      await using _s = srv;
      const [reader, sender] = victim === "client" ? [client, srv] : [srv, client];
      const sent = new Uint8Array(4 * 1024 * 1024).fill(9);
      const [, got] = await Promise.all([sender.writeAll(sent), drain(reader, sent.length)]);
      assert.equal(got, sent.length);
      const pending = rejection(reader.read(65536)); // waiting when the reset comes
      sender.abort();
      const error = await pending;
      assert.equal(error.code, "connection_reset", error.message);
      assert.equal(error.op, "read");
      await assertStaysFailed(reader);
    }
    await assertNoneLeft(before);
  });
}

/** A python3 ssl peer that reads (or writes) `want` bytes, then resets the TCP connection. */
const PY_RESETTER = `
import socket, ssl, struct, sys
port, want, mode, cafile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=cafile)
raw = socket.create_connection(("127.0.0.1", port))
t = ctx.wrap_socket(raw, server_hostname="localhost")
done = 0
if mode == "read":
    while done < want:
        chunk = t.recv(65536)
        if not chunk:
            break
        done += len(chunk)
else:
    block = b"p" * 65536
    while done < want:
        t.sendall(block)
        done += len(block)
    assert t.recv(1) == b"k"
print(done, flush=True)
t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
t.close()
`;

async function python(...args: string[]): Promise<string> {
  const out = await new Deno.Command("python3", {
    args: ["-c", PY_RESETTER, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  return new TextDecoder().decode(out.stdout).trim();
}

Deno.test("tls: a python3 ssl client resets (SO_LINGER 0) during our server's writeAll: connection_reset or broken_pipe, sticky, nothing leaked", async () => {
  const before = openDescriptors();
  {
    await using listener = server();
    const want = 1024 * 1024;
    const peer = python(String(listener.addr.port), String(want), "read", certs.caFile);
    await using srv = await listener.accept({ timeout: 5000 });
    const error = await rejection(srv.writeAll(new Uint8Array(BIG).fill(3), { timeout: 20_000 }));
    assert.ok(RESET.includes(error.code), error.message);
    assert.ok(Number(await peer) >= want);
    assert.ok(error.written !== undefined && error.written >= want && error.written < BIG);
    await assertStaysFailed(srv);
  }
  await assertNoneLeft(before);
});

Deno.test("tls: a python3 ssl client resets (SO_LINGER 0) while our server's read is pending: connection_reset after all it sent, sticky", async () => {
  const before = openDescriptors();
  {
    await using listener = server();
    const want = 2 * 1024 * 1024;
    const peer = python(String(listener.addr.port), String(want), "write", certs.caFile);
    await using srv = await listener.accept({ timeout: 5000 });
    assert.equal(await drain(srv, want), want);
    const pending = rejection(srv.read(65536)); // waiting when the reset comes
    await srv.writeAll("k");
    const error = await pending;
    assert.equal(error.code, "connection_reset", error.message);
    assert.equal(Number(await peer), want);
    await assertStaysFailed(srv);
  }
  await assertNoneLeft(before);
});
