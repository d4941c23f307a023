import assert from "node:assert/strict";
import {
  formatAddress,
  IN6ADDR_ANY,
  INADDR_ANY,
  interfaces,
  parseAddress,
  resolve,
  VERSION,
} from "../mod.ts";
import { NetError } from "../common/errors.ts";

const invalid = (e: unknown) => e instanceof NetError && e.code === "invalid_argument";

Deno.test("parseAddress accepts every documented variation", () => {
  const cases: [string, string, number][] = [
    ["192.168.1.1:80", "192.168.1.1", 80],
    ["127.0.0.1", "127.0.0.1", 0],
    ["127.0.0.1:", "127.0.0.1", 0],
    [":80", "0.0.0.0", 80],
    ["", "0.0.0.0", 0],
    ["3232235777:80", "192.168.1.1", 80],
    ["0", "0.0.0.0", 0],
    ["[::1]:80", "::1", 80],
    ["[::1]", "::1", 0],
    ["::1", "::1", 0],
    ["[fe80::1]:65535", "fe80::1", 65535],
    ["localhost:8080", "localhost", 8080],
    ["example.com", "example.com", 0],
  ];
  for (const [input, hostname, port] of cases) {
    assert.deepEqual(parseAddress(input), { hostname, port }, input);
  }
});

Deno.test("parseAddress fills missing parts from the defaults", () => {
  assert.deepEqual(parseAddress(":7", { hostname: "127.0.0.1" }), {
    hostname: "127.0.0.1",
    port: 7,
  });
  assert.deepEqual(parseAddress("::1", { port: 9 }), { hostname: "::1", port: 9 });
  assert.throws(() => parseAddress("x", { port: -1 }), invalid);
  assert.throws(() => parseAddress("x", { bogus: 1 } as never), invalid);
});

Deno.test("parseAddress rejects malformed input with invalid_argument", () => {
  for (
    const input of [
      "1.2.3.4:99999",
      "[::1",
      "a:b:c",
      "1.2.3.4:port",
      "1.2.3.4:-1",
      "256.1.1.1:80",
      "1.2.3:80",
      "[::1]80",
      "[1.2.3.4]:80",
      "host name:80",
      "99999999999:1",
      "-host:1",
    ]
  ) {
    assert.throws(() => parseAddress(input), invalid, input);
  }
  assert.throws(() => parseAddress(42 as never), invalid);
});

Deno.test("formatAddress is the inverse of parseAddress", () => {
  assert.equal(formatAddress({ hostname: "::1", port: 80 }), "[::1]:80");
  assert.equal(formatAddress({ hostname: "10.0.0.1", port: 0 }), "10.0.0.1:0");
  for (const input of ["192.168.1.1:80", "[::1]:443", "[fe80::1]:1", "localhost:1"]) {
    assert.equal(formatAddress(parseAddress(input)), input);
  }
  assert.throws(() => formatAddress({ hostname: "::1", port: 70000 }), invalid);
  assert.throws(() => formatAddress({ hostname: "", port: 1 }), invalid);
  assert.throws(() => formatAddress(null as never), invalid);
});

Deno.test("resolve goes through the system resolver and keeps literals", async () => {
  const local = await resolve("localhost", { family: "inet" });
  assert.ok(local.some((entry) => entry.address === "127.0.0.1" && entry.family === "inet"));
  assert.deepEqual(await resolve("::1", { port: 5 }), [{
    family: "inet6",
    address: "::1",
    port: 5,
  }]);
  await assert.rejects(
    () => resolve("::1", { family: "inet" }),
    (e: NetError) => e.code === "name_not_resolved",
  );
  await assert.rejects(
    () => resolve("no-such-host.invalid"),
    (e: NetError) => e.code === "name_not_resolved" && e.address === "no-such-host.invalid",
  );
  await assert.rejects(() => resolve("bad name"), invalid);
  await assert.rejects(() => resolve("localhost", { family: "ipx" } as never), invalid);
});

Deno.test("interfaces lists the loopback interface", () => {
  const list = interfaces();
  assert.ok(
    list.some((i) => i.address === "127.0.0.1" && i.family === "inet" && i.netmask === "255.0.0.0"),
  );
});

Deno.test("the constants match lsocket's and deno.json's version", async () => {
  assert.equal(INADDR_ANY, "0.0.0.0");
  assert.equal(IN6ADDR_ANY, "::");
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.equal(VERSION, config.version);
});
