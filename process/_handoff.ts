/**
 * Handing a stream over to a child. Streams made by `pipe()` and
 * `socketpair()` can be detached: the caller's object closes at once (as
 * XPIO says) while netkit keeps the connection to pump it. Any other stream
 * is pumped through the caller's own object and closed when the pump ends.
 *
 * @module
 */

import { Stream, type StreamInit, type StreamTransport } from "../common/stream.ts";

class DetachableTransport implements StreamTransport {
  readonly conn: Deno.Conn;
  detached = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    return this.conn.read(buffer);
  }

  write(data: Uint8Array): Promise<number> {
    return this.conn.write(data);
  }

  closeWrite(): Promise<void> {
    return this.conn.closeWrite();
  }

  close(): void {
    if (!this.detached) this.conn.close();
  }
}

const detachable = new WeakMap<Stream, { transport: DetachableTransport; init: StreamInit }>();
const handedOver = new WeakSet<Stream>();

/** Wraps a connection in a {@linkcode Stream} that a spawn can take over. */
export function handoffStream(conn: Deno.Conn, init: StreamInit): Stream {
  const transport = new DetachableTransport(conn);
  const stream = new Stream(transport, init);
  detachable.set(stream, { transport, init });
  return stream;
}

/** True when the stream was already given to a child. */
export function wasHandedOver(stream: Stream): boolean {
  return handedOver.has(stream);
}

/** What a child gets in place of a caller's stream. */
export interface TakenStream {
  /** The stream netkit pumps (the caller's own one when it cannot detach). */
  stream: Stream;
  /** Bytes the caller's stream had already buffered, to deliver first. */
  head: Uint8Array | null;
}

/**
 * Takes a stream from its caller: detachable streams are closed for the
 * caller and reopened for netkit over the same connection.
 */
export async function takeOver(stream: Stream): Promise<TakenStream> {
  handedOver.add(stream);
  const entry = detachable.get(stream);
  if (entry === undefined) return { stream, head: null };
  const head = stream.buffered > 0 ? await stream.read(stream.buffered) : null;
  entry.transport.detached = true;
  stream.close();
  return { stream: new Stream(entry.transport.conn, entry.init), head };
}

const descriptors = new WeakMap<Stream, number>();

/** Records that `stream` stands for our own descriptor `fd` (from `fdopen`). */
export function registerDescriptor(stream: Stream, fd: number): void {
  descriptors.set(stream, fd);
}

/** Our descriptor behind `stream`, when it has one. */
export function descriptorOf(stream: Stream): number | undefined {
  return descriptors.get(stream);
}
