/**
 * The relay: bytes both ways between two ends, with end of stream passed
 * through as a half-close, an idle timeout, and both ends closed at the end.
 *
 * @module
 */

import { NetError } from "../mod.ts";
import type { End } from "./_open.ts";

/** How a relay runs. */
export interface RelayOptions {
  /** Ends the relay early (Ctrl-C). */
  signal: AbortSignal;
  /** Milliseconds without a byte either way after which the relay stops (`--timeout`). */
  idle?: number;
  /** Milliseconds a datagram side is still read after the other side ended. */
  linger: number;
  /** Called with each chunk's size (for `--progress`). */
  onBytes?: (n: number) => void;
}

/** How a relay ended. */
export interface RelayOutcome {
  /** Bytes moved from the first end to the second. */
  forward: number;
  /** Bytes moved from the second end to the first. */
  backward: number;
  /** How long it ran, in milliseconds. */
  ms: number;
  /** Why it ended. */
  reason: "done" | "idle" | "interrupted" | "error";
  /** For `"error"` (and `"idle"`: a `timeout` NetError): what happened. */
  error?: unknown;
}

/** Write failures that mean the peer stopped reading: that direction just ends. */
function peerGone(error: unknown): boolean {
  return error instanceof NetError &&
    (error.code === "broken_pipe" || error.code === "connection_reset");
}

/**
 * Relays between `a` and `b` until both directions reached end of stream
 * (each end passed on as `closeWrite` to the other side), or until one
 * side's rule ends it early (stdio on a terminal, a child whose output
 * ended, a datagram side idle for `linger` after the other side ended), an
 * error, the idle timeout or the signal. Both ends are closed before it
 * resolves.
 *
 * @param a The first end (the accepted peer, or stdio for `connect`).
 * @param b The second end.
 * @param options Signal, idle timeout, datagram linger and byte counter.
 * @returns What moved and why it stopped.
 */
export async function relay(a: End, b: End, options: RelayOptions): Promise<RelayOutcome> {
  const started = performance.now();
  const outcome: RelayOutcome = { forward: 0, backward: 0, ms: 0, reason: "done" };
  let finished = false;
  let wake!: () => void;
  const over = new Promise<void>((resolve) => wake = resolve);
  const finish = (reason: RelayOutcome["reason"], error?: unknown): void => {
    if (finished) return;
    finished = true;
    outcome.reason = reason;
    if (error !== undefined) outcome.error = error;
    wake();
  };

  let lastActivity = started;
  // A datagram end that is read after the other side ended: when it last spoke.
  let lingering: End | null = null;
  let lingerFrom = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (): void => {
    if (finished) return;
    const now = performance.now();
    let due = Infinity;
    if (lingering !== null) {
      if (now - lingerFrom >= options.linger) return finish("done");
      due = lingerFrom + options.linger;
    }
    if (options.idle !== undefined) {
      // A lingering datagram side that falls silent is the normal end, not a timeout.
      if (now - lastActivity >= options.idle) {
        if (lingering !== null) return finish("done");
        return finish(
          "idle",
          new NetError("timeout", `no data either way for ${options.idle} ms`, { op: "relay" }),
        );
      }
      due = Math.min(due, lastActivity + options.idle);
    }
    if (due !== Infinity) timer = setTimeout(arm, Math.max(1, due - now));
  };
  const rearm = (): void => {
    clearTimeout(timer);
    arm();
  };

  const done = { forward: false, backward: false };
  const ended = (direction: "forward" | "backward", src: End, dst: End): void => {
    done[direction] = true;
    if (finished) return;
    if (done.forward && done.backward) return finish("done");
    if (dst.endsWithOutput || src.endsWithInput) return finish("done");
    // The side still sending is a datagram socket: it has no end of stream, so linger.
    if (dst.kind === "datagram") {
      lingering = dst;
      lingerFrom = performance.now();
      rearm();
    }
  };

  const pump = async (direction: "forward" | "backward", src: End, dst: End): Promise<void> => {
    let next = src.read();
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await next;
      } catch (error) {
        return finish("error", error);
      }
      if (finished) return;
      if (chunk === null) break;
      // The next read runs while this chunk is written (reads hand out views never reused).
      next = src.read();
      next.catch(() => {});
      if (chunk.length === 0) continue;
      try {
        await dst.write(chunk);
      } catch (error) {
        if (finished) return;
        if (peerGone(error)) return ended(direction, src, dst);
        return finish("error", error);
      }
      outcome[direction] += chunk.length;
      options.onBytes?.(chunk.length);
      const now = performance.now();
      lastActivity = now;
      if (lingering === src) lingerFrom = now;
    }
    try {
      await dst.closeWrite();
    } catch (error) {
      if (!finished && !peerGone(error)) return finish("error", error);
    }
    ended(direction, src, dst);
  };

  const onAbort = () => finish("interrupted", options.signal.reason);
  if (options.signal.aborted) onAbort();
  else options.signal.addEventListener("abort", onAbort, { once: true });
  arm();
  pump("forward", a, b);
  pump("backward", b, a);
  await over;
  clearTimeout(timer);
  options.signal.removeEventListener("abort", onAbort);
  const abrupt = outcome.reason !== "done";
  await Promise.all([a.close(abrupt), b.close(abrupt)]);
  outcome.ms = performance.now() - started;
  return outcome;
}
