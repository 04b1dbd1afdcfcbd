/**
 * `struct sockaddr_in` / `sockaddr_in6` in Linux layout (no `sin_len`; usrsctp on Linux uses the
 * system structs): encoding packed address lists and decoding them.
 *
 * @module
 */

import { formatIpAddress, ipv4Of, parseIpAddress } from "../../net/ip_address.ts";
import { SctpError } from "../types.ts";

const AF_INET = 2;
const AF_INET6 = 10;
const SOCKADDR_IN_SIZE = 16;
const SOCKADDR_IN6_SIZE = 28;

/** A packed array of socket addresses, as `bindx`, `connectx` and `sendv` take it. */
export interface PackedSockaddrs {
  /** The packed structs. */
  bytes: Uint8Array<ArrayBuffer>;
  /** Number of addresses. */
  count: number;
  /** Whether one of them is a (non-mapped) IPv6 address. */
  hasIPv6: boolean;
}

/**
 * Parses address text into 4 (IPv4, also for IPv4-mapped IPv6) or 16 bytes.
 *
 * @param address The address.
 * @returns The bytes.
 * @throws {SctpError} `invalid-argument` for text that is no address.
 */
export function addressBytes(address: string): Uint8Array {
  const bytes = parseIpAddress(address);
  if (bytes === undefined) {
    throw new SctpError("invalid-argument", `Cannot parse address '${address}'`);
  }
  return ipv4Of(bytes) ?? bytes;
}

/**
 * Whether an address (text) is IPv6 (IPv4-mapped addresses count as IPv4).
 *
 * @param address The address.
 * @returns `true` for IPv6.
 */
export function isIPv6(address: string): boolean {
  return addressBytes(address).length === 16;
}

/**
 * Writes one socket address into `out` at `offset`.
 *
 * @param out Target buffer.
 * @param offset Where to write.
 * @param bytes 4 or 16 address bytes.
 * @param port Port (host order).
 * @returns Bytes written (16 or 28).
 */
function writeSockaddr(out: Uint8Array, offset: number, bytes: Uint8Array, port: number): number {
  const view = new DataView(out.buffer, out.byteOffset);
  if (bytes.length === 4) {
    view.setUint16(offset, AF_INET, true);
    view.setUint16(offset + 2, port, false);
    out.set(bytes, offset + 4);
    return SOCKADDR_IN_SIZE;
  }
  view.setUint16(offset, AF_INET6, true);
  view.setUint16(offset + 2, port, false);
  out.set(bytes, offset + 8);
  return SOCKADDR_IN6_SIZE;
}

/**
 * Encodes one address and port as `sockaddr_in` or `sockaddr_in6`.
 *
 * @param address The address.
 * @param port The port.
 * @param family Force this family (`AF_INET6` maps IPv4 addresses to `::ffff:a.b.c.d`).
 * @returns The struct.
 */
export function encodeSockaddr(
  address: string,
  port: number,
  family?: number,
): Uint8Array<ArrayBuffer> {
  let bytes = addressBytes(address);
  if (family === AF_INET6 && bytes.length === 4) {
    const mapped = new Uint8Array(16);
    mapped[10] = 0xff;
    mapped[11] = 0xff;
    mapped.set(bytes, 12);
    bytes = mapped;
  }
  const out = new Uint8Array(bytes.length === 4 ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE);
  writeSockaddr(out, 0, bytes, port);
  return out;
}

/**
 * Encodes a list of addresses with one port as a packed array.
 *
 * @param addresses The addresses (at least one).
 * @param port The port.
 * @returns The packed array.
 * @throws {SctpError} `invalid-argument` for an empty list or bad address text.
 */
export function encodeSockaddrs(addresses: readonly string[], port: number): PackedSockaddrs {
  if (addresses.length === 0) {
    throw new SctpError("invalid-argument", "Cannot use an empty address list");
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SctpError("invalid-argument", `Cannot use port ${port}: not in 0..65535`);
  }
  const parsed = addresses.map(addressBytes);
  let size = 0;
  for (const b of parsed) size += b.length === 4 ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const b of parsed) offset += writeSockaddr(bytes, offset, b, port);
  return { bytes, count: parsed.length, hasIPv6: parsed.some((b) => b.length === 16) };
}

/** A decoded socket address. */
export interface DecodedSockaddr {
  /** Address text (IPv4-mapped IPv6 as IPv4). */
  address: string;
  /** Port (host order). */
  port: number;
  /** Size of the struct (16 or 28), 0 for an unknown family. */
  size: number;
}

/**
 * Decodes one socket address from a byte buffer.
 *
 * @param bytes Buffer.
 * @param offset Where the struct starts.
 * @returns The address, or `undefined` for an unknown family.
 */
export function decodeSockaddr(bytes: Uint8Array, offset = 0): DecodedSockaddr | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const family = view.getUint16(offset, true);
  const port = view.getUint16(offset + 2, false);
  if (family === AF_INET) {
    return { address: formatIpAddress(bytes, offset + 4, 4), port, size: SOCKADDR_IN_SIZE };
  }
  if (family === AF_INET6) {
    const raw = bytes.subarray(offset + 8, offset + 24);
    const v4 = ipv4Of(raw);
    return {
      address: v4 !== undefined ? formatIpAddress(v4) : formatIpAddress(raw),
      port,
      size: SOCKADDR_IN6_SIZE,
    };
  }
  return undefined;
}

/**
 * Decodes `count` packed socket addresses from C memory (as `usrsctp_getpaddrs` returns them).
 *
 * @param pointer Start of the array.
 * @param count Number of addresses.
 * @returns The addresses.
 */
export function decodeSockaddrList(pointer: Deno.PointerObject, count: number): DecodedSockaddr[] {
  const view = new Deno.UnsafePointerView(pointer);
  const result: DecodedSockaddr[] = [];
  const one = new Uint8Array(SOCKADDR_IN6_SIZE);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    const family = view.getUint16(offset);
    const size = family === AF_INET
      ? SOCKADDR_IN_SIZE
      : family === AF_INET6
      ? SOCKADDR_IN6_SIZE
      : 0;
    if (size === 0) break;
    view.copyInto(one.subarray(0, size), offset);
    const decoded = decodeSockaddr(one, 0);
    if (decoded !== undefined) result.push(decoded);
    offset += size;
  }
  return result;
}
