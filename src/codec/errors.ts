/**
 * The error that {@linkcode import("./decode.ts").decodeMessage} throws for invalid input.
 *
 * @module
 */

import { describeErrorCause, ErrorCause } from "./constants.ts";

/**
 * Options of {@linkcode RSerPoolDecodeError}.
 *
 * @example Create a decode error with its position
 * ```ts
 * import { RSerPoolDecodeError, type RSerPoolDecodeErrorOptions } from "./errors.ts";
 * import { ErrorCause } from "./constants.ts";
 * const options: RSerPoolDecodeErrorOptions = {
 *   offendingParameter: new Uint8Array([0x80, 0x3f, 0, 4]),
 *   offset: 20,
 * };
 * const error = new RSerPoolDecodeError(ErrorCause.InvalidValue, "empty option", options);
 * console.log(error.offset, error.offendingParameter?.length); // 20 4
 * ```
 */
export interface RSerPoolDecodeErrorOptions {
  /** Bytes of the offending parameter (a copy), for causes that carry it. */
  offendingParameter?: Uint8Array;
  /** Byte offset in the message where decoding failed. */
  offset?: number;
}

/**
 * A message could not be decoded. `errorCause` is the RSerPool error cause that an RSPLIB
 * registrar answers with; `silent` says that RSPLIB sends no error reply for it (an unknown
 * parameter with the "stop silently" action, or an unknown message type).
 *
 * @example Answer a bad message with an ASAP Error
 * ```ts
 * import { decodeMessage, encodeMessage, RSerPoolDecodeError } from "../../mod.ts";
 * try {
 *   decodeMessage(11, new Uint8Array([0x01, 0x00, 0x00, 0x40]));
 * } catch (e) {
 *   if (!(e instanceof RSerPoolDecodeError)) throw e;
 *   if (!e.silent) {
 *     const reply = encodeMessage({
 *       type: "asapError",
 *       error: { cause: e.errorCause, data: e.offendingParameter },
 *     });
 *     console.log(reply.length);
 *   }
 * }
 * ```
 */
export class RSerPoolDecodeError extends Error {
  /** The RSerPool error cause ({@linkcode ErrorCause}). */
  readonly errorCause: number;
  /** Copy of the offending parameter's bytes, where the cause carries it. */
  readonly offendingParameter?: Uint8Array;
  /** Byte offset where decoding stopped. */
  readonly offset: number;

  /**
   * Creates the error.
   *
   * @param errorCause The RSerPool error cause.
   * @param message What is wrong.
   * @param options Offending parameter and offset.
   */
  constructor(errorCause: number, message: string, options: RSerPoolDecodeErrorOptions = {}) {
    super(`Cannot decode message: ${message} (cause ${describeErrorCause(errorCause)})`);
    this.name = "RSerPoolDecodeError";
    this.errorCause = errorCause;
    this.offendingParameter = options.offendingParameter;
    this.offset = options.offset ?? 0;
  }

  /** `true` when RSPLIB would send no error reply for this input. */
  get silent(): boolean {
    return this.errorCause === ErrorCause.UnrecognizedParameterSilent ||
      this.errorCause === ErrorCause.UnrecognizedMessage;
  }
}
