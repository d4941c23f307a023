/**
 * Transports over descriptors that Deno's own APIs cannot take: a
 * `node:net` Socket made from a descriptor (`new net.Socket({ fd })`) as a
 * {@linkcode StreamTransport}, a listening descriptor as an accept source
 * (one `accept4` per accept, each connection then over `node:net`), and a
 * regular file or character device read and written through the C library.
 * The stream and listener classes above them do not change: these are one
 * more transport for the single-flight core.
 *
 * @module
 */

import net from "node:net";
import { NetError } from "./errors.ts";
import type { StreamTransport } from "./stream.ts";
import type { AcceptSource } from "./listener.ts";
import { hold, idle, type Native, native, unhold } from "./_native/libc.ts";
import { identify } from "./_native/fd.ts";
import { decodeSockaddr, setNonBlocking, socketName } from "./_native/descriptor.ts";
import { describeAddress } from "./_address.ts";
import { runtimeSocket } from "./_native/socket.ts";
import { POLLIN, POLLOUT, Waiter } from "./_native/wait.ts";

type Settle = {
  resolve: (n: number | null) => void;
  reject: (error: unknown) => void;
  buffer: Uint8Array;
};

function oneWay(op: string, label: string | undefined): NetError {
  return new NetError(
    "not_supported",
    `this descriptor is open for ${op === "read" ? "writing" : "reading"} only`,
    { op, address: label },
  );
}

/**
 * A `node:net` Socket as a stream transport: kept paused, it is resumed only
 * while a read is waiting (one read in flight, as the core asks), so the
 * kernel's buffer is the queue. Also has the calls `TcpStream` makes on a
 * `Deno.TcpConn` (`setNoDelay`, `setKeepAlive`) and the addresses.
 */
export class NodeStreamTransport implements StreamTransport {
  readonly #socket: net.Socket;
  readonly localAddr: Deno.Addr | null;
  readonly remoteAddr: Deno.Addr | null;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #label: string | undefined;
  #chunk: Uint8Array | null = null;
  #ended = false;
  #error: unknown = null;
  #closed = false;
  #waiting: Settle | null = null;
  #finished: Promise<void> | null = null;
  #gone: Promise<void>;
  #descriptor: (() => number | undefined) | undefined;
  #owner: object | undefined;

  /**
   * @param socket The node socket (made with `allowHalfOpen: true`).
   * @param init Addresses, directions and the label errors name.
   */
  constructor(
    socket: net.Socket,
    init: {
      localAddr: Deno.Addr | null;
      remoteAddr: Deno.Addr | null;
      readable?: boolean;
      writable?: boolean;
      label?: string;
      descriptor?: () => number | undefined;
    },
  ) {
    this.#socket = socket;
    this.localAddr = init.localAddr;
    this.remoteAddr = init.remoteAddr;
    this.#readable = init.readable ?? true;
    this.#writable = init.writable ?? true;
    this.#label = init.label;
    this.#descriptor = init.descriptor;
    this.#gone = new Promise((resolve) => socket.once("close", () => resolve()));
    socket.on("data", (chunk: Uint8Array) => {
      socket.pause();
      this.#chunk = this.#chunk === null ? chunk : concat(this.#chunk, chunk);
      this.#deliver();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#deliver();
    });
    socket.on("error", (error: unknown) => {
      this.#error ??= error;
      this.#deliver();
    });
    socket.on("close", () => {
      this.#ended = true;
      this.#deliver();
    });
    socket.pause();
  }

  /** Settles the waiting read from what landed. */
  #deliver(): void {
    const waiting = this.#waiting;
    if (waiting === null) return;
    const { buffer } = waiting;
    if (this.#chunk !== null) {
      this.#waiting = null;
      waiting.resolve(this.#take(buffer));
    } else if (this.#error !== null) {
      this.#waiting = null;
      waiting.reject(this.#error);
    } else if (this.#ended) {
      this.#waiting = null;
      waiting.resolve(null);
    }
  }

  #take(buffer: Uint8Array): number {
    const chunk = this.#chunk!;
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
    this.#chunk = n === chunk.length ? null : chunk.subarray(n);
    return n;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (!this.#readable) return Promise.reject(oneWay("read", this.#label));
    if (this.#chunk !== null) return Promise.resolve(this.#take(buffer));
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended || this.#closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject, buffer };
      this.#socket.resume();
    });
  }

  write(data: Uint8Array): Promise<number> {
    if (!this.#writable) return Promise.reject(oneWay("write", this.#label));
    if (this.#error !== null) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (error) => {
        if (error) reject(this.#error ?? error);
        else resolve(data.length);
      });
    });
  }

  closeWrite(): Promise<void> {
    if (!this.#writable) return Promise.resolve();
    return this.#finished ??= new Promise((resolve) => {
      const done = () => resolve();
      this.#socket.once("finish", done);
      this.#socket.once("close", done);
      this.#socket.end();
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.destroy();
    this.#deliver();
  }

  /**
   * The object the native layer knows this socket by: the addresses (a unix
   * stream's own name left out, so asking never starts watching a listener
   * of that name), with the descriptor already identified when it is known.
   * Made when the native layer first asks (its first `fileno()` or option).
   */
  [runtimeSocket](): object {
    if (this.#owner !== undefined) return this.#owner;
    const unix = this.localAddr?.transport === "unix";
    const owner = this.#owner = {
      localAddr: unix ? { transport: "unix", path: "" } : this.localAddr,
      remoteAddr: this.remoteAddr,
    };
    const descriptor = this.#descriptor;
    this.#descriptor = undefined;
    if (descriptor !== undefined && !this.#closed) {
      try {
        const n = native("fileno", "fileno");
        const fd = descriptor();
        if (fd !== undefined) identify(n, owner, fd);
      } catch {
        // Without the native layer the call that asked reports it.
      } finally {
        idle();
      }
    }
    return owner;
  }

  /** Resolves once the node socket (and so its descriptor) is closed. */
  get gone(): Promise<void> {
    return this.#gone;
  }

  /** Nagle off or on (TCP_NODELAY), as `Deno.TcpConn.setNoDelay`. */
  setNoDelay(noDelay = true): void {
    this.#socket.setNoDelay(noDelay);
  }

  /** Keep-alive probes (SO_KEEPALIVE), as `Deno.TcpConn.setKeepAlive`. */
  setKeepAlive(keepAlive = true): void {
    this.#socket.setKeepAlive(keepAlive);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Adopts a connected stream socket (or a pipe end): `new net.Socket({ fd })`.
 * The node socket owns the descriptor from now on (its close closes it).
 *
 * @param fd The descriptor.
 * @param init Addresses, directions and label.
 */
export function adoptStream(
  fd: number,
  init: {
    localAddr: Deno.Addr | null;
    remoteAddr: Deno.Addr | null;
    readable?: boolean;
    writable?: boolean;
    label?: string;
  },
): NodeStreamTransport {
  const socket = new net.Socket({
    fd,
    readable: init.readable ?? true,
    writable: init.writable ?? true,
    allowHalfOpen: true,
  });
  return new NodeStreamTransport(socket, { ...init, descriptor: () => fd });
}

/**
 * A listening descriptor as the accept source of a netkit listener, through
 * the C library: each `accept()` takes exactly one connection (`accept4` on
 * the non-blocking descriptor, waiting for readiness on a runtime thread
 * when none is queued), which then runs over `node:net`. Taking one per call
 * is what lets several listeners on duplicates of one socket (Workers, or
 * processes after a fork) share the connections: an accept loop that
 * drains the queue whenever it wakes would leave the others idle.
 */
export class AdoptedAcceptSource implements AcceptSource<NodeStreamTransport> {
  readonly #n: Native;
  readonly #fd: number;
  readonly #waiter: Waiter;
  readonly #peer = new Uint8Array(128);
  readonly #peerLength = new Uint8Array(4);
  readonly #peerLengthView = new DataView(this.#peerLength.buffer);
  readonly #transport: "tcp" | "unix";
  readonly addr: Deno.Addr;
  #closed = false;
  #gone: Promise<void> | null = null;

  /**
   * @param n The opened library (held until the descriptor is closed).
   * @param fd The listening descriptor; owned from now on (made non-blocking,
   *   which its duplicates share: every user of a listening socket here is).
   * @param addr Its address (getsockname).
   */
  constructor(n: Native, fd: number, addr: Deno.Addr) {
    this.#n = n;
    this.#fd = fd;
    this.addr = addr;
    this.#transport = addr.transport === "unix" ? "unix" : "tcp";
    setNonBlocking(n, fd, "accept", describeAddress(addr));
    this.#waiter = new Waiter("accept", "accepting on an adopted listener", describeAddress(addr));
    hold();
  }

  async accept(): Promise<NodeStreamTransport> {
    const n = this.#n;
    const lengthView = this.#peerLengthView;
    for (;;) {
      if (this.#closed) {
        await this.#gone;
        throw Object.assign(new Error("the listener is closed"), { name: "BadResource" });
      }
      lengthView.setUint32(0, this.#peer.length, true);
      const fd = n.sym.accept4(
        this.#fd,
        this.#peer,
        this.#peerLength,
        n.platform.SOCK_CLOEXEC | n.platform.SOCK_NONBLOCK,
      );
      if (fd >= 0) return this.#make(fd, lengthView.getUint32(0, true));
      const errno = n.errnoName(n.errno());
      if (errno === "EAGAIN") {
        await this.#waiter.wait(this.#fd, POLLIN);
      } else if (errno !== "EINTR" && errno !== "ECONNABORTED") {
        throw n.fail("accept4", "accept", describeAddress(this.addr));
      }
    }
  }

  #make(fd: number, peerLength: number): NodeStreamTransport {
    const n = this.#n;
    const remoteAddr = decodeSockaddr(n, this.#peer, Math.min(peerLength, 128), this.#transport) ??
      (this.#transport === "unix" ? { transport: "unix", path: "" } : null);
    const localAddr = socketName(n, fd, false, this.#transport) ?? this.addr;
    try {
      return adoptStream(fd, { localAddr, remoteAddr });
    } catch (error) {
      n.sym.close(fd);
      throw error;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#gone = this.#waiter.close().then(() => {
      this.#n.sym.close(this.#fd);
      unhold();
    });
  }

  /** Resolves once the listening descriptor is closed. */
  get gone(): Promise<void> {
    return this.#gone ?? Promise.resolve();
  }
}

/**
 * A regular file, block or character device read and written through the C
 * library on its descriptor (offsets shared with whoever else holds it, as
 * C's `fdopen`). Reads and writes of a character device first wait on a
 * runtime thread until the device is ready, so a terminal never blocks the
 * program; a regular file is always ready.
 */
export class FileTransport implements StreamTransport {
  readonly #n: Native;
  readonly #fd: number;
  readonly #device: boolean;
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #label: string;
  #waiter: Waiter | undefined;
  #closed = false;

  /**
   * @param n The opened library (held until close).
   * @param fd The descriptor, owned from now on.
   * @param init Whether it is a character device and its directions.
   */
  constructor(
    n: Native,
    fd: number,
    init: { device: boolean; readable: boolean; writable: boolean },
  ) {
    this.#n = n;
    this.#fd = fd;
    this.#device = init.device;
    this.#readable = init.readable;
    this.#writable = init.writable;
    this.#label = `fd ${fd}`;
    hold();
  }

  /** The descriptor. */
  get fd(): number {
    return this.#fd;
  }

  async #ready(events: number): Promise<void> {
    if (!this.#device) return;
    const waiter = this.#waiter ??= new Waiter("read", "a device descriptor", this.#label);
    await waiter.wait(this.#fd, events);
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    if (!this.#readable) throw oneWay("read", this.#label);
    for (;;) {
      await this.#ready(POLLIN);
      if (this.#closed) return null;
      const got = Number(this.#n.sym.read(this.#fd, buffer, BigInt(buffer.length)));
      if (got > 0) return got;
      if (got === 0) return null;
      const errno = this.#n.errnoName(this.#n.errno());
      if (errno !== "EAGAIN" && errno !== "EINTR") throw this.#n.fail("read", "read", this.#label);
      if (!this.#device) await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  async write(data: Uint8Array): Promise<number> {
    if (!this.#writable) throw oneWay("write", this.#label);
    for (;;) {
      await this.#ready(POLLOUT);
      if (this.#closed) throw Object.assign(new Error("closed"), { name: "BadResource" });
      const put = Number(this.#n.sym.write(this.#fd, data, BigInt(data.length)));
      if (put >= 0) return put;
      const errno = this.#n.errnoName(this.#n.errno());
      if (errno !== "EAGAIN" && errno !== "EINTR") {
        throw this.#n.fail("write", "write", this.#label);
      }
    }
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const done = () => {
      this.#n.sym.close(this.#fd);
      unhold();
    };
    if (this.#waiter === undefined) done();
    else this.#waiter.close().then(done);
  }
}
