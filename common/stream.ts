/**
 * The byte stream shared by `UnixStream`, `TcpStream`, process pipes and
 * socket pairs: reads with deadlines that lose no data, buffered framing,
 * exact half-close, sticky resets and web streams that keep half-close.
 *
 * @module
 */

import { describeAddress } from "./_address.ts";
import { toBytes } from "./_bytes.ts";
import { Deadline } from "./_deadline.ts";
import { SingleFlight } from "./_single_flight.ts";
import type { DeadlineOptions } from "./deadline.ts";
import { closedError, toNetError } from "./_errors.ts";
import { NetError } from "./errors.ts";
import { Lock } from "./_lock.ts";
import { registerStreamInternals } from "./_stream_internals.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "./_options.ts";
import type { Schema } from "./_options.ts";
import { type Pollable, pollable } from "./readiness.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "./native.ts";
import { NativeSocket } from "./_native/socket.ts";
import { abortOf, closingOf, filenoOf, getOptionOf, setOptionOf } from "./_native/ops.ts";

/**
 * What a {@linkcode Stream} runs over: a `Deno.Conn`, or anything with the
 * same reading, writing and closing calls (a process pipe).
 */
export interface StreamTransport {
  /** Reads into `buffer`; `null` at end of stream. */
  read(buffer: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; resolves to how much. */
  write(data: Uint8Array): Promise<number>;
  /** Sends end-of-stream to the peer and keeps reading. */
  closeWrite(): Promise<void>;
  /** Drops both directions. */
  close(): void;
  /**
   * What a failed read or write reports instead of `error`, when the
   * transport knows better (a TLS alert after the handshake is a failed
   * handshake). Asked only on failure, so success costs nothing.
   */
  failure?(error: unknown, op: string): unknown;
}

/** Addresses and naming a transport's owner gives its stream. */
export interface StreamInit {
  /** The local address (`null` where there is none, as for pipes). */
  localAddr?: Deno.Addr | null;
  /** The peer's address. */
  remoteAddr?: Deno.Addr | null;
  /** How errors name this stream when it has no address (e.g. `"pipe"`). */
  label?: string;
}

/** Options of {@linkcode Stream.readLine} and {@linkcode Stream.readUntil}. */
export interface ReadLineOptions extends DeadlineOptions {
  /** Longest accepted line, in bytes, without its delimiter (default 64 KiB). */
  maxBytes?: number;
}

/** Which direction {@linkcode Stream.shutdown} closes. */
export type ShutdownHow = "r" | "w" | "rw";

/** Largest chunk that iteration and the web stream hand out per read. */
const BUFFER_SIZE = 64 * 1024;
/** The pump buffer's ceiling: a busy stream fetches up to this much per runtime read. */
const MAX_BUFFER = 256 * 1024;
/**
 * The pump buffer starts small (a short-lived connection that reads a few
 * bytes should not pay for 64 KiB) and doubles each time a read fills it.
 */
const INITIAL_BUFFER = 4 * 1024;
const MIN_SPACE = 16 * 1024;
const DEFAULT_MAX_LINE = 64 * 1024;
const EMPTY = new Uint8Array(0);
const NO_INIT: StreamInit = Object.freeze({});
const NEWLINE = new Uint8Array([10]);
const decoder = new TextDecoder();

/** A line's text: the record without a trailing `"\r"`, decoded as UTF-8. */
function lineText(record: Uint8Array): string {
  const end = record.length > 0 && record[record.length - 1] === 13
    ? record.length - 1
    : record.length;
  return decoder.decode(record.subarray(0, end));
}

/**
 * Pump buffers of the initial size that were never handed out (no view of
 * them exists) and have no runtime read pending are recycled when their
 * stream closes or grows: a short connection then costs no fresh
 * ArrayBuffer (whose first touch page-faults). Their old bytes are never
 * exposed: reads hand out only what the runtime wrote after `#end`.
 */
const spare: Uint8Array[] = [];
const SPARE_LIMIT = 64;

/** A buffer of `size` bytes, recycled when it is the initial size. */
function allocate(size: number): Uint8Array {
  return size === INITIAL_BUFFER && spare.length > 0 ? spare.pop()! : new Uint8Array(size);
}

/** Keeps `buffer` for reuse; the caller guarantees no view or read of it is alive. */
function recycle(buffer: Uint8Array): void {
  if (buffer.length === INITIAL_BUFFER && spare.length < SPARE_LIMIT) spare.push(buffer);
}

const LINE_RULES: Schema = {
  ...DEADLINE_RULES,
  maxBytes: { type: "integer", min: 1 },
};

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from: number, to: number): number {
  const first = needle[0];
  const last = to - needle.length;
  for (
    let i = haystack.indexOf(first, from);
    i !== -1 && i <= last;
    i = haystack.indexOf(first, i + 1)
  ) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/**
 * A bidirectional byte stream (the `Stream` of netkit's contract), shared by
 * unix, tcp and process pipes.
 *
 * Reads come from the socket only when asked: one read at a time is
 * outstanding, into an internal buffer, so a read that times out or is
 * aborted consumes nothing — the bytes that arrive later go to the next read.
 * Framing (`readExact`, `readLine`) is served from that buffer without a
 * round trip to the runtime when the bytes are already there.
 *
 * The bytes the read calls return are views into that buffer, not copies:
 * netkit never writes to them again, but their `byteOffset` may be non-zero
 * and their `buffer` larger than them (as with Node's pooled Buffers), so
 * use `new DataView(b.buffer, b.byteOffset, b.byteLength)`, and do not
 * transfer (detach) `b.buffer`.
 *
 * @example Echo over a TCP connection
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = await listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port);
 * await using server = await listener.accept();
 * await client.writeAll("ping\n");
 * console.log(await server.readLine()); // "ping"
 * ```
 */
export class Stream implements AsyncIterable<Uint8Array>, AsyncDisposable {
  #transport: StreamTransport;
  #localAddr: Deno.Addr | null;
  #remoteAddr: Deno.Addr | null;
  #labelText: string | undefined | null;
  #buffer: Uint8Array = EMPTY;
  #bufferSize = INITIAL_BUFFER;
  #start = 0;
  /** True once bytes of `#buffer` were handed out as views. */
  #shared = false;
  #end = 0;
  /** The one runtime read in flight (made at the first read: a stream that never reads pays nothing). */
  #flight: SingleFlight<number | null> | undefined;
  #eof = false;
  #failure: NetError | null = null;
  #closed = false;
  #readShut = false;
  #writeShut = false;
  #readLock = new Lock();
  #writeLock = new Lock();
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  static {
    // Internal hooks for startTls (see _stream_internals.ts); no public surface.
    registerStreamInternals({
      reading: (stream) => stream.#reading,
      holdWrites: async (stream, deadline) => {
        const lock = stream.#writeLock;
        await lock.acquire(deadline);
        return () => lock.release();
      },
      detach: (stream) => stream.#detach(),
    });
  }

  /** Closes this stream without closing its transport, which the caller takes over. */
  #detach(): StreamTransport {
    this.#closed = true;
    this.#start = this.#end = 0;
    this.#buffer = EMPTY;
    // The descriptor goes with the transport: whoever takes it finds it again.
    this.#native?.forget();
    return this.#transport;
  }

  /**
   * Wraps a transport. netkit's `connect`/`accept`/`socketpair` make streams;
   * user code rarely calls this.
   *
   * @param transport A `Deno.Conn` or another {@linkcode StreamTransport}.
   * @param init Addresses and a label for messages.
   */
  constructor(transport: StreamTransport, init: StreamInit = NO_INIT) {
    this.#transport = transport;
    const conn = transport as Partial<Deno.Conn>;
    this.#localAddr = init.localAddr !== undefined ? init.localAddr : (conn.localAddr ?? null);
    this.#remoteAddr = init.remoteAddr !== undefined ? init.remoteAddr : (conn.remoteAddr ?? null);
    this.#labelText = init.label ?? null;
  }

  /** How errors name this stream: its label, else the peer's or own address (computed once, lazily). */
  get #label(): string | undefined {
    if (this.#labelText === null) {
      this.#labelText = describeAddress(this.#remoteAddr) ?? describeAddress(this.#localAddr);
    }
    return this.#labelText;
  }

  /** The local address (a unix stream's is its path, or `null` when unbound). */
  get localAddr(): Deno.Addr | null {
    return this.#localAddr;
  }

  /** The peer's address. */
  get remoteAddr(): Deno.Addr | null {
    return this.#remoteAddr;
  }

  /** True once `close()` was called (a snapshot, like Ward's `stream.closed`). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes already received and buffered: reads of up to this many do not wait. */
  get buffered(): number {
    return this.#end - this.#start;
  }

  // --- reading -------------------------------------------------------------

  /**
   * The start of every waiting call: refuses a closed stream, reads the
   * options once and fixes the call's one deadline (or throws it when it
   * has already passed, before anything is consumed).
   */
  #begin(op: string, options: DeadlineOptions | undefined): Deadline | undefined {
    if (this.#closed) throw closedError(op, this.#label);
    if (options === undefined || options === null) return undefined;
    return this.#deadline(op, validateOptions<DeadlineOptions>(op, options, DEADLINE_RULES));
  }

  /** The call's deadline from options already read; throws it when it has passed. */
  #deadline(op: string, options: DeadlineOptions): Deadline | undefined {
    const deadline = Deadline.of(options, op, this.#label);
    deadline?.check();
    return deadline;
  }

  #fail(error: unknown, op: string): NetError {
    if (this.#closed) return closedError(op, this.#label);
    const failure = this.#toNetError(error, op);
    if (failure.code === "connection_reset") this.#failure = failure;
    return failure;
  }

  /** A transport's failure as a `NetError`, as the transport reads it (see `StreamTransport.failure`). */
  #toNetError(error: unknown, op: string): NetError {
    return toNetError(this.#transport.failure?.(error, op) ?? error, op, this.#label);
  }

  /**
   * Makes room for `need` more bytes after the buffered ones. Bytes already
   * handed out are views into the buffer (no copy per read), so once any
   * were, the buffer is never written below `#end` again: a fresh one takes
   * over instead of compacting.
   */
  #reserve(need: number): void {
    const used = this.#end - this.#start;
    if (used === 0 && !this.#shared) this.#start = this.#end = 0;
    if (this.#buffer.length - this.#end >= need) return;
    const size = Math.max(this.#bufferSize, used + need);
    if (size <= this.#buffer.length && !this.#shared) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
    } else {
      const fresh = allocate(
        size <= INITIAL_BUFFER ? INITIAL_BUFFER : 2 ** Math.ceil(Math.log2(size)),
      );
      if (used > 0) fresh.set(this.#buffer.subarray(this.#start, this.#end));
      if (!this.#shared) recycle(this.#buffer);
      this.#buffer = fresh;
      this.#shared = false;
    }
    this.#start = 0;
    this.#end = used;
  }

  #onWriteSettled: (() => void) | undefined;

  #pumped(n: number | null): void {
    if (n === null) this.#eof = true;
    else {
      this.#end += n;
      // A read that filled all the room suggests more is queued: grow.
      if (this.#end === this.#buffer.length && this.#bufferSize < MAX_BUFFER) {
        this.#bufferSize *= 2;
      }
    }
    if (this.#readShut) this.#start = this.#end; // shut for reading: discard
  }

  #pumpFailed(error: unknown): void {
    if (this.#closed) return;
    this.#failure ??= this.#toNetError(error, "read");
  }

  /** Starts the one outstanding read into the buffer, if none is running. */
  #startPump(need: number): Promise<void> {
    const flight = this.#flight ??= new SingleFlight<number | null>(
      (n) => this.#pumped(n),
      (error) => this.#pumpFailed(error),
    );
    const current = flight.current;
    if (current !== null) return current;
    this.#reserve(Math.max(need, Math.min(MIN_SPACE, this.#bufferSize >> 1)));
    return flight.begin(
      this.#transport.read(this.#end === 0 ? this.#buffer : this.#buffer.subarray(this.#end)),
    );
  }

  /** True while a runtime read is in flight. */
  get #reading(): boolean {
    return this.#flight !== undefined && this.#flight.current !== null;
  }

  /** Waits for the outstanding read (starting one), within the call's deadline. */
  #more(need: number, deadline: Deadline | undefined): Promise<void> {
    const pump = this.#startPump(need);
    return deadline === undefined ? pump : deadline.wait(pump);
  }

  /** `true` when nothing more can be read; throws a sticky reset or closed. */
  #ended(op: string): boolean {
    if (this.#closed) throw closedError(op, this.#label);
    if (this.#failure) {
      const failure = this.#failure;
      if (failure.code === "connection_reset") {
        throw new NetError("connection_reset", "connection reset by peer", {
          op,
          address: this.#label,
          cause: failure.cause,
        });
      }
      this.#failure = null;
      throw failure;
    }
    return this.#eof || this.#readShut;
  }

  /** Hands out the next `n` buffered bytes as a view (never written again). */
  #take(n: number): Uint8Array {
    // A view made directly (subarray goes through the species constructor, slower in V8).
    const buffer = this.#buffer;
    const out = new Uint8Array(buffer.buffer, buffer.byteOffset + this.#start, n);
    this.#start += n;
    this.#shared = true;
    return out;
  }

  /** Where `needle` starts among the buffered bytes at or after `from`, or -1. */
  #find(needle: Uint8Array, from: number): number {
    return needle.length === 1
      ? this.#buffer.subarray(0, this.#end).indexOf(needle[0], from)
      : indexOfBytes(this.#buffer, needle, from, this.#end);
  }

  /** Hands out the record that ends at `at` and drops the delimiter after it. */
  #takeRecord(at: number, delimiterLength: number): Uint8Array {
    const record = this.#take(at - this.#start);
    this.#start += delimiterLength;
    return record;
  }

  /**
   * Takes the read lock within the call's deadline (synchronously when it is
   * free). A wait that fails has seen the deadline pass, which disposes it,
   * so callers only dispose it after the lock is theirs.
   */
  #lockRead(deadline: Deadline | undefined): Promise<void> | undefined {
    return this.#readLock.tryAcquire() ? undefined : this.#readLock.acquire(deadline);
  }

  /** The end of every locked read: the lock goes to the next reader, the deadline's timer goes. */
  #unlockRead(deadline: Deadline | undefined): void {
    this.#readLock.release();
    deadline?.dispose();
  }

  /**
   * Reads what is available, up to `max` bytes, waiting for at least one.
   *
   * @param max The most bytes to return (default 16384).
   * @param options `{ timeout, signal }`; a timed-out read consumes nothing.
   * @returns 1..max bytes, or `null` at end of stream.
   * @throws {NetError} `timeout`, `aborted`, `closed`, `connection_reset`.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll("hello");
   * console.log(await b.read()); // Uint8Array(5) [ 104, 101, 108, 108, 111 ]
   * a.close();
   * b.close();
   * ```
   */
  read(max = 16384, options?: DeadlineOptions): Promise<Uint8Array | null> {
    // Fast path (no async frame): bytes already buffered, no deadline, no queue.
    if (options === undefined && typeof max === "number" && (max | 0) === max && max > 0) {
      const available = this.#end - this.#start;
      if (available > 0 && !this.#readLock.held) {
        return Promise.resolve(this.#take(available < max ? available : max));
      }
      // Nothing buffered, nobody reading: wait for the pump without an async frame.
      if (available === 0 && this.#readLock.tryAcquire()) {
        try {
          return Promise.resolve(this.#readHeld(max));
        } catch (error) {
          return Promise.reject(error);
        }
      }
    }
    return this.#read(max, options);
  }

  /**
   * The rest of a `read` without options whose caller holds the read lock:
   * what is buffered, else end of stream, else the pump's landing and again.
   * Releases the lock when it answers (or throws).
   */
  #readHeld(max: number): Uint8Array | null | Promise<Uint8Array | null> {
    let pump: Promise<void>;
    try {
      const available = this.#end - this.#start;
      if (available > 0) {
        const out = this.#take(available < max ? available : max);
        this.#readLock.release();
        return out;
      }
      if (this.#ended("read")) {
        this.#readLock.release();
        return null;
      }
      pump = this.#startPump(1);
    } catch (error) {
      this.#readLock.release();
      throw error;
    }
    return pump.then(() => this.#readHeld(max));
  }

  async #read(max: number, options: DeadlineOptions | undefined): Promise<Uint8Array | null> {
    if (!Number.isInteger(max) || max < 1) {
      throw invalidArgument("read", "max", "a positive integer", max);
    }
    const deadline = this.#begin("read", options);
    const waiting = this.#lockRead(deadline);
    if (waiting) await waiting;
    try {
      for (;;) {
        const available = this.#end - this.#start;
        if (available > 0) return this.#take(Math.min(available, max));
        if (this.#ended("read")) return null;
        await this.#more(1, deadline);
      }
    } finally {
      this.#unlockRead(deadline);
    }
  }

  /**
   * Reads into the caller's buffer (no copy when nothing is buffered and no
   * deadline is set).
   *
   * @param buffer Where to put the bytes.
   * @param options `{ timeout, signal }`.
   * @returns How many bytes were read, or `null` at end of stream.
   * @throws {NetError} `timeout`, `aborted`, `closed`, `connection_reset`.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll(new Uint8Array([1, 2, 3]));
   * const buffer = new Uint8Array(8);
   * console.log(await b.readInto(buffer)); // 3
   * a.close();
   * b.close();
   * ```
   */
  async readInto(buffer: Uint8Array, options?: DeadlineOptions): Promise<number | null> {
    if (!(buffer instanceof Uint8Array) || buffer.length === 0) {
      throw invalidArgument("readInto", "buffer", "a non-empty Uint8Array", buffer);
    }
    const deadline = this.#begin("readInto", options);
    const waiting = this.#lockRead(deadline);
    if (waiting) await waiting;
    try {
      for (;;) {
        const available = this.#end - this.#start;
        if (available > 0) {
          const n = Math.min(available, buffer.length);
          buffer.set(this.#buffer.subarray(this.#start, this.#start + n));
          this.#start += n;
          return n;
        }
        if (this.#ended("readInto")) return null;
        if (!this.#reading && deadline === undefined) {
          // Safe to hand the caller's buffer to the runtime: no deadline can
          // abandon this read, so no late bytes can land in it.
          let n: number | null;
          try {
            n = await this.#transport.read(buffer);
          } catch (error) {
            throw this.#fail(error, "readInto");
          }
          if (n === null) this.#eof = true;
          return this.#readShut ? null : n;
        }
        await this.#more(1, deadline);
      }
    } finally {
      this.#unlockRead(deadline);
    }
  }

  /**
   * Reads exactly `n` bytes (Ward's `read_exact`, sock's `recvn`).
   *
   * @param n How many bytes.
   * @param options `{ timeout, signal }`; on a timeout nothing is consumed.
   * @returns Exactly `n` bytes.
   * @throws {NetError} `unexpected_eof` with the bytes received on
   *   `error.partial` when the stream ends first; `timeout`, `aborted`,
   *   `closed`, `connection_reset`.
   *
   * @example Length-prefixed frames
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll(new Uint8Array([0, 0, 0, 2, 7, 9]));
   * const head = await b.readExact(4);
   * const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
   * console.log(await b.readExact(length)); // Uint8Array(2) [ 7, 9 ]
   * a.close();
   * b.close();
   * ```
   */
  readExact(n: number, options?: DeadlineOptions): Promise<Uint8Array> {
    // Fast path, kept out of the async function (cheaper while V8 is still
    // warming up): a small integer count already buffered, no deadline, no queue.
    if (
      typeof n === "number" && (n | 0) === n && n > 0 && this.#end - this.#start >= n &&
      options === undefined &&
      !this.#readLock.held
    ) {
      return Promise.resolve(this.#take(n));
    }
    return this.#readExact(n, options);
  }

  async #readExact(n: number, options: DeadlineOptions | undefined): Promise<Uint8Array> {
    if (!Number.isInteger(n) || n < 0) {
      throw invalidArgument("readExact", "n", "a non-negative integer", n);
    }
    const deadline = this.#begin("readExact", options);
    const waiting = this.#lockRead(deadline);
    if (waiting) await waiting;
    try {
      for (;;) {
        const available = this.#end - this.#start;
        if (available >= n) return this.#take(n);
        if (this.#ended("readExact")) {
          const partial = this.#take(available);
          throw new NetError(
            "unexpected_eof",
            `stream ended after ${available} of ${n} bytes`,
            { op: "readExact", address: this.#label, partial },
          );
        }
        // Grow with the data, never to `n` at once: a huge count must not allocate before bytes come.
        await this.#more(Math.min(n - available, BUFFER_SIZE), deadline);
      }
    } finally {
      this.#unlockRead(deadline);
    }
  }

  /**
   * Reads every byte until the peer ends the stream (sock's `recvall`).
   *
   * @param options `{ timeout, signal }`; on a timeout nothing is consumed.
   * @returns All the bytes.
   * @throws {NetError} `timeout`, `aborted`, `closed`, `connection_reset`.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll("all of it");
   * await a.shutdown("w");
   * console.log(new TextDecoder().decode(await b.readAll())); // "all of it"
   * a.close();
   * b.close();
   * ```
   */
  async readAll(options?: DeadlineOptions): Promise<Uint8Array> {
    const deadline = this.#begin("readAll", options);
    const waiting = this.#lockRead(deadline);
    if (waiting) await waiting;
    try {
      while (!this.#ended("readAll")) {
        await this.#more(Math.max(MIN_SPACE, this.#end - this.#start), deadline);
      }
      return this.#take(this.#end - this.#start);
    } finally {
      this.#unlockRead(deadline);
    }
  }

  /**
   * Reads up to a delimiter, buffered. The delimiter is consumed and not
   * returned.
   *
   * @param delimiter The bytes (or UTF-8 string) that end a record.
   * @param options `maxBytes` (default 64 KiB) and `{ timeout, signal }`.
   * @returns The record without its delimiter, or `null` at a clean end of
   *   stream.
   * @throws {NetError} `invalid_argument` when no delimiter comes within
   *   `maxBytes` (the bytes stay buffered); `unexpected_eof` with `partial`
   *   when the stream ends inside a record; `timeout`, `aborted`, `closed`.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll("key=value;next");
   * console.log(new TextDecoder().decode((await b.readUntil(";"))!)); // "key=value"
   * a.close();
   * b.close();
   * ```
   */
  readUntil(
    delimiter: Uint8Array | string,
    options?: ReadLineOptions,
  ): Promise<Uint8Array | null> {
    let needle: Uint8Array;
    try {
      needle = toBytes("readUntil", delimiter);
    } catch (error) {
      return Promise.reject(error);
    }
    if (needle.length === 0) {
      return Promise.reject(
        invalidArgument("readUntil", "delimiter", "a non-empty delimiter", delimiter),
      );
    }
    return this.#readRecord("readUntil", needle, options, false);
  }

  /**
   * Reads one line (ended by `"\n"` or `"\r\n"`) as text.
   *
   * @param options `maxBytes` (default 64 KiB) and `{ timeout, signal }`.
   * @returns The line without its ending, or `null` at a clean end of stream.
   * @throws {NetError} as {@linkcode Stream.readUntil}.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll("GET / HTTP/1.0\r\n");
   * console.log(await b.readLine()); // "GET / HTTP/1.0"
   * a.close();
   * b.close();
   * ```
   */
  readLine(options?: ReadLineOptions): Promise<string | null> {
    // Fast path (no async frame): a whole line already buffered, default
    // limit, no deadline, no queue.
    if (options === undefined && this.#end > this.#start && !this.#readLock.held) {
      const at = this.#find(NEWLINE, this.#start);
      if (at !== -1 && this.#fits(at, DEFAULT_MAX_LINE, true)) {
        return Promise.resolve(lineText(this.#takeRecord(at, 1)));
      }
    }
    return this.#readLine(options);
  }

  async #readLine(options: ReadLineOptions | undefined): Promise<string | null> {
    const record = await this.#readRecord("readLine", NEWLINE, options, true);
    return record === null ? null : lineText(record);
  }

  /**
   * Whether the record ending at `at` is within `maxBytes`; a line's `"\r"`
   * before its `"\n"` is part of its ending, not of the line.
   */
  #fits(at: number, maxBytes: number, line: boolean): boolean {
    const length = at - this.#start;
    return length <= maxBytes ||
      (line && length === maxBytes + 1 && this.#buffer[at - 1] === 13);
  }

  /** `readUntil` and `readLine`: buffered framing under one deadline and the read lock. */
  async #readRecord(
    op: string,
    needle: Uint8Array,
    options: ReadLineOptions | undefined,
    line: boolean,
  ): Promise<Uint8Array | null> {
    const checked = options === undefined
      ? undefined
      : validateOptions<ReadLineOptions>(op, options, LINE_RULES);
    if (this.#closed) throw closedError(op, this.#label);
    const maxBytes = checked?.maxBytes ?? DEFAULT_MAX_LINE;
    // The longest run that may still end in a record within maxBytes.
    const window = maxBytes + needle.length - 1 + (line ? 1 : 0);
    const deadline = checked === undefined ? undefined : this.#deadline(op, checked);
    const waiting = this.#lockRead(deadline);
    if (waiting) await waiting;
    try {
      let scanned = 0;
      for (;;) {
        const available = this.#end - this.#start;
        const at = this.#find(needle, this.#start + scanned);
        if (at !== -1 && this.#fits(at, maxBytes, line)) return this.#takeRecord(at, needle.length);
        if (available > window || at !== -1) {
          throw new NetError(
            "invalid_argument",
            `no delimiter within maxBytes (${maxBytes}); raise maxBytes for longer records`,
            { op, address: this.#label, field: "maxBytes" },
          );
        }
        scanned = Math.max(0, available - needle.length + 1);
        if (this.#ended(op)) {
          if (available === 0) return null;
          const partial = this.#take(available);
          throw new NetError(
            "unexpected_eof",
            `stream ended inside a record of ${available} bytes`,
            { op, address: this.#label, partial },
          );
        }
        await this.#more(1, deadline);
      }
    } finally {
      this.#unlockRead(deadline);
    }
  }

  // --- writing -------------------------------------------------------------

  /** `#begin` for writes: also refuses a reset stream and a shut write half. */
  #beginWrite(op: string, options: DeadlineOptions | undefined): Deadline | undefined {
    const deadline = this.#begin(op, options);
    if (this.#failure?.code === "connection_reset") this.#ended(op);
    if (this.#writeShut) {
      throw new NetError("broken_pipe", "the write half is shut down", {
        op,
        address: this.#label,
      });
    }
    return deadline;
  }

  #writeFailed(error: unknown, op: string): NetError {
    const failure = this.#fail(error, op);
    if (failure.code === "broken_pipe" && this.#failure?.code === "connection_reset") {
      return this.#fail(this.#failure.cause, op);
    }
    return failure;
  }

  /**
   * One write (Ward's `write`, lsocket's `send`): may write fewer bytes.
   *
   * @param data Bytes, or a string (UTF-8 encoded).
   * @param options `{ timeout, signal }`; a write that times out may still
   *   complete in the background (the runtime cannot cancel it).
   * @returns How many bytes were written.
   * @throws {NetError} `broken_pipe`, `connection_reset`, `closed`,
   *   `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * console.log(await a.write("hi")); // 2
   * a.close();
   * b.close();
   * ```
   */
  async write(data: Uint8Array | string, options?: DeadlineOptions): Promise<number> {
    const bytes = toBytes("write", data);
    const deadline = this.#beginWrite("write", options);
    // A lock wait that fails has seen the deadline pass, which disposes it.
    if (!this.#writeLock.tryAcquire()) await this.#writeLock.acquire(deadline);
    const attempt = this.#transport.write(bytes);
    attempt.then(this.#releaseWrite, this.#releaseWrite);
    try {
      return await (deadline === undefined ? attempt : deadline.wait(attempt));
    } catch (error) {
      throw this.#writeFailed(error, "write");
    } finally {
      deadline?.dispose();
    }
  }

  /** Releases the write lock when a write the caller stopped waiting for ends. */
  get #releaseWrite(): () => void {
    return this.#onWriteSettled ??= () => this.#writeLock.release();
  }

  /**
   * Writes every byte (Ward's `write_all`, sock's `send`).
   *
   * @param data Bytes, or a string (UTF-8 encoded).
   * @param options `{ timeout, signal }` for the whole write.
   * @throws {NetError} `broken_pipe`, `connection_reset`, `closed`,
   *   `timeout`, `aborted`, with `error.written` = bytes written before.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll(new Uint8Array(100_000));
   * console.log((await b.readExact(100_000)).length); // 100000
   * a.close();
   * b.close();
   * ```
   */
  writeAll(data: Uint8Array | string, options?: DeadlineOptions): Promise<void> {
    // Fast path, kept out of the async function: bytes, no deadline, nothing
    // against writing, the lock free. The first write usually takes it all.
    if (
      options === undefined && data instanceof Uint8Array && !this.#closed && !this.#writeShut &&
      this.#failure === null && this.#writeLock.tryAcquire()
    ) {
      let attempt: Promise<number>;
      try {
        attempt = this.#transport.write(data);
      } catch (error) {
        this.#writeLock.release();
        return Promise.reject(this.#writeAllFailed(error, 0));
      }
      return attempt.then(
        (n) => n >= data.length ? this.#writeLock.release() : this.#writeRest(data, n),
        (error) => {
          this.#writeLock.release();
          throw this.#writeAllFailed(error, 0);
        },
      );
    }
    return this.#writeAll(data, options);
  }

  /** The rest of a fast-path `writeAll` whose first write took `written` bytes (the lock held). */
  async #writeRest(bytes: Uint8Array, written: number): Promise<void> {
    try {
      while (written < bytes.length) {
        written += await this.#transport.write(bytes.subarray(written));
      }
    } catch (error) {
      throw this.#writeAllFailed(error, written);
    } finally {
      this.#writeLock.release();
    }
  }

  async #writeAll(data: Uint8Array | string, options: DeadlineOptions | undefined): Promise<void> {
    const bytes = toBytes("writeAll", data);
    let deadline: Deadline | undefined;
    try {
      deadline = this.#beginWrite("writeAll", options);
      if (!this.#writeLock.tryAcquire()) await this.#writeLock.acquire(deadline);
    } catch (error) {
      throw this.#writeAllFailed(error, 0);
    }
    let written = 0;
    let pending: Promise<number> | undefined;
    try {
      while (written < bytes.length) {
        pending = this.#transport.write(written === 0 ? bytes : bytes.subarray(written));
        written += deadline === undefined ? await pending : await deadline.wait(pending);
        pending = undefined;
      }
    } catch (error) {
      throw this.#writeAllFailed(error, written);
    } finally {
      deadline?.dispose();
      // A write abandoned by a deadline still owns the socket until it ends.
      if (pending === undefined) this.#writeLock.release();
      else pending.then(this.#releaseWrite, this.#releaseWrite);
    }
  }

  /** The error of a failed `writeAll`, saying how many bytes went. */
  #writeAllFailed(error: unknown, written: number): NetError {
    const failure = error instanceof NetError && error.code === "invalid_argument"
      ? error
      : this.#writeFailed(error, "writeAll");
    return new NetError(failure.code, failure.detail, {
      op: "writeAll",
      address: this.#label,
      cause: failure.cause ?? error,
      field: failure.field,
      written,
    });
  }

  // --- closing -------------------------------------------------------------

  /**
   * Shuts one direction down. `"w"` sends FIN after every queued write (the
   * peer reads end of stream; this side keeps reading); `"r"` discards
   * buffered and further input (reads return `null`); `"rw"` both. Calling
   * it again is harmless.
   *
   * @param how `"r"`, `"w"` (default) or `"rw"`.
   * @throws {NetError} `invalid_argument` for another value, `closed`.
   *
   * @example Half-close: send a request, then read the whole reply
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [client, server] = await socketpair();
   * await client.writeAll("request");
   * await client.shutdown("w");
   * await server.readAll(); // "request", then end of stream
   * await server.writeAll("reply");
   * server.close();
   * console.log(new TextDecoder().decode(await client.readAll())); // "reply"
   * client.close();
   * ```
   */
  async shutdown(how: ShutdownHow = "w"): Promise<void> {
    if (how !== "r" && how !== "w" && how !== "rw") {
      throw invalidArgument("shutdown", "how", '"r", "w" or "rw"', how);
    }
    if (this.#closed) throw closedError("shutdown", this.#label);
    if (how !== "w") {
      this.#readShut = true;
      this.#start = this.#end;
    }
    if (how !== "r" && !this.#writeShut) {
      if (!this.#writeLock.tryAcquire()) await this.#writeLock.acquire();
      try {
        if (this.#writeShut || this.#closed) return;
        this.#writeShut = true;
        await this.#transport.closeWrite();
      } catch (error) {
        const failure = toNetError(error, "shutdown", this.#label);
        // A peer that is already gone has nothing left to tell.
        if (
          failure.code !== "closed" && failure.code !== "connection_reset" &&
          failure.code !== "broken_pipe"
        ) {
          throw failure;
        }
      } finally {
        this.#writeLock.release();
      }
    }
  }

  /**
   * Closes both directions. Pending reads and writes reject `closed`.
   * Calling it again is harmless.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * a.close();
   * a.close(); // harmless
   * console.log(a.closed, await b.read()); // true null
   * b.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#start = this.#end = 0;
    if (!this.#shared && !this.#reading) recycle(this.#buffer);
    this.#buffer = EMPTY;
    if (this.#native !== undefined) closingOf(this.#native, this.#label);
    try {
      this.#transport.close();
    } catch {
      // Already closed underneath (e.g. by the runtime); nothing left to free.
    }
  }

  /** Closes the stream (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  // --- below Deno (--allow-ffi) ----------------------------------------------

  /** The native side, made at the first call that needs it (none before: no cost). */
  #native: NativeSocket | undefined;

  get #socket(): NativeSocket {
    return this.#native ??= new NativeSocket("stream", this.#transport, () => this.#label);
  }

  /**
   * The socket's descriptor (XPIO `fileno`, lsocket `getfd`), found in the
   * process's descriptor table on the first call and remembered until
   * close. netkit still owns it: do not close it. Needs `--allow-ffi`.
   *
   * @returns The descriptor number.
   * @throws {NetError} `not_supported` without `--allow-ffi` (or for a
   *   stream that is no socket, or a socket netkit cannot tell apart from
   *   others); `closed` after `close()`.
   *
   * @example
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using _server = await listener.accept();
   * console.log(Deno.readLinkSync(`/proc/self/fd/${client.fileno()}`).startsWith("socket:")); // true
   * ```
   */
  fileno(): number {
    return filenoOf(this.#socket, this.#closed, this.#label);
  }

  /**
   * Sets a socket option by its POSIX name (sock `setopt`, XPIO
   * `setsockopt`): `so_rcvbuf`, `so_sndbuf`, `so_linger`, `so_keepalive`,
   * `tcp_nodelay`, `tcp_keepidle`, `ip_ttl`, … (the whole table is in the
   * guide). Needs `--allow-ffi`, except `tcp_nodelay` and `so_keepalive` on a
   * TCP stream.
   *
   * @param name The option's name, lower case.
   * @param value Its value (boolean, integer, `null` for `so_linger` off, …).
   * @throws {NetError} `invalid_argument` (field `name`: unknown, or not for
   *   this socket; field `value`: wrong type or range); `not_supported`
   *   without `--allow-ffi`, for a read-only option, or when the kernel
   *   refuses (EINVAL, ENOPROTOOPT); `access_denied` (EPERM); `closed`.
   *
   * @example A larger receive buffer, read back from the kernel
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using _server = await listener.accept();
   * client.setOption("so_rcvbuf", 65536);
   * console.log(client.getOption("so_rcvbuf")); // 131072 (Linux doubles it)
   * ```
   */
  setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    setOptionOf(this.#socket, name, value, this.#closed, this.#label);
  }

  /**
   * Reads a socket option from the kernel (sock `getopt`, XPIO
   * `getsockopt`), including the read-only `so_error`, `so_type`,
   * `so_acceptconn`, `so_peercred` (unix) and `o_nonblock`. Needs
   * `--allow-ffi`.
   *
   * @param name The option's name, lower case.
   * @returns Its current value.
   * @throws {NetError} as {@linkcode Stream.setOption}.
   *
   * @example Who is on the other end of a unix stream
   * ```ts
   * import { connect, listen } from "@netkit/netkit/unix";
   *
   * const dir = await Deno.makeTempDir();
   * await using listener = await listen(`${dir}/who.sock`);
   * await using client = await connect(listener.path);
   * await using server = await listener.accept();
   * console.log(server.getOption("so_peercred").pid === Deno.pid); // true
   * console.log(client.getOption("so_type")); // "stream"
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    return getOptionOf(this.#socket, name, this.#closed, this.#label) as SocketOptionValues[K];
  }

  /**
   * An abortive close (RFC 793 ABORT, sock's RST): unsent and unread data
   * are discarded and the stream is closed. A TCP peer's next read or
   * write then rejects `connection_reset`. A unix peer sees that only when
   * unread input was discarded (Linux resets unix peers in that case alone;
   * otherwise it reads end of stream). Needs `--allow-ffi`; harmless on a
   * closed stream.
   *
   * @throws {NetError} `not_supported` without `--allow-ffi`, or for a
   *   stream that is not a TCP or unix socket (the stream stays open then).
   *
   * @example
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * client.abort();
   * console.log(await server.read().catch((error) => error.code)); // "connection_reset"
   * ```
   */
  abort(): void {
    if (this.#closed) return;
    abortOf(this.#socket, this.#label);
    this.close();
  }

  // --- iteration and web streams --------------------------------------------

  /**
   * Yields chunks until end of stream.
   *
   * @example
   * ```ts
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * await a.writeAll("abc");
   * a.close();
   * for await (const chunk of b) console.log(chunk.length); // 3
   * b.close();
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const chunk = await this.read(BUFFER_SIZE);
      if (chunk === null) return;
      yield chunk;
    }
  }

  /**
   * A `ReadableStream` over this stream's input. Unlike Deno's
   * `conn.readable`, reaching the end does not close the connection, so
   * half-close stays exact. Cancelling it shuts the read side down.
   */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read(BUFFER_SIZE);
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => {
        if (!this.#closed) this.#readShut = true;
      },
    }, { highWaterMark: 0 });
    return this.#readable;
  }

  /**
   * A `WritableStream` into this stream. Closing it sends FIN
   * (`shutdown("w")`) and keeps the read side open; aborting it closes the
   * stream.
   */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.writeAll(chunk),
      close: () => this.shutdown("w"),
      abort: () => this.close(),
    });
    return this.#writable;
  }

  // --- readiness -----------------------------------------------------------

  /** The readiness `scheduler.select` uses; waiting consumes nothing. */
  [pollable](): Pollable {
    return this.#readiness ??= this.#makeReadiness();
  }

  #readiness: Pollable | undefined;

  #makeReadiness(): Pollable {
    const isClosed = () => this.#closed;
    return {
      get closed() {
        return isClosed();
      },
      pollRead: () =>
        this.#end > this.#start || this.#eof || this.#readShut || this.#failure !== null ||
        this.#closed,
      waitRead: async () => {
        while (
          !(this.#end > this.#start || this.#eof || this.#readShut || this.#failure || this.#closed)
        ) {
          await this.#startPump(1);
        }
      },
      pollWrite: () => !this.#writeLock.held,
      waitWrite: () => this.#writeLock.whenFree(),
    };
  }
}
