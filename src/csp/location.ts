/**
 * The location text of a component, built like RSPLIB's `getComponentLocation()`: the host name,
 * `": "`, then the component's addresses separated by `", "`. Global addresses are preferred;
 * site-local ones are used only when there is no global one; loopback and link-local addresses
 * are never shown. With a bound port, the first address carries it (`10.0.0.1:3863`,
 * `[2001:db8::1]:3863`).
 *
 * @module
 */

import {
  AddressScope,
  addressScope,
  ipv4Of,
  normalizeIpAddress,
  parseIpAddress,
} from "../net/ip_address.ts";
import { CspPacket } from "./constants.ts";

/**
 * Options of {@linkcode componentLocation}.
 *
 * @example An IPv6 address with a port
 * ```ts
 * import { componentLocation, type ComponentLocationOptions } from "./location.ts";
 * const options: ComponentLocationOptions = {
 *   hostname: "node1",
 *   addresses: ["2001:db8::1"],
 *   port: 9901,
 * };
 * console.log(componentLocation(options)); // node1: [2001:db8::1]:9901
 * ```
 */
export interface ComponentLocationOptions {
  /** Host name. @default {Deno.hostname()} (empty when not permitted) */
  hostname?: string;
  /**
   * The component's own addresses (e.g. the addresses its socket is bound to). When absent, or
   * only a wildcard address, the host's interface addresses are used
   * ({@linkcode Deno.networkInterfaces}), without a port.
   */
  addresses?: readonly string[];
  /** Port of the component's socket, shown with the first of `addresses`. */
  port?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Builds a location text such as `"node1: 10.0.0.1:3863, 10.0.1.1"`, at most 127 UTF-8 bytes
 * long. It is `"(local only)"` when there is neither a host name nor a usable address.
 *
 * @example Location of a registrar bound to two addresses
 * ```ts
 * import { componentLocation } from "./location.ts";
 * const location = componentLocation({
 *   hostname: "node1",
 *   addresses: ["127.0.0.1", "10.0.0.1", "10.0.1.1"],
 *   port: 3863,
 * });
 * console.log(location); // node1: 10.0.0.1:3863, 10.0.1.1
 * ```
 *
 * @param options Host name, addresses and port; by default the host's name and interfaces.
 * @returns The location text.
 */
export function componentLocation(options: ComponentLocationOptions = {}): string {
  const hostname = options.hostname ?? safeHostname();
  let addresses =
    options.addresses?.map((a) => normalizeIpAddress(a)).filter((a) => a !== undefined) ?? [];
  let port = options.port;
  if (addresses.length === 0 || (addresses.length === 1 && isWildcard(addresses[0]))) {
    addresses = interfaceAddresses();
    port = undefined;
  }
  let chosen: string[] = [];
  for (const minScope of [AddressScope.Global, AddressScope.SiteLocal]) {
    chosen = addresses.filter((a) => addressScope(a) >= minScope && !isMulticast(a));
    if (chosen.length > 0) break;
  }
  chosen = [...new Set(chosen)];
  let text = hostname;
  chosen.forEach((address, i) => {
    if (text !== "") text += i > 0 ? ", " : ": ";
    const withPort = i === 0 && port !== undefined;
    text += withPort
      ? (address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`)
      : address;
  });
  if (text === "") return "(local only)";
  return truncateUtf8(text, CspPacket.LOCATION_SIZE - 1);
}

function isWildcard(address: string): boolean {
  return address === "0.0.0.0" || address === "::";
}

function isMulticast(address: string): boolean {
  const bytes = parseIpAddress(address);
  if (bytes === undefined) return false;
  const v4 = ipv4Of(bytes);
  return v4 !== undefined ? v4[0] >= 224 && v4[0] <= 239 : bytes[0] === 0xff;
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "";
  }
}

function interfaceAddresses(): string[] {
  try {
    return Deno.networkInterfaces()
      .map((i) => normalizeIpAddress(i.address))
      .filter((a) => a !== undefined);
  } catch {
    return [];
  }
}

/** Cuts `text` to at most `max` UTF-8 bytes at a character boundary. */
function truncateUtf8(text: string, max: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return decoder.decode(bytes.subarray(0, end));
}
