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
 *
 * @example Make a pool handle from text
 * ```ts
 * import type { PoolHandle } from "./types.ts";
 * import { formatPoolHandle, poolHandle } from "./mod.ts";
 * const handle: PoolHandle = poolHandle("EchoPool");
 * console.log(handle.length, formatPoolHandle(handle)); // 8 EchoPool
 * ```
 */
export type PoolHandle = Uint8Array;

/**
 * Transport protocol of a transport parameter. DCCP and UDP-Lite (RFC 5354) are left out, as in
 * RSPLIB, which treats them as unknown parameters.
 *
 * @example A TCP transport parameter
 * ```ts
 * import type { TransportParameter, TransportProtocol } from "./types.ts";
 * const protocol: TransportProtocol = "tcp";
 * const t: TransportParameter = { protocol, port: 8080, addresses: ["192.0.2.1"] };
 * console.log(t.protocol); // tcp
 * ```
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
 *
 * @example A registrar's ENRP endpoint
 * ```ts
 * import type { ServerInformation } from "./types.ts";
 * const server: ServerInformation = {
 *   registrarIdentifier: 0x1111,
 *   transport: { protocol: "sctp", port: 9901, addresses: ["10.0.0.1", "10.0.1.1"] },
 * };
 * console.log(server.transport.port); // 9901
 * ```
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

/**
 * ASAP Registration: a PE registers (or re-registers) with its home registrar.
 *
 * @example Register a round-robin PE of EchoPool
 * ```ts
 * import type { RegistrationMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const registration: RegistrationMessage = {
 *   type: "registration",
 *   poolHandle: poolHandle("EchoPool"),
 *   poolElement: {
 *     identifier: 0x11223344,
 *     homeRegistrarIdentifier: 0,
 *     registrationLife: 300000,
 *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *     policy: { type: "RoundRobin" },
 *   },
 * };
 * console.log(decodeMessage(11, encodeMessage(registration)).type); // registration
 * ```
 */
export interface RegistrationMessage {
  /** Message kind. */
  type: "registration";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** The pool element. */
  poolElement: PoolElementParameter;
}

/**
 * ASAP Deregistration.
 *
 * @example Deregister a PE
 * ```ts
 * import type { DeregistrationMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const m: DeregistrationMessage = {
 *   type: "deregistration",
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 * };
 * console.log(decodeMessage(11, encodeMessage(m)).type); // deregistration
 * ```
 */
export interface DeregistrationMessage {
  /** Message kind. */
  type: "deregistration";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
}

/**
 * ASAP Registration Response; `reject` with an `error` when the registration failed.
 *
 * @example A rejected registration
 * ```ts
 * import type { RegistrationResponseMessage } from "./types.ts";
 * import { describeErrorCause, ErrorCause, poolHandle } from "./mod.ts";
 * const response: RegistrationResponseMessage = {
 *   type: "registrationResponse",
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 *   reject: true,
 *   error: { cause: ErrorCause.InvalidPoolPolicy },
 * };
 * if (response.reject && response.error) console.log(describeErrorCause(response.error.cause)); // 0xf003 InvalidPoolPolicy
 * ```
 */
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

/**
 * ASAP Deregistration Response.
 *
 * @example A successful deregistration
 * ```ts
 * import type { DeregistrationResponseMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const response: DeregistrationResponseMessage = {
 *   type: "deregistrationResponse",
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 * };
 * const decoded = decodeMessage(11, encodeMessage(response));
 * console.log(decoded.type === "deregistrationResponse" && decoded.error === undefined); // true
 * ```
 */
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

/**
 * ASAP Handle Resolution; `items` is RSPLIB's Handle Resolution option (0xffffffff = all).
 *
 * @example Ask for as many PEs as possible
 * ```ts
 * import type { HandleResolutionMessage } from "./types.ts";
 * import { encodeMessage, Limits, poolHandle } from "./mod.ts";
 * const request: HandleResolutionMessage = {
 *   type: "handleResolution",
 *   poolHandle: poolHandle("EchoPool"),
 *   items: Limits.HANDLE_RESOLUTION_ALL,
 * };
 * console.log(encodeMessage(request).length); // 24
 * ```
 */
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
 *
 * @example The answer for an unknown pool
 * ```ts
 * import type { HandleResolutionResponseMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, ErrorCause, poolHandle } from "./mod.ts";
 * const response: HandleResolutionResponseMessage = {
 *   type: "handleResolutionResponse",
 *   poolHandle: poolHandle("NoSuchPool"),
 *   reject: true,
 *   error: { cause: ErrorCause.UnknownPoolHandle },
 *   poolElements: [],
 * };
 * const decoded = decodeMessage(11, encodeMessage(response));
 * if (decoded.type === "handleResolutionResponse") console.log(decoded.error?.cause); // 9
 * ```
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
 *
 * @example A keep alive from the PE's new home registrar
 * ```ts
 * import type { EndpointKeepAliveMessage } from "./types.ts";
 * import { encodeMessage, MessageFlag, poolHandle } from "./mod.ts";
 * const keepAlive: EndpointKeepAliveMessage = {
 *   type: "endpointKeepAlive",
 *   registrarIdentifier: 0x1111,
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 *   home: true,
 * };
 * console.log(encodeMessage(keepAlive)[1] === MessageFlag.HOME); // true
 * ```
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

/**
 * ASAP Endpoint Keep Alive Ack.
 *
 * @example A PE answers a keep alive
 * ```ts
 * import type { EndpointKeepAliveAckMessage, EndpointKeepAliveMessage } from "./types.ts";
 * import { poolHandle } from "./mod.ts";
 * const ack = (k: EndpointKeepAliveMessage, peId: number): EndpointKeepAliveAckMessage => ({
 *   type: "endpointKeepAliveAck",
 *   poolHandle: k.poolHandle,
 *   identifier: k.identifier ?? peId,
 * });
 * const keepAlive: EndpointKeepAliveMessage = {
 *   type: "endpointKeepAlive",
 *   registrarIdentifier: 0x1111,
 *   poolHandle: poolHandle("EchoPool"),
 *   home: false,
 * };
 * console.log(ack(keepAlive, 0x11223344).identifier.toString(16)); // 11223344
 * ```
 */
export interface EndpointKeepAliveAckMessage {
  /** Message kind. */
  type: "endpointKeepAliveAck";
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PE identifier. */
  identifier: number;
}

/**
 * ASAP Endpoint Unreachable: a PU reports a PE it could not reach.
 *
 * @example A PU reports a PE that does not answer
 * ```ts
 * import type { EndpointUnreachableMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const report: EndpointUnreachableMessage = {
 *   type: "endpointUnreachable",
 *   poolHandle: poolHandle("EchoPool"),
 *   identifier: 0x11223344,
 * };
 * console.log(decodeMessage(11, encodeMessage(report)).type); // endpointUnreachable
 * ```
 */
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
 *
 * @example RSPLIB's announce: only the registrar id
 * ```ts
 * import type { ServerAnnounceMessage } from "./types.ts";
 * import { encodeMessage } from "./mod.ts";
 * const announce: ServerAnnounceMessage = { type: "serverAnnounce", registrarIdentifier: 0x0a0b0c0d };
 * console.log(encodeMessage(announce).join(" ")); // 10 0 0 8 10 11 12 13
 * ```
 */
export interface ServerAnnounceMessage {
  /** Message kind. */
  type: "serverAnnounce";
  /** Sending registrar's identifier. */
  registrarIdentifier: number;
  /** Transports of the registrar's ASAP endpoint (RSPLIB sends none). */
  transports?: TransportParameter[];
}

/**
 * ASAP Cookie: session state from a PE, kept by the PU for a failover.
 *
 * @example A PE hands its session state to the PU
 * ```ts
 * import type { CookieMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const m: CookieMessage = { type: "cookie", cookie: new TextEncoder().encode("session 42") };
 * const decoded = decodeMessage(11, encodeMessage(m));
 * if (decoded.type === "cookie") console.log(new TextDecoder().decode(decoded.cookie)); // session 42
 * ```
 */
export interface CookieMessage {
  /** Message kind. */
  type: "cookie";
  /** Opaque cookie bytes (at least one). */
  cookie: Uint8Array;
}

/**
 * ASAP Cookie Echo: the newest cookie, sent by the PU to the new PE after a failover.
 *
 * @example After a failover, echo the newest cookie
 * ```ts
 * import type { CookieEchoMessage, CookieMessage } from "./types.ts";
 * const received: CookieMessage = { type: "cookie", cookie: new Uint8Array([1, 2, 3]) };
 * const echo: CookieEchoMessage = { type: "cookieEcho", cookie: received.cookie };
 * console.log(echo.cookie.length); // 3
 * ```
 */
export interface CookieEchoMessage {
  /** Message kind. */
  type: "cookieEcho";
  /** Opaque cookie bytes (at least one). */
  cookie: Uint8Array;
}

/**
 * ASAP Business Card (decoded and encoded; RSPLIB never sends one).
 *
 * @example A business card with one PE
 * ```ts
 * import type { BusinessCardMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const card: BusinessCardMessage = {
 *   type: "businessCard",
 *   poolHandle: poolHandle("EchoPool"),
 *   policy: { type: "RoundRobin" },
 *   poolElements: [{
 *     identifier: 0x11223344,
 *     homeRegistrarIdentifier: 0x1111,
 *     registrationLife: 300000,
 *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *     policy: { type: "RoundRobin" },
 *   }],
 * };
 * console.log(decodeMessage(11, encodeMessage(card)).type); // businessCard
 * ```
 */
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

/**
 * ASAP Error.
 *
 * @example Report an unrecognized message
 * ```ts
 * import type { AsapErrorMessage } from "./types.ts";
 * import { describeErrorCause, ErrorCause } from "./mod.ts";
 * const m: AsapErrorMessage = { type: "asapError", error: { cause: ErrorCause.UnrecognizedMessage } };
 * console.log(describeErrorCause(m.error.cause)); // 0x0002 UnrecognizedMessage
 * ```
 */
export interface AsapErrorMessage {
  /** Message kind. */
  type: "asapError";
  /** Operation Error: why it failed. */
  error: OperationError;
}

// ---- ENRP ---------------------------------------------------------------------------------

/**
 * Sender and receiver registrar ids that start every ENRP message (0 = unknown).
 *
 * @example Address a reply to the sender
 * ```ts
 * import type { EnrpAddressing } from "./types.ts";
 * const replyTo = (m: EnrpAddressing): EnrpAddressing => ({
 *   senderIdentifier: m.receiverIdentifier,
 *   receiverIdentifier: m.senderIdentifier,
 * });
 * console.log(replyTo({ senderIdentifier: 0x2222, receiverIdentifier: 0x1111 })); // { senderIdentifier: 4369, receiverIdentifier: 8738 }
 * ```
 */
export interface EnrpAddressing {
  /** Identifier of the sending registrar (0 = unknown). */
  senderIdentifier: number;
  /** Identifier of the receiving registrar (0 = unknown or all). */
  receiverIdentifier: number;
}

/**
 * ENRP Presence with the sender's 16-bit ownership checksum.
 *
 * @example A registrar announces itself to its peers
 * ```ts
 * import type { PresenceMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const presence: PresenceMessage = {
 *   type: "presence",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0,
 *   replyRequired: false,
 *   checksum: 0,
 *   serverInformation: {
 *     registrarIdentifier: 0x1111,
 *     transport: { protocol: "sctp", port: 9901, addresses: ["192.0.2.1"] },
 *   },
 * };
 * console.log(decodeMessage(12, encodeMessage(presence)).type); // presence
 * ```
 */
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

/**
 * ENRP Handle Table Request; `ownChildrenOnly` is the W flag.
 *
 * @example Ask a peer for the PEs it owns
 * ```ts
 * import type { HandleTableRequestMessage } from "./types.ts";
 * import { encodeMessage, MessageFlag } from "./mod.ts";
 * const request: HandleTableRequestMessage = {
 *   type: "handleTableRequest",
 *   senderIdentifier: 0x2222,
 *   receiverIdentifier: 0x1111,
 *   ownChildrenOnly: true,
 * };
 * console.log(encodeMessage(request)[1] === MessageFlag.OWN_CHILDREN_ONLY); // true
 * ```
 */
export interface HandleTableRequestMessage extends EnrpAddressing {
  /** Message kind. */
  type: "handleTableRequest";
  /** W flag: only PEs owned by the receiver. */
  ownChildrenOnly: boolean;
}

/**
 * One pool of a Handle Table Response.
 *
 * @example One pool of a handle table
 * ```ts
 * import type { HandleTablePool } from "./types.ts";
 * import { formatPoolHandle, poolHandle } from "./mod.ts";
 * const pool: HandleTablePool = { poolHandle: poolHandle("EchoPool"), poolElements: [] };
 * console.log(formatPoolHandle(pool.poolHandle), pool.poolElements.length); // EchoPool 0
 * ```
 */
export interface HandleTablePool {
  /** Pool handle (1 to 32 bytes). */
  poolHandle: PoolHandle;
  /** PEs with their registrator transports. */
  poolElements: PoolElementParameter[];
}

/**
 * ENRP Handle Table Response.
 *
 * @example An empty handle table
 * ```ts
 * import type { HandleTableResponseMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const response: HandleTableResponseMessage = {
 *   type: "handleTableResponse",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0x2222,
 *   reject: false,
 *   moreToSend: false,
 *   pools: [],
 * };
 * console.log(decodeMessage(12, encodeMessage(response)).type); // handleTableResponse
 * ```
 */
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

/**
 * ENRP Handle Update.
 *
 * @example Tell a peer that a PE is gone
 * ```ts
 * import type { HandleUpdateMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const update: HandleUpdateMessage = {
 *   type: "handleUpdate",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0x2222,
 *   action: "delete",
 *   takeoverSuggested: false,
 *   poolHandle: poolHandle("EchoPool"),
 *   poolElement: {
 *     identifier: 0x11223344,
 *     homeRegistrarIdentifier: 0x1111,
 *     registrationLife: 300000,
 *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *     policy: { type: "RoundRobin" },
 *     registratorTransport: { protocol: "sctp", port: 49152, addresses: ["192.0.2.1"] },
 *   },
 * };
 * const decoded = decodeMessage(12, encodeMessage(update));
 * if (decoded.type === "handleUpdate") console.log(decoded.action); // delete
 * ```
 */
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

/**
 * ENRP List Request.
 *
 * @example Ask a peer for the registrars it knows
 * ```ts
 * import type { ListRequestMessage } from "./types.ts";
 * import { encodeMessage } from "./mod.ts";
 * const request: ListRequestMessage = {
 *   type: "listRequest",
 *   senderIdentifier: 0x2222,
 *   receiverIdentifier: 0x1111,
 * };
 * console.log(encodeMessage(request).join(" ")); // 5 0 0 12 0 0 34 34 0 0 17 17
 * ```
 */
export interface ListRequestMessage extends EnrpAddressing {
  /** Message kind. */
  type: "listRequest";
}

/**
 * ENRP List Response.
 *
 * @example Name one further registrar
 * ```ts
 * import type { ListResponseMessage } from "./types.ts";
 * const response: ListResponseMessage = {
 *   type: "listResponse",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0x2222,
 *   reject: false,
 *   servers: [{
 *     registrarIdentifier: 0x3333,
 *     transport: { protocol: "sctp", port: 9901, addresses: ["192.0.2.3"] },
 *   }],
 * };
 * console.log(response.servers.map((s) => s.registrarIdentifier.toString(16))); // [ "3333" ]
 * ```
 */
export interface ListResponseMessage extends EnrpAddressing {
  /** Message kind. */
  type: "listResponse";
  /** Reject flag: the request failed. */
  reject: boolean;
  /** Known registrars. */
  servers: ServerInformation[];
}

/**
 * ENRP Init Takeover.
 *
 * @example Start taking over a silent registrar
 * ```ts
 * import type { InitTakeoverMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const m: InitTakeoverMessage = {
 *   type: "initTakeover",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0,
 *   targetIdentifier: 0x3333,
 * };
 * console.log(decodeMessage(12, encodeMessage(m)).type); // initTakeover
 * ```
 */
export interface InitTakeoverMessage extends EnrpAddressing {
  /** Message kind. */
  type: "initTakeover";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/**
 * ENRP Init Takeover Ack.
 *
 * @example Agree to a takeover
 * ```ts
 * import type { InitTakeoverAckMessage, InitTakeoverMessage } from "./types.ts";
 * const agree = (m: InitTakeoverMessage, ownId: number): InitTakeoverAckMessage => ({
 *   type: "initTakeoverAck",
 *   senderIdentifier: ownId,
 *   receiverIdentifier: m.senderIdentifier,
 *   targetIdentifier: m.targetIdentifier,
 * });
 * const request: InitTakeoverMessage = {
 *   type: "initTakeover",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0,
 *   targetIdentifier: 0x3333,
 * };
 * console.log(agree(request, 0x2222).targetIdentifier.toString(16)); // 3333
 * ```
 */
export interface InitTakeoverAckMessage extends EnrpAddressing {
  /** Message kind. */
  type: "initTakeoverAck";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/**
 * ENRP Takeover Server.
 *
 * @example Announce that a registrar was taken over
 * ```ts
 * import type { TakeoverServerMessage } from "./types.ts";
 * import { decodeMessage, encodeMessage } from "./mod.ts";
 * const m: TakeoverServerMessage = {
 *   type: "takeoverServer",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0,
 *   targetIdentifier: 0x3333,
 * };
 * console.log(decodeMessage(12, encodeMessage(m)).type); // takeoverServer
 * ```
 */
export interface TakeoverServerMessage extends EnrpAddressing {
  /** Message kind. */
  type: "takeoverServer";
  /** Registrar that is taken over. */
  targetIdentifier: number;
}

/**
 * ENRP Error.
 *
 * @example Report an unrecognized message to a peer
 * ```ts
 * import type { EnrpErrorMessage } from "./types.ts";
 * import { describeErrorCause, ErrorCause } from "./mod.ts";
 * const m: EnrpErrorMessage = {
 *   type: "enrpError",
 *   senderIdentifier: 0x1111,
 *   receiverIdentifier: 0x2222,
 *   error: { cause: ErrorCause.UnrecognizedMessage },
 * };
 * console.log(describeErrorCause(m.error.cause)); // 0x0002 UnrecognizedMessage
 * ```
 */
export interface EnrpErrorMessage extends EnrpAddressing {
  /** Message kind. */
  type: "enrpError";
  /** Operation Error: why it failed. */
  error: OperationError;
}

/**
 * Any ASAP message.
 *
 * @example Describe an ASAP message
 * ```ts
 * import type { AsapMessage } from "./types.ts";
 * import { formatPoolHandle, poolHandle } from "./mod.ts";
 * const describe = (m: AsapMessage): string =>
 *   "poolHandle" in m ? `${m.type} for ${formatPoolHandle(m.poolHandle)}` : m.type;
 * console.log(describe({ type: "handleResolution", poolHandle: poolHandle("EchoPool") })); // handleResolution for EchoPool
 * ```
 */
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

/**
 * Any ENRP message.
 *
 * @example Every ENRP message names its sender
 * ```ts
 * import type { EnrpMessage } from "./types.ts";
 * const m: EnrpMessage = { type: "listRequest", senderIdentifier: 0x2222, receiverIdentifier: 0 };
 * console.log(`${m.type} from $${m.senderIdentifier.toString(16)}`); // listRequest from $2222
 * ```
 */
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

/**
 * The `type` of any message.
 *
 * @example Count messages by type
 * ```ts
 * import type { RSerPoolMessageType } from "./types.ts";
 * const counts = new Map<RSerPoolMessageType, number>();
 * for (const type of ["registration", "presence", "registration"] as const) {
 *   counts.set(type, (counts.get(type) ?? 0) + 1);
 * }
 * console.log(counts); // Map(2) { "registration" => 2, "presence" => 1 }
 * ```
 */
export type RSerPoolMessageType = RSerPoolMessage["type"];
