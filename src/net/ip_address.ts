/**
 * IPv4/IPv6 addresses in text form: parsing to bytes, formatting (RFC 5952), and RSPLIB's
 * address scopes.
 *
 * @module
 */

/**
 * Address scopes as RSPLIB ranks them (`AS_*` in its netutilities.h); higher is wider.
 *
 * @example Keep the addresses wider than link-local
 * ```ts
 * import { AddressScope, addressScope } from "./ip_address.ts";
 * const addresses = ["127.0.0.1", "10.0.0.1", "192.0.2.1", "fe80::1"];
 * console.log(addresses.filter((a) => addressScope(a) > AddressScope.LinkLocal)); // [ "10.0.0.1", "192.0.2.1" ]
 * ```
 */
export const AddressScope = {
  Unspecified: 0,
  MulticastNodeLocal: 1,
  Loopback: 2,
  MulticastLinkLocal: 3,
  LinkLocal: 4,
  MulticastSiteLocal: 5,
  SiteLocal: 6,
  MulticastOrgLocal: 7,
  MulticastGlobal: 8,
  Global: 10,
} as const;

const IPV4_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/**
 * Parses a dotted-quad IPv4 address into `out` at `offset`.
 *
 * @returns `true` on success.
 */
function parseIPv4Into(text: string, out: Uint8Array, offset: number): boolean {
  const m = IPV4_PATTERN.exec(text);
  if (m === null) return false;
  for (let i = 0; i < 4; i++) {
    const v = Number(m[i + 1]);
    if (v > 255) return false;
    out[offset + i] = v;
  }
  return true;
}

/**
 * Parses an IPv4 or IPv6 address (without brackets; a `%zone` suffix is ignored).
 *
 * @example
 * ```ts
 * import { parseIpAddress } from "./ip_address.ts";
 * console.log(parseIpAddress("192.0.2.1")); // Uint8Array(4) [ 192, 0, 2, 1 ]
 * console.log(parseIpAddress("::1")?.length); // 16
 * console.log(parseIpAddress("no")); // undefined
 * ```
 *
 * @param text The address.
 * @returns 4 or 16 bytes, or `undefined` when `text` is not an address.
 */
export function parseIpAddress(text: string): Uint8Array | undefined {
  if (text.includes(":")) return parseIPv6(text);
  const out = new Uint8Array(4);
  return parseIPv4Into(text, out, 0) ? out : undefined;
}

function parseIPv6(input: string): Uint8Array | undefined {
  const zone = input.indexOf("%");
  const text = zone >= 0 ? input.slice(0, zone) : input;
  const out = new Uint8Array(16);
  const double = text.indexOf("::");
  if (double !== text.lastIndexOf("::")) return undefined;
  const head = double >= 0 ? text.slice(0, double) : text;
  const tail = double >= 0 ? text.slice(double + 2) : "";
  const headParts = head === "" ? [] : head.split(":");
  const tailParts = tail === "" ? [] : tail.split(":");
  const words: number[] = [];
  const tailWords: number[] = [];
  const parseParts = (parts: string[], into: number[], allowV4: boolean): boolean => {
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (allowV4 && i === parts.length - 1 && p.includes(".")) {
        const v4 = new Uint8Array(4);
        if (!parseIPv4Into(p, v4, 0)) return false;
        into.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return false;
      into.push(parseInt(p, 16));
    }
    return true;
  };
  if (!parseParts(headParts, words, double < 0)) return undefined;
  if (!parseParts(tailParts, tailWords, true)) return undefined;
  if (double < 0) {
    if (words.length !== 8) return undefined;
  } else {
    if (words.length + tailWords.length > 7) return undefined;
    while (words.length + tailWords.length < 8) words.push(0);
    words.push(...tailWords);
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i] >> 8;
    out[2 * i + 1] = words[i] & 0xff;
  }
  return out;
}

/**
 * Formats 4 or 16 address bytes as text: dotted quad, or RFC 5952 IPv6 (IPv4-mapped addresses as
 * `::ffff:a.b.c.d`).
 *
 * @example
 * ```ts
 * import { formatIpAddress } from "./ip_address.ts";
 * console.log(formatIpAddress(new Uint8Array([192, 0, 2, 1]))); // 192.0.2.1
 * ```
 *
 * @param bytes The address, at `offset`.
 * @param offset Where the address starts.
 * @param length 4 or 16.
 * @returns The text form.
 */
export function formatIpAddress(bytes: Uint8Array, offset = 0, length = bytes.length): string {
  if (length === 4) {
    return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
  }
  if (length !== 16) throw new RangeError(`Cannot format address of ${length} bytes`);
  let mapped = true;
  for (let i = 0; i < 10; i++) if (bytes[offset + i] !== 0) mapped = false;
  if (mapped && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff) {
    return `::ffff:${formatIpAddress(bytes, offset + 12, 4)}`;
  }
  // Find the longest run (length >= 2) of zero words; the first one wins a tie.
  let bestStart = -1, bestLength = 0, runStart = -1;
  for (let i = 0; i <= 8; i++) {
    const zero = i < 8 && bytes[offset + 2 * i] === 0 && bytes[offset + 2 * i + 1] === 0;
    if (zero && runStart < 0) runStart = i;
    if (!zero && runStart >= 0) {
      if (i - runStart > bestLength) {
        bestStart = runStart;
        bestLength = i - runStart;
      }
      runStart = -1;
    }
  }
  if (bestLength < 2) bestStart = -1;
  let text = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += "::";
      i += bestLength - 1;
      continue;
    }
    if (text !== "" && !text.endsWith(":")) text += ":";
    text += ((bytes[offset + 2 * i] << 8) | bytes[offset + 2 * i + 1]).toString(16);
  }
  return text;
}

/**
 * Whether the text is an IPv4 address or an IPv4-mapped IPv6 address.
 *
 * @example The IPv4 address in an IPv4-mapped IPv6 address
 * ```ts
 * import { ipv4Of, parseIpAddress } from "./ip_address.ts";
 * const mapped = parseIpAddress("::ffff:192.0.2.1");
 * if (mapped !== undefined) console.log(ipv4Of(mapped)); // Uint8Array(4) [ 192, 0, 2, 1 ]
 * const v6 = parseIpAddress("2001:db8::1");
 * if (v6 !== undefined) console.log(ipv4Of(v6)); // undefined
 * ```
 *
 * @param bytes Parsed address bytes.
 * @returns The 4 IPv4 bytes, or `undefined` for a genuine IPv6 address.
 */
export function ipv4Of(bytes: Uint8Array): Uint8Array | undefined {
  if (bytes.length === 4) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return undefined;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.subarray(12, 16) : undefined;
}

function scopeOfIPv4(b: Uint8Array, o: number): number {
  const b0 = b[o], b1 = b[o + 1];
  if (b0 === 0 && b1 === 0 && b[o + 2] === 0 && b[o + 3] === 0) return AddressScope.Unspecified;
  // RSPLIB's test is (a & 0x7f000000) == 0x7f000000, which also catches 255/8.
  if ((b0 & 0x7f) === 0x7f) return AddressScope.Loopback;
  if (b0 === 10) return AddressScope.SiteLocal;
  if (b0 === 172 && b1 >= 16 && b1 <= 31) return AddressScope.SiteLocal;
  if (b0 === 169 && b1 === 254) return AddressScope.LinkLocal;
  if (b0 === 192 && b1 === 168) return AddressScope.SiteLocal;
  if (b0 >= 224 && b0 <= 239) return AddressScope.MulticastGlobal;
  return AddressScope.Global;
}

function scopeOfIPv6(b: Uint8Array, o: number): number {
  let zero10 = true;
  for (let i = 0; i < 10; i++) if (b[o + i] !== 0) zero10 = false;
  if (zero10 && b[o + 10] === 0xff && b[o + 11] === 0xff) return scopeOfIPv4(b, o + 12);
  let zero = zero10;
  for (let i = 10; i < 15; i++) if (b[o + i] !== 0) zero = false;
  if (zero && b[o + 15] === 0) return AddressScope.Unspecified;
  if (b[o] === 0xff) {
    switch (b[o + 1] & 0x0f) {
      case 0x1:
        return AddressScope.MulticastNodeLocal;
      case 0x2:
        return AddressScope.MulticastLinkLocal;
      case 0x5:
        return AddressScope.MulticastSiteLocal;
      case 0x8:
        return AddressScope.MulticastOrgLocal;
      case 0xe:
        return AddressScope.MulticastGlobal;
    }
    return AddressScope.Global;
  }
  if (zero && b[o + 15] === 1) return AddressScope.Loopback;
  if (b[o] === 0xfe && (b[o + 1] & 0xc0) === 0x80) return AddressScope.LinkLocal;
  if (b[o] === 0xfe && (b[o + 1] & 0xc0) === 0xc0) return AddressScope.SiteLocal;
  return AddressScope.Global;
}

/**
 * RSPLIB's scope of the address stored in `bytes` at `offset` (4 or 16 bytes long).
 *
 * @example Scope of an address inside a parameter
 * ```ts
 * import { AddressScope, addressScopeAt } from "./ip_address.ts";
 * const parameter = new Uint8Array([0x00, 0x01, 0x00, 0x08, 127, 0, 0, 1]); // IPv4 Address TLV
 * console.log(addressScopeAt(parameter, 4, 4) === AddressScope.Loopback); // true
 * ```
 *
 * @param bytes Buffer holding the address.
 * @param offset Where it starts.
 * @param length 4 (IPv4) or 16 (IPv6; IPv4-mapped addresses count as IPv4).
 * @returns The scope ({@linkcode AddressScope}).
 */
export function addressScopeAt(bytes: Uint8Array, offset: number, length: number): number {
  return length === 4 ? scopeOfIPv4(bytes, offset) : scopeOfIPv6(bytes, offset);
}

/**
 * RSPLIB's scope of an address ({@linkcode AddressScope}); IPv4-mapped addresses count as IPv4.
 *
 * @example
 * ```ts
 * import { AddressScope, addressScope } from "./ip_address.ts";
 * console.log(addressScope("10.1.2.3") === AddressScope.SiteLocal); // true
 * console.log(addressScope("127.0.0.1") === AddressScope.Loopback); // true
 * ```
 *
 * @param address Address text or bytes.
 * @returns The scope; {@linkcode AddressScope.Unspecified} for text that is no address.
 */
export function addressScope(address: string | Uint8Array): number {
  const bytes = typeof address === "string" ? parseIpAddress(address) : address;
  if (bytes === undefined || (bytes.length !== 4 && bytes.length !== 16)) {
    return AddressScope.Unspecified;
  }
  return addressScopeAt(bytes, 0, bytes.length);
}

/**
 * Normalises address text: IPv4-mapped IPv6 becomes IPv4, IPv6 becomes RFC 5952 form.
 *
 * @example
 * ```ts
 * import { normalizeIpAddress } from "./ip_address.ts";
 * console.log(normalizeIpAddress("::FFFF:192.0.2.1")); // 192.0.2.1
 * console.log(normalizeIpAddress("2001:db8:0:0:0:0:0:1")); // 2001:db8::1
 * ```
 *
 * @param text The address.
 * @returns The normal form, or `undefined` when `text` is not an address.
 */
export function normalizeIpAddress(text: string): string | undefined {
  const bytes = parseIpAddress(text);
  if (bytes === undefined) return undefined;
  const v4 = ipv4Of(bytes);
  return formatIpAddress(v4 ?? bytes);
}
