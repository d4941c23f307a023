/**
 * The receive loop shared by UDP and unix datagram sockets: one outstanding
 * `receive()` into an internal buffer, so a receive that times out loses no
 * datagram, datagrams are handed out in arrival order, and closing rejects
 * every waiter with `closed`.
 *
 * @module
 */

import { type Deadline, deadlineOf, type DeadlineOptions } from "../common/deadline.ts";
import { closedError, type NetError, toNetError } from "../common/errors.ts";
import { invalidArgument } from "../common/options.ts";
import type { Pollable } from "../common/readiness.ts";

/** What a {@linkcode DatagramPump} runs over: a `Deno.DatagramConn`. */
export interface DatagramSource {
  /** Receives one datagram into `buffer`; resolves to a view of it and the sender. */
  receive(buffer: Uint8Array): Promise<[Uint8Array, Deno.Addr]>;
  /** Closes the socket. */
  close(): void;
}

/** Turns received bytes (a copy, owned by the caller) and the sender into a datagram. */
export type Decode<D> = (data: Uint8Array, from: Deno.Addr, truncated: boolean) => D;

/** The receive buffer size when none is given: every UDP datagram fits. */
export const DEFAULT_BUFFER_SIZE = 65536;
/** The largest `bufferSize` accepted (16 MiB). */
export const MAX_BUFFER_SIZE = 16 * 1024 * 1024;

const encoder = new TextEncoder();

/** A datagram payload as bytes: strings are UTF-8 encoded. */
export function toBytes(op: string, data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return encoder.encode(data);
  throw invalidArgument(op, "data", "a Uint8Array or a string", data);
}

/** Receives datagrams one at a time with deadlines that lose nothing. */
export class DatagramPump<D> {
  #source: DatagramSource;
  #buffer: Uint8Array;
  #limit: number;
  #decode: Decode<D>;
  #accepts: (datagram: D) => boolean;
  #label: string | undefined;
  #pending: Promise<void> | null = null;
  #ready: D | null = null;
  #failure: NetError | null = null;
  #closed = false;
  #gate: Promise<void> | null = null;
  #openGate: (() => void) | null = null;

  /**
   * @param source The runtime socket.
   * @param bufferSize The largest datagram received whole; longer ones are
   *   cut to this size and flagged `truncated`.
   * @param decode Builds the datagram handed out.
   * @param accepts The filter of a connected socket (others are dropped).
   * @param label The address errors name.
   */
  constructor(
    source: DatagramSource,
    bufferSize: number,
    decode: Decode<D>,
    accepts: (datagram: D) => boolean,
    label: string | undefined,
  ) {
    this.#source = source;
    // One spare byte tells a datagram of exactly bufferSize from a longer one.
    this.#buffer = new Uint8Array(bufferSize + 1);
    this.#limit = bufferSize;
    this.#decode = decode;
    this.#accepts = accepts;
    this.#label = label;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #received = (result: [Uint8Array, Deno.Addr]): Promise<void> | undefined => {
    this.#pending = null;
    if (this.#closed) return;
    const size = result[0].length;
    const truncated = size > this.#limit;
    const datagram = this.#decode(
      this.#buffer.slice(0, truncated ? this.#limit : size),
      result[1],
      truncated,
    );
    // A filtered datagram is dropped and the (still wanted) receive goes on,
    // unless a send needs the socket (see `pause`).
    if (!this.#accepts(datagram)) return this.#gate === null ? this.#start() : undefined;
    this.#ready = datagram;
  };

  #failed = (error: unknown): void => {
    this.#pending = null;
    if (!this.#closed) this.#failure = toNetError(error, "receive", this.#label);
  };

  #start(): Promise<void> {
    if (this.#gate !== null) return this.#gate;
    this.#pending ??= this.#source.receive(this.#buffer).then(this.#received, this.#failed);
    return this.#pending;
  }

  /**
   * The next datagram, in arrival order.
   *
   * @throws {NetError} `closed`, `timeout`, `aborted`, or what the runtime reported.
   */
  async receive(options: DeadlineOptions | undefined, op: string): Promise<D> {
    using deadline = deadlineOf(op, options, this.#label);
    return await this.#receive(deadline, op);
  }

  async #receive(deadline: Deadline | undefined, op: string): Promise<D> {
    for (;;) {
      if (this.#closed) throw closedError(op, this.#label);
      deadline?.check();
      const ready = this.#ready;
      if (ready !== null) {
        this.#ready = null;
        return ready;
      }
      if (this.#failure !== null) {
        const failure = this.#failure;
        this.#failure = null;
        throw failure;
      }
      const pending = this.#start();
      await (deadline === undefined ? pending : deadline.wait(pending));
    }
  }

  /**
   * Frees the socket from the outstanding receive, for runtimes that cannot
   * send while a receive is pending (Deno's unix datagram sockets: `Busy`).
   * Receives started meanwhile wait until {@linkcode DatagramPump.resume}.
   *
   * @param wake Sends a datagram the filter drops to this socket, so the
   *   outstanding receive completes; not awaited (it may queue behind others).
   */
  async pause(wake: () => Promise<unknown>): Promise<void> {
    this.#gate ??= new Promise<void>((open) => {
      this.#openGate = open;
    });
    while (this.#pending !== null && !this.#closed) {
      const pending = this.#pending;
      wake().catch(() => {});
      await pending;
    }
  }

  /** Lets receives run again after {@linkcode DatagramPump.pause}. */
  resume(): void {
    const open = this.#openGate;
    this.#gate = null;
    this.#openGate = null;
    open?.();
  }

  /** Drops a buffered datagram the filter no longer accepts (after a re-connect). */
  refilter(): void {
    if (this.#ready !== null && !this.#accepts(this.#ready)) this.#ready = null;
  }

  /** Closes the socket; waiting receives reject `closed`. False when already closed. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#ready = null;
    this.resume();
    try {
      this.#source.close();
    } catch {
      // Already closed by the runtime.
    }
    return true;
  }

  /** Resolves once the runtime has let go of the outstanding receive. */
  async settled(): Promise<void> {
    while (this.#pending !== null) await this.#pending;
  }

  /** Yields what `receive` returns until the socket closes (then ends quietly). */
  async *iterate<T>(receive: () => Promise<T>): AsyncGenerator<T> {
    for (;;) {
      try {
        yield await receive();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  /** Readiness for `select`: readable when a datagram is buffered; never consumes. */
  pollable(): Pollable {
    const isClosed = () => this.#closed;
    const readable = () => this.#ready !== null || this.#failure !== null || this.#closed;
    return {
      get closed() {
        return isClosed();
      },
      pollRead: readable,
      waitRead: async () => {
        while (!readable()) await this.#start();
      },
      pollWrite: () => !this.#closed,
      waitWrite: () => Promise.resolve(),
    };
  }
}
