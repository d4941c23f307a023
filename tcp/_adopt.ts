/**
 * TCP objects over descriptors netkit did not get from Deno (adopted,
 * inherited, or made with `tcp.socket()`): a connected socket becomes a
 * `TcpStream`, a listening one a `TcpListener`, both over `node:net`.
 *
 * @module
 */

import type { Native } from "../common/_native/libc.ts";
import { identify } from "../common/_native/fd.ts";
import { AdoptedAcceptSource, adoptStream } from "../common/_node_transport.ts";
import { TcpStream } from "./stream.ts";
import { TcpListener } from "./listen.ts";

/**
 * A `TcpStream` over a connected TCP socket, which it owns from now on.
 *
 * @param fd The socket.
 * @param local Its own address (getsockname).
 * @param peer Its peer's (getpeername).
 * @param noDelay Whether to turn Nagle's algorithm off (default `true`).
 */
export function adoptTcpStream(
  fd: number,
  local: Deno.Addr,
  peer: Deno.Addr,
  noDelay = true,
): TcpStream {
  const transport = adoptStream(fd, { localAddr: local, remoteAddr: peer });
  return new TcpStream(transport as unknown as Deno.TcpConn, { noDelay });
}

/**
 * A `TcpListener` over a listening TCP socket, which it owns from now on.
 *
 * @param n The opened library.
 * @param fd The socket.
 * @param addr Its address (getsockname).
 */
export function adoptTcpListener(n: Native, fd: number, addr: Deno.NetAddr): TcpListener {
  const source = new AdoptedAcceptSource(n, fd, addr);
  identify(n, source, fd);
  return new TcpListener(
    source as unknown as Deno.TcpListener,
    { noDelay: true },
  );
}
