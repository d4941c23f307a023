/**
 * {@linkcode fdopen}: this process's stdin, stdout or stderr as a netkit
 * stream.
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
import { invalidArgument } from "../common/_options.ts";
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

/**
 * A {@linkcode Stream} over this process's stdin (0), stdout (1) or stderr
 * (2) (XPIO's `fdopen`). Closing the stream leaves the descriptor itself
 * open, since the runtime and `console` share it. Given to `spawn` in
 * `files`, the descriptor itself is handed to the child.
 *
 * @param fd 0, 1 or 2.
 * @returns A stream; stdin only reads, stdout and stderr only write
 *   (the other direction fails with `not_supported`).
 * @throws {NetError} `invalid_argument` for another fd.
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
export function fdopen(fd: 0 | 1 | 2): Stream {
  if (fd !== 0 && fd !== 1 && fd !== 2) {
    throw invalidArgument("fdopen", "fd", "0, 1 or 2", fd);
  }
  const stream = new Stream(new StdioTransport(fd), {
    localAddr: null,
    remoteAddr: null,
    label: NAMES[fd],
  });
  registerDescriptor(stream, fd);
  return stream;
}
