/**
 * netkit: sockets, IPC and cooperative scheduling for Deno — unix, tcp, udp
 * and child processes behind one API, with deadlines on every wait and
 * normalised errors. This entry point has the shared pieces (errors,
 * addresses, the stream type); each transport is its own module
 * (`@netkit/netkit/unix`, `/tcp`, `/udp`, `/process`, `/scheduler`).
 *
 * @example Parse, resolve and format an address
 * ```ts
 * import { formatAddress, parseAddress, resolve } from "@netkit/netkit";
 *
 * const { hostname, port } = parseAddress("localhost:8080");
 * const [first] = await resolve(hostname, { family: "inet" });
 * console.log(formatAddress({ hostname: first.address, port })); // "127.0.0.1:8080"
 * ```
 *
 * @module
 */

export { errorCodeOf, NetError } from "./common/errors.ts";
export type { ErrorCode, NetErrorOptions } from "./common/errors.ts";
export type { DeadlineOptions } from "./common/deadline.ts";
export {
  addressToBytes,
  bytesToAddress,
  formatAddress,
  IN6ADDR_ANY,
  INADDR_ANY,
  interfaces,
  parseAddress,
  resolve,
  VERSION,
} from "./common/address.ts";
export type {
  AddressDefaults,
  HostPort,
  InterfaceAddress,
  ResolvedAddress,
  ResolveOptions,
  ResolveProtocolName,
  ResolveType,
} from "./common/address.ts";
export { Stream } from "./common/stream.ts";
export { Listener } from "./common/listener.ts";
export type { AcceptSource } from "./common/listener.ts";
export type { ReadLineOptions, ShutdownHow, StreamInit, StreamTransport } from "./common/stream.ts";
export { isSelectable, pollable } from "./common/readiness.ts";
export type { Pollable, Selectable } from "./common/readiness.ts";
export { nativeSupport } from "./common/native.ts";
export type {
  NativeSupport,
  PeerCredentials,
  ReadOnlyOptionName,
  SocketOptionName,
  SocketOptionValues,
  SocketType,
  WritableOptionName,
} from "./common/native.ts";
