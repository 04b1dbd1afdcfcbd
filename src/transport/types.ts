/**
 * The SCTP transport interface: one interface, two backends (kernel SCTP through libc/libsctp,
 * and the userland stack usrsctp). Everything above it (registrar, pool elements, pool users)
 * sees only these types.
 *
 * @module
 */

/**
 * Which SCTP implementation carries an endpoint.
 *
 * @example A label for each backend
 * ```ts
 * import type { SctpBackendName } from "./types.ts";
 * const labels: Record<SctpBackendName, string> = {
 *   kernel: "Linux kernel SCTP",
 *   usrsctp: "userland SCTP stack",
 * };
 * console.log(labels.kernel); // Linux kernel SCTP
 * ```
 */
export type SctpBackendName = "kernel" | "usrsctp";

/**
 * How usrsctp reaches its peers: raw IP (root; interoperates with kernel SCTP) or UDP (RFC 6951).
 *
 * @example Raw IP needs root, UDP encapsulation does not
 * ```ts
 * import type { UsrsctpMode } from "./types.ts";
 * const modeFor = (root: boolean): UsrsctpMode => (root ? "raw" : "udp");
 * console.log(modeFor(false)); // udp
 * ```
 */
export type UsrsctpMode = "raw" | "udp";

/**
 * What an endpoint was asked to use: a backend, or "auto" (kernel if it has SCTP, else usrsctp).
 *
 * @example A choice for `openSctpTransport()`
 * ```ts
 * import type { SctpBackendChoice } from "./types.ts";
 * const choiceFor = (udpOnly: boolean): SctpBackendChoice => (udpOnly ? "usrsctp-udp" : "auto");
 * console.log(choiceFor(true)); // usrsctp-udp
 * ```
 */
export type SctpBackendChoice = "auto" | "kernel" | "usrsctp" | "usrsctp-raw" | "usrsctp-udp";

/**
 * SCTP protocol parameters of an endpoint's associations (all optional; 0 or absent = default).
 *
 * @example Faster failure detection
 * ```ts
 * import type { SctpEndpointOptions, SctpTuning } from "./types.ts";
 * const fastFailover: SctpTuning = { rtoMin: 100, rtoMax: 1000, pathMaxRetransmissions: 2 };
 * const options: SctpEndpointOptions = { port: 3863, listen: true, ...fastFailover };
 * console.log(options.rtoMax); // 1000
 * ```
 */
export interface SctpTuning {
  /** Initial retransmission timeout in ms. */
  rtoInitial?: number;
  /** Minimum retransmission timeout in ms. */
  rtoMin?: number;
  /** Maximum retransmission timeout in ms. */
  rtoMax?: number;
  /** Retransmissions of an association before it is declared lost. */
  associationMaxRetransmissions?: number;
  /** Retransmissions on one path before the path is declared unreachable. */
  pathMaxRetransmissions?: number;
  /** Heartbeat interval in ms (0 = backend default). */
  heartbeatInterval?: number;
  /** Outbound streams requested in the INIT. */
  outboundStreams?: number;
  /** Inbound streams accepted. */
  inboundStreams?: number;
}

/**
 * Options of {@linkcode SctpTransport.open}.
 *
 * @example A multi-homed listening endpoint
 * ```ts
 * import type { SctpEndpointOptions } from "./types.ts";
 * const options: SctpEndpointOptions = {
 *   addresses: ["10.0.0.1", "10.0.1.1"],
 *   port: 3863,
 *   listen: true,
 * };
 * console.log(options.style ?? "one-to-many"); // one-to-many
 * ```
 */
export interface SctpEndpointOptions extends SctpTuning {
  /** Local addresses to bind (several = multi-homed). Empty or absent: all local addresses. */
  addresses?: string[];
  /** Local port; 0 or absent: an ephemeral port. */
  port?: number;
  /** Accept incoming associations. */
  listen?: boolean;
  /** Close idle associations after this many seconds (SCTP autoclose); 0 = never. */
  autoClose?: number;
  /**
   * Socket style. "one-to-many" (SOCK_SEQPACKET, default) carries many associations told apart
   * by id; "one-to-one" (SOCK_STREAM) carries exactly one.
   */
  style?: "one-to-many" | "one-to-one";
}

/**
 * Options of {@linkcode SctpEndpoint.send}.
 *
 * @example Send ASAP messages on stream 0
 * ```ts
 * import type { SctpEndpoint, SctpSendOptions } from "./types.ts";
 * const asap: SctpSendOptions = { stream: 0, ppid: 11 };
 * function sendAsap(endpoint: SctpEndpoint, assocId: number, message: Uint8Array): void {
 *   endpoint.send(assocId, message, asap);
 * }
 * ```
 */
export interface SctpSendOptions {
  /** Stream id (default 0). */
  stream?: number;
  /** Payload protocol identifier (default 0). */
  ppid?: number;
  /** Deliver unordered. */
  unordered?: boolean;
  /** Shut the association down gracefully after this message (SCTP_EOF). */
  eof?: boolean;
}

/**
 * A message received on an association.
 *
 * @example Keep a copy of a received message
 * ```ts
 * import type { SctpMessageEvent } from "./types.ts";
 * const kept: Uint8Array[] = [];
 * const onMessage = (e: SctpMessageEvent) => void kept.push(e.data.slice());
 * onMessage({ type: "message", assocId: 1, stream: 0, ppid: 11, data: new Uint8Array([1, 2]) });
 * console.log(kept.length); // 1
 * ```
 */
export interface SctpMessageEvent {
  /** Event type. */
  type: "message";
  /** Association it arrived on. */
  assocId: number;
  /** Stream id. */
  stream: number;
  /** Payload protocol identifier. */
  ppid: number;
  /**
   * The payload. A view into the endpoint's receive buffer: valid only during the event
   * callback; copy it (`data.slice()`) to keep it.
   */
  data: Uint8Array;
}

/**
 * An association came up (outgoing or incoming).
 *
 * @example Log a new association
 * ```ts
 * import type { SctpUpEvent } from "./types.ts";
 * const up: SctpUpEvent = {
 *   type: "up",
 *   assocId: 3,
 *   peerAddresses: ["10.0.0.1", "10.0.1.1"],
 *   peerPort: 3863,
 *   inboundStreams: 10,
 *   outboundStreams: 10,
 * };
 * console.log(`${up.assocId} up to ${up.peerAddresses.join(",")}:${up.peerPort}`); // 3 up to 10.0.0.1,10.0.1.1:3863
 * ```
 */
export interface SctpUpEvent {
  /** Event type. */
  type: "up";
  /** The association. */
  assocId: number;
  /** Peer addresses at the time it came up. */
  peerAddresses: string[];
  /** Peer port. */
  peerPort: number;
  /** Negotiated inbound streams. */
  inboundStreams: number;
  /** Negotiated outbound streams. */
  outboundStreams: number;
}

/**
 * Association state changes that end or reset an association.
 *
 * @example Does the association still exist?
 * ```ts
 * import type { SctpAssociationEvent } from "./types.ts";
 * const gone = (e: SctpAssociationEvent): boolean =>
 *   e.type === "lost" || e.type === "closed" || e.type === "cantStart";
 * console.log(gone({ type: "lost", assocId: 3 }), gone({ type: "restart", assocId: 3 })); // true false
 * ```
 */
export interface SctpAssociationEvent {
  /**
   * - `lost`: communication lost (timeouts or ABORT from the peer).
   * - `restart`: the peer restarted (same addresses, new association state).
   * - `shutdown`: the peer started a graceful shutdown.
   * - `closed`: shutdown complete.
   * - `cantStart`: an association we tried to set up never came up.
   */
  type: "lost" | "restart" | "shutdown" | "closed" | "cantStart";
  /** The association. */
  assocId: number;
}

/**
 * A path (peer address) of an association changed state.
 *
 * @example A path failed
 * ```ts
 * import type { SctpPeerAddressEvent } from "./types.ts";
 * const e: SctpPeerAddressEvent = {
 *   type: "peerAddressChange",
 *   assocId: 3,
 *   address: "10.0.1.1",
 *   state: "unreachable",
 * };
 * console.log(`path ${e.address} of ${e.assocId}: ${e.state}`); // path 10.0.1.1 of 3: unreachable
 * ```
 */
export interface SctpPeerAddressEvent {
  /** Event type. */
  type: "peerAddressChange";
  /** The association. */
  assocId: number;
  /** The peer address (path). */
  address: string;
  /** Its new state. */
  state: "available" | "unreachable" | "removed" | "added" | "primary" | "confirmed";
}

/**
 * A message could not be delivered (association failed before it was acknowledged).
 *
 * @example An ASAP message was lost
 * ```ts
 * import type { SctpSendFailedEvent } from "./types.ts";
 * const e: SctpSendFailedEvent = { type: "sendFailed", assocId: 3, ppid: 11, stream: 0 };
 * if (e.ppid === 11) console.log("ASAP message lost"); // ASAP message lost
 * ```
 */
export interface SctpSendFailedEvent {
  /** Event type. */
  type: "sendFailed";
  /** The association. */
  assocId: number;
  /** PPID of the message. */
  ppid: number;
  /** Stream of the message. */
  stream: number;
}

/**
 * A listening one-to-one endpoint accepted an association; `endpoint` carries it. The new
 * endpoint reports to the listener's handler until {@linkcode SctpEndpoint.setEventHandler} is
 * called; call it inside this event's callback to receive all of its events (its `up` event
 * follows this one).
 *
 * @example Take over the events of an accepted endpoint
 * ```ts
 * import type { SctpAcceptEvent, SctpEvent } from "./types.ts";
 * function onAccept(e: SctpAcceptEvent, onEvent: (event: SctpEvent) => void): void {
 *   e.endpoint.setEventHandler?.(onEvent); // call it in the callback: `up` follows
 * }
 * ```
 */
export interface SctpAcceptEvent {
  /** Event type. */
  type: "accept";
  /** The new one-to-one endpoint; close it when done. */
  endpoint: SctpEndpoint;
}

/**
 * Everything an endpoint reports.
 *
 * @example An event handler
 * ```ts
 * import type { SctpEvent } from "./types.ts";
 * function onEvent(e: SctpEvent): void {
 *   if (e.type === "message") console.log(`${e.data.length} bytes, PPID ${e.ppid}`);
 *   else if (e.type === "lost") console.log(`association ${e.assocId} lost`);
 * }
 * onEvent({ type: "lost", assocId: 3 }); // association 3 lost
 * ```
 */
export type SctpEvent =
  | SctpMessageEvent
  | SctpUpEvent
  | SctpAssociationEvent
  | SctpPeerAddressEvent
  | SctpSendFailedEvent
  | SctpAcceptEvent;

/**
 * Status of one association.
 *
 * @example The distance the DPF policies use
 * ```ts
 * import type { SctpAssociationStatus } from "./types.ts";
 * const status: SctpAssociationStatus = {
 *   assocId: 3,
 *   peerAddresses: ["10.0.0.1"],
 *   peerPort: 3863,
 *   primaryAddress: "10.0.0.1",
 *   srtt: 12,
 *   inboundStreams: 10,
 *   outboundStreams: 10,
 * };
 * console.log(status.srtt / 2); // 6
 * ```
 */
export interface SctpAssociationStatus {
  /** The association. */
  assocId: number;
  /** Peer addresses (all paths). */
  peerAddresses: string[];
  /** Peer port. */
  peerPort: number;
  /** Primary path address. */
  primaryAddress: string;
  /** Smoothed round-trip time of the primary path in ms (the DPF policies use SRTT/2). */
  srtt: number;
  /** Negotiated inbound streams. */
  inboundStreams: number;
  /** Negotiated outbound streams. */
  outboundStreams: number;
}

/**
 * One SCTP socket. Events arrive through the `onEvent` callback given to
 * {@linkcode SctpTransport.open}, called on the JavaScript thread from Deno's event loop.
 *
 * @example Connect to a multi-homed registrar and send
 * ```ts
 * import type { SctpEndpoint } from "./types.ts";
 * async function sendTo(endpoint: SctpEndpoint, message: Uint8Array): Promise<number> {
 *   const assocId = await endpoint.connect(["10.0.0.1", "10.0.1.1"], 3863, { timeout: 5000 });
 *   endpoint.send(assocId, message, { ppid: 11 });
 *   return assocId;
 * }
 * ```
 */
export interface SctpEndpoint {
  /** Backend that carries this endpoint. */
  readonly backend: SctpBackendName;
  /** Bound local port. */
  readonly localPort: number;
  /** Bound local addresses (wildcard binds list the usable interface addresses). */
  localAddresses(): string[];
  /**
   * Sets up an association to a (multi-homed) peer; resolves with its id when it is up.
   * Rejects with {@linkcode SctpError} when it cannot be set up or `timeout` ms pass.
   */
  connect(addresses: string[], port: number, options?: { timeout?: number }): Promise<number>;
  /**
   * Sends one message. Never blocks: when the socket buffer is full the message is queued and
   * sent in order. Throws {@linkcode SctpError} for an unknown or closed association.
   */
  send(assocId: number, data: Uint8Array, options?: SctpSendOptions): void;
  /**
   * Sends to a peer by address, setting up an association implicitly when there is none
   * (one-to-many only). Resolves with the association id.
   */
  sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options?: SctpSendOptions,
  ): Promise<number>;
  /** Starts a graceful shutdown of one association. */
  shutdown(assocId: number): void;
  /** Aborts one association. */
  abort(assocId: number): void;
  /** Status of one association, or `undefined` when it is unknown. */
  status(assocId: number): SctpAssociationStatus | undefined;
  /** Ids of the associations that are up. */
  associations(): number[];
  /**
   * Closes the socket: graceful shutdown of every association (or ABORT with `abort: true`),
   * then releases everything. Afterwards no events arrive.
   */
  close(options?: { abort?: boolean }): Promise<void>;
  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void>;
  /**
   * Replaces the event callback (used for endpoints delivered by an `accept` event; events
   * already dispatched are not repeated). Backends that support one-to-one listening
   * endpoints implement it.
   */
  setEventHandler?(onEvent: (event: SctpEvent) => void): void;
}

/**
 * A backend: opens endpoints.
 *
 * @example Open an echo endpoint on any backend
 * ```ts
 * import type { SctpEndpoint, SctpTransport } from "./types.ts";
 * async function openEcho(transport: SctpTransport): Promise<SctpEndpoint> {
 *   const endpoint: SctpEndpoint = await transport.open({ port: 7, listen: true }, (e) => {
 *     if (e.type === "message") endpoint.send(e.assocId, e.data, { stream: e.stream, ppid: e.ppid });
 *   });
 *   return endpoint;
 * }
 * ```
 */
export interface SctpTransport {
  /** Backend name. */
  readonly name: SctpBackendName;
  /** usrsctp only: raw IP or UDP encapsulation. */
  readonly mode?: UsrsctpMode;
  /** Human-readable description for the log, e.g. "usrsctp (raw IP)". */
  readonly description: string;
  /** Opens an endpoint. */
  open(options: SctpEndpointOptions, onEvent: (event: SctpEvent) => void): Promise<SctpEndpoint>;
}

/**
 * Error codes of {@linkcode SctpError}.
 *
 * @example Retry after a timeout
 * ```ts
 * import { SctpError, type SctpErrorCode } from "./types.ts";
 * const retryable: readonly SctpErrorCode[] = ["timeout", "connect-failed"];
 * const error = new SctpError("timeout", "Cannot connect to 10.0.0.1:3863: timeout");
 * console.log(retryable.includes(error.code)); // true
 * ```
 */
export type SctpErrorCode =
  | "unsupported" // this backend cannot run here (no kernel SCTP, library missing, ...)
  | "connect-failed"
  | "timeout"
  | "no-association"
  | "closed"
  | "address-in-use"
  | "invalid-argument"
  | "system"; // any other errno; see `errno`

/**
 * An SCTP operation failed.
 *
 * @example Tell SCTP errors apart by code
 * ```ts
 * import { SctpError } from "./types.ts";
 * try {
 *   throw new SctpError("no-association", "Cannot send: association 7 is unknown");
 * } catch (e) {
 *   if (e instanceof SctpError) console.log(e.code); // no-association
 * }
 * ```
 */
export class SctpError extends Error {
  /** What went wrong. */
  readonly code: SctpErrorCode;
  /** The C errno, when a system call failed. */
  readonly errno?: number;

  /**
   * Creates the error.
   *
   * @param code What went wrong.
   * @param message Details.
   * @param options `errno` and `cause`.
   */
  constructor(
    code: SctpErrorCode,
    message: string,
    options: { errno?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "SctpError";
    this.code = code;
    this.errno = options.errno;
  }
}
