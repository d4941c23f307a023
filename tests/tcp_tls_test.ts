/**
 * TLS streams against real peers: netkit both ways, openssl s_server and
 * s_client, python3's ssl; every handshake failure, half-close, deadlines,
 * framing and STARTTLS.
 */
import assert from "node:assert/strict";
import {
  connect,
  connectTls,
  listen,
  listenTls,
  type NetError,
  socket,
  startTls,
  type TlsListener,
  type TlsStream,
} from "../tcp/mod.ts";
import { pollable } from "../common/readiness.ts";
import { makeCerts, RUNTIME_ROOTS, type TestCerts, tlsServer, trust } from "./_tls_helpers.ts";

const certs: TestCerts = await makeCerts();
globalThis.addEventListener("unload", () => Deno.removeSync(certs.dir, { recursive: true }));

async function failure(promise: Promise<unknown>): Promise<NetError> {
  try {
    await promise;
  } catch (error) {
    return error as NetError;
  }
  throw new Error("expected a rejection");
}

function server(pair = certs.leaf, alpnProtocols?: string[]): TlsListener {
  return tlsServer(pair, { alpnProtocols });
}

/** A connected netkit pair (client handshake done). */
async function tlsPair(
  listener: TlsListener,
  alpnProtocols?: string[],
): Promise<[TlsStream, TlsStream]> {
  const accepted = listener.accept();
  const client = await connectTls("localhost", listener.addr.port, {
    ...trust(certs),
    alpnProtocols,
  });
  return [client, await accepted];
}

/** A child process whose first stdout line says it is ready; the rest is collected. */
class Peer implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #text = "";
  constructor(command: string, args: string[]) {
    this.child = new Deno.Command(command, {
      args,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    })
      .spawn();
    this.#reader = this.child.stdout.getReader();
  }
  /** Reads stdout until it contains `marker`; returns everything so far. */
  async until(marker: string): Promise<string> {
    while (!this.#text.includes(marker)) {
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`peer ended before ${JSON.stringify(marker)}: ${this.#text}`);
      this.#text += new TextDecoder().decode(value);
    }
    return this.#text;
  }
  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill();
    } catch {
      // Already exited.
    }
    await this.#reader.cancel();
    await this.child.stdin.close().catch(() => {});
    await this.child.stderr.cancel();
    await this.child.status;
  }
}

Deno.test("tls: netkit client and server, ALPN, half-close both ways", async () => {
  await using listener = server(certs.leaf, ["h2", "http/1.1"]);
  const [client, srv] = await tlsPair(listener, ["http/1.1"]);
  await using _c = client;
  await using _s = srv;
  assert.equal((await client.handshake()).alpnProtocol, "http/1.1");
  assert.equal((await srv.handshake({ timeout: 5000 })).alpnProtocol, "http/1.1");
  await client.writeAll("request\n");
  await client.shutdown("w");
  assert.equal(await srv.readLine(), "request");
  assert.equal(await srv.read(), null);
  await srv.writeAll("reply after half-close\n");
  await srv.shutdown("w");
  assert.equal(await client.readLine(), "reply after half-close");
  assert.equal(await client.read(), null);
});

Deno.test("tls: handshake failures are handshake_failed and say which", async (t) => {
  const cases: [string, typeof certs.leaf, RegExp][] = [
    ["expired", certs.expired, /certificate expired/],
    ["wrong name", certs.wrongName, /certificate name mismatch/],
    ["unknown issuer", certs.selfSigned, /unknown issuer/],
  ];
  for (const [name, pair, pattern] of cases) {
    await t.step(name, async () => {
      await using listener = server(pair);
      const accepted = listener.accept();
      const error = await failure(
        connectTls("localhost", listener.addr.port, trust(certs)),
      );
      assert.equal(error.code, "handshake_failed", error.message);
      assert.match(error.message, pattern);
      await using srv = await accepted;
      const serverSide = await failure(srv.handshake());
      assert.equal(serverSide.code, "handshake_failed", serverSide.message);
      // A node:tls client rejects the certificate and closes without an alert; Deno's sends one.
      assert.match(
        serverSide.message,
        RUNTIME_ROOTS
          ? /the peer rejected this side's certificate/
          : /closed the connection during the handshake/,
      );
    });
  }
  await t.step("no common ALPN protocol", async () => {
    await using listener = server(certs.leaf, ["h2"]);
    const accepted = listener.accept();
    const error = await failure(
      connectTls("localhost", listener.addr.port, {
        ...trust(certs),
        alpnProtocols: ["x-none"],
      }),
    );
    assert.equal(error.code, "handshake_failed", error.message);
    assert.match(error.message, /no common ALPN protocol/);
    await using srv = await accepted;
    const serverSide = await failure(srv.handshake());
    assert.equal(serverSide.code, "handshake_failed");
    assert.match(serverSide.message, /no common ALPN protocol/);
  });
  await t.step(
    "a raw Deno client that rejects the certificate: the server hears which alert",
    async () => {
      await using listener = server(certs.expired);
      const accepted = listener.accept();
      const raw = await Deno.connectTls({
        hostname: "localhost",
        port: listener.addr.port,
        caCerts: [certs.ca],
      });
      await using srv = await accepted;
      const [clientSide, serverSide] = await Promise.all([
        failure(raw.handshake()),
        failure(srv.handshake()),
      ]);
      raw.close();
      assert.match(String(clientSide), /Expired/);
      assert.equal(serverSide.code, "handshake_failed");
      assert.match(serverSide.message, /the peer rejected this side's certificate/);
    },
  );
  await t.step("a plain-TCP peer that talks first", async () => {
    await using plain = listen({ hostname: "127.0.0.1", port: 0 });
    const accepted = plain.accept().then(async (s) => {
      await s.writeAll("220 plain text greeting\r\n");
      return s;
    });
    const error = await failure(connectTls("localhost", plain.addr.port, trust(certs)));
    assert.equal(error.code, "handshake_failed", error.message);
    assert.match(error.message, /the peer does not speak TLS/);
    (await accepted).close();
  });
  await t.step("a plain-TCP client at a TLS server", async () => {
    await using listener = server();
    const accepted = listener.accept();
    await using plain = await connect("127.0.0.1", listener.addr.port);
    await plain.writeAll("EHLO plain text\r\n");
    await using srv = await accepted;
    const error = await failure(srv.readLine({ timeout: 5000 }));
    assert.equal(error.code, "handshake_failed", error.message);
    assert.match(error.message, /the peer does not speak TLS/);
  });
});

Deno.test("tls: a server that requires a client certificate refuses one without (TLS 1.3: at the first read)", async () => {
  await using py = new Peer("python3", [
    "-c",
    `import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(sys.argv[3])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
try:
    ctx.wrap_socket(c, server_side=True).close()
except ssl.SSLError:
    c.close()`,
    certs.leaf.certFile,
    certs.leaf.keyFile,
    certs.caFile,
  ]);
  const port = Number((await py.until("\n")).trim());
  let error: NetError;
  try {
    await using client = await connectTls("localhost", port, {
      ...trust(certs),
      timeout: 5000,
    });
    error = await failure(client.read(16, { timeout: 5000 }));
    // The failure is sticky.
    assert.equal((await failure(client.read(16))).code, "handshake_failed");
  } catch (thrown) {
    error = thrown as NetError; // TLS 1.2 would fail in connectTls itself
  }
  assert.equal(error.code, "handshake_failed", error.message);
  assert.match(error.message, /the peer refused the handshake/);
});

Deno.test("tls: an accepted connection closed during its handshake ends the peer's connection at once", async () => {
  await using listener = server();
  const accepted = listener.accept();
  // A TCP client that never sends its hello.
  await using silent = await connect("127.0.0.1", listener.addr.port);
  const srv = await accepted;
  assert.equal((await failure(srv.handshake({ timeout: 20 }))).code, "timeout");
  srv.close();
  // Deno alone keeps the socket open until the client goes; netkit shuts it down (--allow-ffi).
  assert.equal(await silent.read(16, { timeout: 5000 }), null);
});

Deno.test("tls: a server that never speaks TLS cannot hang a client with a timeout; the socket closes at once", async () => {
  await using silent = listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = silent.accept();
  const error = await failure(connectTls("127.0.0.1", silent.addr.port, { timeout: 200 }));
  assert.equal(error.code, "timeout", error.message);
  await using srv = await accepted;
  // The client hello arrives, then end of stream: the client closed its socket.
  const seen = await srv.readAll({ timeout: 5000 });
  assert.ok(seen.length > 0);
});

Deno.test("tls: an aborted signal and bad options", async () => {
  const controller = new AbortController();
  controller.abort();
  assert.equal(
    (await failure(connectTls("127.0.0.1", 1, { signal: controller.signal }))).code,
    "aborted",
  );
  const bad = await failure(connectTls("127.0.0.1", 1, { caCerts: "x" as unknown as string[] }));
  assert.equal(bad.field, "caCerts");
  const noKey = await failure(connectTls("127.0.0.1", 1, { cert: certs.client.cert }));
  assert.equal(noKey.field, "key");
  assert.throws(
    () => listenTls({ hostname: "127.0.0.1", port: 0, cert: "nonsense", key: "nonsense" }),
    (e: NetError) => e.code === "invalid_argument",
  );
});

Deno.test("tls: a read timeout loses nothing; accept timeout on TlsListener", async () => {
  await using listener = server();
  assert.equal((await failure(listener.accept({ timeout: 20 }))).code, "timeout");
  const [client, srv] = await tlsPair(listener);
  await using _c = client;
  await using _s = srv;
  assert.equal((await failure(srv.read(16, { timeout: 20 }))).code, "timeout");
  await client.writeAll("late bytes\n");
  assert.equal(await srv.readLine({ timeout: 5000 }), "late bytes");
});

Deno.test("tls: 1 MiB of mixed frames through readExact and readLine, checksum verified", async () => {
  await using listener = server();
  const [client, srv] = await tlsPair(listener);
  await using _c = client;
  await using _s = srv;
  let sent = 0;
  let sum = 0;
  const frames: Uint8Array[] = [];
  for (let i = 0; sent < 1024 * 1024; i++) {
    const size = 1 + (i * 7919) % 5000;
    const body = new Uint8Array(size).map((_, j) => (i + j) & 255);
    const header = new TextEncoder().encode(`${size}\n`);
    frames.push(header, body);
    sent += size;
    for (const b of body) sum = (sum + b) % 65521;
  }
  const writing = (async () => {
    for (const frame of frames) await client.writeAll(frame);
    await client.shutdown("w");
  })();
  let got = 0;
  let check = 0;
  for (;;) {
    const line = await srv.readLine();
    if (line === null) break;
    const body = await srv.readExact(Number(line));
    got += body.length;
    for (const b of body) check = (check + b) % 65521;
  }
  await writing;
  assert.equal(got, sent);
  assert.equal(check, sum);
});

const PY_STARTTLS = `
import socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
if len(sys.argv) > 3:
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(sys.argv[3])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
c.sendall(b"220 ready\\r\\n")
f = c.makefile("rb")
assert f.readline() == b"STARTTLS\\r\\n"
c.sendall(b"220 go ahead\\r\\n")
t = ctx.wrap_socket(c, server_side=True)
peer = t.getpeercert()
line = t.makefile("rb").readline()
t.sendall(b"secure " + line.strip() + (b" from " + dict(x[0] for x in peer["subject"])["commonName"].encode() if peer else b"") + b"\\n")
t.close()
`;

Deno.test("tls: startTls against a python3 STARTTLS server", async () => {
  await using py = new Peer("python3", [
    "-c",
    PY_STARTTLS,
    certs.leaf.certFile,
    certs.leaf.keyFile,
  ]);
  const port = Number((await py.until("\n")).trim());
  const tcp = await connect("127.0.0.1", port);
  assert.equal(await tcp.readLine(), "220 ready");
  await tcp.writeAll("STARTTLS\r\n");
  assert.equal(await tcp.readLine(), "220 go ahead");
  await using secure = await startTls(tcp, {
    ...trust(certs),
    serverName: "localhost",
    timeout: 5000,
  });
  assert.equal((await failure(tcp.read())).code, "closed");
  await secure.writeAll("hello\n");
  assert.equal(await secure.readLine(), "secure hello");
});

Deno.test("tls: startTls sends a client certificate a python3 server requires", async () => {
  await using py = new Peer("python3", [
    "-c",
    PY_STARTTLS,
    certs.leaf.certFile,
    certs.leaf.keyFile,
    certs.caFile,
  ]);
  const port = Number((await py.until("\n")).trim());
  const tcp = await connect("127.0.0.1", port);
  assert.equal(await tcp.readLine(), "220 ready");
  await tcp.writeAll("STARTTLS\r\n");
  assert.equal(await tcp.readLine(), "220 go ahead");
  await using secure = await startTls(tcp, {
    caCerts: [certs.ca],
    serverName: "localhost",
    cert: certs.client.cert,
    key: certs.client.key,
  });
  await secure.writeAll("hi\n");
  assert.equal(await secure.readLine(), "secure hi from netkit client");
});

Deno.test("tls: startTls upgrades a stream that runs over node:net (tcp.socket(), as streams adopted from a descriptor)", async () => {
  await using listener = server();
  const accepted = listener.accept();
  const plain = await socket().connect("127.0.0.1", listener.addr.port, { timeout: 5000 });
  await using secure = await startTls(plain, {
    ...trust(certs),
    serverName: "localhost",
    timeout: 5000,
  });
  await using srv = await accepted;
  await secure.writeAll("over an adopted socket\n");
  assert.equal(await srv.readLine({ timeout: 5000 }), "over an adopted socket");
  await srv.writeAll("back\n");
  assert.equal(await secure.readLine({ timeout: 5000 }), "back");
});

Deno.test("tls: startTls waits for a write still in flight; its bytes arrive before the handshake", async () => {
  const size = 16 * 1024 * 1024;
  await using py = new Peer("python3", [
    "-c",
    `import hashlib, socket, ssl, sys
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[1], sys.argv[2])
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
want, digest = int(sys.argv[3]), hashlib.sha256()
while want > 0:
    chunk = c.recv(min(want, 1 << 20))
    assert chunk, "end of stream before the plain bytes"
    digest.update(chunk); want -= len(chunk)
t = ctx.wrap_socket(c, server_side=True)
line = t.makefile("rb").readline().strip()
t.sendall(line + b" after " + digest.hexdigest().encode() + b"\\n")
t.close()`,
    certs.leaf.certFile,
    certs.leaf.keyFile,
    String(size),
  ]);
  const port = Number((await py.until("\n")).trim());
  const tcp = await connect("127.0.0.1", port);
  const plain = new Uint8Array(size).map((_, i) => (i * 31) & 0xff);
  // Not awaited: 16 MiB cannot all go out before the peer reads, so the write is in flight.
  const writing = tcp.writeAll(plain);
  await using secure = await startTls(tcp, {
    ...trust(certs),
    serverName: "localhost",
    timeout: 10_000,
  });
  await writing;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", plain));
  const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
  await secure.writeAll("hello\n");
  assert.equal(await secure.readLine({ timeout: 10_000 }), `hello after ${hex}`);
});

Deno.test("tls: startTls waiting for a write that cannot finish times out and leaves the TcpStream usable", async () => {
  await using plain = listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = plain.accept();
  await using client = await connect("127.0.0.1", plain.addr.port);
  await using srv = await accepted;
  const size = 64 * 1024 * 1024; // far more than the socket buffers: the peer is not reading
  const writing = client.writeAll(new Uint8Array(size).fill(5));
  const error = await failure(startTls(client, { ...trust(certs), timeout: 100 }));
  assert.equal(error.code, "timeout", error.message);
  assert.equal(error.op, "startTls");
  assert.equal(client.closed, false);
  // The peer reads it all; the write ends, and the stream goes on.
  const [, all] = await Promise.all([
    writing,
    srv.readExact(size + 4, { timeout: 20_000 }),
    client.writeAll("more"),
  ]);
  assert.equal(new TextDecoder().decode(all.subarray(size)), "more");
});

Deno.test("tls: startTls refuses buffered bytes and an outstanding read; the TcpStream stays usable", async () => {
  await using plain = listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await connect("127.0.0.1", plain.addr.port);
  await using srv = await plain.accept();
  await srv.writeAll("AB");
  assert.equal((await client.readExact(1))[0], 65);
  // Waiting for readiness pulls the rest into netkit's buffer without consuming it.
  if (client.buffered === 0) await client[pollable]().waitRead();
  assert.ok(client.buffered > 0);
  const buffered = await failure(startTls(client));
  assert.equal(buffered.code, "invalid_argument");
  assert.equal(buffered.field, "stream");
  assert.match(buffered.message, /buffered/);
  assert.equal(new TextDecoder().decode(await client.readExact(1)), "B");
  // A timed-out read leaves a runtime read in flight.
  assert.equal((await failure(client.read(16, { timeout: 10 }))).code, "timeout");
  const outstanding = await failure(startTls(client));
  assert.equal(outstanding.field, "stream");
  assert.match(outstanding.message, /outstanding/);
  await srv.writeAll("still here\n");
  assert.equal(await client.readLine(), "still here");
});

Deno.test("tls: netkit client against openssl s_server, verification on", async () => {
  const port = await freePort();
  await using s = new Peer("openssl", [
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    certs.leaf.certFile,
    "-key",
    certs.leaf.keyFile,
    "-rev",
    "-naccept",
    "1",
  ]);
  await s.until("ACCEPT");
  await using client = await connectTls("localhost", port, { ...trust(certs), timeout: 5000 });
  await client.writeAll("olleh\n");
  // -rev answers each line reversed.
  assert.equal(await client.readUntil("hello", { timeout: 5000 }) !== null, true);
});

Deno.test("tls: openssl s_client against a netkit server, verification on", async () => {
  await using listener = server();
  await using s = new Peer("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${listener.addr.port}`,
    "-servername",
    "localhost",
    "-verify_return_error",
    "-verify_hostname",
    "localhost",
    "-CAfile",
    certs.caFile,
    "-quiet",
  ]);
  await using srv = await listener.accept({ timeout: 5000 });
  await srv.writeAll("hello from netkit\n");
  await s.until("hello from netkit");
  const writer = s.child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("hi from openssl\n"));
  writer.releaseLock();
  assert.equal(await srv.readLine({ timeout: 5000 }), "hi from openssl");
});

Deno.test("tls: a python3 ssl client against a netkit server, verification on", async () => {
  await using listener = server();
  await using py = new Peer("python3", [
    "-c",
    `import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as t:
        t.sendall(b"ping\\n")
        print(t.makefile("rb").readline().decode().strip(), flush=True)`,
    String(listener.addr.port),
    certs.caFile,
  ]);
  await using srv = await listener.accept({ timeout: 5000 });
  assert.equal(await srv.readLine({ timeout: 5000 }), "ping");
  await srv.writeAll("pong\n");
  assert.match(await py.until("\n"), /pong/);
});

async function freePort(): Promise<number> {
  const l = listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = l.addr;
  await l[Symbol.asyncDispose]();
  return port;
}
