import assert from "node:assert/strict";
import {
  AddressScope,
  addressScope,
  formatIpAddress,
  normalizeIpAddress,
  parseIpAddress,
} from "../../src/net/ip_address.ts";
import {
  formatAddressPort,
  parseAddressPort,
  parseEndpointAddresses,
} from "../../src/net/address_port.ts";

Deno.test("parseIpAddress() and formatIpAddress() round-trip IPv4 and IPv6 in RFC 5952 form", () => {
  for (
    const [text, normal] of [
      ["192.0.2.1", "192.0.2.1"],
      ["::", "::"],
      ["::1", "::1"],
      ["2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
      ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
      ["fe80::1%eth0", "fe80::1"],
      ["::ffff:10.1.2.3", "::ffff:10.1.2.3"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["1::", "1::"],
    ]
  ) {
    const bytes = parseIpAddress(text);
    assert.ok(bytes, text);
    assert.equal(formatIpAddress(bytes), normal);
  }
  for (
    const bad of ["", "1.2.3", "256.1.1.1", "1:2:3:4:5:6:7:8:9", "1::2::3", "x::1", "1.2.3.4.5"]
  ) {
    assert.equal(parseIpAddress(bad), undefined, bad);
  }
  assert.equal(normalizeIpAddress("::ffff:10.1.2.3"), "10.1.2.3");
});

Deno.test("addressScope() ranks addresses like RSPLIB's getScope()", () => {
  for (
    const [a, scope] of [
      ["0.0.0.0", AddressScope.Unspecified],
      ["127.0.0.1", AddressScope.Loopback],
      ["255.1.2.3", AddressScope.Loopback], // RSPLIB's mask quirk
      ["169.254.1.1", AddressScope.LinkLocal],
      ["10.1.1.1", AddressScope.SiteLocal],
      ["172.16.0.1", AddressScope.SiteLocal],
      ["172.32.0.1", AddressScope.Global],
      ["192.168.1.1", AddressScope.SiteLocal],
      ["239.0.0.50", AddressScope.MulticastGlobal],
      ["192.0.2.1", AddressScope.Global],
      ["::1", AddressScope.Loopback],
      ["fe80::1", AddressScope.LinkLocal],
      ["fec0::1", AddressScope.SiteLocal],
      ["fd00::1", AddressScope.Global], // ULA counts as global in RSPLIB
      ["ff02::1", AddressScope.MulticastLinkLocal],
      ["::ffff:10.0.0.1", AddressScope.SiteLocal],
    ] as const
  ) assert.equal(addressScope(a), scope, a);
});

Deno.test("parseAddressPort() reads RSPLIB's address formats", () => {
  assert.deepEqual(parseAddressPort("10.0.0.1:3863"), { address: "10.0.0.1", port: 3863 });
  assert.deepEqual(parseAddressPort("10.0.0.1!3863"), { address: "10.0.0.1", port: 3863 });
  assert.deepEqual(parseAddressPort("[2001:db8::1]:9901"), { address: "2001:db8::1", port: 9901 });
  assert.deepEqual(parseAddressPort("2001:db8::1", 5), { address: "2001:db8::1", port: 5 });
  assert.deepEqual(parseAddressPort("10.0.0.1:0", 9901), { address: "10.0.0.1", port: 9901 });
  assert.deepEqual(parseAddressPort("localhost:2960"), { address: "127.0.0.1", port: 2960 });
  assert.deepEqual(parseAddressPort("monitor.example:2960", 0, { hostnames: true }), {
    address: "monitor.example",
    port: 2960,
  });
  for (const bad of ["monitor.example:1", "10.0.0.1:99999", "[::1", "10.0.0.1:x", "1.2.3.999"]) {
    assert.throws(() => parseAddressPort(bad), TypeError, bad);
  }
});

Deno.test("parseEndpointAddresses() reads multi-homed lists with the first port", () => {
  assert.deepEqual(parseEndpointAddresses("10.0.0.1:3863,10.0.1.1,[fd00::1]"), {
    addresses: ["10.0.0.1", "10.0.1.1", "fd00::1"],
    port: 3863,
  });
  assert.throws(() => parseEndpointAddresses(""), TypeError);
  assert.equal(formatAddressPort("fd00::1", 1), "[fd00::1]:1");
});
