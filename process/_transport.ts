/**
 * Adapters that let the shared {@linkcode Stream} run over a child's pipes:
 * Deno's web streams (for `Deno.Command`) and node streams (for
 * `node:child_process`, the only engine with fds above 2). A write hands
 * the runtime a bounded piece and reports that piece, so a failed
 * `writeAll` can say how much went: on a unix socket (fds above 2) exactly,
 * on a pipe (fds 0–2) the child may have read up to one piece more.
 *
 * @module
 */

import type { Readable, Writable } from "node:stream";
import { NetError } from "../common/errors.ts";
import type { StreamTransport } from "../common/stream.ts";

const noop = (): void => {};

/**
 * The most one write hands a child's pipe: the runtime reports a write only
 * once all of it went, so this bounds what a failed `writeAll` cannot count
 * (the pipe's default capacity, so throughput stays that of larger writes).
 */
const PIPE_PIECE = 64 * 1024;
/** The most one write hands a unix socket: Linux queues it as one buffer, all or nothing. */
const SOCKET_PIECE = 32 * 1024;

/** The first `max` bytes of `data` (all of it when shorter). */
function piece(data: Uint8Array, max: number): Uint8Array {
  return data.length > max ? data.subarray(0, max) : data;
}

function oneWay(label: string, direction: string): NetError {
  return new NetError("not_supported", `${label} only carries data ${direction}`, {
    op: direction === "to the child" ? "read" : "write",
    address: label,
  });
}

function cancelled(): Error {
  return new Deno.errors.Interrupted("operation canceled");
}

/** Copies as much of `chunk` as fits into `buffer`; returns the rest or `null`. */
function fill(buffer: Uint8Array, chunk: Uint8Array): Uint8Array | null {
  if (chunk.length <= buffer.length) {
    buffer.set(chunk);
    return null;
  }
  buffer.set(chunk.subarray(0, buffer.length));
  return chunk.subarray(buffer.length);
}

/** A child's stdout/stderr from `Deno.Command`, as a read-only transport. */
export class ReadableTransport implements StreamTransport {
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  #rest: Uint8Array | null = null;
  #label: string;

  constructor(stream: ReadableStream<Uint8Array>, label: string) {
    this.#reader = stream.getReader();
    this.#label = label;
  }

  async read(buffer: Uint8Array): Promise<number | null> {
    let chunk = this.#rest;
    if (chunk === null) {
      const next = await this.#reader.read();
      if (next.done) return null;
      chunk = next.value;
    }
    const n = Math.min(chunk.length, buffer.length);
    this.#rest = fill(buffer, chunk);
    return n;
  }

  write(): Promise<number> {
    return Promise.reject(oneWay(this.#label, "from the child"));
  }

  closeWrite(): Promise<void> {
    return Promise.resolve();
  }

  close(): void {
    this.#rest = null;
    this.#reader.cancel().catch(noop);
  }
}

/** A child's stdin from `Deno.Command`, as a write-only transport. */
export class WritableTransport implements StreamTransport {
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #label: string;

  constructor(stream: WritableStream<Uint8Array>, label: string) {
    this.#writer = stream.getWriter();
    this.#label = label;
  }

  read(): Promise<number | null> {
    return Promise.reject(oneWay(this.#label, "to the child"));
  }

  write(data: Uint8Array): Promise<number> {
    const part = piece(data, PIPE_PIECE);
    return this.#writer.write(part).then(() => part.length);
  }

  closeWrite(): Promise<void> {
    return this.#writer.close();
  }

  close(): void {
    // An in-flight write still ends when the child reads, exits or is killed:
    // web streams cannot cancel it.
    this.#writer.abort().catch(noop);
  }
}

interface Waiter {
  buffer: Uint8Array;
  resolve: (n: number | null) => void;
  reject: (error: unknown) => void;
}

const GONE = new Set(["ERR_STREAM_DESTROYED", "ERR_STREAM_WRITE_AFTER_END", "ECANCELED"]);
/**
 * A node stream pair (a child's pipe from `node:child_process`) as a
 * transport. It reads one chunk at a time: the stream is paused after each
 * chunk, so backpressure reaches the child.
 */
export class NodeTransport implements StreamTransport {
  #readable: Readable | null;
  #writable: Writable | null;
  #label: string;
  #piece: number;
  #chunks: Uint8Array[] = [];
  #waiter: Waiter | null = null;
  #ended = false;
  #closed = false;
  #error: unknown = null;

  constructor(readable: Readable | null, writable: Writable | null, label: string) {
    this.#readable = readable;
    this.#writable = writable;
    this.#label = label;
    // A two-way fd (above 2) is a unix socket pair; fd 0 is a pipe.
    this.#piece = readable !== null && writable !== null ? SOCKET_PIECE : PIPE_PIECE;
    const halfOpen = (readable ?? writable) as { allowHalfOpen?: boolean };
    if ("allowHalfOpen" in halfOpen) halfOpen.allowHalfOpen = true;
    readable?.pause();
    readable?.on("data", this.#onData);
    readable?.on("end", this.#onEnd);
    readable?.on("error", this.#onError);
    readable?.on("close", this.#onClose);
    if (writable !== readable) writable?.on("error", this.#onError);
  }

  #onData = (chunk: Uint8Array): void => {
    this.#readable!.pause();
    const waiter = this.#waiter;
    if (waiter === null) {
      this.#chunks.push(chunk);
      return;
    }
    this.#waiter = null;
    const rest = fill(waiter.buffer, chunk);
    if (rest !== null) this.#chunks.push(rest);
    waiter.resolve(Math.min(chunk.length, waiter.buffer.length));
  };

  #onEnd = (): void => {
    this.#ended = true;
    this.#settle();
  };

  #onError = (error: unknown): void => {
    this.#error ??= error;
    this.#settle();
  };

  #onClose = (): void => {
    this.#ended = true;
    this.#settle();
  };

  #settle(): void {
    const waiter = this.#waiter;
    if (waiter === null) return;
    this.#waiter = null;
    if (this.#closed) waiter.reject(cancelled());
    else if (this.#error !== null) waiter.reject(this.#error);
    else waiter.resolve(null);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#chunks.length > 0) {
      const chunk = this.#chunks.shift()!;
      const rest = fill(buffer, chunk);
      if (rest !== null) this.#chunks.unshift(rest);
      return Promise.resolve(Math.min(chunk.length, buffer.length));
    }
    if (this.#closed) return Promise.reject(cancelled());
    if (this.#readable === null) return Promise.reject(oneWay(this.#label, "to the child"));
    if (this.#error !== null) return Promise.reject(this.#error);
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.#waiter = { buffer, resolve, reject };
      this.#readable!.resume();
    });
  }

  write(data: Uint8Array): Promise<number> {
    const writable = this.#writable;
    if (writable === null) return Promise.reject(oneWay(this.#label, "from the child"));
    if (this.#closed) return Promise.reject(cancelled());
    const part = piece(data, this.#piece);
    return new Promise((resolve, reject) => {
      writable.write(part, (error) => {
        if (error) reject(this.#writeError(error));
        else resolve(part.length);
      });
    });
  }

  /** A write the runtime gave up on (the child went away) is a broken pipe. */
  #writeError(error: unknown): unknown {
    if (this.#closed) return cancelled();
    const code = (error as { code?: unknown })?.code;
    if (typeof code !== "string" || !GONE.has(code)) return error;
    const cause = this.#error as { code?: unknown } | null;
    if (typeof cause?.code === "string" && !GONE.has(cause.code)) return cause;
    return new Deno.errors.BrokenPipe("the child's end of the pipe is closed");
  }

  closeWrite(): Promise<void> {
    const writable = this.#writable;
    if (writable === null || this.#closed) return Promise.resolve();
    return new Promise((resolve) => writable.end(() => resolve()));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#readable?.destroy();
    this.#writable?.destroy();
    this.#settle();
  }
}
