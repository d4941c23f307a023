/**
 * The datagram-socket base that `UdpSocket` and `UnixDatagramSocket` share:
 * one receive in flight at a time into the socket's own buffer, so a
 * receive that times out loses no datagram and datagrams come out in
 * arrival order; close that rejects waiting receives with `closed`; async
 * disposal that waits until the runtime has let go; iteration and `select`
 * readiness.
 *
 * @module
 */

import { Deadline } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import type { NetError } from "../common/errors.ts";
import { DEADLINE_RULES, type Schema, validateOptions } from "../common/_options.ts";
import { type Pollable, pollable } from "../common/readiness.ts";
import { ReadySlot } from "../common/_single_flight.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "../common/native.ts";
import { NativeSocket } from "../common/_native/socket.ts";
import { closingOf, filenoOf, getOptionOf, setOptionOf } from "../common/_native/ops.ts";

/** What a {@linkcode DatagramSocket} receives from: a `Deno.DatagramConn`, or anything with its two calls. */
export interface DatagramSource {
  /** Receives one datagram into `buffer`; resolves to a view of it and the sender. */
  receive(buffer: Uint8Array): Promise<[Uint8Array, Deno.Addr]>;
  /** Closes the socket. */
  close(): void;
}

/** Options of {@linkcode DatagramSocket.receive}: a deadline, and whether to peek. */
export interface ReceiveOptions extends DeadlineOptions {
  /**
   * True: resolve to the next datagram without consuming it (sock's
   * `recvnext` with MSG_PEEK); the next `receive` returns the same one.
   * Default false.
   */
  peek?: boolean;
}

const RECEIVE_RULES: Schema = { ...DEADLINE_RULES, peek: { type: "boolean" } };

/**
 * A datagram socket that hands out datagrams of type `D`: the shared part of
 * `UdpSocket` and `UnixDatagramSocket` (`bind`, `connect` and `bindUnix`
 * make them; each adds its addresses and its sends).
 *
 * @example Receive with a deadline that loses nothing
 * ```ts
 * import { bind, NetError } from "@netkit/netkit/udp";
 *
 * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
 * const early = await socket.receive({ timeout: 10 }).catch((e: NetError) => e.code);
 * await socket.sendTo("late", "127.0.0.1", socket.addr.port);
 * console.log(early, (await socket.receive()).data.length); // "timeout" 4
 * ```
 */
export abstract class DatagramSocket<D> implements AsyncIterable<D>, AsyncDisposable {
  readonly #slot: ReadySlot<[Uint8Array, Deno.Addr], D>;
  readonly #label: string | undefined;
  readonly #source: object;

  /**
   * Wraps a runtime socket; `UdpSocket` and `UnixDatagramSocket` call this.
   *
   * @param source The runtime socket.
   * @param bufferSize The longest datagram received whole; longer ones are
   *   cut to this size and flagged `truncated`.
   * @param label The address errors name.
   */
  protected constructor(source: DatagramSource, bufferSize: number, label: string | undefined) {
    // One spare byte tells a datagram of exactly bufferSize from a longer one.
    const buffer = new Uint8Array(bufferSize + 1);
    this.#label = label;
    this.#source = source;
    this.#slot = new ReadySlot<[Uint8Array, Deno.Addr], D>({
      run: () => source.receive(buffer),
      keep: ([data, from]) => {
        const truncated = data.length > bufferSize;
        const datagram = this.decode(
          buffer.slice(0, truncated ? bufferSize : data.length),
          from,
          truncated,
        );
        return this.accepts(datagram) ? datagram : undefined;
      },
      fail: (error) => toNetError(error, "receive", label),
      discard: () => {},
      stop: () => source.close(),
    }, label);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#slot.closed;
  }

  /**
   * Receives the next datagram, in arrival order.
   *
   * @param options `{ timeout, signal, peek }`; a timed-out receive loses
   *   nothing. With `peek: true` the datagram is not consumed: the next
   *   receive returns it again (a copy is handed out each time).
   * @returns The datagram.
   * @throws {NetError} `closed` (also when the socket closes while waiting),
   *   `timeout`, `aborted`, `invalid_argument` for bad options; on a
   *   connected UDP socket (with `--allow-ffi`) `connection_refused` or
   *   `host_unreachable` when the kernel got an ICMP error for what it sent.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * await socket.sendTo("hi", "127.0.0.1", socket.addr.port);
   * console.log((await socket.receive({ timeout: 1000 })).data.length); // 2
   * ```
   *
   * @example Peek, then receive the same datagram
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * await socket.sendTo("next", "127.0.0.1", socket.addr.port);
   * const peeked = await socket.receive({ peek: true, timeout: 1000 });
   * const taken = await socket.receive({ timeout: 1000 });
   * console.log(peeked.data.length, taken.data.length); // 4 4
   * ```
   */
  receive(options?: ReceiveOptions): Promise<D> {
    // Without options there is no deadline to set up or dispose: no extra async frame.
    return options === undefined
      ? this.#slot.take(undefined, "receive")
      : this.#receiveWithin(options);
  }

  async #receiveWithin(options: ReceiveOptions): Promise<D> {
    const checked = validateOptions<ReceiveOptions>("receive", options, RECEIVE_RULES);
    using deadline = Deadline.of(checked, "receive", this.#label);
    if (checked.peek === true) return this.copy(await this.#slot.peek(deadline, "receive"));
    return await this.#slot.take(deadline, "receive");
  }

  /**
   * Closes the socket. A waiting `receive` rejects `closed`. Closing twice
   * is harmless.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * const socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * const waiting = socket.receive().catch((error) => error.code);
   * socket.close();
   * socket.close();
   * console.log(await waiting); // "closed"
   * ```
   */
  close(): void {
    if (this.#slot.close() && this.#native !== undefined) closingOf(this.#native, this.#label);
  }

  /** Closes the socket and waits until the runtime has let go of it. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#slot.settled();
  }

  /**
   * Yields received datagrams until the socket closes.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * await socket.sendTo("one", "127.0.0.1", socket.addr.port);
   * for await (const { data } of socket) {
   *   console.log(data.length); // 3
   *   break;
   * }
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterator<D> {
    return this.#slot.iterate(() => this.receive());
  }

  /** Readiness for `scheduler.select`: readable when a datagram is buffered. */
  [pollable](): Pollable {
    return this.#readiness ??= this.#slot.pollable({
      pollWrite: () => !this.#slot.closed,
      waitWrite: () => Promise.resolve(),
    });
  }

  #readiness: Pollable | undefined;

  // --- below Deno (--allow-ffi) ----------------------------------------------

  /** The runtime socket's native side, made at the first call that needs it. */
  #native: NativeSocket | undefined;

  get #socket(): NativeSocket {
    return this.#native ??= new NativeSocket("datagram", this.#source, () => this.#label);
  }

  /**
   * The socket's descriptor (XPIO `fileno`, lsocket `getfd`), found on the
   * first call and remembered until close; netkit still owns it. Needs
   * `--allow-ffi`.
   *
   * @returns The descriptor number.
   * @throws {NetError} `not_supported` without `--allow-ffi` or when the
   *   socket cannot be told apart from another; `closed` after `close()`.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * console.log(socket.fileno() > 2); // true
   * ```
   */
  fileno(): number {
    return filenoOf(this.#socket, this.#slot.closed, this.#label);
  }

  /**
   * Sets a socket option by its POSIX name (the table is in the guide;
   * e.g. `so_rcvbuf`, `so_reuseport`, `ip_ttl`). Needs `--allow-ffi`.
   *
   * @param name The option's name, lower case.
   * @param value Its value.
   * @throws {NetError} `invalid_argument` (field `name` or `value`),
   *   `not_supported` (no `--allow-ffi`, read-only, or refused by the kernel),
   *   `access_denied`, `closed`.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * socket.setOption("ip_ttl", 7);
   * console.log(socket.getOption("ip_ttl")); // 7
   * ```
   */
  setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    setOptionOf(this.#socket, name, value, this.#slot.closed, this.#label);
  }

  /**
   * Reads a socket option from the kernel (getsockopt). Needs `--allow-ffi`.
   *
   * @param name The option's name, lower case.
   * @returns Its current value.
   * @throws {NetError} as `setOption`.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * console.log(socket.getOption("so_type")); // "dgram"
   * ```
   */
  getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    return getOptionOf(this.#socket, name, this.#slot.closed, this.#label) as SocketOptionValues[K];
  }

  /**
   * Builds a datagram from its bytes (a copy the caller owns) and its sender.
   *
   * @param data The payload, cut to `bufferSize` when `truncated`.
   * @param from The sender.
   * @param truncated True when the datagram was longer than `bufferSize`.
   * @returns The datagram handed out.
   */
  protected abstract decode(data: Uint8Array, from: Deno.Addr, truncated: boolean): D;

  /**
   * The filter: a datagram it refuses is dropped (a connected socket's other
   * senders). Accepts everything unless a subclass says otherwise.
   *
   * @param _datagram The datagram received.
   * @returns Whether to hand it out.
   */
  protected accepts(_datagram: D): boolean {
    return true;
  }

  /**
   * A copy of a datagram for `peek`, so the caller may change it without
   * changing what the next receive returns: its `data` copied, the rest
   * shallow. A subclass whose datagrams hold other mutable parts overrides it.
   *
   * @param datagram The datagram waiting.
   * @returns A copy the caller owns.
   */
  protected copy(datagram: D): D {
    const data = (datagram as { data?: unknown }).data;
    return data instanceof Uint8Array ? { ...datagram, data: data.slice() } : { ...datagram };
  }

  /**
   * The socket's descriptor for netkit's own native calls (re-checked by
   * its cookie on each call; never arms anything).
   *
   * @param op The netkit operation.
   * @param what What needs it, for the `not_supported` message.
   * @returns The descriptor number.
   * @throws {NetError} `not_supported` without `--allow-ffi` or when the
   *   socket cannot be identified; `closed`.
   */
  protected descriptor(op: string, what: string): number {
    if (this.#slot.closed) throw closedError(op, this.#label);
    return this.#socket.fd(op, what, false).fd;
  }

  /**
   * Makes waiting receives end with `failure` (the first of them; a later
   * one when none waits) while the receive in flight goes on: its datagram
   * goes to a later caller. Needs {@linkcode DatagramSocket.watchFailures} on.
   *
   * @param failure What to report.
   */
  protected failReceive(failure: NetError): void {
    this.#slot.interrupt(failure);
  }

  /**
   * Whether {@linkcode DatagramSocket.failReceive} may end waits (off, a
   * wait costs nothing more).
   *
   * @param onWait While something outside the receive may fail it: called
   *   each time a receive waits (to start watching); `null` turns it off.
   */
  protected watchFailures(onWait: (() => void) | null): void {
    this.#slot.interruptible = onWait;
  }

  /**
   * Takes the failure kept for the next receive, for a send that reports it
   * instead (the kernel reports a connected socket's ICMP error on whichever
   * comes first).
   *
   * @param which Which failures to take.
   * @returns The failure, or `undefined`.
   */
  protected claimFailure(which: (failure: NetError) => boolean): NetError | undefined {
    return this.#slot.claimFailure(which);
  }

  /** Throws `closed` for `op` once the socket is closed. */
  protected checkOpen(op: string): void {
    if (this.#slot.closed) throw closedError(op, this.#label);
  }

  /**
   * Frees the socket from the receive in flight and starts none until
   * {@linkcode DatagramSocket.resumeReceiving}, for a runtime that cannot
   * send while a receive is pending.
   *
   * @param wake Makes the receive in flight complete (a datagram the filter drops).
   */
  protected pauseReceiving(wake: () => Promise<unknown>): Promise<void> {
    return this.#slot.pause(wake);
  }

  /** Lets receives run again after {@linkcode DatagramSocket.pauseReceiving}. */
  protected resumeReceiving(): void {
    this.#slot.resume();
  }

  /** Drops a waiting datagram that the filter now refuses (after a re-connect). */
  protected refilter(): void {
    this.#slot.recheck((datagram) => this.accepts(datagram));
  }
}
