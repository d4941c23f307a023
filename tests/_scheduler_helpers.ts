/** Test helpers of the scheduler tests. */
import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";
import { Listener } from "../common/listener.ts";
import { type Pollable, pollable } from "../common/readiness.ts";
import { Stream } from "../common/stream.ts";

/** Asserts that `call` throws a NetError with `code` (and `field`). */
export function throwsNetError(call: () => unknown, code: string, field?: string): NetError {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof NetError, `expected a NetError, got ${caught}`);
  assert.equal(caught.code, code);
  if (field !== undefined) assert.equal(caught.field, field);
  return caught;
}

/** Asserts that a promise rejects with a NetError with `code` (and `field`). */
export { rejectsWith as rejectsNetError } from "./_helpers.ts";

/** A selectable TCP listener on 127.0.0.1 built from the common accept pump. */
export interface TestListener extends AsyncDisposable {
  port: number;
  accept(): Promise<Stream>;
  [pollable](): Pollable;
  close(): Promise<void>;
}

/** The common listener base over raw `Deno.listen`, handing out plain Streams. */
class PlainListener extends Listener<Stream, Deno.TcpConn> {
  constructor(raw: Deno.TcpListener) {
    super(raw, (conn) => new Stream(conn), undefined);
  }
}

/** Listens on 127.0.0.1 with raw `Deno.listen` behind the common listener base. */
export function tcpListener(): TestListener {
  const raw = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const listener = new PlainListener(raw);
  const close = () => listener[Symbol.asyncDispose]();
  return {
    port: raw.addr.port,
    accept: () => listener.accept(),
    [pollable]: () => listener[pollable](),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Connects a Stream to a port on 127.0.0.1. */
export async function tcpConnect(port: number): Promise<Stream> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  conn.setNoDelay(true);
  return new Stream(conn);
}
