/**
 * Waiting for a descriptor without the runtime's reactor: `poll(2)` on a
 * runtime thread (a `nonblocking: true` call), with a wake-up descriptor (an
 * eventfd) beside it so the wait can be ended at once from this thread — a
 * blocking call on a runtime thread does not wake by itself when its
 * descriptor is closed.
 *
 * One {@linkcode Waiter} serves one owner (a raw or datagram socket, an
 * error watcher, an alarm): at most one wait in flight at a time. The owner
 * closes its own descriptor only after {@linkcode Waiter.close} settled, so
 * the number is never reused under a pending `poll`.
 *
 * @module
 */

import { hold, type Native, native, unhold } from "./libc.ts";

/** `poll(2)` event bits (the same numbers on every Linux architecture). */
export const POLLIN = 0x1;
/** Writable. */
export const POLLOUT = 0x4;
/** An error is pending (always reported, even when not asked for). */
export const POLLERR = 0x8;
/** Hung up (always reported). */
export const POLLHUP = 0x10;
/** Not an open descriptor (always reported). */
export const POLLNVAL = 0x20;

const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

/** A readiness wait on a runtime thread that this thread can end at once. */
export class Waiter {
  readonly #n: Native;
  readonly #wake: number;
  /** Two `struct pollfd` (8 bytes each): the watched descriptor, then the eventfd. */
  readonly #fds = new Uint8Array(16);
  readonly #view = new DataView(this.#fds.buffer);
  readonly #count = new Uint8Array(8);
  #pending: Promise<number> | null = null;
  #closing: Promise<void> | null = null;

  /**
   * Opens the wake-up descriptor and holds the C library until
   * {@linkcode close} has settled.
   *
   * @param op The netkit operation errors name.
   * @param what What needs it, for the `not_supported` message.
   * @param address The address errors name.
   * @throws {NetError} `not_supported` without `--allow-ffi`; the mapped
   *   errno when no eventfd can be made (`too_many_open_files`…).
   */
  constructor(op: string, what: string, address?: string) {
    const n = native(op, what, address);
    const wake = n.sym.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake < 0) throw n.fail("eventfd", op, address);
    hold();
    this.#n = n;
    this.#wake = wake;
    this.#view.setInt32(8, wake, true);
    this.#view.setInt16(12, POLLIN, true);
  }

  /** True while a wait is in flight. */
  get waiting(): boolean {
    return this.#pending !== null;
  }

  /**
   * Waits until `fd` reports one of `events` (errors and hang-ups always
   * count), the timeout passes, or {@linkcode wake} is called.
   *
   * @param fd The descriptor to watch.
   * @param events `POLLIN`, `POLLOUT`, or 0 for errors and hang-ups only.
   * @param timeoutMs Milliseconds, or -1 for no limit.
   * @returns `fd`'s reported events, or 0 when woken or timed out.
   * @throws {Error} when a wait is already in flight or the waiter is closed.
   */
  wait(fd: number, events: number, timeoutMs = -1): Promise<number> {
    if (this.#closing !== null) throw new Error("the waiter is closed");
    if (this.#pending !== null) throw new Error("a wait is already in flight");
    this.#view.setInt32(0, fd, true);
    this.#view.setInt16(4, events, true);
    this.#view.setInt16(6, 0, true);
    this.#view.setInt16(14, 0, true);
    const call = this.#n.sym.poll_wait(this.#fds, 2n, Math.trunc(timeoutMs));
    return this.#pending = call.then((ready) => {
      this.#pending = null;
      if (ready < 0) return 0; // EINTR: the caller looks again
      if (this.#view.getInt16(14, true) !== 0) this.#drain();
      return this.#view.getInt16(6, true);
    });
  }

  /** Ends the wait in flight (if any) at once; a later wait is not affected once it returned. */
  wake(): void {
    if (this.#pending === null) return;
    new DataView(this.#count.buffer).setBigUint64(0, 1n, true);
    this.#n.sym.write(this.#wake, this.#count, 8n);
  }

  #drain(): void {
    this.#n.sym.read(this.#wake, this.#count, 8n);
  }

  /**
   * Ends any wait in flight and, once it returned, closes the wake-up
   * descriptor and lets go of the C library. Calling it again returns the
   * same promise.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.wake();
    const done = () => {
      this.#n.sym.close(this.#wake);
      unhold();
    };
    const pending = this.#pending;
    this.#closing = pending === null ? Promise.resolve(done()) : pending.then(done, done);
    return this.#closing;
  }
}
