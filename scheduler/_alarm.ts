/**
 * The precise clock behind `new Scheduler({ precise: true })`: the system
 * clock's time, with its one alarm on a runtime thread instead of a host
 * timer. The alarm is a timerfd (CLOCK_MONOTONIC, nanoseconds) and a
 * `poll(2)` on it made with a `nonblocking: true` call, so it wakes the event
 * loop about 0.1 ms after the due time where `setTimeout` wakes it about
 * 1.2 ms after.
 *
 * One scheduler, one clock, one timerfd and at most one `poll` in flight,
 * whatever the number of timers: the scheduler keeps one alarm for its whole
 * queue. Re-arming (earlier or later) is one `timerfd_settime` on the
 * descriptor the `poll` already watches, so it takes effect without waking
 * anything; stopping sets the timerfd to expire at once, so the `poll`
 * returns and nothing stays pending. The descriptor and the C library are
 * held from the first alarm until a turn of the event loop passes with no
 * alarm set (a loop of sleeps keeps both; an idle program has neither).
 *
 * @module
 */

import { hold, idle, type Native, native, nativeStatus, unhold } from "../common/_native/libc.ts";
import { type Clock, systemClock } from "./clock.ts";

/** The same number on every Linux architecture. */
const CLOCK_MONOTONIC = 1;
const POLLIN = 0x1;
/** Seconds a single `timerfd_settime` is asked for at most; the scheduler re-arms past it. */
const MAX_SECONDS = 2 ** 31 - 1;

let inFlight = 0;
/** Precise clocks holding a timerfd. */
let opened = 0;
let idleWaiters: (() => void)[] = [];

/** How many alarm `poll`s are in flight, over every precise clock (for tests). */
export function alarmWaits(): number {
  return inFlight;
}

/** Resolves once no precise clock has a `poll` in flight or a timerfd open (for tests). */
export function alarmsIdle(): Promise<void> {
  if (inFlight === 0 && opened === 0) return Promise.resolve();
  return new Promise((resolve) => idleWaiters.push(resolve));
}

function checkIdle(): void {
  if (inFlight !== 0 || opened !== 0 || idleWaiters.length === 0) return;
  const waiters = idleWaiters;
  idleWaiters = [];
  for (const resolve of waiters) resolve();
}

/** Whether a precise clock can be made here (`--allow-ffi` granted, Linux, C library loads). */
export function preciseAvailable(): boolean {
  return nativeStatus().available;
}

/** An alarm that is not the runtime-thread one: due already, or a fallback host timer. */
class HostAlarm {
  readonly handle: unknown;
  constructor(handle: unknown) {
    this.handle = handle;
  }
}

/** A clock whose alarm waits on a runtime thread (one per scheduler). */
export class PreciseClock implements Clock {
  #n: Native | undefined = undefined;
  #fd = -1;
  /** The alarm set, or `undefined`. */
  #token: object | undefined = undefined;
  #due = Infinity;
  #callback: (() => void) | undefined = undefined;
  #polling = false;
  #stopQueued = false;
  #releaseQueued = false;
  /** `struct itimerspec`: interval (zero), then the value. */
  readonly #spec = new BigInt64Array(4);
  /** One `struct pollfd`: the timerfd, POLLIN. */
  readonly #pollfd = new Uint8Array(8);
  readonly #view = new DataView(this.#pollfd.buffer);

  now(): number {
    return performance.now();
  }

  setAlarm(at: number, callback: () => void): unknown {
    const delay = at - performance.now();
    if (delay <= 0) return new HostAlarm(systemClock.setAlarm(at, callback));
    if (this.#fd < 0 && !this.#open()) return new HostAlarm(systemClock.setAlarm(at, callback));
    const token = {};
    this.#token = token;
    this.#due = at;
    this.#callback = callback;
    // Opening may have taken a while: the delay is counted from now.
    this.#settime(at - performance.now());
    if (!this.#polling) this.#poll();
    return token;
  }

  clearAlarm(handle: unknown): void {
    if (handle instanceof HostAlarm) return systemClock.clearAlarm(handle.handle);
    if (handle !== this.#token || handle === undefined) return;
    this.#token = undefined;
    this.#due = Infinity;
    this.#callback = undefined;
    // The scheduler clears and sets in one go when it moves the alarm
    // earlier: stop the poll only if no alarm is set by the end of the task.
    if (this.#polling && !this.#stopQueued) {
      this.#stopQueued = true;
      queueMicrotask(this.#stopIfUnset);
    }
  }

  /** Opens the timerfd (and holds the C library); false when it cannot be had. */
  #open(): boolean {
    let n: Native;
    try {
      n = native("Scheduler", "a precise alarm");
    } catch {
      return false;
    }
    const fd = n.sym.timerfd_create(CLOCK_MONOTONIC, n.platform.O_NONBLOCK | n.platform.O_CLOEXEC);
    if (fd < 0) {
      idle(); // out of descriptors: the host timer it is, and the library closes if unheld
      return false;
    }
    hold();
    opened++;
    this.#n = n;
    this.#fd = fd;
    this.#view.setInt32(0, fd, true);
    this.#view.setInt16(4, POLLIN, true);
    return true;
  }

  /** Arms the timerfd to expire `ms` from now (relative: the kernel never fires it early). */
  #settime(ms: number): void {
    const ns = ms > 0 ? Math.ceil(ms * 1e6) : 0;
    const spec = this.#spec;
    if (ns >= MAX_SECONDS * 1e9) {
      spec[2] = BigInt(MAX_SECONDS);
      spec[3] = 0n;
    } else {
      const seconds = Math.floor(ns / 1e9);
      spec[2] = BigInt(seconds);
      spec[3] = BigInt(Math.max(1, ns - seconds * 1e9));
    }
    this.#n!.sym.timerfd_settime(this.#fd, 0, spec, null);
  }

  #poll(): void {
    this.#polling = true;
    inFlight++;
    this.#view.setInt16(6, 0, true);
    this.#n!.sym.poll_wait(this.#pollfd, 1n, -1).then(this.#landed);
  }

  #landed = (): void => {
    this.#polling = false;
    inFlight--;
    try {
      this.#check();
    } finally {
      if (!this.#polling && !this.#releaseQueued) {
        this.#releaseQueued = true;
        setImmediate(this.#releaseIfIdle);
      }
    }
  };

  /** After a wait returned: fire the alarm when due, or wait again for it. */
  #check(): void {
    if (this.#token !== undefined) {
      const now = performance.now();
      if (now >= this.#due) {
        const callback = this.#callback!;
        this.#token = undefined;
        this.#due = Infinity;
        this.#callback = undefined;
        callback(); // may set the next alarm, which polls again
      } else {
        // Woken by a stop that an alarm set since overtook, or early.
        this.#settime(this.#due - now);
        this.#poll();
      }
    }
  }

  #stopIfUnset = (): void => {
    this.#stopQueued = false;
    if (this.#token === undefined && this.#polling) this.#settime(0);
  };

  /** Closes the timerfd and lets go of the C library once a turn passed with no alarm. */
  #releaseIfIdle = (): void => {
    this.#releaseQueued = false;
    if (this.#polling || this.#token !== undefined || this.#fd < 0) return;
    this.#n!.sym.close(this.#fd);
    this.#fd = -1;
    this.#n = undefined;
    opened--;
    unhold();
    checkIdle();
  };
}
