import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { available, isPath } from "../unix/mod.ts";

Deno.test("available is true on Linux", () => {
  assertEquals(available, Deno.build.os !== "windows");
});

Deno.test("isPath checks the byte length against sun_path: 107 bytes on Linux", () => {
  const limit = Deno.build.os === "linux" ? 107 : 103;
  assertEquals(isPath("/" + "x".repeat(limit - 1)), true);
  assertEquals(isPath("/" + "x".repeat(limit)), false);
  // Bytes, not characters: "é" is two bytes in UTF-8.
  assertEquals(isPath("/" + "é".repeat((limit - 1) / 2)), true);
  assertEquals(isPath("/" + "é".repeat((limit + 1) / 2)), false);
});

Deno.test("isPath rejects empty strings, NUL bytes and non-strings", () => {
  assertEquals(isPath(""), false);
  assertEquals(isPath("/tmp/a\0b"), false);
  for (const value of [undefined, null, 42, {}, new Uint8Array(3)]) {
    assertEquals(isPath(value), false);
  }
  assertEquals(isPath("relative.sock"), true);
});

Deno.test("isPath accepts abstract names (\\0 or @) on Linux only", () => {
  const linux = Deno.build.os === "linux";
  assertEquals(isPath("\0name"), linux);
  assertEquals(isPath("@name"), linux);
  assertEquals(isPath("@"), false);
  assertEquals(isPath("\0"), false);
  assertEquals(isPath("\0a\0b"), false);
  assertEquals(isPath("@" + "x".repeat(107)), linux);
  assertEquals(isPath("@" + "x".repeat(108)), false);
});
