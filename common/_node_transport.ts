/**
 * Transports over descriptors that Deno's own APIs cannot take: a
 * `node:net` Socket made from a descriptor (`new net.Socket({ fd })`) as a
 * {@linkcode StreamTransport}, a `node:net` Server listening on one
 * (`listen({ fd })`) as an accept source, and a regular file or character
 * device read and written through the C library. The stream and listener
 * classes above them do not change: these are one more transport for the
 * single-flight core.
 *
 * @module
 */

import net from "node:net";
import { NetError } from "./errors.ts";
import type { StreamTransport } from "./stream.ts";
import type { AcceptSource } from "./listener.ts";
import { hold, idle, type Native, native, unhold } from "./_native/libc.ts";
import { cookieOf, identify, listDescriptors } from "./_native/fd.ts";
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
 * The descriptor under an accepted node socket. The runtime tells it only
 * as a duplicate (made to be sent elsewhere): that duplicate's socket cookie
 * finds the descriptor itself in the process's table, and is closed again.
 */
function acceptedFd(n: Native, socket: net.Socket): number | undefined {
  let copy: unknown;
  try {
    const handle = (socket as unknown as { _handle?: { fdForIpc?: () => unknown } })._handle;
    copy = handle?.fdForIpc?.();
  } catch {
    return undefined;
  }
  if (typeof copy !== "number" || copy < 0) return undefined;
  try {
    const cookie = cookieOf(n, copy);
    if (cookie === undefined) return undefined;
    const found = listDescriptors(n).filter((fd) => fd !== copy && cookieOf(n, fd) === cookie);
    return found.length === 1 ? found[0] : undefined;
  } finally {
    n.sym.close(copy);
  }
}

/**
 * A listening descriptor as the accept source of a netkit listener:
 * `net.createServer().listen({ fd })`. Connections the server accepts while
 * nobody waits are queued (paused: they read nothing until taken).
 */
export class NodeAcceptSource<C extends { close(): void }> implements AcceptSource<C> {
  readonly #server: net.Server;
  readonly #wrap: (transport: NodeStreamTransport) => C;
  readonly #queue: net.Socket[] = [];
  readonly #listening: Promise<void>;
  readonly addr: Deno.Addr;
  #waiting: { resolve: (conn: C) => void; reject: (error: unknown) => void } | null = null;
  #failure: unknown = null;
  #closed = false;
  #gone: Promise<void> | null = null;

  /**
   * @param fd The listening descriptor; the server owns it from now on.
   * @param addr Its address (getsockname).
   * @param wrap Makes the accepted connection from its transport.
   */
  constructor(fd: number, addr: Deno.Addr, wrap: (transport: NodeStreamTransport) => C) {
    this.addr = addr;
    this.#wrap = wrap;
    const server = this.#server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
    server.on("connection", (socket: net.Socket) => {
      if (this.#closed) {
        socket.destroy();
        return;
      }
      const waiting = this.#waiting;
      if (waiting === null) {
        this.#queue.push(socket);
        return;
      }
      this.#waiting = null;
      try {
        waiting.resolve(this.#make(socket));
      } catch (error) {
        waiting.reject(error);
      }
    });
    server.on("error", (error: unknown) => {
      const waiting = this.#waiting;
      if (waiting === null) this.#failure ??= error;
      else {
        this.#waiting = null;
        waiting.reject(error);
      }
    });
    hold();
    this.#listening = new Promise<void>((resolve) => {
      server.once("close", resolve);
      server.once("error", () => resolve());
      server.listen({ fd }, () => resolve());
    });
  }

  #make(socket: net.Socket): C {
    let localAddr: Deno.Addr | null;
    let remoteAddr: Deno.Addr | null;
    if (this.addr.transport === "unix") {
      // A unix peer is unnamed unless it bound a name; node does not say.
      localAddr = this.addr;
      remoteAddr = { transport: "unix", path: "" };
    } else {
      localAddr = {
        transport: "tcp",
        hostname: socket.localAddress ?? "",
        port: socket.localPort ?? 0,
      };
      remoteAddr = {
        transport: "tcp",
        hostname: socket.remoteAddress ?? "",
        port: socket.remotePort ?? 0,
      };
    }
    const transport = new NodeStreamTransport(socket, {
      localAddr,
      remoteAddr,
      descriptor: () => acceptedFd(native("fileno", "fileno"), socket),
    });
    return this.#wrap(transport);
  }

  async accept(): Promise<C> {
    await this.#listening;
    if (this.#closed) {
      throw Object.assign(new Error("the listener is closed"), { name: "BadResource" });
    }
    const queued = this.#queue.shift();
    if (queued !== undefined) return this.#make(queued);
    if (this.#failure !== null) {
      const failure = this.#failure;
      this.#failure = null;
      throw failure;
    }
    return new Promise<C>((resolve, reject) => {
      this.#waiting = { resolve, reject };
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const socket of this.#queue.splice(0)) socket.destroy();
    this.#gone = new Promise<void>((resolve) => {
      // The server's own close callback waits for every accepted connection;
      // the listening descriptor itself goes at once.
      this.#server.close();
      queueMicrotask(resolve);
    }).then(() => {
      const waiting = this.#waiting;
      this.#waiting = null;
      waiting?.reject(Object.assign(new Error("the listener is closed"), { name: "BadResource" }));
      unhold();
    });
  }

  /** Resolves once the listening descriptor is let go. */
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
