/**
 * Datagram I/O on a descriptor netkit owns, without the runtime's reactor:
 * the engine under raw sockets, ping sockets and the unix datagram sockets
 * Deno cannot make (unbound, connected), usable by anything that adopts a
 * datagram descriptor.
 *
 * A receive first tries a non-blocking `recvfrom` on this thread; only when
 * nothing is queued (EAGAIN) does it wait for readability with a
 * {@linkcode Waiter} (`poll` on a runtime thread, woken at once by close),
 * then tries again. A send is a non-blocking `sendto`, waiting for
 * writability the same way when the kernel's queue is full. Close wakes
 * both waits and closes the descriptor only once they returned, so the
 * number is never reused under a pending `poll`, and lets go of the C
 * library.
 *
 * @module
 */

import { closedError } from "../_errors.ts";
import type { NetError } from "../errors.ts";
import { decodeSockaddr } from "./descriptor.ts";
import { hold, type Native, native, unhold } from "./libc.ts";
import { POLLIN, POLLOUT, Waiter } from "./wait.ts";

/** `socket(2)` type flags: every descriptor the engine makes is non-blocking and close-on-exec. */
export const SOCK_NONBLOCK = 0o4000;
/** Close-on-exec, so a spawned child never inherits it by accident. */
export const SOCK_CLOEXEC = 0o2000000;
/** `recvfrom`/`sendto` flags. */
const MSG_PEEK = 0x2;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** `sockaddr_storage`: room for every address family. */
const SOCKADDR_SIZE = 128;
/** The longest backoff between tries while a full unconnected unix peer gives no writability. */
const MAX_BACKOFF_MS = 50;

/** The address families the engine encodes and decodes. */
export type EngineFamily = "inet" | "inet6" | "unix";

const encoder = new TextEncoder();

/**
 * A unix `sockaddr`: a file path, an abstract name (`"\0name"`), or, for
 * `""`, the bare family (an unnamed address: bind with it autobinds).
 *
 * @param n The opened library.
 * @param path The path, already checked (at most 107 bytes).
 */
export function unixAddress(n: Native, path: string): Uint8Array {
  const bytes = encoder.encode(path);
  const abstract = bytes[0] === 0;
  // A file path carries its NUL; an abstract name is exactly its bytes.
  const out = new Uint8Array(2 + bytes.length + (abstract || bytes.length === 0 ? 0 : 1));
  new DataView(out.buffer).setUint16(0, n.platform.AF_UNIX, true);
  out.set(bytes, 2);
  return out;
}

/** What an unnamed unix sender (or a family netkit has no address for) is reported as. */
function unnamed(): Deno.Addr {
  return { transport: "unixpacket", path: null as unknown as string };
}

/**
 * Decodes a `sockaddr` the kernel filled in ({@linkcode decodeSockaddr}, the
 * one decoder, with datagram names). Unix addresses come back as
 * `{ transport: "unixpacket", path }` (`path` `null` for an unnamed
 * sender, `"\0name"` for an abstract one), IP ones as
 * `{ transport: "udp", hostname, port }`.
 *
 * @param n The opened library.
 * @param address The buffer.
 * @param length The length the kernel reported.
 */
export function decodeAddress(n: Native, address: Uint8Array, length: number): Deno.Addr {
  if (length <= 2) return unnamed();
  const unix = (address[0] | (address[1] << 8)) === n.platform.AF_UNIX;
  return decodeSockaddr(n, address, length, unix ? "unixpacket" : "udp") ?? unnamed();
}

/**
 * Makes a socket with `socket(2)` (non-blocking, close-on-exec) and hands
 * it to a new engine, which owns it.
 *
 * @param op The netkit operation errors name.
 * @param what What needs it, for the `not_supported` message.
 * @param family The address family.
 * @param type `"dgram"` (SOCK_DGRAM) or `"raw"` (SOCK_RAW).
 * @param protocol The protocol number (0: the family's default).
 * @param label The address errors name.
 * @throws {NetError} `not_supported` without `--allow-ffi`; the mapped
 *   errno of `socket(2)` (EPERM/EACCES → `access_denied`…).
 */
export function openDatagram(
  op: string,
  what: string,
  family: EngineFamily,
  type: "dgram" | "raw",
  protocol: number,
  label?: string,
): DatagramEngine {
  const n = native(op, what, label);
  const p = n.platform;
  const domain = family === "inet" ? p.AF_INET : family === "inet6" ? p.AF_INET6 : p.AF_UNIX;
  const kind = type === "raw" ? p.SOCK_RAW : p.SOCK_DGRAM;
  hold();
  try {
    const fd = n.sym.socket(domain, kind | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol | 0);
    if (fd < 0) throw n.fail("socket", op, label);
    return new DatagramEngine(fd, family, op, label);
  } finally {
    unhold();
  }
}

/**
 * One datagram descriptor's I/O: receive, send, peek and close. The
 * engine owns the descriptor: it closes it (and nothing else may).
 * At most one receive and one send wait at a time (callers keep one
 * receive in flight; concurrent sends queue behind a waiting one).
 *
 * @example
 * ```ts ignore
 * const engine = openDatagram("bind", "a unix datagram socket", "unix", "dgram", 0);
 * engine.bind(unixAddress(engine.n, "\0example"), "bind");
 * await engine.send(new Uint8Array([1]), unixAddress(engine.n, "\0example"), "sendTo");
 * const [data, from] = await engine.receive(new Uint8Array(100));
 * await engine.close();
 * ```
 */
export class DatagramEngine {
  /** The opened library (held until close settled). */
  readonly n: Native;
  /** The descriptor (valid until close). */
  readonly fd: number;
  /** The address family, for decoding. */
  readonly family: EngineFamily;
  readonly #op: string;
  #label: string | undefined;
  readonly #from = new Uint8Array(SOCKADDR_SIZE);
  readonly #fromLength = new Uint8Array(4);
  readonly #fromView = new DataView(this.#fromLength.buffer);
  #receiver: Waiter | undefined;
  #sender: Waiter | undefined;
  #sendWait: Promise<number> | null = null;
  #closing: Promise<void> | null = null;

  /**
   * Takes ownership of `fd` (non-blocking): from now on the engine closes
   * it. Holds the C library until {@linkcode close} settled.
   *
   * @param fd A datagram or raw socket, opened with `SOCK_NONBLOCK`.
   * @param family Its address family.
   * @param op The operation errors name when the library is missing.
   * @param label The address errors name.
   */
  constructor(fd: number, family: EngineFamily, op: string, label?: string) {
    this.n = native(op, "datagram I/O", label);
    hold();
    this.fd = fd;
    this.family = family;
    this.#op = op;
    this.#label = label;
  }

  /** True once {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closing !== null;
  }

  /** The address errors name (set once the socket is bound or connected). */
  set label(label: string | undefined) {
    this.#label = label;
  }

  /** The failure of the call just made, as a `NetError`. */
  fail(call: string, op: string, address: string | undefined = this.#label): NetError {
    return this.n.fail(call, op, address);
  }

  /**
   * `bind(2)`.
   *
   * @param address An encoded `sockaddr`.
   * @param op The netkit operation.
   */
  bind(address: Uint8Array, op: string): void {
    if (this.closed) throw closedError(op, this.#label);
    if (this.n.sym.bind(this.fd, address, address.length) !== 0) throw this.fail("bind", op);
  }

  /**
   * `connect(2)` (datagram: sets the default peer and the kernel's filter;
   * immediate, never EINPROGRESS).
   *
   * @param address An encoded `sockaddr`.
   * @param op The netkit operation.
   * @param label The address errors name.
   */
  connect(address: Uint8Array, op: string, label: string | undefined = this.#label): void {
    if (this.closed) throw closedError(op, this.#label);
    if (this.n.sym.connect(this.fd, address, address.length) !== 0) {
      throw this.fail("connect", op, label);
    }
  }

  /** The socket's own address (`getsockname`). */
  localAddress(): Deno.Addr {
    this.#fromView.setUint32(0, SOCKADDR_SIZE, true);
    if (this.n.sym.getsockname(this.fd, this.#from, this.#fromLength) !== 0) {
      throw this.fail("getsockname", "addr");
    }
    return decodeAddress(this.n, this.#from, this.#fromView.getUint32(0, true));
  }

  /**
   * Receives one datagram into `buffer`: at once when one is queued,
   * otherwise once one arrives. The kernel's pending error (an ICMP error
   * on a connected socket, a refused unix peer) rejects it.
   *
   * @param buffer Where the datagram goes; a longer one is cut (the rest is lost).
   * @returns A view of `buffer` with the datagram and its sender.
   * @throws {NetError} `closed` once {@linkcode close} was called (also
   *   while waiting); the mapped errno otherwise.
   */
  async receive(buffer: Uint8Array): Promise<[Uint8Array, Deno.Addr]> {
    for (;;) {
      const got = this.#try(buffer, MSG_DONTWAIT, "receive");
      if (got !== undefined) return got;
      this.#receiver ??= new Waiter("receive", "datagram I/O", this.#label);
      await this.#receiver.wait(this.fd, POLLIN);
      if (this.closed) {
        await this.#closing;
        throw closedError("receive", this.#label);
      }
    }
  }

  /**
   * The next datagram without consuming it (MSG_PEEK), or `undefined` when
   * none is queued; never waits, and does not disturb a receive in flight.
   *
   * @param buffer Where a copy of it goes.
   */
  peek(buffer: Uint8Array): [Uint8Array, Deno.Addr] | undefined {
    return this.#try(buffer, MSG_PEEK | MSG_DONTWAIT, "receive");
  }

  #try(buffer: Uint8Array, flags: number, op: string): [Uint8Array, Deno.Addr] | undefined {
    for (;;) {
      if (this.closed) throw closedError(op, this.#label);
      this.#fromView.setUint32(0, SOCKADDR_SIZE, true);
      const got = Number(
        this.n.sym.recvfrom(
          this.fd,
          buffer,
          BigInt(buffer.length),
          flags,
          this.#from,
          this.#fromLength,
        ),
      );
      if (got >= 0) {
        const from = decodeAddress(this.n, this.#from, this.#fromView.getUint32(0, true));
        return [buffer.subarray(0, Math.min(got, buffer.length)), from];
      }
      const errno = this.n.errnoName(this.n.errno());
      if (errno === "EAGAIN") return undefined;
      if (errno !== "EINTR") throw this.fail("recvfrom", op);
    }
  }

  /**
   * Sends one datagram: to `to`, or to the connected peer when `to` is
   * `null`. Waits while the kernel's queue is full.
   *
   * @param data The datagram.
   * @param to An encoded `sockaddr`, or `null`.
   * @param op The netkit operation.
   * @param label The address errors name.
   * @returns The bytes sent.
   * @throws {NetError} `closed`, or the mapped errno (`not_found`,
   *   `connection_refused`, `host_unreachable`, `invalid_argument` for a
   *   datagram over the limit…).
   */
  async send(
    data: Uint8Array,
    to: Uint8Array | null,
    op: string,
    label: string | undefined = this.#label,
  ): Promise<number> {
    const sym = this.n.sym;
    for (let backoff = 0;;) {
      if (this.closed) throw closedError(op, label);
      const sent = Number(
        sym.sendto(
          this.fd,
          data,
          BigInt(data.length),
          MSG_DONTWAIT | MSG_NOSIGNAL,
          to,
          to === null ? 0 : to.length,
        ),
      );
      if (sent >= 0) return sent;
      const errno = this.n.errnoName(this.n.errno());
      if (errno === "EINTR") continue;
      if (errno !== "EAGAIN" && errno !== "ENOBUFS") throw this.fail("sendto", op, label);
      if (this.#sendWait !== null) {
        // Another send waits already: wait behind it, then try again.
        await this.#sendWait;
        continue;
      }
      this.#sender ??= new Waiter(op, "datagram I/O", label);
      // An unconnected unix socket reports writability even when its peer's
      // queue is full: after a try that failed right after a wake, back off.
      const waiting = backoff === 0
        ? this.#sender.wait(this.fd, POLLOUT)
        : this.#sender.wait(this.fd, 0, backoff);
      this.#sendWait = waiting;
      try {
        await waiting;
      } finally {
        this.#sendWait = null;
      }
      backoff = Math.min(MAX_BACKOFF_MS, Math.max(1, backoff * 2));
      if (this.closed) {
        await this.#closing;
        throw closedError(op, label);
      }
    }
  }

  /**
   * Wakes any wait in flight (a pending receive or send then rejects
   * `closed`), and once they returned closes the descriptor and lets go of
   * the C library. With nothing waiting this happens at once. Calling it
   * again returns the same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    const waiters = [this.#receiver, this.#sender].filter((w): w is Waiter => w !== undefined);
    const finish = () => {
      this.n.sym.close(this.fd);
      unhold();
    };
    if (waiters.every((waiter) => !waiter.waiting)) {
      // Nothing in flight: everything goes now, synchronously.
      for (const waiter of waiters) void waiter.close();
      finish();
      this.#closing = Promise.resolve();
    } else {
      this.#closing = Promise.all(waiters.map((waiter) => waiter.close())).then(finish);
    }
    return this.#closing;
  }
}
