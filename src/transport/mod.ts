/**
 * SCTP transport (one interface, backends kernel SCTP and usrsctp, automatic selection) and
 * UDP multicast for announces.
 *
 * @example Open the best SCTP transport and echo messages
 * ```ts ignore
 * import { openSctpTransport } from "./mod.ts";
 * const transport = await openSctpTransport(); // RSERPOOL_SCTP=auto|kernel|usrsctp|usrsctp-raw|usrsctp-udp
 * console.log(transport.description);
 * const server = await transport.open(
 *   { addresses: ["127.0.0.1"], port: 5001, listen: true },
 *   (e) => {
 *     if (e.type === "message") server.send(e.assocId, e.data, { stream: e.stream, ppid: e.ppid });
 *   },
 * );
 * ```
 *
 * @module
 */

export * from "./types.ts";
export {
  BACKEND_ENV,
  kernelSctpUnavailable,
  openSctpTransport,
  type OpenSctpTransportOptions,
} from "./select.ts";
export {
  canUseRawSockets,
  UDP_PEERS_ENV,
  UDP_PORT_ENV,
  udpEncapsulationPort,
  usrsctpTransport,
  type UsrsctpTransportOptions,
} from "./usrsctp/mod.ts";
export {
  kernelSctpAvailable,
  type KernelSctpProbe,
  kernelTransport,
  type KernelTransportOptions,
  probeKernelSctp,
} from "./kernel/mod.ts";
export {
  MulticastChannel,
  type MulticastMessage,
  type MulticastOptions,
  openMulticastChannel,
} from "./multicast.ts";
