/**
 * The error that the handlespace throws when it refuses a registration.
 *
 * @module
 */

import { describeErrorCause } from "../codec/mod.ts";

/**
 * A registration was refused. `errorCause` is the RSerPool error cause that an RSPLIB registrar
 * puts into its Registration Response (RSPLIB's own codes, such as 0xf000 for identifier 0 or
 * 0x100a for a wrong protocol, included).
 *
 * @example Answer a registration
 * ```ts
 * import { Handlespace, HandlespaceError } from "./mod.ts";
 * const hs = new Handlespace();
 * try {
 *   hs.registerPoolElement("EchoPool", {
 *     identifier: 0,
 *     homeRegistrarIdentifier: 0,
 *     registrationLife: 30000,
 *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *     policy: { type: "RoundRobin" },
 *   });
 * } catch (e) {
 *   if (!(e instanceof HandlespaceError)) throw e;
 *   console.log(e.errorCause.toString(16)); // f000
 * }
 * ```
 */
export class HandlespaceError extends Error {
  /** The RSerPool error cause ({@linkcode import("../codec/mod.ts").ErrorCause}). */
  readonly errorCause: number;

  /**
   * Creates the error.
   *
   * @param errorCause The RSerPool error cause.
   * @param message What went wrong, starting with "Cannot".
   */
  constructor(errorCause: number, message: string) {
    super(`${message} (cause ${describeErrorCause(errorCause)})`);
    this.name = "HandlespaceError";
    this.errorCause = errorCause;
  }
}
