/**
 * Pool elements and pool users (RSerPool's ASAP side, RSPLIB's library API): register a server
 * in a pool, resolve a pool handle, keep sessions that fail over between pool elements with
 * client-based state sharing (ASAP Cookies), and the services of `rspserver`.
 *
 * - {@linkcode PoolElement}: a registered pool element; iterate it for sessions, or
 *   {@linkcode serve} them with one {@linkcode SessionHandler} each.
 * - {@linkcode PoolUser}: {@linkcode PoolUser.connect} opens a {@linkcode PoolUserSession}
 *   that fails over by itself and reports it as notifications.
 * - {@linkcode AsapClient}: the registrar connection (basic mode: register, resolve, report).
 *
 * @example A pool element and a pool user in a few lines
 * ```ts ignore
 * import { PoolElement, PoolUser, serve } from "./mod.ts";
 * import { openSctpTransport } from "../transport/select.ts";
 * const transport = await openSctpTransport();
 * const registrars = ["10.0.0.1:3863"];
 *
 * await using pe = await PoolElement.create({ transport, poolHandle: "EchoPool", registrars });
 * await using _server = serve(pe, (session) => ({
 *   message: (data, info) => void session.send(data, info),
 * }));
 *
 * await using pu = await PoolUser.create({ transport, registrars });
 * await using session = await pu.connect("EchoPool");
 * session.send("Hello\n");
 * for await (const event of session) {
 *   if (event.type === "message") break; // "Hello\n" from PE event.poolElementIdentifier
 * }
 * ```
 *
 * @module
 */

// Types of other modules that appear in this API (the root mod.ts exports them too).
export type {
  PolicyName,
  PoolElementParameter,
  PoolPolicy,
  TransportParameter,
  TransportProtocol,
} from "../codec/mod.ts";
export { PolicyType } from "../codec/mod.ts";
export type { Logger, OptionKind, OptionSpec, OptionSpecs } from "../common/mod.ts";
export type { EndpointAddresses } from "../net/address_port.ts";
export type * from "../transport/types.ts";
export * from "./errors.ts";
export * from "./options.ts";
export * from "./cache.ts";
export * from "./asap_client.ts";
export * from "./notifications.ts";
export * from "./policy_spec.ts";
export * from "./pool_element.ts";
export * from "./pool_user.ts";
export * from "./server.ts";
export * from "./services/mod.ts";
