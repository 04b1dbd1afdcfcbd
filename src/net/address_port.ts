/**
 * RSPLIB's textual endpoint formats: `address:port`, `[v6address]:port`, `address!port`, and
 * comma-separated address lists for multi-homed endpoints (`10.0.0.1,10.0.1.1:3863`).
 *
 * @module
 */

import { normalizeIpAddress } from "./ip_address.ts";

/** An address with a port. */
export interface AddressPort {
  /** Address in normal text form (IPv4-mapped IPv6 becomes IPv4). */
  address: string;
  /** Port number (0 = not given). */
  port: number;
}

/**
 * A multi-homed endpoint: several addresses, one port.
 *
 * @example A multi-homed registrar
 * ```ts
 * import { type EndpointAddresses, formatEndpointAddresses } from "./address_port.ts";
 * const registrar: EndpointAddresses = { addresses: ["10.0.0.1", "10.0.1.1"], port: 3863 };
 * console.log(formatEndpointAddresses(registrar)); // {10.0.0.1, 10.0.1.1}:3863
 * ```
 */
export interface EndpointAddresses {
  /** Addresses in normal text form. */
  addresses: string[];
  /** Port number (0 = not given). */
  port: number;
}

function parsePort(text: string, whole: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new TypeError(`Cannot parse address "${whole}": bad port "${text}"`);
  }
  return Number(text);
}

/** Options of {@linkcode parseAddressPort}. */
export interface ParseAddressOptions {
  /**
   * Accept a host name (returned as given, for the socket to resolve) like RSPLIB's
   * `string2address()`, which uses getaddrinfo. Otherwise only IP addresses and `localhost`.
   *
   * @default {false}
   */
  hostnames?: boolean;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*\.?$/;

/**
 * Parses `address:port`, `[v6]:port`, `address!port`, a bare IPv4 or IPv6 address, or
 * `localhost`. A port of 0 means `defaultPort`, as in RSPLIB (e.g. `-peer=addr:0` is 9901).
 *
 * @example
 * ```ts
 * import { parseAddressPort } from "./address_port.ts";
 * console.log(parseAddressPort("10.0.0.1:3863")); // { address: "10.0.0.1", port: 3863 }
 * console.log(parseAddressPort("[2001:db8::1]:9901").port); // 9901
 * console.log(parseAddressPort("10.0.0.1", 2960).port); // 2960
 * ```
 *
 * @param text The text.
 * @param defaultPort Port when none (or 0) is given.
 * @param options Whether host names are accepted.
 * @returns Address and port.
 * @throws {TypeError} When the text is no address.
 */
export function parseAddressPort(
  text: string,
  defaultPort = 0,
  options: ParseAddressOptions = {},
): AddressPort {
  const t = text.trim();
  let host: string, portText: string | undefined;
  if (t.startsWith("[")) {
    const close = t.indexOf("]");
    if (close < 0) throw new TypeError(`Cannot parse address "${text}": missing "]"`);
    host = t.slice(1, close);
    const rest = t.slice(close + 1);
    if (rest !== "") {
      if (rest[0] !== ":" && rest[0] !== "!") {
        throw new TypeError(`Cannot parse address "${text}": unexpected "${rest}"`);
      }
      portText = rest.slice(1);
    }
  } else {
    // RSPLIB's string2address(): the last ':' (else '!') separates the port, even after an
    // IPv6 address ("2001:db8::1:2965" is port 2965). A bare IPv6 address without a port
    // ("2001:db8::1") is accepted when that split gives no valid address.
    let sep = t.lastIndexOf(":");
    if (sep < 0) sep = t.lastIndexOf("!");
    host = sep >= 0 ? t.slice(0, sep) : t;
    portText = sep >= 0 ? t.slice(sep + 1) : undefined;
    if (
      sep >= 0 && t.includes(":") && normalizeIpAddress(host) === undefined &&
      normalizeIpAddress(t) !== undefined
    ) {
      host = t;
      portText = undefined;
    }
  }
  if (host === "localhost") host = "127.0.0.1";
  const port = portText === undefined ? 0 : parsePort(portText, text);
  const address = normalizeIpAddress(host);
  if (address !== undefined) return { address, port: port === 0 ? defaultPort : port };
  if (options.hostnames && !/^[\d.]+$/.test(host) && HOSTNAME.test(host)) {
    return { address: host, port: port === 0 ? defaultPort : port };
  }
  throw new TypeError(`Cannot parse address "${text}": "${host}" is not an IP address`);
}

/**
 * Parses a comma-separated address list; the port comes from the first entry that has one (as
 * RSPLIB takes the first address's port).
 *
 * @example
 * ```ts
 * import { parseEndpointAddresses } from "./address_port.ts";
 * console.log(parseEndpointAddresses("10.0.0.1:3863,10.0.1.1"));
 * // { addresses: [ "10.0.0.1", "10.0.1.1" ], port: 3863 }
 * ```
 *
 * @param text The list.
 * @param defaultPort Port when none is given.
 * @returns Addresses and port.
 * @throws {TypeError} When an entry is no address or the list is empty or longer than 64.
 */
export function parseEndpointAddresses(text: string, defaultPort = 0): EndpointAddresses {
  const parts = text.split(",").map((p) => p.trim()).filter((p) => p !== "");
  if (parts.length === 0) throw new TypeError(`Cannot parse address list "${text}": it is empty`);
  if (parts.length > 64) throw new TypeError(`Cannot use more than 64 addresses in "${text}"`);
  const parsed = parts.map((p) => parseAddressPort(p, 0));
  const port = parsed.find((p) => p.port !== 0)?.port ?? defaultPort;
  return { addresses: parsed.map((p) => p.address), port };
}

/**
 * Formats an address and port, with brackets for IPv6.
 *
 * @example
 * ```ts
 * import { formatAddressPort } from "./address_port.ts";
 * console.log(formatAddressPort("2001:db8::1", 3863)); // [2001:db8::1]:3863
 * ```
 *
 * @param address The address.
 * @param port The port.
 * @returns `address:port` or `[address]:port`.
 */
export function formatAddressPort(address: string, port: number): string {
  return address.includes(":") ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Formats a multi-homed endpoint like RSPLIB prints a transport address block:
 * `{10.0.0.1, 10.0.1.1}:3863`.
 *
 * @param endpoint Addresses and port.
 * @returns The text.
 */
export function formatEndpointAddresses(endpoint: EndpointAddresses): string {
  return `{${endpoint.addresses.join(", ")}}:${endpoint.port}`;
}
