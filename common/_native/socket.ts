/**
 * The native side of one netkit socket object: what kind of socket it is
 * (known from its runtime addresses, without FFI, so input is checked the
 * same with or without `--allow-ffi`), and its descriptor, found on demand,
 * checked before each use and forgotten at close.
 *
 * A transport or accept source that is not itself the runtime socket (a TLS
 * transport over a TCP connection, a wrapper) names it under
 * {@linkcode runtimeSocket}.
 *
 * @module
 */

import { NetError } from "../errors.ts";
import { closedError } from "../_errors.ts";
import { addrKey, locate, type Located, release, stillHeld, trackAccepts } from "./fd.ts";
import { hold, type Native, native, unhold } from "./libc.ts";

/**
 * The key under which a transport (or accept or datagram source) returns the
 * runtime object whose descriptor it uses: `transport[runtimeSocket]()`.
 */
export const runtimeSocket: unique symbol = Symbol("netkit.runtimeSocket");

/** The six kinds of socket netkit objects have. */
export type SocketKind =
  | "tcp-stream"
  | "unix-stream"
  | "tcp-listener"
  | "unix-listener"
  | "udp"
  | "unix-dgram";

/** The IP family as options see it: `dual` is an IPv6 socket that also carries IPv4. */
export type SocketFamily = "v4" | "v6" | "dual" | "unix";

/** What the object is: a stream, a listener or a datagram socket. */
export type SocketRole = "stream" | "listener" | "datagram";

const KIND_NAMES: Record<SocketKind, string> = {
  "tcp-stream": "a TCP stream",
  "unix-stream": "a unix stream",
  "tcp-listener": "a TCP listener",
  "unix-listener": "a unix listener",
  "udp": "a UDP socket",
  "unix-dgram": "a unix datagram socket",
};

interface Addressed {
  localAddr?: Deno.Addr | null;
  remoteAddr?: Deno.Addr | null;
  addr?: Deno.Addr;
}

/** The runtime object under `source`: what it names under {@linkcode runtimeSocket}, else itself. */
function runtimeOf(source: object): object {
  const named = (source as { [runtimeSocket]?: () => object })[runtimeSocket];
  return typeof named === "function" ? named.call(source) : source;
}

function familyOf(addrs: (Deno.Addr | null | undefined)[]): SocketFamily {
  let v6 = false;
  let dual = false;
  for (const addr of addrs) {
    if (addr === null || addr === undefined || !("hostname" in addr)) continue;
    const host = addr.hostname;
    if (!host.includes(":")) return "v4";
    v6 = true;
    if (host === "::" || host.toLowerCase().startsWith("::ffff:")) dual = true;
  }
  return dual ? "dual" : v6 ? "v6" : "v4";
}

/**
 * One object's socket: its kind, and its descriptor once asked.
 */
export class NativeSocket {
  /** The kind, or `null` when the object is no socket (a process pipe). */
  readonly kind: SocketKind | null;
  readonly family: SocketFamily;
  /** True for a unix stream that a listener accepted (its own name is the listener's). */
  readonly accepted: boolean;
  readonly #owner: object;
  readonly #local: Deno.Addr | undefined;
  readonly #peer: Deno.Addr | null | undefined;
  readonly #label: () => string | undefined;
  #located: Located | undefined;
  #forgotten = false;

  /**
   * @param role Stream, listener or datagram socket.
   * @param source The transport or runtime socket (see {@linkcode runtimeSocket}).
   * @param label How errors name the object.
   */
  constructor(role: SocketRole, source: object, label: () => string | undefined) {
    this.#owner = runtimeOf(source);
    this.#label = label;
    const addressed = this.#owner as Addressed;
    const local = role === "stream" ? addressed.localAddr : addressed.addr;
    const peer = role === "stream" ? addressed.remoteAddr : undefined;
    const transport = local?.transport;
    let kind: SocketKind | null = null;
    if (transport === "tcp") kind = role === "listener" ? "tcp-listener" : "tcp-stream";
    else if (transport === "unix") kind = role === "listener" ? "unix-listener" : "unix-stream";
    else if (transport === "udp") kind = "udp";
    else if (transport === "unixpacket") kind = "unix-dgram";
    if (role === "stream" && kind !== "tcp-stream" && kind !== "unix-stream") kind = null;
    if (role === "stream" && (peer === undefined)) kind = null;
    this.kind = kind;
    this.#local = local ?? undefined;
    this.#peer = peer;
    this.family = kind === null || kind.startsWith("unix") ? "unix" : familyOf([local, peer]);
    this.accepted = kind === "unix-stream" && typeof (local as Deno.UnixAddr).path === "string" &&
      (local as Deno.UnixAddr).path !== "";
  }

  /** How messages name the kind: `"a TCP stream"`. */
  get kindName(): string {
    return this.kind === null ? "this object (not a socket)" : KIND_NAMES[this.kind];
  }

  /** The runtime object the descriptor belongs to. */
  get owner(): object {
    return this.#owner;
  }

  /** The key of the socket's own kernel name. */
  get localKey(): string {
    return addrKey(this.#local!);
  }

  /** Whether the descriptor was already found (and is still held). */
  get located(): boolean {
    return this.#located !== undefined;
  }

  /**
   * The library, or `not_supported` naming `--allow-ffi` (or why this is no socket).
   *
   * @param op The netkit operation.
   * @param what What needs it, for the message.
   */
  native(op: string, what: string): Native {
    if (this.kind === null) {
      throw new NetError(
        "not_supported",
        `${what} needs a socket, and this stream shows no socket addresses (a process pipe or a socket pair)`,
        { op, address: this.#label() },
      );
    }
    return native(op, what, this.#label());
  }

  /**
   * The descriptor: found on first use, re-checked on each later one.
   *
   * @param op The netkit operation.
   * @param what What needs it, for the message.
   * @param arm Whether asking arms accept tracking (false for netkit's own uses).
   * @throws {NetError} `not_supported` (no FFI, or not identifiable),
   *   `closed` once forgotten or when the socket went underneath.
   */
  fd(op: string, what: string, arm = true): { n: Native; fd: number } {
    const n = this.native(op, what);
    if (this.#forgotten) throw closedError(op, this.#label());
    const located = this.#located;
    if (located !== undefined) {
      if (stillHeld(n, located)) return { n, fd: located.fd };
      this.forget();
      throw new NetError("closed", "the socket's descriptor was closed underneath netkit", {
        op,
        address: this.#label(),
      });
    }
    const kind = this.kind!;
    if (arm && (kind === "unix-listener" || this.accepted)) {
      // From now on every stream this listener accepts is identified as it lands.
      trackAccepts(n, this.localKey);
    }
    const p = n.platform;
    const listener = kind === "tcp-listener" || kind === "unix-listener";
    const datagram = kind === "udp" || kind === "unix-dgram";
    this.#located = locate(
      n,
      {
        local: this.localKey,
        peer: datagram ? undefined : listener ? "" : addrKey(this.#peer ?? nullPeer(kind)),
        type: datagram ? p.SOCK_DGRAM : p.SOCK_STREAM,
        listening: listener,
        unique: kind === "tcp-stream",
      },
      this.#owner,
      op,
      this.#label(),
      this.accepted ? ACCEPTED_HINT : undefined,
    );
    hold();
    return { n, fd: this.#located.fd };
  }

  /** Forgets the descriptor (at close: the number is reused); later uses are `closed`. */
  forget(): void {
    this.#forgotten = true;
    const located = this.#located;
    this.#located = undefined;
    if (located !== undefined) {
      release(located, this.#owner);
      unhold();
    }
  }
}

const ACCEPTED_HINT = "Unix streams accepted from one listener all show its name and an " +
  "unnamed peer: ask for a stream's descriptor or options while it is the only one open, or " +
  "call the listener's fileno() (or any of its options) before accepting; from then on every " +
  "stream it accepts is identified as it arrives";

function nullPeer(kind: SocketKind): Deno.Addr {
  return kind === "unix-stream"
    ? { transport: "unix", path: null as unknown as string }
    : { transport: "tcp", hostname: "0.0.0.0", port: 0 };
}
