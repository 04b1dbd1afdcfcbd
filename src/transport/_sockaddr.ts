/**
 * `struct sockaddr_in` (16 bytes) and `struct sockaddr_in6` (28 bytes) in Linux layout (no
 * `sin_len`), packed back to back as `sctp_bindx`/`usrsctp_bindx`, `sctp_connectx`/
 * `usrsctp_connectx`, `usrsctp_sendv` and the `getpaddrs`/`getladdrs` functions of both backends
 * use them: usrsctp on Linux uses the system's structs, so one encoding serves both.
 *
 * @module
 */

import { formatIpAddress, ipv4Of, parseIpAddress } from "../net/ip_address.ts";
import { SctpError } from "./types.ts";

/** Linux address families (the same for kernel SCTP and usrsctp on Linux). */
const AF_INET = 2;
const AF_INET6 = 10;
const SOCKADDR_IN_SIZE = 16;
const SOCKADDR_IN6_SIZE = 28;

/** A packed list of socket addresses. */
export interface PackedSockaddrs {
  /** The structs, back to back. */
  bytes: Uint8Array<ArrayBuffer>;
  /** How many. */
  count: number;
  /** Whether one of them is IPv6 (IPv4-mapped addresses are packed as IPv4). */
  hasIPv6: boolean;
}

/** A decoded socket address. */
export interface DecodedSockaddr {
  /** Text form; IPv4-mapped IPv6 addresses are given as IPv4. */
  address: string;
  /** Port (host order). */
  port: number;
}

/**
 * Parses an address into 4 (IPv4 and IPv4-mapped IPv6) or 16 bytes.
 *
 * @param address The address text.
 * @returns The bytes.
 * @throws {SctpError} `invalid-argument` for text that is no IP address.
 */
export function addressBytes(address: string): Uint8Array {
  const bytes = parseIpAddress(address);
  if (bytes === undefined) {
    throw new SctpError("invalid-argument", `Cannot use '${address}' as an IP address`);
  }
  return ipv4Of(bytes) ?? bytes;
}

/** Writes one struct at `offset`; returns its size. */
function write(out: Uint8Array, offset: number, bytes: Uint8Array, port: number): number {
  const view = new DataView(out.buffer, out.byteOffset + offset);
  view.setUint16(2, port, false);
  if (bytes.length === 4) {
    view.setUint16(0, AF_INET, true);
    out.set(bytes, offset + 4);
    return SOCKADDR_IN_SIZE;
  }
  view.setUint16(0, AF_INET6, true);
  out.set(bytes, offset + 8);
  return SOCKADDR_IN6_SIZE;
}

/**
 * Encodes one socket address.
 *
 * @param address IPv4 or IPv6 address text.
 * @param port Port (host order).
 * @returns `sockaddr_in` or `sockaddr_in6` bytes.
 * @throws {SctpError} `invalid-argument` for text that is no IP address.
 */
export function encodeSockaddr(address: string, port: number): Uint8Array<ArrayBuffer> {
  const bytes = addressBytes(address);
  const out = new Uint8Array(bytes.length === 4 ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE);
  write(out, 0, bytes, port);
  return out;
}

/**
 * Packs several addresses with one port.
 *
 * @param addresses Address texts (at least one).
 * @param port Port (host order).
 * @returns The packed list.
 * @throws {SctpError} `invalid-argument` for an empty list, a bad address or port.
 */
export function encodeSockaddrs(addresses: readonly string[], port: number): PackedSockaddrs {
  if (addresses.length === 0) {
    throw new SctpError("invalid-argument", "Cannot use an empty address list");
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new SctpError("invalid-argument", `Cannot use port ${port}: not a port number`);
  }
  const parsed = addresses.map(addressBytes);
  let size = 0;
  for (const b of parsed) size += b.length === 4 ? SOCKADDR_IN_SIZE : SOCKADDR_IN6_SIZE;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const b of parsed) offset += write(bytes, offset, b, port);
  return { bytes, count: parsed.length, hasIPv6: parsed.some((b) => b.length === 16) };
}

/**
 * Decodes the socket address at `offset`.
 *
 * @param bytes Buffer holding it.
 * @param offset Where it starts.
 * @returns The address and port, or `undefined` for another family (or a short buffer).
 */
export function decodeSockaddr(bytes: Uint8Array, offset = 0): DecodedSockaddr | undefined {
  if (bytes.length < offset + SOCKADDR_IN_SIZE) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset);
  const family = view.getUint16(0, true);
  const port = view.getUint16(2, false);
  if (family === AF_INET) {
    return { address: formatIpAddress(bytes, offset + 4, 4), port };
  }
  if (family === AF_INET6 && bytes.length >= offset + SOCKADDR_IN6_SIZE) {
    const raw = bytes.subarray(offset + 8, offset + 24);
    const v4 = ipv4Of(raw);
    return { address: v4 ? formatIpAddress(v4, 0, 4) : formatIpAddress(raw, 0, 16), port };
  }
  return undefined;
}

/**
 * Decodes a packed list that C code allocated (`getpaddrs`, `getladdrs`).
 *
 * @param pointer Start of the list.
 * @param count Number of entries.
 * @returns The addresses (an unknown family ends the list).
 */
export function decodeSockaddrList(pointer: Deno.PointerObject, count: number): DecodedSockaddr[] {
  const view = new Deno.UnsafePointerView(pointer);
  const out: DecodedSockaddr[] = [];
  let offset = 0;
  const entry = new Uint8Array(SOCKADDR_IN6_SIZE);
  for (let i = 0; i < count; i++) {
    const family = view.getUint16(offset);
    const size = family === AF_INET
      ? SOCKADDR_IN_SIZE
      : family === AF_INET6
      ? SOCKADDR_IN6_SIZE
      : 0;
    if (size === 0) break;
    entry.fill(0);
    view.copyInto(entry.subarray(0, size), offset);
    const decoded = decodeSockaddr(entry, 0);
    if (decoded !== undefined) out.push(decoded);
    offset += size;
  }
  return out;
}

/**
 * Calls a `getpaddrs`/`getladdrs`-style C function (`int f(..., struct sockaddr **addrs)`,
 * returning the count), decodes the list it allocated and frees it with its `free` partner.
 *
 * @example
 * ```ts ignore
 * const peers = readSockaddrList(
 *   (out) => lib.sctp_getpaddrs(fd, assocId, out),
 *   (list) => lib.sctp_freepaddrs(list),
 * );
 * ```
 *
 * @param get Calls the function with the out-parameter (8 bytes for the pointer).
 * @param free Frees the list.
 * @returns The addresses; none when the call failed or found none.
 */
export function readSockaddrList(
  get: (out: Uint8Array<ArrayBuffer>) => number,
  free: (list: Deno.PointerObject) => unknown,
): DecodedSockaddr[] {
  const out = new BigUint64Array(1);
  const n = get(new Uint8Array(out.buffer));
  if (n <= 0) return [];
  const pointer = Deno.UnsafePointer.create(out[0]);
  if (pointer === null) return [];
  try {
    return decodeSockaddrList(pointer, n);
  } finally {
    free(pointer);
  }
}
