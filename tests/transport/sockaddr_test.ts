/**
 * Socket address packing shared by both backends (`src/transport/_sockaddr.ts`): Linux
 * `sockaddr_in` / `sockaddr_in6` layout, as kernel SCTP and usrsctp on Linux use it.
 */
import assert from "node:assert/strict";
import { decodeSockaddr, encodeSockaddr, encodeSockaddrs } from "../../src/transport/_sockaddr.ts";
import { SctpError } from "../../src/transport/types.ts";

const AF_INET = 2;
const AF_INET6 = 10;

Deno.test("encodeSockaddrs() packs IPv4 and IPv6 addresses in Linux layout", () => {
  const packed = encodeSockaddrs(["10.9.0.2", "fd00:9::2", "::ffff:192.0.2.1"], 3863);
  assert.equal(packed.count, 3);
  assert.equal(packed.hasIPv6, true);
  assert.equal(packed.bytes.length, 16 + 28 + 16);
  const v = new DataView(packed.bytes.buffer);
  assert.equal(v.getUint16(0, true), AF_INET);
  assert.equal(v.getUint16(2, false), 3863);
  assert.deepEqual([...packed.bytes.subarray(4, 8)], [10, 9, 0, 2]);
  assert.equal(v.getUint16(16, true), AF_INET6);
  assert.equal(packed.bytes[16 + 8], 0xfd);
  assert.deepEqual(decodeSockaddr(packed.bytes, 0), { address: "10.9.0.2", port: 3863 });
  assert.deepEqual(decodeSockaddr(packed.bytes, 16), { address: "fd00:9::2", port: 3863 });
  assert.deepEqual(decodeSockaddr(packed.bytes, 44), { address: "192.0.2.1", port: 3863 });
  assert.equal(encodeSockaddrs(["127.0.0.1"], 1).hasIPv6, false);
});

Deno.test("decodeSockaddr() turns IPv4-mapped IPv6 into IPv4 and rejects other families", () => {
  const mapped = encodeSockaddr("::1", 9);
  mapped.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1], 8);
  assert.deepEqual(decodeSockaddr(mapped), { address: "10.0.0.1", port: 9 });
  assert.equal(decodeSockaddr(new Uint8Array(16)), undefined);
  assert.equal(decodeSockaddr(mapped.subarray(0, 20)), undefined, "too short for sockaddr_in6");
});

Deno.test("encodeSockaddrs() rejects an empty list, bad addresses and bad ports", () => {
  assert.throws(() => encodeSockaddrs([], 1), SctpError);
  assert.throws(
    () => encodeSockaddrs(["nope"], 1),
    (e: unknown) => e instanceof SctpError && e.code === "invalid-argument",
  );
  assert.throws(() => encodeSockaddrs(["10.0.0.1"], 70000), SctpError);
  assert.throws(() => encodeSockaddr("10.0.0", 1), SctpError);
});
