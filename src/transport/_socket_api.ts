/**
 * The SCTP socket API (RFC 6458) as the two backends see it: Linux kernel SCTP and usrsctp use
 * the same names, structs and semantics, with different constant values, struct offsets and a
 * few differences in behaviour. Each backend describes its API with one
 * {@linkcode SctpSocketApi} table (values from `ffi/libsctp.ts` and `ffi/usrsctp.ts`); the
 * shared code (`_endpoint_core.ts` and the socket set-up here) reads only the table.
 *
 * @module
 */

import type { SctpEndpointOptions } from "./types.ts";

/** The constants the shared code uses (the names of `<netinet/sctp.h>`). */
export type SctpConstants = {
  readonly [
    Name in // recvmsg flags; the level of the SCTP socket options
    | "MSG_EOR"
    | "MSG_NOTIFICATION"
    | "IPPROTO_SCTP"
    // socket options
    | "SCTP_RTOINFO"
    | "SCTP_ASSOCINFO"
    | "SCTP_INITMSG"
    | "SCTP_NODELAY"
    | "SCTP_AUTOCLOSE"
    | "SCTP_PEER_ADDR_PARAMS"
    | "SCTP_EVENT"
    | "SCTP_RECVRCVINFO"
    | "SCTP_STATUS"
    | "SPP_HB_ENABLE"
    // snd_flags
    | "SCTP_EOF"
    | "SCTP_ABORT"
    | "SCTP_UNORDERED"
    // notification types (sn_type)
    | "SCTP_ASSOC_CHANGE"
    | "SCTP_PEER_ADDR_CHANGE"
    | "SCTP_SHUTDOWN_EVENT"
    | "SCTP_SEND_FAILED_EVENT"
    // sac_state
    | "SCTP_COMM_UP"
    | "SCTP_COMM_LOST"
    | "SCTP_RESTART"
    | "SCTP_SHUTDOWN_COMP"
    | "SCTP_CANT_STR_ASSOC"
    // spc_state
    | "SCTP_ADDR_AVAILABLE"
    | "SCTP_ADDR_UNREACHABLE"
    | "SCTP_ADDR_REMOVED"
    | "SCTP_ADDR_ADDED"
    | "SCTP_ADDR_MADE_PRIM"
    | "SCTP_ADDR_CONFIRMED"
  ]: number;
};

/** Byte offsets (and `size`) of the named fields of one struct. */
type Fields<Name extends string> = { readonly [F in Name]: number };

/** Sizes and field offsets of the structs the shared code reads or writes. */
export interface SctpLayout {
  /** `struct sctp_sndinfo` (inside `sctp_send_failed_event`). */
  readonly sndinfo: Fields<"sid" | "ppid">;
  /** `struct sctp_event`. */
  readonly event: Fields<"size" | "type" | "on">;
  /** `struct sctp_initmsg`. */
  readonly initMsg: Fields<"size" | "outStreams" | "maxInStreams">;
  /** `struct sctp_rtoinfo`. */
  readonly rtoInfo: Fields<"size" | "initial" | "max" | "min">;
  /** `struct sctp_assocparams`. */
  readonly assocParams: Fields<"size" | "asocMaxRxt">;
  /** `struct sctp_paddrparams`. */
  readonly paddrParams: Fields<"size" | "hbInterval" | "pathMaxRxt" | "flags">;
  /** `struct sctp_status` and its primary path's `sctp_paddrinfo`. */
  readonly status: Fields<
    "size" | "assocId" | "inboundStreams" | "outboundStreams" | "primaryAddress" | "primarySrtt"
  >;
  /** `struct sctp_assoc_change`. */
  readonly assocChange: Fields<
    "size" | "state" | "outboundStreams" | "inboundStreams" | "assocId"
  >;
  /** `struct sctp_paddr_change`. */
  readonly paddrChange: Fields<"size" | "address" | "state" | "assocId">;
  /** `struct sctp_shutdown_event`. */
  readonly shutdownEvent: Fields<"size" | "assocId">;
  /** `struct sctp_send_failed_event` (size: without the message). */
  readonly sendFailedEvent: Fields<"size" | "info" | "assocId">;
}

/** One backend's SCTP socket API: constants, layouts and the semantics that differ. */
export interface SctpSocketApi {
  /** Constants. */
  readonly constants: SctpConstants;
  /** Struct layouts. */
  readonly layout: SctpLayout;
  /** Whether `sctp_assoc_t` is signed (Linux: int32) or not (usrsctp: uint32). */
  readonly signedAssocIds: boolean;
  /**
   * Whether SCTP_EOF may ride on a data message (usrsctp sends the data, then shuts down). Linux
   * starts the shutdown and does not send the data of such a message: there, `send()` with
   * `eof` sends the message and then shuts the association down.
   */
  readonly eofWithData: boolean;
  /**
   * Whether the send buffer is shared by all associations of a socket (Linux: EAGAIN on one
   * association means the others wait too, so flushing stops), or each association has its own
   * share (usrsctp: flushing goes on with the others).
   */
  readonly sharedSendBuffer: boolean;
}

/** Builds the 4-byte value of an int socket option. */
export function intOption(value: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(new Int32Array([value]).buffer);
}

/**
 * Sets a socket option at level IPPROTO_SCTP; throws an {@linkcode SctpError} "Cannot set
 * WHAT: ..." when it fails.
 */
export type SctpOptionSetter = (name: number, value: Uint8Array<ArrayBuffer>, what: string) => void;

/**
 * Turns on what every endpoint needs: SCTP_RCVINFO with each message, SCTP_NODELAY, and the
 * notifications ASSOC_CHANGE, PEER_ADDR_CHANGE, SHUTDOWN_EVENT and SEND_FAILED_EVENT.
 *
 * @param api The backend's API table.
 * @param set Sets one option on the new socket.
 */
export function enableSctpEvents(api: SctpSocketApi, set: SctpOptionSetter): void {
  const C = api.constants;
  const E = api.layout.event;
  set(C.SCTP_RECVRCVINFO, intOption(1), "SCTP_RECVRCVINFO");
  set(C.SCTP_NODELAY, intOption(1), "SCTP_NODELAY");
  for (
    const type of [
      C.SCTP_ASSOC_CHANGE,
      C.SCTP_PEER_ADDR_CHANGE,
      C.SCTP_SHUTDOWN_EVENT,
      C.SCTP_SEND_FAILED_EVENT,
    ]
  ) {
    const b = new Uint8Array(E.size);
    new DataView(b.buffer).setUint16(E.type, type, true);
    b[E.on] = 1;
    set(C.SCTP_EVENT, b, `SCTP_EVENT 0x${type.toString(16)}`);
  }
}

/**
 * Applies the {@linkcode SctpTuning} fields of the options (0 or absent: the stack's default)
 * and `autoClose` (one-to-many sockets).
 *
 * @param api The backend's API table.
 * @param o The endpoint options.
 * @param set Sets one option on the new socket.
 */
export function applySctpTuning(
  api: SctpSocketApi,
  o: SctpEndpointOptions,
  set: SctpOptionSetter,
): void {
  const C = api.constants;
  const L = api.layout;
  if (o.rtoInitial || o.rtoMax || o.rtoMin) {
    const b = new Uint8Array(L.rtoInfo.size);
    const v = new DataView(b.buffer);
    v.setUint32(L.rtoInfo.initial, o.rtoInitial ?? 0, true);
    v.setUint32(L.rtoInfo.max, o.rtoMax ?? 0, true);
    v.setUint32(L.rtoInfo.min, o.rtoMin ?? 0, true);
    set(C.SCTP_RTOINFO, b, "SCTP_RTOINFO");
  }
  if (o.associationMaxRetransmissions) {
    const b = new Uint8Array(L.assocParams.size);
    new DataView(b.buffer).setUint16(
      L.assocParams.asocMaxRxt,
      o.associationMaxRetransmissions,
      true,
    );
    set(C.SCTP_ASSOCINFO, b, "SCTP_ASSOCINFO");
  }
  if (o.heartbeatInterval || o.pathMaxRetransmissions) {
    const P = L.paddrParams;
    const b = new Uint8Array(P.size);
    const v = new DataView(b.buffer);
    if (o.heartbeatInterval) {
      v.setUint32(P.hbInterval, o.heartbeatInterval, true);
      v.setUint32(P.flags, C.SPP_HB_ENABLE, true);
    }
    v.setUint16(P.pathMaxRxt, o.pathMaxRetransmissions ?? 0, true);
    set(C.SCTP_PEER_ADDR_PARAMS, b, "SCTP_PEER_ADDR_PARAMS");
  }
  if (o.outboundStreams || o.inboundStreams) {
    const b = new Uint8Array(L.initMsg.size);
    const v = new DataView(b.buffer);
    v.setUint16(L.initMsg.outStreams, o.outboundStreams ?? 0, true);
    v.setUint16(L.initMsg.maxInStreams, o.inboundStreams ?? 0, true);
    set(C.SCTP_INITMSG, b, "SCTP_INITMSG");
  }
  if (o.autoClose && (o.style ?? "one-to-many") === "one-to-many") {
    set(C.SCTP_AUTOCLOSE, intOption(o.autoClose), "SCTP_AUTOCLOSE");
  }
}
