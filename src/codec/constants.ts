/**
 * Protocol numbers of ASAP (RFC 5352), ENRP (RFC 5353) and their parameters (RFC 5354), with
 * the extensions that RSPLIB puts on the wire.
 *
 * @module
 */

/**
 * SCTP payload protocol identifiers: ASAP is 11, ENRP is 12 (IANA).
 *
 * @example Choose the protocol of a received SCTP message
 * ```ts
 * import { Ppid } from "./constants.ts";
 * const isAsap = (ppid: number): boolean => ppid === Ppid.ASAP;
 * console.log(isAsap(11)); // true
 * ```
 */
export const Ppid = {
  /** Aggregate Server Access Protocol. */
  ASAP: 11,
  /** Endpoint haNdlespace Redundancy Protocol. */
  ENRP: 12,
} as const;

/**
 * Well-known ports and multicast groups (RSPLIB defaults).
 *
 * @example
 * ```ts
 * import { WellKnown } from "./constants.ts";
 * console.log(`${WellKnown.ASAP_ANNOUNCE_GROUP}:${WellKnown.ASAP_PORT}`); // 239.0.0.50:3863
 * ```
 */
export const WellKnown = {
  /** SCTP port of a registrar's ASAP endpoint when it is pinned. */
  ASAP_PORT: 3863,
  /** SCTP port of a registrar's ENRP endpoint when it is pinned. */
  ENRP_PORT: 9901,
  /** Multicast group of ASAP Server Announces. */
  ASAP_ANNOUNCE_GROUP: "239.0.0.50",
  /** Multicast group of ENRP Presences. */
  ENRP_ANNOUNCE_GROUP: "239.0.0.51",
  /** UDP port of a Component Status Protocol monitor. */
  CSP_PORT: 2960,
  /** Time to live of multicast announces. */
  ANNOUNCE_TTL: 30,
} as const;

/**
 * ASAP message type codes (the low byte of RSPLIB's 0xaaNN).
 *
 * @example Recognize a Server Announce by its first byte
 * ```ts
 * import { AsapType } from "./constants.ts";
 * const bytes = new Uint8Array([0x0a, 0, 0, 8, 0x0a, 0x0b, 0x0c, 0x0d]);
 * console.log(bytes[0] === AsapType.ServerAnnounce); // true
 * ```
 */
export const AsapType = {
  Registration: 0x01,
  Deregistration: 0x02,
  RegistrationResponse: 0x03,
  DeregistrationResponse: 0x04,
  HandleResolution: 0x05,
  HandleResolutionResponse: 0x06,
  EndpointKeepAlive: 0x07,
  EndpointKeepAliveAck: 0x08,
  EndpointUnreachable: 0x09,
  ServerAnnounce: 0x0a,
  Cookie: 0x0b,
  CookieEcho: 0x0c,
  BusinessCard: 0x0d,
  Error: 0x0e,
} as const;

/**
 * ENRP message type codes (the low byte of RSPLIB's 0xeeNN).
 *
 * @example Name an ENRP message type code
 * ```ts
 * import { EnrpType } from "./constants.ts";
 * const name = Object.entries(EnrpType).find(([, code]) => code === 0x04)?.[0];
 * console.log(name); // HandleUpdate
 * ```
 */
export const EnrpType = {
  Presence: 0x01,
  HandleTableRequest: 0x02,
  HandleTableResponse: 0x03,
  HandleUpdate: 0x04,
  ListRequest: 0x05,
  ListResponse: 0x06,
  InitTakeover: 0x07,
  InitTakeoverAck: 0x08,
  TakeoverServer: 0x09,
  Error: 0x0a,
} as const;

/**
 * Message flag bits; each applies to the message type its name starts with.
 *
 * @example Test the reject flag of a response
 * ```ts
 * import { encodeMessage, MessageFlag, poolHandle } from "./mod.ts";
 * const bytes = encodeMessage({
 *   type: "registrationResponse",
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 *   reject: true,
 * });
 * console.log((bytes[1] & MessageFlag.REJECT) !== 0); // true
 * ```
 */
export const MessageFlag = {
  /** ASAP Registration Response, Handle Resolution Response: request rejected. */
  REJECT: 0x01,
  /** ASAP Endpoint Keep Alive: the sender is the PE's new home registrar. */
  HOME: 0x01,
  /** ENRP Presence: the receiver must answer with a Presence. */
  REPLY_REQUIRED: 0x01,
  /** ENRP Handle Table Request: only PEs owned by the receiver ("W" flag). */
  OWN_CHILDREN_ONLY: 0x01,
  /** ENRP Handle Table Response: more PEs follow in further responses. */
  MORE_TO_SEND: 0x02,
  /** ENRP Handle Update: the sender suggests that the receiver takes the PE over. */
  TAKEOVER_SUGGESTED: 0x01,
} as const;

/**
 * Parameter (TLV) type codes, without the action bits.
 *
 * @example Strip the action bits of a parameter type
 * ```ts
 * import { ParameterAction, ParameterType } from "./constants.ts";
 * const type = 0x803f; // RSPLIB's Handle Resolution option
 * console.log((type & ~ParameterAction.MASK) === ParameterType.HandleResolution); // true
 * ```
 */
export const ParameterType = {
  IPv4Address: 0x0001,
  IPv6Address: 0x0002,
  DccpTransport: 0x0003,
  SctpTransport: 0x0004,
  TcpTransport: 0x0005,
  UdpTransport: 0x0006,
  UdpLiteTransport: 0x0007,
  PoolMemberSelectionPolicy: 0x0008,
  PoolHandle: 0x0009,
  PoolElement: 0x000a,
  ServerInformation: 0x000b,
  OperationError: 0x000c,
  Cookie: 0x000d,
  PeIdentifier: 0x000e,
  PeChecksum: 0x000f,
  /** RSPLIB's Handle Resolution option (draft-dreibholz-rserpool-asap-hropt). */
  HandleResolution: 0x003f,
} as const;

/**
 * The top two bits of a parameter type: what a receiver does with a type it does not know.
 * RSPLIB sends its Handle Resolution option as `0x003f | SKIP` (0x803f).
 *
 * @example What to do with an unknown parameter
 * ```ts
 * import { ParameterAction } from "./constants.ts";
 * const unknownType = 0xc0ff;
 * console.log((unknownType & ParameterAction.MASK) === ParameterAction.SKIP_AND_REPORT); // true
 * ```
 */
export const ParameterAction = {
  /** Stop processing the message, report nothing. */
  STOP: 0x0000,
  /** Stop processing the message and report an Unrecognized Parameter error. */
  STOP_AND_REPORT: 0x4000,
  /** Skip the parameter silently. */
  SKIP: 0x8000,
  /** Skip the parameter and report it. */
  SKIP_AND_REPORT: 0xc000,
  /** Mask of the two action bits. */
  MASK: 0xc000,
} as const;

/**
 * Value of a transport's "transport use" field.
 *
 * @example The transport use of a transport parameter
 * ```ts
 * import { TransportUse } from "./constants.ts";
 * import type { TransportParameter } from "./types.ts";
 * const use = (t: TransportParameter): number =>
 *   t.controlChannel ? TransportUse.DATA_PLUS_CONTROL : TransportUse.DATA_ONLY;
 * console.log(use({ protocol: "sctp", port: 7, addresses: ["192.0.2.1"] })); // 0
 * ```
 */
export const TransportUse = {
  DATA_ONLY: 0x0000,
  DATA_PLUS_CONTROL: 0x0001,
} as const;

/**
 * Handle Update actions (ENRP).
 *
 * @example Decode the action of a Handle Update
 * ```ts
 * import { UpdateAction } from "./constants.ts";
 * const action = (code: number) => (code === UpdateAction.DEL_PE ? "delete" : "add");
 * console.log(action(0x0001)); // delete
 * ```
 */
export const UpdateAction = {
  ADD_PE: 0x0000,
  DEL_PE: 0x0001,
} as const;

/**
 * Error causes: RFC 5354 codes, RSPLIB's 0x10/0x11, and the implementation codes that RSPLIB
 * puts on the wire verbatim (for example in a rejected Registration Response).
 *
 * @example The error of a failed handle resolution
 * ```ts
 * import type { OperationError } from "./types.ts";
 * import { describeErrorCause, ErrorCause } from "./constants.ts";
 * const error: OperationError = { cause: ErrorCause.UnknownPoolHandle };
 * console.log(describeErrorCause(error.cause)); // 0x0009 UnknownPoolHandle
 * ```
 */
export const ErrorCause = {
  UnrecognizedParameter: 0x0001,
  UnrecognizedMessage: 0x0002,
  /** RSPLIB calls it "invalid TLV". */
  InvalidValues: 0x0003,
  NonUniquePeIdentifier: 0x0004,
  PoolingPolicyInconsistent: 0x0005,
  LackOfResources: 0x0006,
  InconsistentTransportType: 0x0007,
  InconsistentDataControlConfiguration: 0x0008,
  UnknownPoolHandle: 0x0009,
  RejectedDueToSecurity: 0x000a,
  /** RSPLIB: malformed message (lengths). */
  InvalidMessage: 0x0010,
  /** RSPLIB: a parameter's value is out of range. */
  InvalidValue: 0x0011,
  NotInitialized: 0x1000,
  BufferSizeExceeded: 0x1001,
  ReadError: 0x1003,
  WriteError: 0x1004,
  ConnectionFailureSocket: 0x1005,
  ConnectionFailureConnect: 0x1006,
  NoRegistrar: 0x1007,
  Timeout: 0x1008,
  /** An unknown parameter with the "stop silently" action: no error reply. */
  UnrecognizedParameterSilent: 0x1009,
  WrongProtocol: 0x100a,
  UnsupportedPoolPolicy: 0x100b,
  InvalidId: 0xf000,
  OwnId: 0xf001,
  DuplicateId: 0xf002,
  InvalidPoolPolicy: 0xf003,
  InvalidPoolHandle: 0xf004,
  InvalidAddresses: 0xf005,
  InvalidRegistrator: 0xf006,
  NoUsableAsapAddresses: 0xf007,
  NoUsableUserAddresses: 0xf008,
} as const;

/**
 * Names of {@linkcode ErrorCause} codes, for log lines.
 *
 * @example Look up a cause name
 * ```ts
 * import { ERROR_CAUSE_NAMES } from "./constants.ts";
 * console.log(ERROR_CAUSE_NAMES.get(0x1008)); // Timeout
 * console.log(ERROR_CAUSE_NAMES.get(0x1234)); // undefined
 * ```
 */
export const ERROR_CAUSE_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(ErrorCause).map(([name, code]) => [code, name]),
);

/**
 * Describes an error cause code, e.g. `"0x0009 UnknownPoolHandle"`.
 *
 * @example
 * ```ts
 * import { describeErrorCause } from "./constants.ts";
 * console.log(describeErrorCause(0xf008)); // 0xf008 NoUsableUserAddresses
 * ```
 *
 * @param code The cause code.
 * @returns Its hexadecimal code and name.
 */
export function describeErrorCause(code: number): string {
  const hex = `0x${code.toString(16).padStart(4, "0")}`;
  const name = ERROR_CAUSE_NAMES.get(code);
  return name === undefined ? `${hex} (unknown)` : `${hex} ${name}`;
}

/**
 * Limits that RSPLIB enforces on the wire.
 *
 * @example Check a pool handle's length
 * ```ts
 * import { Limits } from "./constants.ts";
 * const handle = new TextEncoder().encode("EchoPool");
 * console.log(handle.length <= Limits.MAX_POOL_HANDLE_SIZE); // true
 * ```
 */
export const Limits = {
  /** Longest pool handle in bytes. */
  MAX_POOL_HANDLE_SIZE: 32,
  /** Most transport addresses of one transport parameter. */
  MAX_TRANSPORT_ADDRESSES: 64,
  /** Most pool elements in one Handle Resolution Response. */
  MAX_HANDLE_RESOLUTION_ITEMS: 128,
  /** Handle Resolution option value meaning "as many as possible". */
  HANDLE_RESOLUTION_ALL: 0xffffffff,
  /** Largest 32-bit value; load-type policy values use it as 100 %. */
  MAX_UINT32: 0xffffffff,
} as const;
