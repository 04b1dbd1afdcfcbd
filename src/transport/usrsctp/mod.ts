/**
 * The usrsctp backend: SCTP in user space through FFI (`libusrsctp.so.2`), over raw IP (root or
 * CAP_NET_RAW; interoperates with kernel SCTP peers) or UDP encapsulation (RFC 6951; works
 * unprivileged).
 *
 * One usrsctp stack runs per process; it starts with the first endpoint and stops after the
 * last one closed. In UDP mode the stack has one local UDP port, chosen when it starts:
 *
 * 1. the `udpPort` option, else the environment variable `RSERPOOL_SCTP_UDP_PORT`;
 * 2. else, if the first endpoint has a fixed SCTP port P (a listening port, usually):
 *    {@linkcode udpEncapsulationPort}(P) = P XOR 0x8000 (3863 → 36631);
 * 3. else a free (ephemeral) UDP port; peers learn it from our packets.
 *
 * So open the listening endpoint first (or set the UDP port): peers compute the UDP port from
 * the SCTP port they connect to. A restarted peer is recognised (restart instead of a new
 * association) only when it comes back with the same UDP port (RFC 6951 §5.4): that holds for
 * processes whose UDP port derives from a fixed SCTP port.
 *
 * Connecting to SCTP port P, the remote UDP port is the `remoteUdpPort` option's answer, else
 * the `RSERPOOL_SCTP_UDP_PEERS` entry for P, else `udpEncapsulationPort(P)` (our own UDP port
 * when P is a listening port of this process and the address is loopback).
 *
 * @example Echo over UDP encapsulation inside one process
 * ```ts ignore
 * import { usrsctpTransport } from "./mod.ts";
 * const transport = usrsctpTransport({ mode: "udp" });
 * const server = await transport.open(
 *   { addresses: ["127.0.0.1"], port: 5001, listen: true },
 *   (e) => {
 *     if (e.type === "message") server.send(e.assocId, e.data, { ppid: e.ppid });
 *   },
 * );
 * const client = await transport.open({ addresses: ["127.0.0.1"] }, (e) => {
 *   if (e.type === "message") console.log(new TextDecoder().decode(e.data)); // hello
 * });
 * const id = await client.connect(["127.0.0.1"], 5001);
 * client.send(id, new TextEncoder().encode("hello"), { stream: 1, ppid: 11 });
 * ```
 *
 * @module
 */

import { readEnv } from "../../../ffi/libc.ts";
import {
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpTransport,
  type UsrsctpMode,
} from "../types.ts";
import { createSocket, type RemoteUdpPortResolver, UsrsctpEndpoint } from "./_endpoint.ts";
import {
  acquireStack,
  canUseRawSockets,
  currentStack,
  releaseStack,
  udpEncapsulationPort,
} from "./_stack.ts";

export { canUseRawSockets, udpEncapsulationPort };

/**
 * Environment variable: local UDP encapsulation port of this process.
 *
 * @example
 * ```ts
 * import { UDP_PORT_ENV } from "./mod.ts";
 * console.log(UDP_PORT_ENV); // RSERPOOL_SCTP_UDP_PORT
 * ```
 */
export const UDP_PORT_ENV = "RSERPOOL_SCTP_UDP_PORT";
/**
 * Environment variable: remote UDP encapsulation ports, comma-separated entries
 * `SCTPPORT=UDPPORT` or `ADDRESS:SCTPPORT=UDPPORT` (IPv6 in brackets), e.g.
 * `9901=36631,[::1]:9902=36632`.
 *
 * @example
 * ```ts
 * import { UDP_PEERS_ENV } from "./mod.ts";
 * console.log(UDP_PEERS_ENV); // RSERPOOL_SCTP_UDP_PEERS
 * ```
 */
export const UDP_PEERS_ENV = "RSERPOOL_SCTP_UDP_PEERS";

/**
 * Options of {@linkcode usrsctpTransport}.
 *
 * @example
 * ```ts ignore
 * import { usrsctpTransport, type UsrsctpTransportOptions } from "./mod.ts";
 * const options: UsrsctpTransportOptions = { mode: "udp", udpPort: 40000 };
 * const transport = usrsctpTransport(options);
 * ```
 */
export interface UsrsctpTransportOptions {
  /**
   * Raw IP, UDP encapsulation, or "auto" (raw when this process may open raw sockets, else UDP).
   *
   * @default {"auto"}
   */
  mode?: UsrsctpMode | "auto";
  /** UDP mode: local UDP encapsulation port (overrides `RSERPOOL_SCTP_UDP_PORT`). */
  udpPort?: number;
  /**
   * UDP mode: remote UDP port for a peer's SCTP address list and port; `undefined` falls back to
   * `RSERPOOL_SCTP_UDP_PEERS`, then to {@linkcode udpEncapsulationPort}.
   */
  remoteUdpPort?: (addresses: readonly string[], port: number) => number | undefined;
  /**
   * usrsctp's `blackhole` sysctl: 0 answers out-of-the-blue packets with ABORT, 2 stays
   * silent. Several raw-IP stacks on one host need 2 (each sees every SCTP packet).
   *
   * @default {2 in raw mode, 0 in UDP mode}
   */
  blackhole?: 0 | 1 | 2;
  /** Appended to the description (why this backend was chosen). */
  reason?: string;
}

/** Parses `RSERPOOL_SCTP_UDP_PEERS`. */
function parsePeerPorts(text: string | undefined): Map<string, number> {
  const map = new Map<string, number>();
  if (text === undefined) return map;
  for (const entry of text.split(",")) {
    const trimmed = entry.trim();
    if (trimmed === "") continue;
    const m = /^(?:(\[[^\]]+\]|[^:=\[\]]+):)?(\d+)=(\d+)$/.exec(trimmed);
    if (m === null) {
      throw new SctpError(
        "invalid-argument",
        `Cannot parse ${UDP_PEERS_ENV} entry '${trimmed}': expected PORT=UDPPORT or ADDRESS:PORT=UDPPORT`,
      );
    }
    const address = m[1]?.replace(/^\[|\]$/g, "");
    map.set(address === undefined ? m[2] : `${address}|${m[2]}`, Number(m[3]));
  }
  return map;
}

function parsePort(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SctpError("invalid-argument", `Cannot use ${name}='${text}': not a port number`);
  }
  return port;
}

class UsrsctpTransport implements SctpTransport {
  readonly name = "usrsctp" as const;
  readonly mode: UsrsctpMode;
  readonly #options: UsrsctpTransportOptions;
  readonly #peerPorts: Map<string, number>;
  readonly #envUdpPort: number | undefined;

  constructor(mode: UsrsctpMode, options: UsrsctpTransportOptions) {
    this.mode = mode;
    this.#options = options;
    this.#peerPorts = parsePeerPorts(readEnv(UDP_PEERS_ENV));
    this.#envUdpPort = parsePort(readEnv(UDP_PORT_ENV), UDP_PORT_ENV);
  }

  get description(): string {
    let text: string;
    if (this.mode === "raw") {
      text = "usrsctp (raw IP)";
    } else {
      const stack = currentStack();
      const port = stack?.mode === "udp"
        ? stack.udpPort
        : this.#options.udpPort ?? this.#envUdpPort;
      text = `usrsctp (UDP encapsulation, ${
        port === undefined ? "UDP port chosen at first endpoint" : `UDP port ${port}`
      })`;
    }
    return this.#options.reason ? `${text}; ${this.#options.reason}` : text;
  }

  #remoteUdpPort: RemoteUdpPortResolver = (addresses, port) => {
    const fromOption = this.#options.remoteUdpPort?.(addresses, port);
    if (fromOption !== undefined) return fromOption;
    for (const address of addresses) {
      const byAddress = this.#peerPorts.get(`${address}|${port}`);
      if (byAddress !== undefined) return byAddress;
    }
    return this.#peerPorts.get(String(port)) ?? udpEncapsulationPort(port);
  };

  async open(
    options: SctpEndpointOptions,
    onEvent: (event: SctpEvent) => void,
  ): Promise<SctpEndpoint> {
    const stack = await acquireStack({
      mode: this.mode,
      udpPort: this.#options.udpPort ?? this.#envUdpPort,
      fixedPort: options.port ? options.port : undefined,
      blackhole: this.#options.blackhole,
    });
    let socket;
    try {
      socket = createSocket(stack, options);
    } catch (error) {
      await releaseStack(stack);
      throw error;
    }
    return new UsrsctpEndpoint({
      stack,
      so: socket.so,
      style: options.style ?? "one-to-many",
      listening: options.listen ?? false,
      localPort: socket.localPort,
      onEvent,
      remoteUdpPort: this.#remoteUdpPort,
      onClosed: () => releaseStack(stack),
    });
  }
}

/**
 * Creates the usrsctp transport.
 *
 * @example
 * ```ts ignore
 * import { usrsctpTransport } from "./mod.ts";
 * const transport = usrsctpTransport({ mode: "udp" });
 * console.log(transport.description); // usrsctp (UDP encapsulation, ...)
 * ```
 *
 * @param options Mode, UDP ports, blackhole.
 * @returns The transport (endpoints start the process's stack on demand).
 * @throws {SctpError} `invalid-argument` for bad environment values.
 */
export function usrsctpTransport(options: UsrsctpTransportOptions = {}): SctpTransport {
  const wanted = options.mode ?? "auto";
  const mode: UsrsctpMode = wanted === "auto" ? (canUseRawSockets() ? "raw" : "udp") : wanted;
  return new UsrsctpTransport(mode, options);
}
