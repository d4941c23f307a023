/**
 * TLS internals: the two client engines (Deno's own `startTls`, and
 * `node:tls` over a TCP connection netkit keeps) and the choice between
 * them, Deno's `TlsConn` as a transport that reports handshake failures,
 * and the mapping of handshake failures to `handshake_failed`.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import { isIP } from "node:net";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import type { Deadline } from "../common/_deadline.ts";
import { toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import type { StreamTransport } from "../common/stream.ts";
import { idle, native, nativeStatus } from "../common/_native/libc.ts";
import { NativeSocket, runtimeSocket } from "../common/_native/socket.ts";
import { NodeStreamTransport } from "../common/_node_transport.ts";

/** Which handshake failure a runtime error describes (Deno's rustls and node:tls wordings). */
const FAILURES: [RegExp, string][] = [
  [
    /fatal alert: (BadCertificate|CertificateUnknown|CertificateExpired|UnknownCA|CertificateRevoked)/,
    "the peer rejected this side's certificate",
  ],
  [
    /Expired|NotValidYet|CERT_HAS_EXPIRED|CERT_NOT_YET_VALID|certificate has expired/i,
    "certificate expired (or not yet valid)",
  ],
  [
    /NotValidForName|not valid for name|ALTNAME|does not match|Hostname\/IP/i,
    "certificate name mismatch",
  ],
  [
    /UnknownIssuer|CaUsedAsEndEntity|UNABLE_TO_VERIFY|SELF_SIGNED|unable to (get|verify)|self[- ]signed|BadSignature/i,
    "unknown issuer (certificate not trusted)",
  ],
  [
    /NoApplicationProtocol|ALPN|application protocol|any known protocol/i,
    "no common ALPN protocol",
  ],
  [
    /CertificateRequired|certificate required|PEER_DID_NOT_RETURN|HandshakeFailure|handshake failure/i,
    "the peer refused the handshake (e.g. a client certificate is required)",
  ],
  [/InvalidContentType|corrupt message|wrong version/i, "the peer does not speak TLS"],
  [
    /UnexpectedEof|disconnected|ECONNRESET|EPIPE|closed|end of file/i,
    "the peer closed the connection during the handshake (a client that rejects the " +
    "certificate may close without an alert)",
  ],
];

/** Maps a failed handshake to `handshake_failed`, saying which; deadlines and `closed` pass through. */
export function handshakeError(error: unknown, op: string, address?: string): NetError {
  if (error instanceof NetError) return error;
  const text = `${(error as { code?: string })?.code ?? ""} ${
    error instanceof Error ? `${error.name} ${error.message}` : String(error)
  }`;
  if (/Interrupted|BadResource/.test(text)) return toNetError(error, op, address);
  const which = FAILURES.find(([pattern]) => pattern.test(text))?.[1] ?? "protocol error";
  const original = error instanceof Error ? error.message : String(error);
  return new NetError("handshake_failed", `TLS handshake failed: ${which}: ${original}`, {
    op,
    address,
    cause: error,
  });
}

/**
 * A TLS alert after this side's part of the handshake finished (TLS 1.3: a
 * server that requires a client certificate says so at the first read) is a
 * failed handshake; other errors (a reset) keep their own code. Both client
 * engines' transports answer `StreamTransport.failure` with it.
 */
function alertAsHandshakeFailure(error: unknown, op: string, label?: string): unknown {
  return /fatal alert/.test(error instanceof Error ? error.message : String(error))
    ? handshakeError(error, op, label)
    : error;
}

/** The client options every entry point honours. */
export interface ClientTlsSettings {
  serverName: string;
  caCerts?: string[];
  alpnProtocols?: string[];
  cert?: string;
  key?: string;
}

/** A `Duplex` over a `Deno.TcpConn`, and when what was queued on it reached the kernel. */
interface ConnDuplex {
  duplex: Duplex;
  /**
   * Resolves once every byte queued so far was written to the connection (or
   * the duplex is gone). `node:tls` calls a write's callback once it has
   * encrypted the data, not once the data left, so a transport write waits
   * for this too: else `writeAll` could resolve over bytes a reset then
   * discards, and nothing would hold a fast writer back.
   */
  flushed(): Promise<void>;
}

/** A `Duplex` over a `Deno.TcpConn`; destroying it closes the connection at once. */
function duplexOver(conn: Deno.TcpConn): ConnDuplex {
  const scratch = new Uint8Array(64 * 1024);
  let writing = false;
  let gone = false;
  let waiters: (() => void)[] = [];
  const settled = (): boolean => gone || (!writing && duplex.writableLength === 0);
  const wake = (): void => {
    if (waiters.length === 0 || !settled()) return;
    const woken = waiters;
    waiters = [];
    for (const resolve of woken) resolve();
  };
  const duplex: Duplex = new Duplex({
    allowHalfOpen: true,
    read(): void {
      conn.read(scratch).then(
        (n) => this.push(n === null ? null : Buffer.from(scratch.subarray(0, n))),
        (error) => this.destroy(error),
      );
    },
    write(chunk: Uint8Array, _encoding: string, done: (error?: Error | null) => void): void {
      writing = true;
      writeAll(conn, chunk).then(
        () => {
          writing = false;
          done();
          wake();
        },
        (error) => {
          writing = false;
          done(error);
        },
      );
    },
    final(done: (error?: Error | null) => void): void {
      conn.closeWrite().then(() => done(), done);
    },
    destroy(error: Error | null, done: (error?: Error | null) => void): void {
      gone = true;
      try {
        conn.close();
      } catch {
        // Already closed.
      }
      done(error);
      wake();
    },
  });
  return {
    duplex,
    flushed: () => settled() ? Promise.resolve() : new Promise((resolve) => waiters.push(resolve)),
  };
}

async function writeAll(conn: Deno.TcpConn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

/** The most plaintext one transport write hands to `node:tls`. */
const WRITE_MAX = 256 * 1024;

/** A `node:tls` client socket as a netkit transport. */
export class NodeTlsTransport implements StreamTransport {
  readonly #socket: tls.TLSSocket;
  readonly #conn: Deno.TcpConn | undefined;
  #chunk: Uint8Array | null = null;
  #ended = false;
  #closed = false;
  #error: unknown = undefined;
  #wake: (() => void) | null = null;
  readonly #label: string | undefined;
  readonly #flushed: () => Promise<void>;

  constructor(
    socket: tls.TLSSocket,
    conn?: Deno.TcpConn,
    label?: string,
    flushed: () => Promise<void> = () => Promise.resolve(),
  ) {
    this.#socket = socket;
    this.#conn = conn;
    this.#label = label;
    this.#flushed = flushed;
    const notify = (): void => {
      const wake = this.#wake;
      this.#wake = null;
      wake?.();
    };
    socket.on("readable", notify);
    socket.on("end", () => {
      this.#ended = true;
      notify();
    });
    socket.on("error", (error: unknown) => {
      this.#error ??= error;
      notify();
    });
    socket.on("close", () => {
      this.#ended = true;
      notify();
    });
  }

  /** The ALPN protocol agreed, or `null`. */
  get alpnProtocol(): string | null {
    return this.#socket.alpnProtocol || null;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#closed) throw new NetError("closed", "the resource is closed", { op: "read" });
      const chunk = this.#chunk ?? (this.#socket.read() as Uint8Array | null);
      if (chunk !== null) {
        const n = Math.min(chunk.length, buffer.length);
        buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
        this.#chunk = n === chunk.length ? null : chunk.subarray(n);
        return n;
      }
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    // At most WRITE_MAX a call, so a failure's `written` is exact to that much.
    if (data.length > WRITE_MAX) data = data.subarray(0, WRITE_MAX);
    return new Promise<void>((resolve, reject) => {
      this.#socket.write(
        data,
        (error?: Error | null) => error ? reject(error) : resolve(),
      );
    }).then(() => this.#flushed()).then(() => {
      // A duplex that went away mid-write: the error it went with.
      if (this.#error !== undefined) throw this.#error;
      return data.length;
    });
  }

  failure(error: unknown, op: string): unknown {
    return alertAsHandshakeFailure(error, op, this.#label);
  }

  closeWrite(): Promise<void> {
    return new Promise((resolve) => this.#socket.end(() => resolve()));
  }

  /** The TCP connection under the TLS session (for `fileno` and socket options). */
  [runtimeSocket](): object {
    return this.#conn ?? this;
  }

  close(): void {
    this.#closed = true;
    this.#socket.destroy();
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }
}

/**
 * Runs a client handshake with `node:tls` over `conn` (which it now owns)
 * under `deadline`; on any failure the connection is closed at once.
 */
export async function nodeHandshake(
  conn: Deno.TcpConn,
  settings: ClientTlsSettings,
  deadline: Deadline | undefined,
  op: string,
  label: string,
): Promise<NodeTlsTransport> {
  const name = settings.serverName;
  const options: tls.ConnectionOptions = { host: name, rejectUnauthorized: true };
  if (isIP(name) === 0) options.servername = name;
  // In place of the runtime's roots, as node:tls's `ca` is: adding the bundled
  // roots to them would need --allow-sys and cost ~11 ms a handshake (node:tls
  // parses every root on each connection).
  if (settings.caCerts !== undefined) options.ca = settings.caCerts;
  const { duplex, flushed } = duplexOver(conn);
  options.socket = duplex;
  if (settings.alpnProtocols !== undefined) options.ALPNProtocols = settings.alpnProtocols;
  if (settings.cert !== undefined) options.cert = settings.cert;
  if (settings.key !== undefined) options.key = settings.key;
  let socket: tls.TLSSocket | undefined;
  const secured = new Promise<void>((resolve, reject) => {
    socket = tls.connect(options);
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
    socket.once("close", () => reject(new Error("connection closed during the handshake")));
  });
  const transport = new NodeTlsTransport(socket!, conn, label, flushed);
  try {
    await (deadline === undefined ? secured : deadline.wait(secured));
    return transport;
  } catch (error) {
    transport.close();
    duplex.destroy();
    throw handshakeError(error, op, label);
  }
}

/**
 * Which client engine can keep every promise of the options: Deno's own TLS
 * (`Deno.startTls`, as fast as raw Deno) unless it would break one. It
 * takes only a `Deno.TcpConn` (not a stream adopted from a descriptor); it
 * ignores a client certificate (`cert`/`key`); it adds `caCerts` to the
 * runtime's roots, where netkit trusts exactly them; and a handshake it
 * abandons keeps its TCP socket open until the peer closes, unless the
 * native layer shuts that socket down (so with a deadline it needs
 * `--allow-ffi`). Otherwise `node:tls` over a connection netkit keeps.
 */
export function denoEngineFits(
  conn: Deno.TcpConn,
  settings: ClientTlsSettings,
  deadline?: Deadline,
): boolean {
  // A stream adopted from a descriptor runs over node:net; Deno's startTls takes only its own conns.
  if (conn instanceof NodeStreamTransport) return false;
  if (settings.cert !== undefined || settings.caCerts !== undefined) return false;
  return deadline === undefined || nativeStatus().available;
}

/**
 * Runs a client handshake with Deno's own TLS over `conn` (which it now
 * owns) under `deadline`; on any failure the connection is closed, and one
 * whose handshake did not end is shut down first (see
 * {@linkcode denoEngineFits}).
 */
export async function denoHandshake(
  conn: Deno.TcpConn,
  settings: ClientTlsSettings,
  deadline: Deadline | undefined,
  op: string,
  label: string,
): Promise<{ transport: DenoTlsTransport; alpnProtocol: string | null }> {
  const options: Deno.StartTlsOptions = { hostname: settings.serverName };
  if (settings.alpnProtocols !== undefined) options.alpnProtocols = settings.alpnProtocols;
  let session: Deno.TlsConn;
  try {
    session = await Deno.startTls(conn, options);
  } catch (error) {
    try {
      conn.close();
    } catch {
      // The upgrade took it.
    }
    throw handshakeError(error, op, label);
  }
  // The descriptor is the TCP connection's (a startTls conn shows addresses without a transport).
  const transport = new DenoTlsTransport(session, label, conn);
  const running = transport.handshake(op);
  try {
    const info = await (deadline === undefined ? running : deadline.wait(running));
    return { transport, alpnProtocol: info.alpnProtocol };
  } catch (error) {
    running.catch(() => {});
    transport.close();
    throw error;
  }
}

/**
 * A `Deno.TlsConn` as a transport, either side: the first read or write
 * waits for the handshake, so its failure is reported as `handshake_failed`,
 * and so is a fatal alert after it (TLS 1.3: a server that wanted a client
 * certificate says so at the client's first read).
 */
export class DenoTlsTransport implements StreamTransport {
  readonly #conn: Deno.TlsConn;
  readonly #label: string;
  readonly #socket: object;
  #handshake: Promise<Deno.TlsHandshakeInfo> | undefined;
  #done = false;
  #failed = false;

  /**
   * @param conn The TLS connection.
   * @param label How errors name the peer.
   * @param socket The runtime object whose descriptor this is (default `conn`).
   */
  constructor(conn: Deno.TlsConn, label: string, socket: object = conn) {
    this.#conn = conn;
    this.#label = label;
    this.#socket = socket;
  }

  get conn(): Deno.TlsConn {
    return this.#conn;
  }

  /** The runtime socket whose descriptor this is (for `fileno` and socket options). */
  [runtimeSocket](): object {
    return this.#socket;
  }

  /** The handshake, started once. */
  handshake(op = "handshake"): Promise<Deno.TlsHandshakeInfo> {
    return this.#handshake ??= this.#conn.handshake().then(
      (info) => {
        this.#done = true;
        return info;
      },
      (error) => {
        this.#failed = true;
        throw handshakeError(error, op, this.#label);
      },
    );
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.#done
      ? this.#conn.read(buffer)
      : this.handshake().then(() => this.#conn.read(buffer));
  }

  write(data: Uint8Array): Promise<number> {
    return this.#done
      ? this.#conn.write(data)
      : this.handshake().then(() => this.#conn.write(data));
  }

  failure(error: unknown, op: string): unknown {
    return alertAsHandshakeFailure(error, op, this.#label);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    if (!this.#done && !this.#failed) shutDownUnfinished(this, this.#label);
    this.#conn.close();
  }
}

/**
 * Deno 2.9.6 keeps the TCP socket of a `TlsConn` closed before its handshake
 * finished (the runtime's handshake task still holds it) until the peer
 * closes or sends something. With the native layer, `shutdown(2)` both ways
 * first: the peer sees end of stream at once and the runtime's task ends,
 * releasing the socket. Without it nothing can be done from here.
 */
function shutDownUnfinished(transport: DenoTlsTransport, label: string): void {
  let socket: NativeSocket | undefined;
  try {
    native("close", "close");
    socket = new NativeSocket("stream", transport, () => label);
    const { n, fd } = socket.fd("close", "close", false);
    n.sym.shutdown(fd, n.platform.SHUT_RDWR);
  } catch {
    // No native layer, or the socket is already gone: the plain close follows.
  } finally {
    socket?.forget();
    idle();
  }
}
