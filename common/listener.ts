/**
 * The accept loop shared by unix and tcp listeners: one outstanding
 * `accept()` at a time, so an accept that times out consumes nothing (the
 * connection that arrives later goes to the next accept), any number of
 * callers may wait at once, and closing rejects them with `closed`.
 *
 * @module
 */

import { type Deadline, deadlineOf, type DeadlineOptions } from "./deadline.ts";
import { closedError, type NetError, toNetError } from "./errors.ts";
import type { Pollable } from "./readiness.ts";

const DIED_IN_QUEUE = /^(NotConnected|ConnectionAborted|ConnectionReset)$/;

/** What an {@linkcode AcceptPump} runs over: a `Deno.Listener`. */
export interface AcceptSource<C> {
  /** Waits for the next connection. */
  accept(): Promise<C>;
  /** Stops listening. */
  close(): void;
}

/**
 * Accepts connections from a `Deno.Listener` with deadlines that lose
 * nothing. Listener classes hold one and delegate to it.
 */
export class AcceptPump<C extends { close(): void }, S> {
  #source: AcceptSource<C>;
  #wrap: (conn: C) => S;
  #label: string | undefined;
  #pending: Promise<void> | null = null;
  #ready: C | null = null;
  #failure: NetError | null = null;
  #closed = false;

  /**
   * @param source The runtime listener.
   * @param wrap Turns an accepted connection into the stream handed out.
   * @param label The address errors name.
   */
  constructor(source: AcceptSource<C>, wrap: (conn: C) => S, label?: string) {
    this.#source = source;
    this.#wrap = wrap;
    this.#label = label;
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #accepted = (conn: C): void => {
    this.#pending = null;
    if (this.#closed) conn.close();
    else this.#ready = conn;
  };

  #failed = (error: unknown): void => {
    this.#pending = null;
    // A connection reset while still queued (Deno: ENOTCONN from getpeername,
    // or ECONNABORTED) is not the listener's failure: accept the next one.
    if (this.#closed || DIED_IN_QUEUE.test((error as { name?: string })?.name ?? "")) return;
    this.#failure = toNetError(error, "accept", this.#label);
  };

  #start(): Promise<void> {
    this.#pending ??= this.#source.accept().then(this.#accepted, this.#failed);
    return this.#pending;
  }

  /**
   * Accepts the next connection.
   *
   * @throws {NetError} `closed`, `timeout`, `aborted`, or what the runtime
   *   reported (e.g. `resource_exhausted` for EMFILE; the listener goes on).
   */
  async accept(options?: DeadlineOptions): Promise<S> {
    using deadline = deadlineOf("accept", options, this.#label);
    return await this.#accept(deadline);
  }

  async #accept(deadline: Deadline | undefined): Promise<S> {
    for (;;) {
      if (this.#closed) throw closedError("accept", this.#label);
      deadline?.check();
      if (this.#ready !== null) {
        const conn = this.#ready;
        this.#ready = null;
        return this.#wrap(conn);
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
   * Stops listening. Waiting accepts reject `closed`; a connection accepted
   * but not yet handed out is closed. Returns false when already closed.
   */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#ready?.close();
    this.#ready = null;
    try {
      this.#source.close();
    } catch {
      // Already closed by the runtime.
    }
    return true;
  }

  /** Resolves once the runtime has let go of the outstanding accept. */
  async settled(): Promise<void> {
    while (this.#pending !== null) await this.#pending;
  }

  /** Yields accepted streams until the listener closes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<S> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  /** Readiness for `select`: readable when a connection waits. */
  pollable(): Pollable {
    return this.#readiness ??= this.#makeReadiness();
  }

  #readiness: Pollable | undefined;

  #makeReadiness(): Pollable {
    const isClosed = () => this.#closed;
    return {
      get closed() {
        return isClosed();
      },
      pollRead: () => this.#ready !== null || this.#failure !== null || this.#closed,
      waitRead: async () => {
        while (this.#ready === null && this.#failure === null && !this.#closed) {
          await this.#start();
        }
      },
      pollWrite: () => false,
      waitWrite: () => new Promise<void>(() => {}),
    };
  }
}
