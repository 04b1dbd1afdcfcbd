/**
 * rserpool-deno: Reliable Server Pooling (RSerPool, RFC 5351–5356) for Deno, compatible with
 * RSPLIB on the wire and on the command line.
 *
 * @example Encode and decode an ASAP message
 * ```ts
 * import { decodeMessage, encodeMessage, Ppid, poolHandle } from "./mod.ts";
 * const bytes = encodeMessage({
 *   type: "handleResolution",
 *   poolHandle: poolHandle("EchoPool"),
 *   items: 3,
 * });
 * const message = decodeMessage(Ppid.ASAP, bytes);
 * console.log(message.type); // handleResolution
 * ```
 *
 * @module
 */

export * from "./src/codec/mod.ts";
export * from "./src/net/ip_address.ts";
export * from "./src/csp/mod.ts";
export * from "./src/transport/mod.ts";
export * from "./src/handlespace/mod.ts";
export * from "./src/pool/mod.ts";
