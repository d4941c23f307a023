/**
 * Kernel-connected UDP (with `--allow-ffi`): connect(2) on the socket's
 * descriptor, so the kernel filters what is received and reports ICMP
 * errors for what was sent; connect(AF_UNSPEC) to dissolve it, binding the
 * socket's own port again when Linux dropped it (it drops a port it chose
 * itself); and the error watcher that brings those ICMP errors to
 * `receive`.
 *
 * The runtime's reactor does not wake a pending receive when the kernel
 * marks an error on the socket (it waits for readable data only), so a
 * watcher waits for the error itself: poll(2) for errors only on a runtime
 * thread, beside a wake-up descriptor. When it reports one, SO_ERROR is
 * read (which clears it, so the error is reported once) and handed to the
 * socket; the runtime's receive in flight goes on.
 *
 * @module
 */

import { encodeSockaddr } from "../common/_native/descriptor.ts";
import { errorCodeOf, NetError } from "../common/errors.ts";
import type { Native } from "../common/_native/libc.ts";
import { POLLERR, POLLHUP, POLLNVAL, Waiter } from "../common/_native/wait.ts";
import type { Family } from "./_address.ts";

/**
 * connect(2): from now on the kernel receives only from `hostname:port`
 * and reports ICMP errors for datagrams sent there.
 *
 * @throws {NetError} what the kernel reported (`host_unreachable` for an
 *   unreachable network, …).
 */
export function kernelConnect(
  n: Native,
  fd: number,
  family: Family,
  hostname: string,
  port: number,
  op: string,
  label: string | undefined,
): void {
  const addr = encodeSockaddr(n, hostname, port, family !== "v4");
  if (n.sym.connect(fd, addr, addr.length) !== 0) throw n.fail("connect", op, label);
}

const UNSPEC = new Uint8Array(16);
const name = new Uint8Array(128);
const nameLength = new Uint8Array(4);

/**
 * connect(AF_UNSPEC): the kernel receives from anyone again. Linux then
 * drops a port it chose itself (the next send would pick another), so the
 * socket's own address is bound again: its `addr` stays true.
 *
 * @param local The socket's own address (what the runtime reports).
 * @throws {NetError} `address_in_use` when another socket took the port in between.
 */
export function kernelDisconnect(
  n: Native,
  fd: number,
  family: Family,
  local: Deno.NetAddr,
  op: string,
  label: string | undefined,
): void {
  UNSPEC[0] = n.platform.AF_UNSPEC;
  if (n.sym.connect(fd, UNSPEC, UNSPEC.length) !== 0) throw n.fail("connect(AF_UNSPEC)", op, label);
  new DataView(nameLength.buffer).setUint32(0, name.length, true);
  if (n.sym.getsockname(fd, name, nameLength) !== 0) throw n.fail("getsockname", op, label);
  if (new DataView(name.buffer).getUint16(2) !== 0) return;
  const addr = encodeSockaddr(n, local.hostname, local.port, family !== "v4");
  if (n.sym.bind(fd, addr, addr.length) !== 0) throw n.fail("bind", op, label);
}

/** Errors the kernel keeps on a connected UDP socket for what it sent. */
export function isSendError(failure: NetError): boolean {
  return failure.code === "connection_refused" || failure.code === "host_unreachable";
}

const value = new Uint8Array(4);
const valueLength = new Uint8Array(4);

/** Reads (and so clears) SO_ERROR: the pending error as a receive failure, or `undefined`. */
function pendingError(n: Native, fd: number, peer: string | undefined): NetError | undefined {
  const p = n.platform;
  value.fill(0);
  new DataView(valueLength.buffer).setUint32(0, 4, true);
  if (n.sym.getsockopt(fd, p.SOL_SOCKET, p.SO.ERROR, value, valueLength) !== 0) return undefined;
  const errno = new DataView(value.buffer).getInt32(0, true);
  if (errno === 0) return undefined;
  const errnoName = n.errnoName(errno);
  const cause = Object.assign(new Error(`${errnoName} (os error ${errno})`), { code: errnoName });
  const code = errorCodeOf(cause);
  const what = code === "connection_refused"
    ? "nothing listens on the peer's port (the kernel got an ICMP port unreachable)"
    : code === "host_unreachable"
    ? "the peer is unreachable (the kernel got an ICMP unreachable)"
    : "the kernel reported an error for a datagram sent to the peer";
  return new NetError(code, `${what}: ${errnoName}`, { op: "receive", address: peer, cause });
}

/** A poll that answers errors only, yet every time, is given up after this many answers. */
const SPURIOUS_LIMIT = 8;

/**
 * One socket's error watcher: while started, one poll(2) for errors only
 * is in flight on a runtime thread; each error read is handed to `report`.
 */
export class ErrorWatcher {
  readonly #waiter: Waiter;
  readonly #check: () => { n: Native; fd: number };
  readonly #report: (failure: NetError) => void;
  readonly #peer: () => string | undefined;
  #active = false;
  #loop: Promise<void> | null = null;
  #closing: Promise<void> | null = null;

  /**
   * Opens the wake-up descriptor (and holds the C library until closed).
   *
   * @param check The socket's descriptor, re-checked (throws once it is gone).
   * @param report Takes an error the kernel reported.
   * @param peer How errors name the peer.
   * @param label The socket's address, for a failure to make the watcher.
   */
  constructor(
    check: () => { n: Native; fd: number },
    report: (failure: NetError) => void,
    peer: () => string | undefined,
    label: string | undefined,
  ) {
    this.#waiter = new Waiter("connect", "a connected UDP socket's error watcher", label);
    this.#check = check;
    this.#report = report;
    this.#peer = peer;
  }

  /** Starts watching (again); harmless while watching. */
  start(): void {
    if (this.#closing !== null) return;
    this.#active = true;
    this.#loop ??= this.#run();
  }

  /** Stops watching: the wait in flight ends at once. */
  stop(): void {
    this.#active = false;
    this.#waiter.wake();
  }

  async #run(): Promise<void> {
    let spurious = 0;
    try {
      while (this.#active) {
        const { fd } = this.#check();
        const events = await this.#waiter.wait(fd, 0);
        if (!this.#active) break;
        if ((events & POLLNVAL) !== 0) break;
        if ((events & (POLLERR | POLLHUP)) === 0) continue;
        const { n, fd: now } = this.#check();
        const failure = pendingError(n, now, this.#peer());
        if (failure !== undefined) {
          spurious = 0;
          this.#report(failure);
        } else if (++spurious >= SPURIOUS_LIMIT) {
          // Something other than a pending error keeps poll answering (never
          // seen on UDP): stop rather than spin; a send still reports errors.
          break;
        }
      }
    } catch {
      // The descriptor went (the socket closes): nothing more to watch.
    } finally {
      this.#loop = null;
    }
  }

  /**
   * Stops for good and lets go of the wake-up descriptor once the wait in
   * flight returned; the same promise every time.
   */
  close(): Promise<void> {
    if (this.#closing !== null) return this.#closing;
    this.#active = false;
    const loop = this.#loop;
    const closing = this.#waiter.close();
    this.#closing = loop === null ? closing : Promise.all([closing, loop]).then(() => {});
    return this.#closing;
  }
}
