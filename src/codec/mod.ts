/**
 * The RSerPool wire codec: ASAP (RFC 5352) and ENRP (RFC 5353) messages with the parameters of
 * RFC 5354 and RSPLIB's extensions, byte-compatible with RSPLIB 3.4.4.
 *
 * @example Round trip
 * ```ts
 * import { decodeMessage, encodeMessage, poolHandle } from "./mod.ts";
 * const bytes = encodeMessage({ type: "handleResolution", poolHandle: poolHandle("EchoPool") });
 * console.log(decodeMessage(11, bytes).type); // handleResolution
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./policy_types.ts";
export * from "./types.ts";
export * from "./errors.ts";
export * from "./decode.ts";
export { encodeMessage, encodePolicyParameter } from "./encode.ts";
export * from "./pool_handle.ts";
