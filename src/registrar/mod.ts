/**
 * The RSerPool registrar (ASAP side): handlespace, PE supervision, announces; RSPLIB-compatible.
 *
 * @example
 * ```ts
 * import { Registrar } from "./mod.ts";
 * import { MemoryNetwork } from "../transport/memory/memory_transport.ts";
 * await using registrar = await Registrar.start(
 *   { asap: { addresses: ["10.0.0.1"], port: 3863 }, asapAnnounce: undefined },
 *   { transport: new MemoryNetwork().host(["10.0.0.1"]) },
 * );
 * console.log(registrar.identifier > 0); // true
 * ```
 *
 * @module
 */

export * from "./registrar.ts";
export * from "./config.ts";
export * from "./options.ts";
export * from "./rate_limiter.ts";
