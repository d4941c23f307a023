/**
 * `socket` and `TcpSocket`: an unbound TCP socket (XPIO's `socket("TCP")`,
 * sock's `tcp()`) whose options are set before anything happens on it,
 * which is then bound, and listens or connects from that address.
 *
 * @module
 */

import { getOptionAt, setOptionAt } from "../common/_native/ops.ts";
import { addressArgument, checkHost, checkPort, hostPortLabel } from "../common/_address.ts";
import { type HostPort, resolve } from "../common/address.ts";
import { Deadline } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { NetError } from "../common/errors.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "../common/native.ts";
import { hold, idle, type Native, native, unhold } from "../common/_native/libc.ts";
import { NativeSocket } from "../common/_native/socket.ts";
import { encodeSockaddr, socketName } from "../common/_native/descriptor.ts";
import { POLLOUT, Waiter } from "../common/_native/wait.ts";
import { adoptTcpListener, adoptTcpStream } from "./_adopt.ts";
import type { TcpStream } from "./stream.ts";
import type { TcpListener } from "./listen.ts";

/** Options of {@linkcode socket}. */
export interface SocketOptions {
  /** `"inet"` (IPv4, default) or `"inet6"` (IPv6; IPv4 peers as mapped addresses). */
  family?: "inet" | "inet6";
}

/** Options of {@linkcode TcpSocket.connect}. */
export interface SocketConnectOptions extends DeadlineOptions {
  /** Turn Nagle's algorithm off on the stream (default `true`, unless `tcp_nodelay` was set). */
  noDelay?: boolean;
}

const SOCKET_RULES = { family: { type: "string", values: ["inet", "inet6"] } } as const;
const CONNECT_RULES = { ...DEADLINE_RULES, noDelay: { type: "boolean" } } as const;
const DEFAULT_BACKLOG = 511;
/** connect(2) on a non-blocking socket: the handshake goes on (the same on every Linux). */
const EINPROGRESS = 115;

function errnoError(n: Native, errno: number, call: string, op: string, label: string): NetError {
  const name = n.errnoName(errno);
  const cause = Object.assign(new Error(`${call} failed: ${name} (os error ${errno})`), {
    code: name,
  });
  return toNetError(cause, op, label);
}

/** Refuses what `--allow-net` does not allow, as Deno's own calls would. */
function checkNet(op: string, hostname: string, port: number): void {
  const host = hostPortLabel(hostname, port);
  let state: string;
  try {
    state = Deno.permissions.querySync({ name: "net", host }).state;
  } catch {
    state = "denied";
  }
  if (state !== "granted") {
    throw new NetError(
      "access_denied",
      `needs net access to "${host}": run again with --allow-net`,
      { op, address: host },
    );
  }
}

/**
 * An unbound TCP socket (made by {@linkcode socket}): options set now apply
 * before any handshake (`so_rcvbuf` before the window is announced,
 * `so_reuseport` before binding, `ip_tos`, `tcp_congestion`…); `bind`
 * chooses the local address; then `listen()` makes a {@linkcode TcpListener}
 * or `connect()` a {@linkcode TcpStream} from that address. Either hands the
 * descriptor on, and this object is closed. Needs `--allow-ffi`.
 *
 * @example Connect from a chosen local port
 * ```ts
 * import { listen, socket } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using sock = socket();
 * sock.setOption("so_rcvbuf", 65536);
 * sock.bind("127.0.0.1:0");
 * const port = sock.localAddr!.port;
 * await using client = await sock.connect("127.0.0.1", listener.addr.port, { timeout: 1000 });
 * await using server = await listener.accept();
 * console.log(server.remoteAddr.port === port, sock.closed); // true true
 * ```
 */
export class TcpSocket implements AsyncDisposable {
  readonly #n: Native;
  readonly #fd: number;
  readonly #family: "inet" | "inet6";
  readonly #rules: NativeSocket;
  #closed = false;
  #busy = false;
  #closeAfter = false;
  #waiter: Waiter | undefined;
  #noDelay: boolean | undefined;

  /** @internal {@linkcode socket} makes these. */
  constructor(n: Native, fd: number, family: "inet" | "inet6") {
    this.#n = n;
    this.#fd = fd;
    this.#family = family;
    const any = family === "inet6" ? "::1" : "127.0.0.1";
    const addr: Deno.NetAddr = { transport: "tcp", hostname: any, port: 0 };
    // The option table's view of it: a TCP socket of its family (every TCP option applies).
    this.#rules = new NativeSocket(
      "stream",
      { localAddr: addr, remoteAddr: addr },
      () => this.#label,
    );
    hold();
  }

  get #label(): string {
    const local = this.#closed ? null : this.localAddr;
    return local === null
      ? `tcp socket (fd ${this.#fd})`
      : hostPortLabel(local.hostname, local.port);
  }

  /** `"inet"` or `"inet6"`. */
  get family(): "inet" | "inet6" {
    return this.#family;
  }

  /** True once closed (also after `listen` or `connect` took the descriptor). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The bound address (getsockname), or `null` before `bind` and after close. */
  get localAddr(): Deno.NetAddr | null {
    if (this.#closed) return null;
    const addr = socketName(this.#n, this.#fd, false, "tcp") as Deno.NetAddr | null;
    return addr === null || addr.port === 0 ? null : addr;
  }

  #check(op: string): void {
    if (this.#closed) throw closedError(op, `tcp socket (fd ${this.#fd})`);
    if (this.#busy) {
      throw new NetError("not_supported", "a connect is in progress on this socket", {
        op,
        address: this.#label,
      });
    }
  }

  /**
   * Sets a socket option by its POSIX name (the TCP names of the guide's
   * table: `so_rcvbuf`, `so_sndbuf`, `so_reuseaddr`, `so_reuseport`,
   * `so_keepalive`, `so_linger`, `tcp_nodelay`, `tcp_keepidle`,
   * `tcp_congestion`, `ip_ttl`, `ip_tos`, `ipv6_v6only`, …).
   *
   * @param name The option's name, lower case.
   * @param value Its value.
   * @throws {NetError} `invalid_argument` (field `name` or `value`),
   *   `not_supported` (read-only, or refused by the kernel), `closed`.
   *
   * @example
   * ```ts
   * import { socket } from "@netkit/netkit/tcp";
   *
   * await using sock = socket({ family: "inet6" });
   * sock.setOption("ipv6_v6only", true);
   * console.log(sock.getOption("ipv6_v6only")); // true
   * ```
   */
  setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    setOptionAt(this.#n, this.#fd, this.#rules, name, value, (op) => this.#check(op), this.#label);
    if (name === "tcp_nodelay") this.#noDelay = value as boolean;
  }

  /**
   * Reads a socket option from the kernel.
   *
   * @param name The option's name, lower case.
   * @returns Its current value.
   * @throws {NetError} as {@linkcode TcpSocket.setOption}.
   *
   * @example
   * ```ts
   * import { socket } from "@netkit/netkit/tcp";
   *
   * await using sock = socket();
   * console.log(sock.getOption("so_type"), sock.getOption("so_acceptconn")); // "stream" false
   * ```
   */
  getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    return getOptionAt(
      this.#n,
      this.#fd,
      this.#rules,
      name,
      (op) => this.#check(op),
      this.#label,
    ) as SocketOptionValues[K];
  }

  /**
   * Binds the local address (XPIO `bind`, in its address format:
   * `"127.0.0.1:8080"`, `"127.0.0.1"` = any port, `":80"` = every
   * interface, `"[::1]:0"`), or `{ hostname, port }`. The host is an IP
   * address (no name is looked up). Needs `--allow-net` for it.
   *
   * @param address The address.
   * @throws {NetError} `invalid_argument` (field `address`, `hostname` or
   *   `port`); `address_in_use`; `address_not_available`; `access_denied`;
   *   `closed`.
   *
   * @example
   * ```ts
   * import { socket } from "@netkit/netkit/tcp";
   *
   * await using sock = socket();
   * sock.bind("127.0.0.1");
   * console.log(sock.localAddr!.port > 0); // true
   * ```
   */
  bind(address: string | Partial<HostPort>): void {
    const { hostname, port } = this.#address("bind", address);
    this.#check("bind");
    const label = hostPortLabel(hostname, port);
    checkNet("bind", hostname, port);
    const sockaddr = encodeSockaddr(this.#n, hostname, port, this.#family === "inet6");
    if (this.#n.sym.bind(this.#fd, sockaddr, sockaddr.length) !== 0) {
      throw this.#n.fail("bind", "bind", label);
    }
  }

  #address(op: string, address: unknown): HostPort {
    let parsed: HostPort;
    if (typeof address === "string") parsed = addressArgument(op, address);
    else {
      const options = validateOptions<Partial<HostPort>>(op, address, {
        hostname: { type: "string" },
        port: { type: "integer", min: 0, max: 65535 },
      });
      parsed = {
        hostname: options.hostname ?? (this.#family === "inet6" ? "::" : "0.0.0.0"),
        port: options.port ?? 0,
      };
    }
    const host = checkHost(op, parsed.hostname);
    const v6 = host.includes(":");
    if (!v6 && !/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
      throw invalidArgument(op, "hostname", "an IP address (bind looks no name up)", host);
    }
    if (v6 && this.#family === "inet") {
      throw invalidArgument(op, "hostname", 'an IPv4 address (the socket is "inet")', host);
    }
    return { hostname: host, port: checkPort(op, parsed.port) };
  }

  /**
   * Starts listening (XPIO `listen`) on the bound address (an unbound socket
   * gets any port on every interface) and hands the descriptor to the
   * returned listener; this socket is closed.
   *
   * @param backlog The accept queue's length (default 511).
   * @returns The listener.
   * @throws {NetError} `invalid_argument` (field `backlog`); `address_in_use`
   *   (a port another socket listens on); `access_denied`; `closed`.
   *
   * @example
   * ```ts
   * import { connect, socket } from "@netkit/netkit/tcp";
   *
   * const sock = socket();
   * sock.setOption("so_reuseaddr", true);
   * sock.bind("127.0.0.1:0");
   * await using listener = sock.listen(16);
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * await client.writeAll("hi\n");
   * console.log(await server.readLine()); // "hi"
   * ```
   */
  listen(backlog?: number): TcpListener {
    if (
      backlog !== undefined &&
      (typeof backlog !== "number" || !Number.isInteger(backlog) || backlog < 1 ||
        backlog > 65535)
    ) {
      throw invalidArgument("listen", "backlog", "an integer from 1 to 65535", backlog);
    }
    this.#check("listen");
    const bound = this.localAddr;
    checkNet(
      "listen",
      bound?.hostname ?? (this.#family === "inet6" ? "::" : "0.0.0.0"),
      bound?.port ?? 0,
    );
    if (this.#n.sym.listen(this.#fd, backlog ?? DEFAULT_BACKLOG) !== 0) {
      throw this.#n.fail("listen", "listen", this.#label);
    }
    const addr = socketName(this.#n, this.#fd, false, "tcp") as Deno.NetAddr;
    const listener = adoptTcpListener(this.#n, this.#fd, addr);
    this.#handOver();
    return listener;
  }

  /**
   * Connects from the bound address (sock: bind, then connect; an unbound
   * socket gets any port) and hands the descriptor to the returned stream;
   * this socket is closed. A name is looked up, and the first address of
   * the socket's family is tried (a socket that failed to connect cannot try
   * another: close it and make a new one). `timeout`/`signal` cover the
   * lookup and the handshake.
   *
   * @param host An IP address or a host name.
   * @param port The port, 1..65535.
   * @param options `timeout`, `signal`, `noDelay`.
   * @returns The connected stream.
   * @throws {NetError} `connection_refused`, `timeout`, `aborted`,
   *   `host_unreachable`, `name_not_resolved`, `address_in_use` (the bound
   *   address already connected to that peer), `access_denied`,
   *   `invalid_argument` naming the field; `closed`. A socket whose connect
   *   failed is closed.
   *
   * @example
   * ```ts
   * import { listen, socket } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await socket().connect("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * console.log(server.remoteAddr.port === client.localAddr.port); // true
   * ```
   */
  async connect(host: string, port: number, options?: SocketConnectOptions): Promise<TcpStream> {
    const hostname = checkHost("connect", host, "host");
    checkPort("connect", port, "port", 1);
    const opts = validateOptions<SocketConnectOptions>("connect", options, CONNECT_RULES);
    if (hostname.includes(":") && this.#family === "inet") {
      throw invalidArgument(
        "connect",
        "host",
        'an IPv4 address or a name (the socket is "inet")',
        host,
      );
    }
    this.#check("connect");
    const label = hostPortLabel(hostname, port);
    checkNet("connect", hostname, port);
    using deadline = Deadline.of(opts, "connect", label);
    deadline?.check();
    this.#busy = true;
    try {
      const target = await this.#target(hostname, port, deadline, label);
      const sockaddr = encodeSockaddr(this.#n, target, port, this.#family === "inet6");
      if (this.#n.sym.connect(this.#fd, sockaddr, sockaddr.length) !== 0) {
        const errno = this.#n.errno();
        if (errno !== EINPROGRESS) {
          throw errnoError(this.#n, errno, "connect", "connect", label);
        }
        await this.#writable(deadline, label);
        const error = this.#soError();
        if (error !== 0) throw errnoError(this.#n, error, "connect", "connect", label);
      }
      const local = socketName(this.#n, this.#fd, false, "tcp")!;
      const peer = socketName(this.#n, this.#fd, true, "tcp");
      if (peer === null) {
        throw new NetError("connection_reset", "the connection was gone before it was used", {
          op: "connect",
          address: label,
        });
      }
      if (this.#closeAfter) throw closedError("connect", label);
      const stream = adoptTcpStream(this.#fd, local, peer, opts.noDelay ?? this.#noDelay ?? true);
      this.#handOver();
      return stream;
    } catch (error) {
      this.#busy = false;
      this.close();
      throw error instanceof NetError ? error : toNetError(error, "connect", label);
    } finally {
      this.#busy = false;
    }
  }

  async #target(
    hostname: string,
    port: number,
    deadline: Deadline | undefined,
    label: string,
  ): Promise<string> {
    const v6 = hostname.includes(":");
    if (v6 || /^\d+\.\d+\.\d+\.\d+$/.test(hostname)) return hostname;
    const lookup = resolve(hostname, { family: this.#family, port });
    const found = await (deadline === undefined ? lookup : deadline.wait(lookup));
    if (found.length === 0) {
      throw new NetError("name_not_resolved", `${hostname} has no ${this.#family} address`, {
        op: "connect",
        address: label,
      });
    }
    return found[0].address;
  }

  /** Waits on a runtime thread until the connect settles (the socket is writable). */
  async #writable(deadline: Deadline | undefined, label: string): Promise<void> {
    const waiter = this.#waiter = new Waiter("connect", "connect", label);
    try {
      const ready = waiter.wait(this.#fd, POLLOUT);
      await (deadline === undefined ? ready : deadline.wait(ready));
    } finally {
      this.#waiter = undefined;
      await waiter.close();
    }
    if (this.#closeAfter) throw closedError("connect", label);
  }

  #soError(): number {
    const value = new Uint8Array(4);
    const length = new Uint32Array([4]);
    const p = this.#n.platform;
    const got = this.#n.sym.getsockopt(
      this.#fd,
      p.SOL_SOCKET,
      p.SO.ERROR,
      value,
      new Uint8Array(length.buffer),
    );
    if (got !== 0) return this.#n.errno();
    return new DataView(value.buffer).getInt32(0, true);
  }

  /** The descriptor went to a listener or stream: this object lets go without closing it. */
  #handOver(): void {
    this.#closed = true;
    unhold();
  }

  /**
   * The socket's descriptor (XPIO `fileno`).
   *
   * @returns The descriptor number.
   * @throws {NetError} `closed`.
   *
   * @example
   * ```ts
   * import { socket } from "@netkit/netkit/tcp";
   *
   * await using sock = socket();
   * console.log(sock.fileno() > 2); // true
   * ```
   */
  fileno(): number {
    if (this.#closed) throw closedError("fileno", `tcp socket (fd ${this.#fd})`);
    return this.#fd;
  }

  /**
   * Closes the socket (its descriptor), unless `listen` or `connect` took
   * it. Harmless when already closed.
   *
   * @example
   * ```ts
   * import { socket } from "@netkit/netkit/tcp";
   *
   * const sock = socket();
   * sock.close();
   * console.log(sock.closed); // true
   * ```
   */
  close(): void {
    if (this.#busy) {
      // The connect in flight ends `closed` and closes the descriptor.
      this.#closeAfter = true;
      this.#waiter?.wake();
      return;
    }
    if (this.#closed) return;
    this.#closed = true;
    this.#n.sym.close(this.#fd);
    unhold();
  }

  /** Closes the socket (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }
}

/**
 * A new unbound TCP socket (XPIO `socket("TCP")`, sock `tcp()`): set
 * options, `bind`, then `listen` or `connect`. Needs `--allow-ffi` (the
 * socket is made with the C library, then handed to Deno's `node:net`).
 *
 * @param options `family`: `"inet"` (default) or `"inet6"`.
 * @returns The socket (non-blocking, close-on-exec).
 * @throws {NetError} `invalid_argument` (field `family`); `not_supported`
 *   without `--allow-ffi` (naming it); `resource_exhausted` (out of
 *   descriptors).
 *
 * @example
 * ```ts
 * import { socket } from "@netkit/netkit/tcp";
 *
 * await using sock = socket({ family: "inet" });
 * console.log(sock.family, sock.localAddr); // "inet" null
 * ```
 */
export function socket(options?: SocketOptions): TcpSocket {
  const opts = validateOptions<SocketOptions>("socket", options, SOCKET_RULES);
  const family = opts.family ?? "inet";
  const n = native("socket", "tcp.socket()");
  try {
    const p = n.platform;
    const fd = n.sym.socket(
      family === "inet6" ? p.AF_INET6 : p.AF_INET,
      p.SOCK_STREAM | p.SOCK_NONBLOCK | p.SOCK_CLOEXEC,
      0,
    );
    if (fd < 0) throw n.fail("socket", "socket");
    return new TcpSocket(n, fd, family);
  } finally {
    idle();
  }
}
