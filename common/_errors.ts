/**
 * The mapping from anything Deno, `node:*` or the OS throws to a
 * {@linkcode NetError}, and the common errors netkit makes itself.
 *
 * @module
 */

import { type ErrorCode, errorCodeOf, NetError } from "./errors.ts";

const DESCRIPTIONS: Record<ErrorCode, string> = {
  timeout: "timed out",
  aborted: "aborted",
  closed: "closed",
  address_in_use: "address in use",
  address_not_available: "address not available",
  connection_refused: "connection refused",
  connection_reset: "connection reset by peer",
  broken_pipe: "broken pipe",
  not_found: "not found",
  access_denied: "access denied",
  host_unreachable: "host unreachable",
  name_not_resolved: "name not resolved",
  invalid_argument: "invalid argument",
  not_supported: "not supported",
  unexpected_eof: "unexpected end of stream",
  resource_exhausted: "out of resources",
  handshake_failed: "TLS handshake failed",
  unknown: "failed",
};

/**
 * Turns any thrown value into a {@linkcode NetError}, keeping the original as
 * `cause`. A `NetError` passes through unchanged. Deno's permission errors
 * keep their message, which names the missing `--allow-*` flag.
 *
 * @param error What was thrown.
 * @param op The operation, e.g. `"connect"`.
 * @param address The address involved, if any.
 * @param code Overrides the derived code (e.g. `name_not_resolved` for a
 *   resolver's `not_found`).
 */
export function toNetError(
  error: unknown,
  op: string,
  address?: string,
  code?: ErrorCode,
): NetError {
  if (error instanceof NetError) return error;
  const resolved = code ?? errorCodeOf(error);
  const original = error instanceof Error ? error.message : String(error);
  const message = original === "" || original === DESCRIPTIONS[resolved]
    ? DESCRIPTIONS[resolved]
    : `${DESCRIPTIONS[resolved]}: ${original}`;
  return new NetError(resolved, message, { op, address, cause: error });
}

/** Makes the `closed` error of an operation on a closed resource. */
export function closedError(op: string, address?: string): NetError {
  return new NetError("closed", "the resource is closed", { op, address });
}
