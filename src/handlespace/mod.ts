/**
 * The handlespace of RSerPool (RFC 5351–5356): pools of pool elements with RSPLIB's 18 pool
 * member selection policies, per-PE timers, ownership checksums and paged handle tables, for the
 * registrar and for the pool user's handle resolution cache.
 *
 * @example
 * ```ts
 * import { Handlespace } from "./mod.ts";
 * const hs = new Handlespace({ homeRegistrarIdentifier: 0x10 });
 * hs.registerPoolElement("EchoPool", {
 *   identifier: 0x1234,
 *   homeRegistrarIdentifier: 0x10,
 *   registrationLife: 30000,
 *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *   policy: { type: "LeastUsed", load: 0 },
 * });
 * console.log(hs.handleResolution("EchoPool")![0].identifier.toString(16)); // 1234
 * ```
 *
 * @module
 */

export * from "./handlespace.ts";
export * from "./cache.ts";
export * from "./types.ts";
export * from "./errors.ts";
export * from "./checksum.ts";
export * from "./random.ts";
// The codec types of the API, so that this module documents on its own.
export { PolicyType } from "../codec/mod.ts";
export type {
  PolicyName,
  PoolElementParameter,
  PoolPolicy,
  TransportParameter,
  TransportProtocol,
} from "../codec/mod.ts";
