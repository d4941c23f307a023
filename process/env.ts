/**
 * {@linkcode env}: a frozen snapshot of this process's environment.
 *
 * @example
 * ```ts
 * import { env } from "@netkit/netkit/process";
 *
 * console.log("PATH" in env); // true
 * ```
 *
 * @module
 */

import { NetError } from "../common/errors.ts";

function denied(): never {
  throw new NetError(
    "access_denied",
    "reading the environment needs env access; run again with the --allow-env flag",
    { op: "env" },
  );
}

function snapshot(): Readonly<Record<string, string>> {
  if (Deno.permissions.querySync({ name: "env" }).state === "granted") {
    return Object.freeze(Deno.env.toObject());
  }
  return new Proxy(Object.freeze({}), {
    get: denied,
    has: denied,
    ownKeys: denied,
    getOwnPropertyDescriptor: denied,
  });
}

/**
 * This process's environment as it was when netkit's `process` module was
 * loaded (XPIO's `xpio.env`): a frozen record of name → value. Without
 * `--allow-env`, reading it throws `access_denied`.
 *
 * @example
 * ```ts
 * import { env } from "@netkit/netkit/process";
 *
 * console.log(typeof env.PATH); // "string"
 * console.log(Object.isFrozen(env)); // true
 * ```
 */
export const env: Readonly<Record<string, string>> = snapshot();
