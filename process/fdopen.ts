/**
 * {@linkcode fdopen}: any descriptor this process holds as a netkit object
 * (XPIO's `fdopen`): stdin, stdout and stderr as streams, and with
 * `--allow-ffi` a connected socket as a `TcpStream` or `UnixStream`, a
 * listening one as a `TcpListener` or `UnixListener`, a pipe, FIFO, file or
 * device as a `Stream`.
 *
 * @example
 * ```ts
 * import { fdopen } from "@netkit/netkit/process";
 *
 * const stdin = fdopen(0);
 * console.log(stdin.closed); // false
 * stdin.close(); // the descriptor itself stays open
 * ```
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import { invalidArgument, validateOptions } from "../common/_options.ts";
import { idle, native } from "../common/_native/libc.ts";
import { duplicate } from "../common/_native/descriptor.ts";
import { adopt } from "./_adopt.ts";
import type { TcpListener, TcpStream } from "../tcp/mod.ts";
import type { UnixListener, UnixStream } from "../unix/mod.ts";
import type { UdpSocket, UnixDatagramClient } from "../udp/mod.ts";
import { Stream, type StreamTransport } from "../common/stream.ts";
import { registerDescriptor } from "./_handoff.ts";

const NAMES = ["stdin", "stdout", "stderr"] as const;

class StdioTransport implements StreamTransport {
  #fd: 0 | 1 | 2;

  constructor(fd: 0 | 1 | 2) {
    this.#fd = fd;
  }

  #oneWay(op: string): NetError {
    return new NetError(
      "not_supported",
      `${NAMES[this.#fd]} is ${op === "read" ? "write" : "read"}-only`,
      {
        op,
        address: NAMES[this.#fd],
      },
    );
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#fd !== 0) return Promise.reject(this.#oneWay("read"));
    return Deno.stdin.read(buffer);
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#fd === 1) return Deno.stdout.write(data);
    if (this.#fd === 2) return Deno.stderr.write(data);
    return Promise.reject(this.#oneWay("write"));
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    // The descriptor belongs to the process (console.log uses it too): keep it.
  }
}

/** Options of {@linkcode fdopen}. */
export interface FdopenOptions {
  /**
   * Adopt a duplicate of the descriptor (made close-on-exec) instead of the
   * descriptor itself, which then stays open and the caller's (default
   * `false`: the result owns the descriptor, and closing it closes it).
   * Ignored for 0, 1 and 2.
   */
  duplicate?: boolean;
}

const FDOPEN_RULES = { duplicate: { type: "boolean" } } as const;

/**
 * What {@linkcode fdopen} makes of a descriptor: a `TcpStream` or
 * `UnixStream` (a connected stream socket), a `TcpListener` or
 * `UnixListener` (a listening one), a `UdpSocket` or `UnixDatagramClient`
 * (a datagram socket), or a `Stream` (a pipe, FIFO, file or device).
 * Narrow it with `instanceof`.
 */
export type Adopted =
  | Stream
  | TcpStream
  | UnixStream
  | TcpListener
  | UnixListener
  | UdpSocket
  | UnixDatagramClient;

/**
 * A {@linkcode Stream} over this process's stdin (0), stdout (1) or stderr
 * (2) (XPIO's `fdopen`). Closing the stream leaves the descriptor itself
 * open, since the runtime and `console` share it. Given to `spawn` in
 * `files`, the descriptor itself is handed to the child.
 *
 * @param n 0, 1 or 2.
 * @param options `duplicate` (ignored for these three).
 * @returns A stream; stdin only reads, stdout and stderr only write
 *   (the other direction fails with `not_supported`).
 * @throws {NetError} `invalid_argument` naming `n` for a number that is not
 *   an integer of 0 or more.
 *
 * @example
 * ```ts
 * import { fdopen } from "@netkit/netkit/process";
 *
 * const stdout = fdopen(1);
 * await stdout.writeAll("hello from fdopen\n");
 * stdout.close();
 * ```
 */
export function fdopen(n: 0 | 1 | 2, options?: FdopenOptions): Stream;
/**
 * Adopts any descriptor this process holds, by its kind (asked of the
 * kernel): a connected stream socket → `TcpStream` or `UnixStream`; a
 * listening socket → `TcpListener` or `UnixListener`; a UDP socket →
 * `UdpSocket`; a unix datagram socket → `UnixDatagramClient`; a pipe, FIFO,
 * regular file or character device → `Stream` (reads and writes at the
 * descriptor's own offset). Stream sockets, listeners and pipes run over
 * Deno's `node:net`, which takes a descriptor; datagram sockets over the
 * native layer's datagram engine (Deno's `node:dgram` cannot take one);
 * files and devices over the C library. The objects have every member of
 * their class (addresses, deadlines,
 * half-close, `fileno()` — the descriptor itself —, options). The result
 * owns the descriptor (closing it closes the descriptor) unless
 * `options.duplicate`; an owned descriptor is made close-on-exec. Needs
 * `--allow-ffi` to ask the kernel what the descriptor is.
 *
 * Descriptors inherited from a parent (`spawn` with `files`, inetd,
 * `systemd`'s socket activation: see `listenFds`) and those a Worker shares
 * with its parent (`fdopen(listener.fileno(), { duplicate: true })`, so
 * several Workers accept on one port) become netkit objects this way.
 *
 * @param n The descriptor number (an integer of 0 or more).
 * @param options `duplicate`: adopt a duplicate and leave `n` open.
 * @returns The object; narrow it with `instanceof`.
 * @throws {NetError} `invalid_argument` naming `n` (checked first) or a
 *   field of `options`; `not_supported` without `--allow-ffi` (naming it),
 *   for a directory, a stream socket neither connected nor listening, or another kind netkit has no object for; `not_found` when
 *   `n` is not open; `resource_exhausted` when no duplicate can be made (out of
 *   descriptors).
 *
 * @example A second listener on the same socket (as a Worker would make one)
 * ```ts
 * import { fdopen } from "@netkit/netkit/process";
 * import { connect, listen, TcpListener } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const adopted = fdopen(listener.fileno(), { duplicate: true });
 * if (!(adopted instanceof TcpListener)) throw new Error("not a listener");
 * await using twin = adopted;
 * console.log(twin.addr.port === listener.addr.port); // true
 * await using client = await connect("127.0.0.1", twin.addr.port);
 * await using server = await Promise.race([twin.accept(), listener.accept()]);
 * await client.writeAll("hi\n");
 * console.log(await server.readLine()); // "hi"
 * ```
 */
export function fdopen(n: number, options?: FdopenOptions): Adopted;
export function fdopen(n: number, options?: FdopenOptions): Adopted {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw invalidArgument("fdopen", "n", "a descriptor number (an integer of 0 or more)", n);
  }
  const checked = validateOptions<FdopenOptions>("fdopen", options, FDOPEN_RULES);
  if (n <= 2) return stdio(n as 0 | 1 | 2);
  const lib = native("fdopen", `fdopen(${n})`, `fd ${n}`);
  try {
    if (!checked.duplicate) return adopt(lib, n, "fdopen");
    if (lib.sym.fcntl(n, lib.platform.F_GETFL) < 0) {
      throw new NetError("not_found", `descriptor ${n} is not open`, {
        op: "fdopen",
        address: `fd ${n}`,
      });
    }
    const copy = duplicate(lib, n, "fdopen");
    try {
      return adopt(lib, copy, "fdopen");
    } catch (error) {
      lib.sym.close(copy);
      if (error instanceof NetError) {
        throw new NetError(
          error.code,
          error.detail.replace(`descriptor ${copy}`, `descriptor ${n}`),
          {
            op: "fdopen",
            address: `fd ${n}`,
            cause: error.cause,
          },
        );
      }
      throw error;
    }
  } finally {
    idle();
  }
}

function stdio(fd: 0 | 1 | 2): Stream {
  const stream = new Stream(new StdioTransport(fd), {
    localAddr: null,
    remoteAddr: null,
    label: NAMES[fd],
  });
  registerDescriptor(stream, fd);
  return stream;
}
