/**
 * The error that pool element and pool user operations throw.
 *
 * @module
 */

import { describeErrorCause } from "../codec/mod.ts";

/**
 * A pool element or pool user operation failed. `code` is the RSerPool error cause
 * ({@linkcode import("../codec/mod.ts").ErrorCause}), as RSPLIB reports it: for example
 * 0x1007 (no registrar), 0x1008 (timeout), 0x0009 (unknown pool handle), or the cause of a
 * rejected registration.
 *
 * @example Tell "no registrar" from other failures
 * ```ts
 * import { ErrorCause } from "../codec/mod.ts";
 * import { RSerPoolError } from "./errors.ts";
 * const e = new RSerPoolError(ErrorCause.NoRegistrar, "Cannot register: no registrar found");
 * console.log(e.code === ErrorCause.NoRegistrar, e.message);
 * ```
 */
export class RSerPoolError extends Error {
  /** The RSerPool error cause. */
  readonly code: number;

  /**
   * Creates the error.
   *
   * @param code The RSerPool error cause.
   * @param message What failed; the cause's name is appended.
   * @param options The underlying error.
   */
  constructor(code: number, message: string, options: { cause?: unknown } = {}) {
    super(`${message} (${describeErrorCause(code)})`, options);
    this.name = "RSerPoolError";
    this.code = code;
  }
}
