/**
 * Numbers of the Component Status Protocol (CSP), as RSPLIB 3.4.4 defines them in
 * `componentstatuspackets.h` and `rserpool-csp.h`.
 *
 * @module
 */

/**
 * Message types, versions, flags and sizes of a component status report.
 *
 * @example Check the size of a report with two associations
 * ```ts
 * import { CspPacket } from "./constants.ts";
 * console.log(CspPacket.REPORT_SIZE + 2 * CspPacket.ASSOCIATION_SIZE); // 336
 * ```
 */
export const CspPacket = {
  /** Message type of a component status report (the only type). */
  TYPE_REPORT: 0x01,
  /** Protocol version in the header's 32-bit version field. */
  VERSION: 0x0200,
  /** Flag: the component is shutting down; the monitor drops it at its next cycle. */
  FLAG_FINAL: 0x01,
  /** Size of the common header (type, flags, length, version, sender id, time stamp). */
  HEADER_SIZE: 24,
  /** Size of a report without associations. */
  REPORT_SIZE: 288,
  /** Size of one association entry. */
  ASSOCIATION_SIZE: 24,
  /** Size of the NUL-padded location text field. */
  LOCATION_SIZE: 128,
  /** Size of the NUL-padded status text field. */
  STATUS_SIZE: 128,
  /** Most associations in one report (the report must fit one UDP datagram of 65507 bytes). */
  MAX_ASSOCIATIONS: 2717,
  /** Workload value meaning "unknown". */
  WORKLOAD_UNKNOWN: 0xffff,
  /** Workload value of a fully loaded component (load 1.0). */
  WORKLOAD_FULL: 0xfffe,
  /** Default UDP port of a monitor. */
  DEFAULT_PORT: 2960,
} as const;

/**
 * Byte offsets of the report's fields (all integers big endian).
 *
 * @example Read the sender id of a raw report
 * ```ts
 * import { CspOffset } from "./constants.ts";
 * const bytes = new Uint8Array(288);
 * const id = new DataView(bytes.buffer).getBigUint64(CspOffset.SENDER_ID);
 * console.log(id); // 0n
 * ```
 */
export const CspOffset = {
  /** Message type (8 bit). */
  TYPE: 0,
  /** Flags (8 bit). */
  FLAGS: 1,
  /** Length of the whole report (16 bit). */
  LENGTH: 2,
  /** Version (32 bit). */
  VERSION: 4,
  /** Sender id (64 bit): group in the top byte, object below. */
  SENDER_ID: 8,
  /** Sender time stamp (64 bit): microseconds since the component's first report. */
  SENDER_TIMESTAMP: 16,
  /** Report interval (32 bit, microseconds). */
  REPORT_INTERVAL: 24,
  /** Location text (128 bytes). */
  LOCATION: 28,
  /** Status text (128 bytes). */
  STATUS: 156,
  /** Workload (16 bit). */
  WORKLOAD: 284,
  /** Number of associations (16 bit). */
  ASSOCIATIONS: 286,
  /** First association entry. */
  ASSOCIATION_ARRAY: 288,
} as const;

/**
 * Component groups: the top byte of a 64-bit component id.
 *
 * @example
 * ```ts
 * import { ComponentGroup } from "./constants.ts";
 * console.log(ComponentGroup.PoolElement); // 2
 * ```
 */
export const ComponentGroup = {
  /** A registrar (PR); the object is its 32-bit registrar id. */
  Registrar: 0x01,
  /** A pool element (PE); the object is its 32-bit PE id. */
  PoolElement: 0x02,
  /** A pool user (PU); the object is a random 56-bit number. */
  PoolUser: 0x03,
} as const;

/**
 * IP protocol numbers in an association's protocol field.
 *
 * @example
 * ```ts
 * import { IpProtocol } from "./constants.ts";
 * console.log(IpProtocol.SCTP); // 132
 * ```
 */
export const IpProtocol = {
  /** Transmission Control Protocol. */
  TCP: 6,
  /** User Datagram Protocol. */
  UDP: 17,
  /** Stream Control Transmission Protocol. */
  SCTP: 132,
} as const;

/**
 * SCTP payload protocol identifiers that RSPLIB's monitor names (an association's PPID).
 *
 * @example
 * ```ts
 * import { CspPpid } from "./constants.ts";
 * console.log(CspPpid.ASAP, CspPpid.ENRP); // 11 12
 * ```
 */
export const CspPpid = {
  /** Application data (Echo, Discard, Daytime, CharGen). */
  Data: 0,
  /** Aggregate Server Access Protocol. */
  ASAP: 11,
  /** Endpoint haNdlespace Redundancy Protocol. */
  ENRP: 12,
  /** Fractal Generator Protocol. */
  FractalGenerator: 32,
  /** Ping Pong Protocol. */
  PingPong: 33,
  /** CalcApp Protocol. */
  CalcApp: 34,
  /** Scripting Service Protocol. */
  Scripting: 35,
} as const;

/**
 * The duration of an association whose start is unknown (all 64 bits set).
 *
 * @example
 * ```ts
 * import { UNKNOWN_DURATION } from "./constants.ts";
 * console.log(UNKNOWN_DURATION === 2n ** 64n - 1n); // true
 * ```
 */
export const UNKNOWN_DURATION: bigint = 0xffff_ffff_ffff_ffffn;
