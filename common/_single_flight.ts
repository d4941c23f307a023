/**
 * The one mechanism under every netkit socket: one runtime operation in
 * flight at a time (a read, an accept, a receive), whose result lands in
 * netkit's own state, never in a caller's hands. A caller whose deadline
 * passes stops waiting and the operation goes on, so its result goes to the
 * next caller: a timed-out read, accept or receive consumes nothing.
 *
 * - {@linkcode SingleFlight} is the core: the operation in flight and what
 *   happens when it lands. Stream builds its buffered reads on it.
 * - {@linkcode ReadySlot} adds a slot for one landed value, a sticky
 *   failure and close: listeners (accepts) and datagram sockets (receives)
 *   are thin users of it.
 *
 * @module
 */

import type { Deadline } from "./_deadline.ts";
import { dispatched } from "./_dispatch.ts";
import { closedError } from "./_errors.ts";
import type { NetError } from "./errors.ts";
import type { Pollable } from "./readiness.ts";

/** One runtime operation in flight at a time, and what happens when it lands. */
export class SingleFlight<R> {
  #current: Promise<void> | null = null;
  readonly #landedHook: (result: R) => void | Promise<void>;
  readonly #failedHook: (error: unknown) => void;

  /**
   * @param landed Takes the operation's result into the owner's state; may
   *   start the next operation and return its landing (a dropped datagram).
   * @param failed Takes the operation's failure into the owner's state.
   */
  constructor(landed: (result: R) => void | Promise<void>, failed: (error: unknown) => void) {
    this.#landedHook = landed;
    this.#failedHook = failed;
  }

  #landed = (result: R): void | Promise<void> => {
    this.#current = null;
    dispatched();
    return this.#landedHook(result);
  };

  #failed = (error: unknown): void => {
    this.#current = null;
    dispatched();
    this.#failedHook(error);
  };

  /** The landing of the operation in flight, or `null` when none is. */
  get current(): Promise<void> | null {
    return this.#current;
  }

  /** Puts `operation` in flight; the caller checked that none is (`current === null`). */
  begin(operation: Promise<R>): Promise<void> {
    return this.#current = operation.then(this.#landed, this.#failed);
  }

  /** Resolves once no operation is in flight (the runtime has let go of the resource). */
  async settled(): Promise<void> {
    while (this.#current !== null) await this.#current;
  }
}

/** How a {@linkcode ReadySlot} runs its operation and judges what lands. */
export interface SlotSource<R, T> {
  /** Starts the runtime operation (an accept, a receive). */
  run(): Promise<R>;
  /** The value a result makes, or `undefined` to drop it and run again (a filter). */
  keep(result: R): T | undefined;
  /** The failure to report for an error, or `undefined` to ignore it and run again when asked. */
  fail(error: unknown): NetError | undefined;
  /** Frees a value that landed after close, or that close dropped from the slot. */
  discard(value: T): void;
  /** Closes the runtime resource. */
  stop(): void;
}

/**
 * One operation in flight, one landed value waiting in a slot, a failure
 * kept for the next caller, and close: the accept and receive loops.
 * Any number of callers may wait at once; each gets its own value.
 */
export class ReadySlot<R, T> {
  readonly #source: SlotSource<R, T>;
  readonly #label: string | undefined;
  readonly #flight: SingleFlight<R>;
  #ready: T | undefined;
  #failure: NetError | undefined;
  #closed = false;
  #hold: Promise<void> | null = null;
  #release: (() => void) | null = null;
  /**
   * Set while a failure may come from outside the operation
   * ({@linkcode ReadySlot.interrupt}): called each time a caller waits.
   */
  #onWait: (() => void) | null = null;
  /**
   * While interruptible, what waiting callers wait for: the landing of the
   * operation in flight (`#gateFor`), or an interrupt, whichever is first.
   * One per operation, so nothing piles up on a promise that never settles.
   */
  #gate: Promise<void> | null = null;
  #gateFor: Promise<void> | null = null;
  #openGate: (() => void) | null = null;

  /**
   * @param source The runtime operation and its judges.
   * @param label The address errors name.
   */
  constructor(source: SlotSource<R, T>, label: string | undefined) {
    this.#source = source;
    this.#label = label;
    this.#flight = new SingleFlight<R>(this.#landed, this.#failed);
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  #landed = (result: R): Promise<void> | undefined => {
    if (this.#closed) {
      const late = this.#source.keep(result);
      if (late !== undefined) this.#source.discard(late);
      return undefined;
    }
    const value = this.#source.keep(result);
    if (value !== undefined) {
      this.#ready = value;
      return undefined;
    }
    // Dropped: the (still wanted) operation goes on, unless the resource is held.
    return this.#hold === null ? this.#start() : undefined;
  };

  #failed = (error: unknown): void => {
    if (!this.#closed) this.#failure = this.#source.fail(error);
  };

  #start(): Promise<void> {
    if (this.#hold !== null) return this.#hold;
    return this.#flight.current ?? this.#flight.begin(this.#source.run());
  }

  /**
   * The next value: the one waiting, else the next to land, within the
   * call's deadline.
   *
   * @throws {NetError} `closed`, the deadline's `timeout`/`aborted`, or the
   *   failure the runtime reported (once).
   */
  take(deadline: Deadline | undefined, op: string): Promise<T> {
    // Fast path (no async frame): a value is waiting and no deadline is set.
    const ready = this.#ready;
    if (ready !== undefined && deadline === undefined && !this.#closed) {
      this.#ready = undefined;
      return Promise.resolve(ready);
    }
    return this.#take(deadline, op);
  }

  async #take(deadline: Deadline | undefined, op: string): Promise<T> {
    for (;;) {
      if (this.#closed) throw closedError(op, this.#label);
      deadline?.check();
      const ready = this.#ready;
      if (ready !== undefined) {
        this.#ready = undefined;
        return ready;
      }
      const failure = this.#failure;
      if (failure !== undefined) {
        this.#failure = undefined;
        throw failure;
      }
      const landing = this.#waitable();
      await (deadline === undefined ? landing : deadline.wait(landing));
    }
  }

  /** The landing of the operation (started if needed), or an interrupt, whichever is first. */
  #waitable(): Promise<void> {
    const landing = this.#start();
    const onWait = this.#onWait;
    if (onWait === null) return landing;
    onWait();
    if (this.#gate === null || this.#gateFor !== landing) {
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      landing.then(open, open);
      this.#gate = gate;
      this.#gateFor = landing;
      this.#openGate = open;
    }
    return this.#gate;
  }

  /** Wakes the callers waiting at the gate (they look again). */
  #wakeGate(): void {
    const open = this.#openGate;
    this.#gate = null;
    this.#gateFor = null;
    this.#openGate = null;
    open?.();
  }

  /**
   * The next value without taking it: the one waiting, else the next to
   * land, within the call's deadline; it stays for the next caller. A
   * failure is reported (and consumed) as by {@linkcode ReadySlot.take}.
   *
   * @throws {NetError} as {@linkcode ReadySlot.take}.
   */
  async peek(deadline: Deadline | undefined, op: string): Promise<T> {
    for (;;) {
      if (this.#closed) throw closedError(op, this.#label);
      deadline?.check();
      const ready = this.#ready;
      if (ready !== undefined) return ready;
      const failure = this.#failure;
      if (failure !== undefined) {
        this.#failure = undefined;
        throw failure;
      }
      const landing = this.#waitable();
      await (deadline === undefined ? landing : deadline.wait(landing));
    }
  }

  /**
   * Lets {@linkcode ReadySlot.interrupt} end waits (a failure that the
   * operation in flight does not report by itself, e.g. an error the kernel
   * keeps on a socket): `onWait` is called each time a caller waits (to
   * start whatever watches for that failure); `null` turns it off, and a
   * wait then costs nothing more.
   */
  set interruptible(onWait: (() => void) | null) {
    this.#onWait = onWait;
  }

  /**
   * Keeps `failure` for the next caller and wakes those waiting, who report
   * it (the first one) unless a value landed; the operation in flight goes
   * on and its value goes to a later caller. Ignored once closed.
   */
  interrupt(failure: NetError): void {
    if (this.#closed) return;
    this.#failure = failure;
    this.#wakeGate();
  }

  /** Takes the kept failure if `which` says so, for a caller that reports it instead of a take. */
  claimFailure(which: (failure: NetError) => boolean): NetError | undefined {
    const failure = this.#failure;
    if (failure === undefined || !which(failure)) return undefined;
    this.#failure = undefined;
    return failure;
  }

  /**
   * Frees the resource from the operation in flight and starts none until
   * {@linkcode ReadySlot.resume}, for runtimes that cannot do anything else
   * while it is pending (Deno's unix datagram sockets cannot send while a
   * receive is).
   *
   * @param wake Makes the operation in flight land (e.g. a datagram the
   *   filter drops); not awaited (it may queue behind others).
   */
  async pause(wake: () => Promise<unknown>): Promise<void> {
    this.#hold ??= new Promise<void>((release) => {
      this.#release = release;
    });
    while (this.#flight.current !== null && !this.#closed) {
      const current = this.#flight.current;
      wake().catch(() => {});
      await current;
    }
  }

  /** Lets operations run again after {@linkcode ReadySlot.pause}. */
  resume(): void {
    const release = this.#release;
    this.#hold = null;
    this.#release = null;
    release?.();
  }

  /** Drops the waiting value when `keep` would now refuse it (a filter that changed). */
  recheck(keeps: (value: T) => boolean): void {
    if (this.#ready !== undefined && !keeps(this.#ready)) this.#ready = undefined;
  }

  /** Closes: waiting callers reject `closed`, a waiting value is discarded. False when already closed. */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    const ready = this.#ready;
    this.#ready = undefined;
    if (ready !== undefined) this.#source.discard(ready);
    this.#wakeGate();
    this.resume();
    try {
      this.#source.stop();
    } catch {
      // Already closed by the runtime.
    }
    return true;
  }

  /** Resolves once the runtime has let go of the operation in flight. */
  settled(): Promise<void> {
    return this.#flight.settled();
  }

  /** Yields what `next` returns until the slot closes (then ends quietly). */
  async *iterate<V>(next: () => Promise<V>): AsyncGenerator<V> {
    for (;;) {
      try {
        yield await next();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  /** True when a caller would not wait: a value or a failure is there, or the slot is closed. */
  get readable(): boolean {
    return this.#ready !== undefined || this.#failure !== undefined || this.#closed;
  }

  /** Readiness for `select`: readable when a value waits; never consumes. */
  pollable(write: Pick<Pollable, "pollWrite" | "waitWrite">): Pollable {
    const isClosed = () => this.#closed;
    return {
      get closed() {
        return isClosed();
      },
      pollRead: () => this.readable,
      waitRead: async () => {
        while (!this.readable) await this.#waitable();
      },
      pollWrite: write.pollWrite,
      waitWrite: write.waitWrite,
    };
  }
}
