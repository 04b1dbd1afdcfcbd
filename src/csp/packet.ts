/**
 * Encoding and decoding of component status reports, byte for byte as RSPLIB 3.4.4 writes and
 * checks them (`componentstatusreporter.c`, `cspmonitor.c`).
 *
 * | Offset | Size | Field |
 * | --- | --- | --- |
 * | 0 | 1 | Type (0x01 = report) |
 * | 1 | 1 | Flags (0x01 = final report) |
 * | 2 | 2 | Length of the whole report |
 * | 4 | 4 | Version (0x00000200) |
 * | 8 | 8 | Sender id (group in the top byte, object in the low 56 bits) |
 * | 16 | 8 | Sender time stamp (µs since the component's first report) |
 * | 24 | 4 | Report interval (µs) |
 * | 28 | 128 | Location text (NUL padded) |
 * | 156 | 128 | Status text (NUL padded) |
 * | 284 | 2 | Workload (0xffff unknown, else round(load × 0xfffe)) |
 * | 286 | 2 | Number of associations n |
 * | 288 | 24 × n | Receiver id (8), duration µs (8, all ones unknown), flags (2), protocol (2), PPID (4) |
 *
 * @module
 */

import { CspOffset, CspPacket, IpProtocol, UNKNOWN_DURATION } from "./constants.ts";
import { CspDecodeError, CspDecodeReason } from "./errors.ts";

/**
 * One association of a component (to a registrar, a peer registrar, or a pool element).
 *
 * @example A pool element's association to its registrar
 * ```ts
 * import type { ComponentAssociation } from "./packet.ts";
 * import { ComponentGroup, componentId, CspPpid, IpProtocol } from "./mod.ts";
 * const toRegistrar: ComponentAssociation = {
 *   receiverId: componentId(ComponentGroup.Registrar, 0x1111),
 *   duration: 60_000_000n, // up for a minute
 *   protocolId: IpProtocol.SCTP,
 *   ppid: CspPpid.ASAP,
 * };
 * console.log(toRegistrar.receiverId.toString(16)); // 100000000001111
 * ```
 */
export interface ComponentAssociation {
  /** Component id of the other side (see {@linkcode import("./identifier.ts").componentId}). */
  receiverId: bigint;
  /** Age of the association in microseconds; absent when unknown (all ones on the wire). */
  duration?: bigint;
  /** Association flags (RSPLIB always sends 0). @default {0} */
  flags?: number;
  /** IP protocol of the association ({@linkcode IpProtocol}). @default {132} (SCTP) */
  protocolId?: number;
  /** SCTP payload protocol identifier used on it, e.g. 11 for ASAP, 12 for ENRP. */
  ppid: number;
}

/**
 * A component status report.
 *
 * @example Round trip of a pool user's report
 * ```ts
 * import {
 *   type ComponentStatusReport,
 *   decodeComponentStatusReport,
 *   encodeComponentStatusReport,
 * } from "./packet.ts";
 * import { ComponentGroup, componentId } from "./mod.ts";
 * const report: ComponentStatusReport = {
 *   senderId: componentId(ComponentGroup.PoolUser, 0x42),
 *   senderTimestamp: 1_000_000n,
 *   reportInterval: 1_000_000,
 *   location: "pu1: 192.0.2.7",
 *   status: "0 Sessions",
 *   associations: [],
 * };
 * console.log(decodeComponentStatusReport(encodeComponentStatusReport(report)).status); // 0 Sessions
 * ```
 */
export interface ComponentStatusReport {
  /** Flags; {@linkcode CspPacket.FLAG_FINAL} marks the last report of a component. @default {0} */
  flags?: number;
  /** Id of the reporting component. */
  senderId: bigint;
  /** Microseconds since the component's first report (its uptime). */
  senderTimestamp: bigint;
  /** Report interval in microseconds (the monitor purges a component after 10 intervals). */
  reportInterval: number;
  /** Where the component runs: host name and addresses (at most 127 UTF-8 bytes are sent). */
  location: string;
  /** Status text, e.g. `"3 Sessions"` (at most 127 UTF-8 bytes are sent). */
  status: string;
  /** Load of the component in 0..1; absent (or negative) when unknown. */
  workload?: number;
  /** Associations of the component. */
  associations: ComponentAssociation[];
  /**
   * The header's length field. The encoder always writes the real length; the decoder reports
   * what it received, without checking it (as RSPLIB's monitor).
   */
  length?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a workload (0..1) as RSPLIB does: `round(load × 0xfffe)`, 0xffff when unknown.
 *
 * @example
 * ```ts
 * import { encodeWorkload } from "./packet.ts";
 * console.log(encodeWorkload(0.5), encodeWorkload(undefined)); // 32767 65535
 * ```
 *
 * @param workload The load in 0..1 (clamped); `undefined`, NaN or a negative value is unknown.
 * @returns The 16-bit wire value.
 */
export function encodeWorkload(workload: number | undefined): number {
  if (workload === undefined || Number.isNaN(workload) || workload < 0) {
    return CspPacket.WORKLOAD_UNKNOWN;
  }
  return roundHalfEven(Math.min(workload, 1) * CspPacket.WORKLOAD_FULL);
}

/**
 * Decodes a 16-bit workload value.
 *
 * @example
 * ```ts
 * import { decodeWorkload } from "./packet.ts";
 * console.log(decodeWorkload(0xfffe), decodeWorkload(0xffff)); // 1 undefined
 * ```
 *
 * @param value The wire value.
 * @returns The load in 0..1, or `undefined` for 0xffff (unknown).
 */
export function decodeWorkload(value: number): number | undefined {
  return value === CspPacket.WORKLOAD_UNKNOWN ? undefined : value / CspPacket.WORKLOAD_FULL;
}

/** `rint()` in the default rounding mode: to nearest, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The UTF-8 bytes of a text field: at most `size - 1` bytes, cut at a character boundary, so
 * that the field always ends with a NUL byte (as RSPLIB's `snprintf()` leaves it).
 */
function textBytes(text: string, size: number): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length < size) return bytes;
  let end = size - 1;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end);
}

function checkInteger(value: number, max: number, what: string): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`Cannot encode component status report: ${what} ${value} is out of range`);
  }
}

function checkU64(value: bigint, what: string): void {
  if (typeof value !== "bigint" || value < 0n || value > UNKNOWN_DURATION) {
    throw new RangeError(`Cannot encode component status report: ${what} ${value} is out of range`);
  }
}

/**
 * Encodes a component status report.
 *
 * @example A pool element with one registrar association
 * ```ts
 * import { ComponentGroup, componentId, CspPpid, encodeComponentStatusReport } from "./mod.ts";
 * const bytes = encodeComponentStatusReport({
 *   senderId: componentId(ComponentGroup.PoolElement, 0x12345678),
 *   senderTimestamp: 3_723_000_000n,
 *   reportInterval: 1_000_000,
 *   location: "host: 192.0.2.1",
 *   status: "1 Session",
 *   workload: 0.5,
 *   associations: [{
 *     receiverId: componentId(ComponentGroup.Registrar, 0xabcdef01),
 *     duration: 5_000_000n,
 *     ppid: CspPpid.ASAP,
 *   }],
 * });
 * console.log(bytes.length); // 312
 * ```
 *
 * @param report The report.
 * @returns The datagram (288 + 24 × associations bytes).
 * @throws {RangeError} When a field does not fit (too many associations, an id or number out of
 * range).
 */
export function encodeComponentStatusReport(report: ComponentStatusReport): Uint8Array {
  const associations = report.associations;
  if (associations.length > CspPacket.MAX_ASSOCIATIONS) {
    throw new RangeError(
      `Cannot encode component status report: ${associations.length} associations exceed ` +
        `the maximum of ${CspPacket.MAX_ASSOCIATIONS}`,
    );
  }
  const flags = report.flags ?? 0;
  checkInteger(flags, 0xff, "flags");
  checkU64(report.senderId, "sender id");
  checkU64(report.senderTimestamp, "sender time stamp");
  checkInteger(report.reportInterval, 0xffff_ffff, "report interval");

  const length = CspPacket.REPORT_SIZE + associations.length * CspPacket.ASSOCIATION_SIZE;
  const bytes = new Uint8Array(length);
  const view = new DataView(bytes.buffer);
  view.setUint8(CspOffset.TYPE, CspPacket.TYPE_REPORT);
  view.setUint8(CspOffset.FLAGS, flags);
  view.setUint16(CspOffset.LENGTH, length);
  view.setUint32(CspOffset.VERSION, CspPacket.VERSION);
  view.setBigUint64(CspOffset.SENDER_ID, report.senderId);
  view.setBigUint64(CspOffset.SENDER_TIMESTAMP, report.senderTimestamp);
  view.setUint32(CspOffset.REPORT_INTERVAL, report.reportInterval);
  bytes.set(textBytes(report.location, CspPacket.LOCATION_SIZE), CspOffset.LOCATION);
  bytes.set(textBytes(report.status, CspPacket.STATUS_SIZE), CspOffset.STATUS);
  view.setUint16(CspOffset.WORKLOAD, encodeWorkload(report.workload));
  view.setUint16(CspOffset.ASSOCIATIONS, associations.length);
  let at = CspOffset.ASSOCIATION_ARRAY;
  for (const a of associations) {
    const flags = a.flags ?? 0;
    const protocolId = a.protocolId ?? IpProtocol.SCTP;
    const duration = a.duration ?? UNKNOWN_DURATION;
    checkU64(a.receiverId, "receiver id");
    checkU64(duration, "duration");
    checkInteger(flags, 0xffff, "association flags");
    checkInteger(protocolId, 0xffff, "protocol id");
    checkInteger(a.ppid, 0xffff_ffff, "PPID");
    view.setBigUint64(at, a.receiverId);
    view.setBigUint64(at + 8, duration);
    view.setUint16(at + 16, flags);
    view.setUint16(at + 18, protocolId);
    view.setUint32(at + 20, a.ppid);
    at += CspPacket.ASSOCIATION_SIZE;
  }
  return bytes;
}

function readText(bytes: Uint8Array, offset: number, size: number): string {
  const field = bytes.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return decoder.decode(end >= 0 ? field.subarray(0, end) : field);
}

/**
 * Decodes a component status report with the checks of RSPLIB's monitor: at least 288 bytes,
 * type 0x01, version 0x0200, and exactly 288 + 24 × n bytes for n associations. The header's
 * length field is not checked (RSPLIB ignores it too). Text fields end at their first NUL byte;
 * bytes that are not UTF-8 become U+FFFD.
 *
 * @example
 * ```ts
 * import { decodeComponentStatusReport, encodeComponentStatusReport } from "./mod.ts";
 * const bytes = encodeComponentStatusReport({
 *   senderId: 0x0300000000000001n,
 *   senderTimestamp: 0n,
 *   reportInterval: 250_000,
 *   location: "host",
 *   status: "0 Sessions",
 *   associations: [],
 * });
 * const report = decodeComponentStatusReport(bytes);
 * console.log(report.status, report.workload); // 0 Sessions undefined
 * ```
 *
 * @param bytes One datagram.
 * @returns The report; association durations of all ones are left out (unknown).
 * @throws {CspDecodeError} When RSPLIB's monitor would ignore the datagram.
 */
export function decodeComponentStatusReport(bytes: Uint8Array): ComponentStatusReport {
  const size = bytes.length;
  if (size < CspPacket.REPORT_SIZE) {
    throw new CspDecodeError(
      CspDecodeReason.TooShort,
      `${size} bytes are fewer than ${CspPacket.REPORT_SIZE}`,
      size,
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const type = view.getUint8(CspOffset.TYPE);
  if (type !== CspPacket.TYPE_REPORT) {
    throw new CspDecodeError(CspDecodeReason.UnknownType, `unknown type ${type}`, size);
  }
  const version = view.getUint32(CspOffset.VERSION);
  if (version !== CspPacket.VERSION) {
    throw new CspDecodeError(
      CspDecodeReason.UnsupportedVersion,
      `unsupported version 0x${version.toString(16).padStart(8, "0")}`,
      size,
    );
  }
  const count = view.getUint16(CspOffset.ASSOCIATIONS);
  const expected = CspPacket.REPORT_SIZE + count * CspPacket.ASSOCIATION_SIZE;
  if (expected !== size) {
    throw new CspDecodeError(
      CspDecodeReason.LengthMismatch,
      `${count} associations need ${expected} bytes, got ${size}`,
      size,
    );
  }
  const associations: ComponentAssociation[] = [];
  let at = CspOffset.ASSOCIATION_ARRAY;
  for (let i = 0; i < count; i++) {
    const association: ComponentAssociation = {
      receiverId: view.getBigUint64(at),
      flags: view.getUint16(at + 16),
      protocolId: view.getUint16(at + 18),
      ppid: view.getUint32(at + 20),
    };
    const duration = view.getBigUint64(at + 8);
    if (duration !== UNKNOWN_DURATION) association.duration = duration;
    associations.push(association);
    at += CspPacket.ASSOCIATION_SIZE;
  }
  const report: ComponentStatusReport = {
    flags: view.getUint8(CspOffset.FLAGS),
    senderId: view.getBigUint64(CspOffset.SENDER_ID),
    senderTimestamp: view.getBigUint64(CspOffset.SENDER_TIMESTAMP),
    reportInterval: view.getUint32(CspOffset.REPORT_INTERVAL),
    location: readText(bytes, CspOffset.LOCATION, CspPacket.LOCATION_SIZE),
    status: readText(bytes, CspOffset.STATUS, CspPacket.STATUS_SIZE),
    associations,
    length: view.getUint16(CspOffset.LENGTH),
  };
  const workload = decodeWorkload(view.getUint16(CspOffset.WORKLOAD));
  if (workload !== undefined) report.workload = workload;
  return report;
}
