/**
 * Decoders of the RFC 5354 parameters (RSPLIB rserpoolmessageparser.c semantics). Internal.
 *
 * @module
 */

import { ErrorCause, Limits, ParameterType, TransportUse } from "./constants.ts";
import type { MessageReader } from "./_reader.ts";
import { POLICY_FIELDS, policyNameOf, type PoolPolicy } from "./policy_types.ts";
import type {
  OperationError,
  PoolElementParameter,
  ServerInformation,
  TransportParameter,
  TransportProtocol,
} from "./types.ts";
import { AddressScope, addressScopeAt, formatIpAddress } from "../net/ip_address.ts";

/**
 * Options that change how addresses are filtered while decoding.
 *
 * @example Keep loopback addresses (tests on one host)
 * ```ts
 * import { decodeMessage, type DecodeOptions, encodeMessage } from "./mod.ts";
 * const bytes = encodeMessage({
 *   type: "serverAnnounce",
 *   registrarIdentifier: 0x1111,
 *   transports: [{ protocol: "sctp", port: 3863, addresses: ["127.0.0.1"] }],
 * });
 * const options: DecodeOptions = { loopback: true };
 * const m = decodeMessage(11, bytes, options);
 * if (m.type === "serverAnnounce") console.log(m.transports?.[0].addresses); // [ "127.0.0.1" ]
 * ```
 */
export interface DecodeOptions {
  /**
   * Keep loopback addresses in transport parameters. RSPLIB drops every address of link-local
   * scope or below (loopback included) while parsing; so does this decoder unless this is set.
   * @default {false}
   */
  loopback?: boolean;
  /**
   * Keep every address, whatever its scope (for tools that show what was sent; RSPLIB never
   * does this).
   * @default {false}
   */
  keepAllAddresses?: boolean;
}

export function readPoolHandle(r: MessageReader): Uint8Array {
  const start = r.beginTlv(ParameterType.PoolHandle, "pool handle expected");
  const length = r.valueLength(start);
  if (length < 1) r.fail(ErrorCause.InvalidValues, "empty pool handle");
  if (length > Limits.MAX_POOL_HANDLE_SIZE) {
    // RSPLIB flags this and then asserts; a clean error here.
    r.fail(ErrorCause.InvalidValue, `pool handle of ${length} bytes (at most 32)`);
  }
  const handle = r.copy(length);
  r.endTlv(start);
  return handle;
}

export function readPeIdentifier(r: MessageReader): number {
  const start = r.beginTlv(ParameterType.PeIdentifier, "PE identifier expected");
  if (r.valueLength(start) !== 4) r.fail(ErrorCause.InvalidValue, "PE identifier is not 4 bytes");
  const id = r.u32();
  r.endTlv(start);
  return id;
}

export function readChecksum(r: MessageReader): number {
  const start = r.beginTlv(ParameterType.PeChecksum, "PE checksum expected");
  if (r.valueLength(start) !== 2) r.fail(ErrorCause.InvalidValue, "PE checksum is not 2 bytes");
  const checksum = r.u16();
  r.endTlv(start);
  return checksum;
}

export function readHandleResolutionOption(r: MessageReader): number {
  const start = r.beginTlv(ParameterType.HandleResolution, "handle resolution option expected");
  if (r.valueLength(start) < 4) r.fail(ErrorCause.InvalidValue, "handle resolution option short");
  const items = r.u32();
  r.endTlv(start);
  return items;
}

export function readOperationError(r: MessageReader): OperationError {
  const start = r.beginTlv(ParameterType.OperationError, "operation error expected");
  if (r.valueLength(start) < 4) r.fail(ErrorCause.InvalidValue, "operation error too short");
  const cause = r.u16();
  const causeLength = r.u16();
  if (causeLength < 4) r.fail(ErrorCause.InvalidValue, `error cause length ${causeLength}`);
  const dataLength = causeLength - 4;
  r.need(dataLength, ErrorCause.InvalidValue, "error cause data");
  if (r.position + dataLength > r.valueEnd(start)) {
    r.fail(ErrorCause.InvalidValue, "error cause exceeds its parameter");
  }
  const error: OperationError = { cause };
  if (dataLength > 0) error.data = r.copy(dataLength);
  r.endTlv(start);
  return error;
}

export function readCookie(r: MessageReader): Uint8Array {
  const start = r.beginTlv(ParameterType.Cookie, "cookie expected");
  const length = r.valueLength(start);
  if (length < 1) r.fail(ErrorCause.InvalidValue, "empty cookie");
  const cookie = r.copy(length);
  r.endTlv(start);
  return cookie;
}

/**
 * Reads one address TLV of a transport parameter ending at `end`.
 *
 * @returns The address; `null` for an entry that is skipped (an unknown parameter with a skip
 * action, or an address of link-local scope or below); `undefined` for an entry that ends the
 * list (RSPLIB stops scanning addresses there and ignores the rest of the transport).
 */
function readAddress(
  r: MessageReader,
  end: number,
  options: DecodeOptions,
): string | null | undefined {
  const start = r.position;
  if (start + 4 > end) return undefined;
  const type = r.peekU16At(start);
  const length = r.peekU16At(start + 2);
  if (length < 4 || start + length > end) return undefined;
  const pure = type & 0x3fff;
  const valueLength = length - 4;
  let size = 0;
  if (pure === ParameterType.IPv4Address && valueLength >= 4) size = 4;
  else if (pure === ParameterType.IPv6Address && valueLength >= 16) size = 16;
  else if ((type & 0x8000) === 0) return undefined;
  r.position = Math.min(start + length + ((4 - (length & 3)) & 3), end);
  if (size === 0) return null; // unknown "skip" entry (RSPLIB crashes on it)
  const scope = addressScopeAt(r.bytes, start + 4, size);
  const usable = scope > AddressScope.LinkLocal || options.keepAllAddresses === true ||
    (options.loopback === true && scope === AddressScope.Loopback);
  return usable ? formatIpAddress(r.bytes, start + 4, size) : null;
}

const TRANSPORT_PROTOCOLS: ReadonlyMap<number, TransportProtocol> = new Map([
  [ParameterType.SctpTransport, "sctp"],
  [ParameterType.TcpTransport, "tcp"],
  [ParameterType.UdpTransport, "udp"],
]);

export function readTransport(r: MessageReader, options: DecodeOptions): TransportParameter {
  const start = r.beginTlv(-1, "transport parameter expected");
  const type = r.peekU16At(start);
  const protocol = TRANSPORT_PROTOCOLS.get(type & 0x3fff);
  if (protocol === undefined) {
    r.skipUnknown(start, type, r.peekU16At(start + 2), "transport parameter expected");
    return readTransport(r, options);
  }
  if (r.valueLength(start) < 4) r.fail(ErrorCause.InvalidValues, "transport parameter too short");
  const port = r.u16();
  const use = r.u16();
  const end = r.valueEnd(start);
  const addresses: string[] = [];
  while (r.position < end) {
    if (addresses.length >= Limits.MAX_TRANSPORT_ADDRESSES) {
      r.fail(ErrorCause.InvalidValue, "more than 64 transport addresses");
    }
    // RSPLIB only fails at a third address here (off by one); one is the rule.
    if (protocol !== "sctp" && addresses.length > 0) {
      r.fail(ErrorCause.InvalidValue, "several addresses for a single-homed transport");
    }
    const address = readAddress(r, end, options);
    if (address === undefined) break;
    if (address !== null) addresses.push(address);
  }
  if (addresses.length < 1) r.fail(ErrorCause.InvalidValue, "no usable transport address");
  r.endTlv(start);
  const transport: TransportParameter = { protocol, port, addresses };
  if (protocol !== "udp") transport.controlChannel = use === TransportUse.DATA_PLUS_CONTROL;
  return transport;
}

/** Cause for a too-short policy: RSPLIB answers 0x3 for two of them, 0x11 for the rest. */
const SHORT_POLICY_CAUSE: Partial<Record<string, number>> = {
  WeightedRandom: ErrorCause.InvalidValues,
  RandomizedLeastUsed: ErrorCause.InvalidValues,
};

export function readPolicy(r: MessageReader): PoolPolicy {
  const start = r.beginTlv(ParameterType.PoolMemberSelectionPolicy, "policy expected");
  const length = r.valueLength(start);
  if (length < 4) r.fail(ErrorCause.InvalidValues, "policy parameter too short");
  const code = r.u32();
  const name = policyNameOf(code);
  if (name === undefined) {
    r.fail(ErrorCause.UnsupportedPoolPolicy, `unknown policy type 0x${code.toString(16)}`);
  }
  const fields = POLICY_FIELDS[name];
  if (length < 4 + 4 * fields.length) {
    r.fail(SHORT_POLICY_CAUSE[name] ?? ErrorCause.InvalidValue, `${name} policy too short`);
  }
  const policy: PoolPolicy = { type: name };
  for (const field of fields) policy[field] = r.u32();
  r.endTlv(start);
  return policy;
}

/**
 * Reads a Pool Element parameter. In ENRP (`registrator`), the registrator transport is required
 * and the home registrar must be set; in ASAP, anything after the policy is skipped (RSPLIB).
 */
export function readPoolElement(
  r: MessageReader,
  registrator: boolean,
  options: DecodeOptions,
): PoolElementParameter {
  const start = r.beginTlv(ParameterType.PoolElement, "pool element expected");
  if (r.valueLength(start) < 12) r.fail(ErrorCause.InvalidValues, "pool element too short");
  const identifier = r.u32();
  const homeRegistrarIdentifier = r.u32();
  const registrationLife = r.u32();
  if (registrator && homeRegistrarIdentifier === 0) {
    r.fail(ErrorCause.InvalidValue, "pool element without home registrar");
  }
  const pe: PoolElementParameter = {
    identifier,
    homeRegistrarIdentifier,
    registrationLife,
    userTransport: readTransport(r, options),
    policy: readPolicy(r),
  };
  if (registrator) {
    if (r.position >= r.valueEnd(start)) {
      r.fail(ErrorCause.InvalidRegistrator, "pool element without registrator transport");
    }
    pe.registratorTransport = readTransport(r, options);
  }
  r.endTlv(start);
  return pe;
}

export function readServerInformation(
  r: MessageReader,
  options: DecodeOptions,
): ServerInformation {
  const start = r.beginTlv(ParameterType.ServerInformation, "server information expected");
  if (r.valueLength(start) < 4) r.fail(ErrorCause.InvalidValue, "server information too short");
  const registrarIdentifier = r.u32();
  const transport = readTransport(r, options);
  r.endTlv(start);
  return { registrarIdentifier, transport };
}
