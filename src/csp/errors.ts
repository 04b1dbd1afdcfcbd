/**
 * The error that {@linkcode import("./packet.ts").decodeComponentStatusReport} throws for a
 * datagram that RSPLIB's monitor would ignore.
 *
 * @module
 */

/**
 * Why a datagram is not a component status report. These are exactly the checks of RSPLIB's
 * `cspmonitor`; it does not check the header's length field.
 *
 * @example
 * ```ts
 * import { CspDecodeReason } from "./errors.ts";
 * console.log(CspDecodeReason.LengthMismatch); // lengthMismatch
 * ```
 */
export const CspDecodeReason = {
  /** Fewer than 288 bytes. */
  TooShort: "tooShort",
  /** The type byte is not 0x01 (report). */
  UnknownType: "unknownType",
  /** The version is not 0x00000200. */
  UnsupportedVersion: "unsupportedVersion",
  /** The size is not 288 + 24 × the association count. */
  LengthMismatch: "lengthMismatch",
} as const;

/** One of the {@linkcode CspDecodeReason} values. */
export type CspDecodeReason = typeof CspDecodeReason[keyof typeof CspDecodeReason];

/**
 * A datagram is not a valid component status report.
 *
 * @example Log and drop a bad datagram
 * ```ts
 * import { CspDecodeError, decodeComponentStatusReport } from "./mod.ts";
 * try {
 *   decodeComponentStatusReport(new Uint8Array(10));
 * } catch (e) {
 *   if (!(e instanceof CspDecodeError)) throw e;
 *   console.log(e.reason); // tooShort
 * }
 * ```
 */
export class CspDecodeError extends Error {
  /** Which check failed. */
  readonly reason: CspDecodeReason;
  /** Size of the datagram in bytes. */
  readonly size: number;

  /**
   * Creates the error.
   *
   * @param reason Which check failed.
   * @param message What is wrong.
   * @param size Size of the datagram in bytes.
   */
  constructor(reason: CspDecodeReason, message: string, size: number) {
    super(`Cannot decode component status report: ${message}`);
    this.name = "CspDecodeError";
    this.reason = reason;
    this.size = size;
  }
}
