/**
 * ASAP and ENRP messages as plain typed data: a discriminated union on `type`, easy to build by
 * hand, to compare and to print.
 *
 * @module
 */

import type { PoolPolicy } from "./policy_types.ts";

/**
 * A pool handle: 1 to 32 bytes, usually ASCII text such as `EchoPool`.
 * Build one from text with {@linkcode import("./pool_handle.ts").poolHandle}.
 */
export type PoolHandle = Uint8Array;

/**
 * Transport protocol of a transport parameter. DCCP and UDP-Lite (RFC 5354) are left out, as in
 * RSPLIB, which treats them as unknown parameters.
 */
export type TransportProtocol = "sctp" | "tcp" | "udp";

/**
 * A transport parameter: where (and how) a pool element, registrar or registrator is reached.
 *
 * @example An SCTP endpoint with two addresses that carries the ASAP control channel
 * ```ts
 * import type { TransportParameter } from "./types.ts";
 * const t: TransportParameter = {
 *   protocol: "sctp",
 *   port: 7,
 *   addresses: ["192.0.2.1", "2001:db8::1"],
 *   controlChannel: true,
 * };
 * console.log(t.addresses.length);
 * ```
 */
export interface TransportParameter {
  /** Transport protocol (SCTP may carry 1 to 64 addresses, the others exactly 1). */
  protocol: TransportProtocol;
  /** Port number. */
  port: number;
  /** IPv4 or IPv6 addresses in text form. IPv4-mapped IPv6 addresses travel as IPv4. */
  addresses: string[];
  /** Transport use "data plus control" (SCTP and TCP only). */
  controlChannel?: boolean;
}

/**
 * A Pool Element parameter.
 *
 * @example
 * ```ts
 * import type { PoolElementParameter } from "./types.ts";
 * const pe: PoolElementParameter = {
 *   identifier: 0x11223344,
 *   homeRegistrarIdentifier: 0,
 *   registrationLife: 300000,
 *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *   policy: { type: "RoundRobin" },
 * };
 * console.log(pe.identifier);
 * ```
 */
export interface PoolElementParameter {
  /** 32-bit PE identifier (0 is invalid). */
  identifier: number;
  /** 32-bit identifier of the PE's home registrar (0 = none yet). */
  homeRegistrarIdentifier: number;
  /** Registration life in milliseconds. */
  registrationLife: number;
  /** Where pool users reach the PE. */
  userTransport: TransportParameter;
  /** The PE's policy settings. */
  policy: PoolPolicy;
  /** The PE's ASAP ("registrator") transport: only in ENRP messages. */
  registratorTransport?: TransportParameter;
}

/**
 * A Server Information parameter: a registrar's identifier and ENRP transport.
 */
export interface ServerInformation {
  /** 32-bit registrar identifier. */
  registrarIdentifier: number;
  /** The registrar's transport (SCTP). */
  transport: TransportParameter;
}

/**
 * An Operation Error parameter: one error cause.
 *
 * @example
 * ```ts
 * import type { OperationError } from "./types.ts";
 * const e: OperationError = { cause: 0x0009 }; // unknown pool handle
 * console.log(e.cause);
 * ```
 */
export interface OperationError {
  /** Cause code ({@linkcode import("./constants.ts").ErrorCause}). */
  cause: number;
  /** Cause-specific data, e.g. the offending parameter for causes 0x1, 0x3 and 0x11. */
  data?: Uint8Array;
}

// ---- ASAP ---------------------------------------------------------------------------------

/** ASAP Registration: a PE registers (or re-registers) with its home registrar. */
export interface RegistrationMessage {
  /** Message kind. */
  type: "registration";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** The pool element. */
  poolElement: PoolElementParameter;
}

/** ASAP Deregistration. */
export interface DeregistrationMessage {
  /** Message kind. */
  type: "deregistration";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
}

/** ASAP Registration Response; `reject` with an `error` when the registration failed. */
export interface RegistrationResponseMessage {
  /** Message kind. */
  type: "registrationResponse";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
  /** Reject flag: the request failed. */
  reject: boolean;
  /** Operation Error: why it failed. */
  error?: OperationError;
}

/** ASAP Deregistration Response. */
export interface DeregistrationResponseMessage {
  /** Message kind. */
  type: "deregistrationResponse";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
  /** Operation Error: why it failed. */
  error?: OperationError;
}

/** ASAP Handle Resolution; `items` is RSPLIB's Handle Resolution option (0xffffffff = all). */
export interface HandleResolutionMessage {
  /** Message kind. */
  type: "handleResolution";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** Handle Resolution option: how many PEs the PU wants (0xffffffff = as many as possible). */
  items?: number;
}

/**
 * ASAP Handle Resolution Response: the policy of the pool and up to 128 PEs, or an error
 * (0x9 for an unknown pool).
 */
export interface HandleResolutionResponseMessage {
  /** Message kind. */
  type: "handleResolutionResponse";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** Reject flag: the request failed. */
  reject?: boolean;
  /** Operation Error: why it failed. */
  error?: OperationError;
  /** Policy parameter (a copy of the first PE's policy). */
  policy?: PoolPolicy;
  /** Pool elements. */
  poolElements: PoolElementParameter[];
}

/**
 * ASAP Endpoint Keep Alive; `home` is the H flag. `identifier` is RSPLIB's PE Identifier
 * extension (absent: the PE acknowledges all its PEs).
 */
export interface EndpointKeepAliveMessage {
  /** Message kind. */
  type: "endpointKeepAlive";
  /** Sending registrar's identifier. */
  registrarIdentifier: number;
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier?: number;
  /** H flag: the sender is the PE's new home registrar. */
  home: boolean;
}

/** ASAP Endpoint Keep Alive Ack. */
export interface EndpointKeepAliveAckMessage {
  /** Message kind. */
  type: "endpointKeepAliveAck";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
}

/** ASAP Endpoint Unreachable: a PU reports a PE it could not reach. */
export interface EndpointUnreachableMessage {
  /** Message kind. */
  type: "endpointUnreachable";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
}

/**
 * ASAP Server Announce. RSPLIB sends only the registrar id; receivers then take the address and
 * port from the UDP datagram. Transports, when present, name the registrar's ASAP endpoint.
 */
export interface ServerAnnounceMessage {
  /** Message kind. */
  type: "serverAnnounce";
  /** Sending registrar's identifier. */
  registrarIdentifier: number;
  /** Transports of the registrar's ASAP endpoint (RSPLIB sends none). */
  transports?: TransportParameter[];
}

/** ASAP Cookie: session state from a PE, kept by the PU for a failover. */
export interface CookieMessage {
  /** Message kind. */
  type: "cookie";
  /** Opaque cookie bytes (at least one). */
  cookie: Uint8Array;
}

/** ASAP Cookie Echo: the newest cookie, sent by the PU to the new PE after a failover. */
export interface CookieEchoMessage {
  /** Message kind. */
  type: "cookieEcho";
  /** Opaque cookie bytes (at least one). */
  cookie: Uint8Array;
}

/** ASAP Business Card (decoded and encoded; RSPLIB never sends one). */
export interface BusinessCardMessage {
  /** Message kind. */
  type: "businessCard";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** Policy parameter (a copy of the first PE's policy). */
  policy: PoolPolicy;
  /** Pool elements. */
  poolElements: PoolElementParameter[];
}

/** ASAP Error. */
export interface AsapErrorMessage {
  /** Message kind. */
  type: "asapError";
  /** Operation Error: why it failed. */
  error: OperationError;
}

// ---- ENRP ---------------------------------------------------------------------------------

/** Sender and receiver registrar ids that start every ENRP message (0 = unknown). */
export interface EnrpAddressing {
  /** Identifier of the sending registrar (0 = unknown). */
  senderIdentifier: number;
  /** Identifier of the receiving registrar (0 = unknown or all). */
  receiverIdentifier: number;
}

/** ENRP Presence with the sender's 16-bit ownership checksum. */
export interface PresenceMessage extends EnrpAddressing {
  /** Message kind. */
  type: "presence";
  /** Reply Required flag. */
  replyRequired: boolean;
  /** 16-bit ownership checksum of the sender's PEs (RSPLIB). */
  checksum: number;
  /** The sender's identifier and ENRP transport. */
  serverInformation: ServerInformation;
}

/** ENRP Handle Table Request; `ownChildrenOnly` is the W flag. */
export interface HandleTableRequestMessage extends EnrpAddressing {
  /** Message kind. */
  type: "handleTableRequest";
  /** W flag: only PEs owned by the receiver. */
  ownChildrenOnly: boolean;
}

/** One pool of a Handle Table Response. */
export interface HandleTablePool {
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PEs with their registrator transports. */
  poolElements: PoolElementParameter[];
}

/** ENRP Handle Table Response. */
export interface HandleTableResponseMessage extends EnrpAddressing {
  /** Message kind. */
  type: "handleTableResponse";
  /** Reject flag: the request failed. */
  reject: boolean;
  /** More To Send flag: further responses follow. */
  moreToSend: boolean;
  /** Pools with their PEs. */
  pools: HandleTablePool[];
}

/** ENRP Handle Update. */
export interface HandleUpdateMessage extends EnrpAddressing {
  /** Message kind. */
  type: "handleUpdate";
  /** Add or delete the PE. */
  action: "add" | "delete";
  /** Takeover Suggested flag (RSPLIB extension). */
  takeoverSuggested: boolean;
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** The pool element. */
  poolElement: PoolElementParameter;
}

/** ENRP List Request. */
export interface ListRequestMessage extends EnrpAddressing {
  /** Message kind. */
  type: "listRequest";
}

/** ENRP List Response. */
export interface ListResponseMessage extends EnrpAddressing {
  /** Message kind. */
  type: "listResponse";
  /** Reject flag: the request failed. */
  reject: boolean;
  /** Known registrars. */
  servers: ServerInformation[];
}

/** ENRP Init Takeover. */
export interface InitTakeoverMessage extends EnrpAddressing {
  /** Message kind. */
  type: "initTakeover";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/** ENRP Init Takeover Ack. */
export interface InitTakeoverAckMessage extends EnrpAddressing {
  /** Message kind. */
  type: "initTakeoverAck";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/** ENRP Takeover Server. */
export interface TakeoverServerMessage extends EnrpAddressing {
  /** Message kind. */
  type: "takeoverServer";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/** ENRP Error. */
export interface EnrpErrorMessage extends EnrpAddressing {
  /** Message kind. */
  type: "enrpError";
  /** Operation Error: why it failed. */
  error: OperationError;
}

/** Any ASAP message. */
export type AsapMessage =
  | RegistrationMessage
  | DeregistrationMessage
  | RegistrationResponseMessage
  | DeregistrationResponseMessage
  | HandleResolutionMessage
  | HandleResolutionResponseMessage
  | EndpointKeepAliveMessage
  | EndpointKeepAliveAckMessage
  | EndpointUnreachableMessage
  | ServerAnnounceMessage
  | CookieMessage
  | CookieEchoMessage
  | BusinessCardMessage
  | AsapErrorMessage;

/** Any ENRP message. */
export type EnrpMessage =
  | PresenceMessage
  | HandleTableRequestMessage
  | HandleTableResponseMessage
  | HandleUpdateMessage
  | ListRequestMessage
  | ListResponseMessage
  | InitTakeoverMessage
  | InitTakeoverAckMessage
  | TakeoverServerMessage
  | EnrpErrorMessage;

/**
 * Any ASAP or ENRP message, told apart by `type`.
 *
 * @example
 * ```ts
 * import type { RSerPoolMessage } from "./types.ts";
 * function describe(m: RSerPoolMessage): string {
 *   return m.type === "registration" ? `PE $${m.poolElement.identifier.toString(16)}` : m.type;
 * }
 * console.log(describe({ type: "listRequest", senderIdentifier: 1, receiverIdentifier: 2 }));
 * ```
 */
export type RSerPoolMessage = AsapMessage | EnrpMessage;

/** The `type` of any message. */
export type RSerPoolMessageType = RSerPoolMessage["type"];
