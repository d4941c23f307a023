/**
 * `nk`, netkit's command for the terminal: connect, listen, relay and exec
 * over unix, tcp and udp with one address syntax (socat's model, netkit's
 * names), built on netkit's own modules. Run it with
 * `deno run -A jsr:@netkit/netkit/cli …` or `deno task nk …` in a checkout;
 * `nk --help` and docs/cli.md describe the verbs, addresses, flags and exit
 * codes.
 *
 * ```sh
 * nk listen unix-listen:/tmp/echo.sock --fork --exec cat &
 * echo hello | nk connect unix:/tmp/echo.sock      # hello
 * nk relay --fork tcp-listen:127.0.0.1:2375 unix:/var/run/docker.sock
 * ```
 *
 * @example Run it from code
 * ```ts
 * import { main } from "@netkit/netkit/cli";
 *
 * const code = await main(["resolve", "localhost", "--family", "inet"]); // 127.0.0.1, canonical name: localhost
 * console.log(code); // 0
 * ```
 *
 * @module
 */

import { run } from "./_run.ts";

/**
 * Runs the `nk` command with `args` (the words after the program name) and
 * resolves to its exit code: 0 ok, 1 other failure, 2 bad usage, 3 refused
 * or not found, 4 timeout, 5 permission (the message names the missing
 * `--allow-*` flag), 6 not supported here, 130 interrupted, 143 terminated.
 * Failures are printed as one line on stderr, never as a stack trace.
 * While it runs, Ctrl-C (SIGINT) and SIGTERM close its sockets and remove
 * the unix paths it created before it resolves.
 *
 * @param args E.g. `["connect", "tcp:127.0.0.1:7"]`.
 * @returns The exit code.
 *
 * @example A bad address is a one-line message and exit code 2
 * ```ts
 * import { main } from "@netkit/netkit/cli";
 *
 * console.log(await main(["connect", "tcp:localhost"])); // 2 (the address has no port)
 * ```
 */
export function main(args: readonly string[]): Promise<number> {
  return run(args);
}

if (import.meta.main) Deno.exit(await main(Deno.args));
