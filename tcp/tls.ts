/**
 * TLS streams: `connectTls`, `listenTls` (a `TlsListener`) and `startTls`
 * (STARTTLS upgrade of a `TcpStream`). A `TlsStream` is a netkit `Stream`:
 * reads with deadlines that lose nothing, buffered framing, exact half-close
 * (`shutdown("w")` sends close_notify and keeps reading), sticky errors, web
 * streams and `await using`. Handshake failures reject `handshake_failed`.
 *
 * @module
 */

import { X509Certificate } from "node:crypto";
import {
  addressArgument,
  addressForm,
  checkHost,
  checkPort,
  hostPortLabel,
} from "../common/_address.ts";
import { type HostPort, INADDR_ANY } from "../common/address.ts";
import { Deadline } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { Listener } from "../common/listener.ts";
import {
  DEADLINE_RULES,
  invalidArgument,
  type Schema,
  validateOptions,
} from "../common/_options.ts";
import { Stream, type StreamTransport } from "../common/stream.ts";
import { streamInternals } from "../common/_stream_internals.ts";
import { connect } from "./connect.ts";
import { TcpStream } from "./stream.ts";
import {
  type ClientTlsSettings,
  denoEngineFits,
  denoHandshake,
  DenoTlsTransport,
  nodeHandshake,
} from "./_tls.ts";

/** What a finished handshake agreed on. */
export interface TlsHandshakeInfo {
  /** The ALPN protocol both sides chose, or `null` when none was negotiated. */
  alpnProtocol: string | null;
}

/** Options of {@linkcode startTls}. */
export interface StartTlsOptions extends DeadlineOptions {
  /**
   * The trusted CA certificates (PEM), in place of the runtime's roots (as
   * Node's `ca` and Go's `RootCAs`; default: the runtime's roots, which
   * include `DENO_CERT`). Without it the client runs on Deno's own TLS, at
   * raw Deno's speed; with it on `node:tls`, which can trust exactly these
   * but costs more per record and per handshake (docs/tls.md).
   */
  caCerts?: string[];
  /** The name to verify and send as SNI (default: the host connected to). */
  serverName?: string;
  /** ALPN protocols to offer, most preferred first. */
  alpnProtocols?: string[];
  /** Client certificate chain (PEM); needs `key`. */
  cert?: string;
  /** Client private key (PEM); needs `cert`. */
  key?: string;
}

/** Options of {@linkcode connectTls}: `timeout`/`signal` cover lookup, TCP connect and the handshake. */
export interface ConnectTlsOptions extends StartTlsOptions {
  /** Turn Nagle's algorithm off (default `true`). */
  noDelay?: boolean;
}

/** Options of {@linkcode listenTls}. */
export interface ListenTlsOptions {
  /** The server's certificate chain (PEM). Required. */
  cert: string;
  /** The server's private key (PEM). Required. */
  key: string;
  /** ALPN protocols to accept, most preferred first (the server's preference wins). */
  alpnProtocols?: string[];
  /** The address to bind (default `"0.0.0.0"`). */
  hostname?: string;
  /** The port (default 0: the system picks one). */
  port?: number;
  /** Length of the accept queue. */
  backlog?: number;
  /** SO_REUSEPORT (needs `--unstable-net`). */
  reusePort?: boolean;
  /** Turn Nagle's algorithm off on accepted streams (default `true`). */
  noDelay?: boolean;
}

/** How a `TlsStream` is made; `connectTls`, `startTls` and `TlsListener` fill it in. */
export interface TlsStreamInit {
  /** The local address. */
  localAddr: Deno.NetAddr;
  /** The peer's address. */
  remoteAddr: Deno.NetAddr;
  /** Runs (or reports) the handshake. */
  handshake: () => Promise<TlsHandshakeInfo>;
}

const STRINGS = {
  type: "custom",
  accepts: "an array of strings",
  check: (value: unknown) =>
    Array.isArray(value) && value.every((item) => typeof item === "string"),
} as const;

/** ALPN protocol names are 1 to 255 bytes (RFC 7301); a peer refuses a hello with others. */
const PROTOCOLS = {
  type: "custom",
  accepts: "an array of protocol names of 1 to 255 bytes",
  check: (value: unknown) =>
    Array.isArray(value) &&
    value.every((item) =>
      typeof item === "string" && item !== "" && new TextEncoder().encode(item).length <= 255
    ),
} as const;

const START_RULES: Schema = {
  ...DEADLINE_RULES,
  caCerts: STRINGS,
  serverName: { type: "string", nonEmpty: true },
  alpnProtocols: PROTOCOLS,
  cert: { type: "string", nonEmpty: true },
  key: { type: "string", nonEmpty: true },
};

const CONNECT_RULES: Schema = { ...START_RULES, noDelay: { type: "boolean" } };

const LISTEN_RULES: Schema = {
  cert: { type: "string", nonEmpty: true },
  key: { type: "string", nonEmpty: true },
  alpnProtocols: PROTOCOLS,
  hostname: { type: "string" },
  port: { type: "integer", min: 0, max: 65535 },
  backlog: { type: "integer", min: 1, max: 65535 },
  reusePort: { type: "boolean" },
  noDelay: { type: "boolean" },
};

/**
 * A TLS connection: every member of netkit's `Stream` (see `TcpStream`),
 * plus {@linkcode TlsStream.handshake}. `connectTls` and `startTls` hand it
 * out after the handshake; an accepted one runs its handshake on the first
 * read, write or `handshake()`.
 *
 * @example
 * ```ts
 * import { connectTls, listenTls } from "@netkit/netkit/tcp";
 *
 * const dir = await Deno.makeTempDir();
 * await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
 *     "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`, "-days", "1", "-subj", "/CN=localhost",
 *     "-addext", "subjectAltName=DNS:localhost"],
 *   stderr: "null",
 * }).output();
 * const cert = await Deno.readTextFile(`${dir}/c.pem`);
 * const key = await Deno.readTextFile(`${dir}/k.pem`);
 * await using listener = listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
 * const accepted = listener.accept();
 * await using client = await connectTls("localhost", listener.addr.port, { caCerts: [cert] });
 * await using server = await accepted;
 * await client.writeAll("hello\n");
 * console.log(await server.readLine()); // "hello"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TlsStream extends Stream {
  readonly #handshake: () => Promise<TlsHandshakeInfo>;

  /**
   * Wraps a TLS transport; `connectTls`, `startTls` and `TlsListener` make these.
   *
   * @param transport The TLS connection as a transport.
   * @param init Addresses and the handshake.
   */
  constructor(transport: StreamTransport, init: TlsStreamInit) {
    super(transport, { localAddr: init.localAddr, remoteAddr: init.remoteAddr });
    this.#handshake = init.handshake;
  }

  /** The local address and port. */
  override get localAddr(): Deno.NetAddr {
    return super.localAddr as Deno.NetAddr;
  }

  /** The peer's address and port. */
  override get remoteAddr(): Deno.NetAddr {
    return super.remoteAddr as Deno.NetAddr;
  }

  /**
   * Completes the handshake (already done for `connectTls`/`startTls`
   * streams; the first read or write runs it on accepted ones).
   *
   * @param options `{ timeout, signal }`.
   * @returns The negotiated ALPN protocol.
   * @throws {NetError} `handshake_failed` (the message says which failure),
   *   `timeout`, `aborted`, `closed`.
   *
   * @example
   * ```ts
   * import { connectTls, listenTls } from "@netkit/netkit/tcp";
   *
   * const dir = await Deno.makeTempDir();
   * await new Deno.Command("openssl", {
   *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
   *     "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`, "-days", "1", "-subj", "/CN=localhost",
   *     "-addext", "subjectAltName=DNS:localhost"],
   *   stderr: "null",
   * }).output();
   * const cert = await Deno.readTextFile(`${dir}/c.pem`);
   * const key = await Deno.readTextFile(`${dir}/k.pem`);
   * await using listener = listenTls({ hostname: "127.0.0.1", port: 0, cert, key, alpnProtocols: ["h2"] });
   * const accepted = listener.accept();
   * await using client = await connectTls("localhost", listener.addr.port, {
   *   caCerts: [cert],
   *   alpnProtocols: ["h2"],
   * });
   * await using server = await accepted;
   * console.log((await server.handshake({ timeout: 1000 })).alpnProtocol); // "h2"
   * console.log((await client.handshake()).alpnProtocol); // "h2"
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  async handshake(options?: DeadlineOptions): Promise<TlsHandshakeInfo> {
    if (options === undefined && !this.closed) return await this.#handshake();
    const checked = validateOptions<DeadlineOptions>("handshake", options, DEADLINE_RULES);
    if (this.closed) throw closedError("handshake", this.#label);
    using deadline = Deadline.of(checked, "handshake", this.#label);
    const running = this.#handshake();
    return await (deadline === undefined ? running : deadline.wait(running));
  }

  get #label(): string {
    return hostPortLabel(this.remoteAddr.hostname, this.remoteAddr.port);
  }
}

/** The handshake of an accepted connection, as a `TlsStream` reports it. */
function acceptedStream(conn: Deno.TlsConn, noDelay: boolean, label: string): TlsStream {
  const transport = new DenoTlsTransport(conn, label);
  try {
    // Deno's TlsConn types omit setNoDelay; call it where the runtime has it.
    (conn as unknown as { setNoDelay?(on: boolean): void }).setNoDelay?.(noDelay);
  } catch {
    // A connection that already died: its first read reports it.
  }
  return new TlsStream(transport, {
    localAddr: conn.localAddr,
    remoteAddr: conn.remoteAddr,
    handshake: () => transport.handshake().then((info) => ({ alpnProtocol: info.alpnProtocol })),
  });
}

/**
 * A listening TLS socket (Deno's `listenTls`): `accept()` with deadlines
 * that lose nothing, any number of waiting callers, `close()`, async
 * iteration and `await using`, as `TcpListener`. Accepted streams run their
 * handshake on the first read, write or `handshake()`.
 *
 * @example
 * ```ts
 * import { listenTls, NetError } from "@netkit/netkit/tcp";
 *
 * const dir = await Deno.makeTempDir();
 * await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
 *     "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`, "-days", "1", "-subj", "/CN=localhost"],
 *   stderr: "null",
 * }).output();
 * const cert = await Deno.readTextFile(`${dir}/c.pem`);
 * const key = await Deno.readTextFile(`${dir}/k.pem`);
 * await using listener = listenTls("127.0.0.1:0", { cert, key });
 * try {
 *   await listener.accept({ timeout: 10 });
 * } catch (error) {
 *   console.log((error as NetError).code); // "timeout"
 * }
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TlsListener extends Listener<TlsStream, Deno.TlsConn> {
  #addr: Deno.NetAddr;

  /**
   * Wraps a `Deno.TlsListener`; {@linkcode listenTls} makes these.
   *
   * @param listener The runtime listener.
   * @param options `noDelay` for accepted streams (default `true`).
   */
  constructor(listener: Deno.TlsListener, options: { noDelay?: boolean } = {}) {
    const addr = listener.addr;
    const label = hostPortLabel(addr.hostname, addr.port);
    const noDelay = options.noDelay ?? true;
    super(listener, (conn) => acceptedStream(conn, noDelay, label), label);
    this.#addr = addr;
  }

  /** The bound address; `addr.port` is the real port after listening on 0. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }
}

/**
 * Listens for TLS connections. Two forms: `listenTls({ cert, key, ... })`
 * and `listenTls("host:port", { cert, key, ... })`.
 *
 * @param options `cert` and `key` (PEM, required), `alpnProtocols`, and
 *   `listen`'s `hostname`, `port`, `backlog`, `reusePort`, `noDelay`.
 * @returns The listener.
 * @throws {NetError} `invalid_argument` naming the field (also for a
 *   certificate or key the runtime cannot read), `address_in_use`,
 *   `access_denied`, `not_supported` (`reusePort` without `--unstable-net`).
 *
 * @example
 * ```ts
 * import { listenTls } from "@netkit/netkit/tcp";
 *
 * const dir = await Deno.makeTempDir();
 * await new Deno.Command("openssl", {
 *   args: ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
 *     "-keyout", `${dir}/k.pem`, "-out", `${dir}/c.pem`, "-days", "1", "-subj", "/CN=localhost"],
 *   stderr: "null",
 * }).output();
 * const cert = await Deno.readTextFile(`${dir}/c.pem`);
 * const key = await Deno.readTextFile(`${dir}/k.pem`);
 * await using listener = listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
 * console.log(listener.addr.port > 0); // true
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function listenTls(options: ListenTlsOptions): TlsListener;
/**
 * Listens for TLS connections on `"host:port"`.
 *
 * @param address `"ip:port"`, `"[ipv6]:port"` or `":port"`.
 * @param options `cert`, `key` (required) and the other options but `hostname`/`port`.
 * @returns The listener.
 * @throws {NetError} as the options form.
 *
 * @example
 * ```ts
 * import { listenTls, NetError } from "@netkit/netkit/tcp";
 *
 * try {
 *   listenTls("127.0.0.1:0", { cert: "", key: "" });
 * } catch (error) {
 *   console.log((error as NetError).field); // "cert"
 * }
 * ```
 */
export function listenTls(
  address: string,
  options: Omit<ListenTlsOptions, "hostname" | "port">,
): TlsListener;
export function listenTls(
  first: string | ListenTlsOptions,
  second?: Omit<ListenTlsOptions, "hostname" | "port">,
): TlsListener {
  const options = addressForm<ListenTlsOptions & Partial<HostPort>>(
    "listenTls",
    first,
    second,
    LISTEN_RULES,
  );
  for (const field of ["cert", "key"] as const) {
    if (options[field] === undefined) {
      throw invalidArgument("listenTls", field, "a PEM string (required)", undefined);
    }
  }
  const hostname = options.hostname === undefined
    ? INADDR_ANY
    : checkHost("listenTls", options.hostname);
  const port = options.port ?? 0;
  const address = hostPortLabel(hostname, port);
  if (options.reusePort && typeof Deno.listenDatagram !== "function") {
    throw new NetError(
      "not_supported",
      "reusePort needs Deno's unstable net API: run with --unstable-net",
      { op: "listenTls", address, field: "reusePort" },
    );
  }
  const request: Deno.ListenTlsOptions & Deno.TlsCertifiedKeyPem & { tcpBacklog?: number } = {
    hostname,
    port,
    cert: options.cert,
    key: options.key,
  };
  if (options.alpnProtocols !== undefined) request.alpnProtocols = [...options.alpnProtocols];
  if (options.backlog !== undefined) request.tcpBacklog = options.backlog;
  if (options.reusePort) request.reusePort = true;
  let listener: Deno.TlsListener;
  try {
    listener = Deno.listenTls(request);
  } catch (error) {
    const failure = toNetError(error, "listenTls", address);
    // Deno's words for PEM it cannot use ("No keys found in key data", "invalid peer
    // certificate: BadEncoding", "keys may not be consistent: KeyMismatch") map to
    // invalid_argument or to no code at all.
    if (failure.code !== "invalid_argument" && failure.code !== "unknown") throw failure;
    const field = /\bkeys?\b/i.test(failure.detail) ? "key" : "cert";
    throw new NetError("invalid_argument", `${field} is not usable: ${failure.detail}`, {
      op: "listenTls",
      address,
      field,
      cause: error,
    });
  }
  const tlsListener = new TlsListener(listener, { noDelay: options.noDelay });
  if (options.noDelay ?? true) {
    // Deno 2.9.6's TlsConn has no setNoDelay; Linux accepted sockets inherit TCP_NODELAY from
    // the listener. Without --allow-ffi, accepted TLS streams keep Nagle's algorithm on.
    try {
      tlsListener.setOption("tcp_nodelay", true);
    } catch {
      // No native layer.
    }
  }
  return tlsListener;
}

/** A PEM private key block (PKCS#8, or PKCS#1/SEC1 with the algorithm in the label). */
const PEM_KEY = /-----BEGIN ((?:[A-Z0-9]+ )?PRIVATE KEY)-----([A-Za-z0-9+/=\s]*)-----END \1-----/;

/**
 * Does `pem` hold a private key block whose body is one DER SEQUENCE? (Parsing
 * the key itself costs about 0.4 ms; this catches text, paths and truncation.)
 */
function holdsKey(pem: string): boolean {
  const body = PEM_KEY.exec(pem)?.[2].replace(/\s+/g, "");
  if (!body) return false;
  let der: string;
  try {
    der = atob(body);
  } catch {
    return false;
  }
  if (der.charCodeAt(0) !== 0x30 || der.length < 2) return false;
  let length = der.charCodeAt(1);
  let offset = 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    if (bytes === 0 || bytes > 4) return false;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der.charCodeAt(offset++);
  }
  return offset + length === der.length;
}

/** Does `pem` start with a certificate that parses? */
function holdsCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}

/** The client settings of the checked options; `cert` and `key` come together. */
function clientSettings(op: string, options: StartTlsOptions, host: string): ClientTlsSettings {
  if ((options.cert === undefined) !== (options.key === undefined)) {
    const missing = options.cert === undefined ? "cert" : "key";
    throw new NetError(
      "invalid_argument",
      `${missing} is required with ${missing === "cert" ? "key" : "cert"}`,
      {
        op,
        field: missing,
      },
    );
  }
  // node:tls ignores a CA or client certificate it cannot parse (a path given for PEM text).
  // The messages do not quote the text: it may be key material.
  const refuse = (field: string, what: string): NetError =>
    new NetError("invalid_argument", `${field} must be ${what}`, { op, field });
  options.caCerts?.forEach((pem, index) => {
    if (!holdsCertificate(pem)) throw refuse("caCerts", `PEM certificates (item ${index} is not)`);
  });
  if (options.cert !== undefined && !holdsCertificate(options.cert)) {
    throw refuse("cert", "a PEM certificate chain");
  }
  if (options.key !== undefined && !holdsKey(options.key)) {
    throw refuse("key", "a PEM private key");
  }
  return {
    serverName: options.serverName ?? host,
    caCerts: options.caCerts === undefined ? undefined : [...options.caCerts],
    alpnProtocols: options.alpnProtocols === undefined ? undefined : [...options.alpnProtocols],
    cert: options.cert,
    key: options.key,
  };
}

/** Runs the client handshake over a TCP connection netkit now owns, and makes the stream. */
async function upgrade(
  conn: Deno.TcpConn,
  settings: ClientTlsSettings,
  deadline: Deadline | undefined,
  op: string,
  noDelay: boolean,
): Promise<TlsStream> {
  const localAddr = conn.localAddr;
  const remoteAddr = conn.remoteAddr;
  const label = hostPortLabel(remoteAddr.hostname, remoteAddr.port);
  // A TcpStream applies TCP_NODELAY at its first write; one detached before writing never has.
  try {
    conn.setNoDelay(noDelay);
  } catch {
    // A connection that already died: the handshake reports it.
  }
  let transport: StreamTransport;
  let alpnProtocol: string | null;
  if (denoEngineFits(conn, settings, deadline)) {
    ({ transport, alpnProtocol } = await denoHandshake(conn, settings, deadline, op, label));
  } else {
    const node = await nodeHandshake(conn, settings, deadline, op, label);
    transport = node;
    alpnProtocol = node.alpnProtocol;
  }
  const info = Promise.resolve({ alpnProtocol });
  return new TlsStream(transport, { localAddr, remoteAddr, handshake: () => info });
}

/**
 * Opens a TLS connection and completes its handshake. Two forms:
 * `connectTls(host, port, options?)` and `connectTls("host:port", options?)`.
 * `timeout`/`signal` cover the lookup, the TCP connect and the handshake; a
 * call that gives up closes its socket at once.
 *
 * @param host The host name or address (also the name verified, unless `serverName`).
 * @param port The port, 1..65535.
 * @param options `timeout`, `signal`, `noDelay`, `caCerts`, `serverName`,
 *   `alpnProtocols`, `cert`/`key`.
 * @returns The stream, handshake done.
 * @throws {NetError} `handshake_failed` (the message says which: unknown
 *   issuer, name mismatch, expired, no common ALPN protocol, a peer that does
 *   not speak TLS), `timeout`, `aborted`, `connection_refused`,
 *   `name_not_resolved`, `invalid_argument` naming the field.
 *
 * @example
 * ```ts
 * import { connectTls, listen, NetError } from "@netkit/netkit/tcp";
 *
 * // A server that accepts TCP but never speaks TLS cannot hang the client.
 * await using silent = listen({ hostname: "127.0.0.1", port: 0 });
 * try {
 *   await connectTls("127.0.0.1", silent.addr.port, { timeout: 100 });
 * } catch (error) {
 *   console.log((error as NetError).code); // "timeout"
 * }
 * (await silent.accept()).close();
 * ```
 */
export function connectTls(
  host: string,
  port: number,
  options?: ConnectTlsOptions,
): Promise<TlsStream>;
/**
 * Opens a TLS connection to `"host:port"`.
 *
 * @param address `"host:port"`.
 * @param options As the other form.
 * @returns The stream, handshake done.
 * @throws {NetError} as the other form.
 *
 * @example
 * ```ts
 * import { connectTls, NetError } from "@netkit/netkit/tcp";
 *
 * try {
 *   await connectTls("127.0.0.1:443", { serverName: "" });
 * } catch (error) {
 *   console.log((error as NetError).field); // "serverName"
 * }
 * ```
 */
export function connectTls(address: string, options?: ConnectTlsOptions): Promise<TlsStream>;
export async function connectTls(
  host: string,
  portOrOptions?: number | ConnectTlsOptions,
  more?: ConnectTlsOptions,
): Promise<TlsStream> {
  let hostname: string;
  let port: number;
  let raw: unknown;
  if (typeof portOrOptions === "number") {
    hostname = checkHost("connectTls", host, "host");
    port = checkPort("connectTls", portOrOptions, "port", 1);
    raw = more;
  } else {
    if (typeof host !== "string") throw invalidArgument("connectTls", "host", "a string", host);
    ({ hostname, port } = addressArgument("connectTls", host));
    raw = portOrOptions;
  }
  const options = validateOptions<ConnectTlsOptions>("connectTls", raw, CONNECT_RULES);
  const settings = clientSettings("connectTls", options, hostname);
  const label = hostPortLabel(hostname, port);
  using deadline = Deadline.of(options, "connectTls", label);
  deadline?.check();
  let tcp: TcpStream;
  try {
    tcp = await connect(hostname, port, {
      signal: deadline?.signal,
      noDelay: options.noDelay ?? true,
    });
  } catch (error) {
    const failure = deadline?.error ?? toNetError(error, "connectTls", label);
    throw new NetError(failure.code, failure.detail, {
      op: "connectTls",
      address: label,
      cause: failure.cause ?? error,
    });
  }
  const conn = streamInternals().detach(tcp) as Deno.TcpConn;
  return await upgrade(conn, settings, deadline, "connectTls", options.noDelay ?? true);
}

/**
 * Upgrades a connected `TcpStream` to TLS in place (STARTTLS: SMTP, IMAP,
 * PostgreSQL, LDAP) and completes the handshake as the client. On success
 * the `TcpStream` is consumed (later calls on it reject `closed`). It is
 * refused, leaving the `TcpStream` usable, when netkit holds buffered unread
 * bytes of it or a read of it is still outstanding in the runtime (after a
 * timed-out read: read again first): those bytes would belong to the
 * handshake. A write still in flight is waited for (within the deadline; a
 * timeout leaves the `TcpStream` usable) and its bytes go before the
 * handshake.
 *
 * @param stream The plain TCP stream.
 * @param options `timeout`, `signal`, `caCerts`, `serverName` (default: the
 *   peer's address), `alpnProtocols`, `cert`/`key`.
 * @returns The TLS stream, handshake done.
 * @throws {NetError} `invalid_argument` naming `stream` (why in the
 *   message) or an option; `closed`; `handshake_failed`; `timeout`; `aborted`.
 *
 * @example
 * ```ts
 * import { connect, listen, NetError, startTls } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port);
 * await using server = await listener.accept();
 * await server.writeAll("220 ready\n");
 * await client.read(1); // leaves "20 ready\n" buffered
 * try {
 *   await startTls(client);
 * } catch (error) {
 *   console.log((error as NetError).field); // "stream"
 * }
 * ```
 */
export async function startTls(stream: TcpStream, options?: StartTlsOptions): Promise<TlsStream> {
  if (!(stream instanceof TcpStream)) {
    throw invalidArgument("startTls", "stream", "a TcpStream", stream);
  }
  const checked = validateOptions<StartTlsOptions>("startTls", options, START_RULES);
  if (stream.closed) throw closedError("startTls");
  const label = hostPortLabel(stream.remoteAddr.hostname, stream.remoteAddr.port);
  const settings = clientSettings("startTls", checked, stream.remoteAddr.hostname);
  const internals = streamInternals();
  const refusal = (): NetError | undefined => {
    if (stream.closed) return closedError("startTls", label);
    if (stream.buffered > 0) {
      return new NetError(
        "invalid_argument",
        `the stream holds ${stream.buffered} buffered unread bytes; they would belong to the ` +
          "handshake (read them before startTls)",
        { op: "startTls", address: label, field: "stream" },
      );
    }
    if (internals.reading(stream)) {
      return new NetError(
        "invalid_argument",
        "a read of the stream is still outstanding in the runtime (e.g. after a timed-out read); " +
          "its bytes would belong to the handshake: read again before startTls",
        { op: "startTls", address: label, field: "stream" },
      );
    }
  };
  const refused = refusal();
  if (refused !== undefined) throw refused;
  using deadline = Deadline.of(checked, "startTls", label);
  deadline?.check();
  // A write still in flight goes out first: its bytes come before the handshake, and Deno's
  // startTls would destroy a connection with a write pending. Holding the lock keeps new ones out.
  const release = await internals.holdWrites(stream, deadline);
  let conn: Deno.TcpConn;
  let noDelay = true;
  try {
    const late = refusal();
    if (late !== undefined) throw late;
    // The stream's own setting (what netkit set, or the kernel's), kept over the upgrade.
    try {
      noDelay = stream.getOption("tcp_nodelay");
    } catch {
      // Unreadable: the default.
    }
    conn = internals.detach(stream) as Deno.TcpConn;
  } finally {
    release();
  }
  return await upgrade(conn, settings, deadline, "startTls", noDelay);
}
