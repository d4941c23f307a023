/** Helpers of the udp tests. */

/** UTF-8 text of bytes. */
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

export { rejectsWith } from "./_helpers.ts";
