/**
 * The listener base that `TcpListener` and `UnixListener` share: accepts
 * with deadlines that lose nothing (one runtime `accept()` in flight at a
 * time, so a connection that arrives after a caller gave up goes to the next
 * caller), any number of callers waiting at once, close that rejects them
 * with `closed`, async disposal that waits until the runtime has let go,
 * iteration and `select` readiness.
 *
 * @module
 */

import { deadlineOf } from "./_deadline.ts";
import type { DeadlineOptions } from "./deadline.ts";
import { toNetError } from "./_errors.ts";
import { type Pollable, pollable } from "./readiness.ts";
import { ReadySlot } from "./_single_flight.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "./native.ts";
import { NativeSocket } from "./_native/socket.ts";
import { closingOf, filenoOf, getOptionOf, setOptionOf } from "./_native/ops.ts";

/** A connection reset while still queued (Deno: ENOTCONN from getpeername, or ECONNABORTED). */
const DIED_IN_QUEUE = /^(NotConnected|ConnectionAborted|ConnectionReset)$/;

/** What a {@linkcode Listener} accepts from: a `Deno.Listener`, or anything with its two calls. */
export interface AcceptSource<C extends { close(): void }> {
  /** Waits for the next connection. */
  accept(): Promise<C>;
  /** Stops listening. */
  close(): void;
}

const NEVER_WRITABLE = {
  pollWrite: () => false,
  waitWrite: () => new Promise<void>(() => {}),
};

/**
 * A listening socket that hands out streams of type `S`: the shared part of
 * `TcpListener` and `UnixListener` (netkit's `tcp.listen` and `unix.listen`
 * make them; each adds its addresses).
 *
 * `close()` stops listening at once; the runtime lets go of the socket (the
 * port or path is free again) once its accept in flight has settled, which
 * `await using` and `await listener[Symbol.asyncDispose]()` wait for.
 *
 * @example Accept with a deadline, then serve whoever comes
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port);
 * await using server = await listener.accept({ timeout: 1000 });
 * await client.writeAll("hi\n");
 * console.log(await server.readLine()); // "hi"
 * ```
 */
export abstract class Listener<S, C extends { close(): void } = { close(): void }>
  implements AsyncIterable<S>, AsyncDisposable {
  readonly #slot: ReadySlot<C, C>;
  readonly #wrap: (conn: C) => S;
  readonly #label: string | undefined;
  readonly #source: object;

  /**
   * Wraps a runtime listener; `TcpListener` and `UnixListener` call this.
   *
   * @param source The runtime listener.
   * @param wrap Turns an accepted connection into the stream handed out; when
   *   it throws, the connection is closed and the accept rejects with the
   *   mapped error.
   * @param label The address errors name.
   */
  protected constructor(source: AcceptSource<C>, wrap: (conn: C) => S, label: string | undefined) {
    this.#wrap = (conn) => {
      try {
        return wrap(conn);
      } catch (error) {
        conn.close();
        throw toNetError(error, "accept", label);
      }
    };
    this.#label = label;
    this.#source = source;
    this.#slot = new ReadySlot<C, C>({
      run: () => source.accept(),
      keep: (conn) => conn,
      fail: (error) =>
        // A connection that died in the queue is not the listener's failure: accept the next one.
        DIED_IN_QUEUE.test((error as { name?: string })?.name ?? "")
          ? undefined
          : toNetError(error, "accept", label),
      discard: (conn) => conn.close(),
      stop: () => source.close(),
    }, label);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#slot.closed;
  }

  /**
   * Accepts the next connection.
   *
   * @param options `{ timeout, signal }`; an accept that times out consumes
   *   nothing.
   * @returns The accepted stream.
   * @throws {NetError} `closed` (also when closed while waiting), `timeout`,
   *   `aborted`, `resource_exhausted` (out of file descriptors; the listener
   *   goes on), `invalid_argument` for bad options.
   *
   * @example
   * ```ts
   * import { listen, NetError } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * try {
   *   await listener.accept({ timeout: 10 });
   * } catch (error) {
   *   console.log((error as NetError).code); // "timeout"
   * }
   * ```
   */
  accept(options?: DeadlineOptions): Promise<S> {
    // Without options there is no deadline to set up or dispose: no extra async frame.
    return options === undefined
      ? this.#slot.take(undefined, "accept").then(this.#wrap)
      : this.#acceptWithin(options);
  }

  async #acceptWithin(options: DeadlineOptions): Promise<S> {
    using deadline = deadlineOf("accept", options, this.#label);
    return this.#wrap(await this.#slot.take(deadline, "accept"));
  }

  /**
   * Stops listening. Pending accepts reject `closed`; a connection accepted
   * but not yet handed out is closed. The port or path is free once the
   * runtime has let go of the accept in flight: `await using` (or awaiting
   * `[Symbol.asyncDispose]()`) waits for that.
   *
   * @returns `true` if this call closed it, `false` when already closed.
   *
   * @example
   * ```ts
   * import { listen } from "@netkit/netkit/tcp";
   *
   * const listener = listen({ hostname: "127.0.0.1", port: 0 });
   * console.log(listener.close(), listener.close()); // true false
   * ```
   */
  close(): boolean {
    if (!this.#slot.close()) return false;
    if (this.#native !== undefined) closingOf(this.#native, this.#label);
    return true;
  }

  /** Closes and waits until the accept in flight has settled, so the port or path is free. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#slot.settled();
  }

  /** Yields accepted streams until the listener closes. */
  [Symbol.asyncIterator](): AsyncIterator<S> {
    return this.#slot.iterate(() => this.accept());
  }

  /** The readiness `scheduler.select` uses: readable when a connection waits. */
  [pollable](): Pollable {
    return this.#readiness ??= this.#slot.pollable(NEVER_WRITABLE);
  }

  #readiness: Pollable | undefined;

  // --- below Deno (--allow-ffi) ----------------------------------------------

  /** The runtime socket's native side, made at the first call that needs it. */
  #native: NativeSocket | undefined;

  get #socket(): NativeSocket {
    return this.#native ??= new NativeSocket("listener", this.#source, () => this.#label);
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
   * import { listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * console.log(listener.fileno() > 2); // true
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
   * import { listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * listener.setOption("so_rcvbuf", 262144);
   * console.log(listener.getOption("so_rcvbuf")); // 524288
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
   * import { listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * console.log(listener.getOption("so_acceptconn"), listener.getOption("so_type")); // true "stream"
   * ```
   */
  getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    return getOptionOf(this.#socket, name, this.#slot.closed, this.#label) as SocketOptionValues[K];
  }
}
