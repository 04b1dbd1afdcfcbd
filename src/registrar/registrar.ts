/**
 * The registrar: ASAP endpoint, handlespace, PE supervision (keep-alives, expiry, unreachability
 * reports) and ASAP Server Announces, behaving like RSPLIB's `rspregistrar` (inventory §6).
 * ENRP plugs in through {@linkcode RegistrarHooks} and the handlespace's ownership data.
 *
 * @module
 */

import {
  AsapType,
  decodeMessage,
  encodeMessage,
  encodePolicyParameter,
  ErrorCause,
  formatPoolHandle,
  type OperationError,
  type PoolElementParameter,
  Ppid,
  RSerPoolDecodeError,
  type RSerPoolMessage,
  type TransportParameter,
} from "../codec/mod.ts";
import type {
  DeregistrationMessage,
  EndpointKeepAliveAckMessage,
  EndpointUnreachableMessage,
  HandleResolutionMessage,
  RegistrationMessage,
} from "../codec/types.ts";
import { Handlespace } from "../handlespace/mod.ts";
import { HandlespaceError } from "../handlespace/errors.ts";
import { type PoolElementEntry, TimerKind } from "../handlespace/types.ts";
import { type Logger, LogLevel, silentLogger } from "../common/logger.ts";
import { hex8 } from "../common/program.ts";
import { AddressScope, addressScope, normalizeIpAddress } from "../net/ip_address.ts";
import { formatEndpointAddresses } from "../net/address_port.ts";
import type { SctpEndpoint, SctpEvent, SctpTransport } from "../transport/types.ts";
import { DEFAULT_REGISTRAR_CONFIG, type RegistrarConfig } from "./config.ts";
import { RateLimiter } from "./rate_limiter.ts";

/** A UDP socket that sends multicast announces. */
export interface AnnounceSender {
  /** Sends one datagram to the group. */
  send(data: Uint8Array): Promise<void>;
  /** Closes the socket. */
  close(): Promise<void> | void;
}

/** Options of {@linkcode RegistrarDependencies.openAnnounceSender}. */
export interface AnnounceSenderOptions {
  /** Multicast group address. */
  group: string;
  /** Group port. */
  port: number;
  /** Local UDP port to send from (the ASAP SCTP port: receivers learn it from the datagram). */
  localPort: number;
  /** Multicast TTL. */
  ttl: number;
}

/** Hooks for the ENRP part: called when an owned PE is added/updated or removed. */
export interface RegistrarHooks {
  /** An owned PE was registered or re-registered (ENRP: Handle Update ADD to every peer). */
  poolElementRegistered?(entry: PoolElementEntry): void;
  /** A PE was removed (ENRP: Handle Update DELETE when owned). `parameter` is its last state. */
  poolElementRemoved?(
    poolHandle: Uint8Array,
    parameter: PoolElementParameter,
    owned: boolean,
  ): void;
}

/** What a registrar needs from its environment. */
export interface RegistrarDependencies {
  /** SCTP backend for the ASAP endpoint. */
  transport: SctpTransport;
  /** Opens the announce socket; without it no announces are sent. */
  openAnnounceSender?: (options: AnnounceSenderOptions) => Promise<AnnounceSender>;
  /** Logger. @default {a silent logger} */
  logger?: Logger;
  /** Milliseconds clock. @default {performance.now} */
  clock?: () => number;
  /** Uniform random numbers in [0, 1). @default {Math.random} */
  random?: () => number;
  /** ENRP hooks. */
  hooks?: RegistrarHooks;
}

/** Counters for status reports and tests. */
export interface RegistrarStatistics {
  /** Pools in the handlespace. */
  pools: number;
  /** PEs in the handlespace. */
  poolElements: number;
  /** PEs owned by this registrar. */
  ownedPoolElements: number;
  /** SCTP associations on the ASAP endpoint. */
  associations: number;
  /** Known peer registrars (ENRP; none without it). */
  peers: number;
  /** Registrations handled (new and re-registrations, successful). */
  registrations: number;
  /** Deregistrations handled. */
  deregistrations: number;
  /** Handle resolutions answered. */
  handleResolutions: number;
  /** Endpoint Unreachable reports handled. */
  endpointUnreachables: number;
  /** Endpoint Keep Alives sent. */
  endpointKeepAlives: number;
  /** Messages that could not be decoded. */
  invalidMessages: number;
}

/** RSPLIB's ±12.5 % jitter of a cycle (registrarRandomizeCycle). */
export function randomizeCycle(interval: number, random: () => number): number {
  const variation = 0.25 * interval;
  return interval - variation / 2 + variation * random();
}

/** RSPLIB's distance rounding: round(distance / step) * step. */
export function roundDistance(distance: number, step: number): number {
  return Math.round(distance / step) * step;
}

const DPF_WITH_DISTANCE = new Set(["LeastUsedDPF", "LeastUsedDegradationDPF", "WeightedRandomDPF"]);

/**
 * An RSerPool registrar (ASAP side).
 *
 * @example Start a registrar on an in-memory network and resolve a pool
 * ```ts
 * import { Registrar } from "./registrar.ts";
 * import { MemoryNetwork } from "../transport/memory/memory_transport.ts";
 * const net = new MemoryNetwork();
 * await using registrar = await Registrar.start(
 *   { asap: { addresses: ["10.0.0.1"], port: 3863 }, asapAnnounce: undefined },
 *   { transport: net.host(["10.0.0.1"]) },
 * );
 * console.log(registrar.asapPort); // 3863
 * ```
 */
export class Registrar {
  readonly #config: RegistrarConfig;
  readonly #transport: SctpTransport;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #random: () => number;
  readonly #hooks: RegistrarHooks;
  readonly #identifier: number;
  readonly #handlespace: Handlespace;
  readonly #limiter: RateLimiter;
  readonly #openAnnounceSender?: (o: AnnounceSenderOptions) => Promise<AnnounceSender>;
  #endpoint!: SctpEndpoint;
  #announce?: AnnounceSender;
  #announceTimer?: ReturnType<typeof setTimeout>;
  #startupTimer?: ReturnType<typeof setTimeout>;
  #handlespaceTimer?: ReturnType<typeof setTimeout>;
  #handlespaceTimerDue = Infinity;
  #inStartupPhase = true;
  #closed = false;
  readonly #associations = new Set<number>();
  /** Peer addresses (normalized) and port of each association: read once, not per registration. */
  readonly #peers = new Map<number, { addresses: string[]; port: number }>();
  readonly #stats: Omit<
    RegistrarStatistics,
    "pools" | "poolElements" | "ownedPoolElements" | "associations" | "peers"
  > = {
    registrations: 0,
    deregistrations: 0,
    handleResolutions: 0,
    endpointUnreachables: 0,
    endpointKeepAlives: 0,
    invalidMessages: 0,
  };

  private constructor(config: RegistrarConfig, deps: RegistrarDependencies) {
    this.#config = config;
    this.#transport = deps.transport;
    this.#log = deps.logger ?? silentLogger;
    this.#clock = deps.clock ?? (() => performance.now());
    this.#random = deps.random ?? Math.random;
    this.#hooks = deps.hooks ?? {};
    this.#openAnnounceSender = deps.openAnnounceSender;
    this.#identifier = config.identifier !== 0
      ? config.identifier >>> 0
      : 1 + Math.floor(this.#random() * 0xfffffffe);
    this.#handlespace = new Handlespace({
      homeRegistrarIdentifier: this.#identifier,
      clock: this.#clock,
      random: this.#random,
      maxBadPeReports: config.maxBadPeReports,
    });
    this.#limiter = new RateLimiter({
      handleResolution: config.maxHandleResolutionRate,
      endpointUnreachable: config.maxEndpointUnreachableRate,
    });
  }

  /**
   * Starts a registrar: opens the ASAP endpoint (with `port` 0: RSPLIB's random port
   * 10000-59999 together with the announce socket on the same UDP port), then the startup
   * phase (mentor discovery timeout), after which Server Announces go out.
   *
   * @param config Settings; missing ones take RSPLIB's defaults.
   * @param deps Transport, announce socket factory, logger, clock.
   * @returns The running registrar.
   */
  static async start(
    config: Partial<RegistrarConfig>,
    deps: RegistrarDependencies,
  ): Promise<Registrar> {
    const registrar = new Registrar({ ...DEFAULT_REGISTRAR_CONFIG, ...config }, deps);
    await registrar.#open();
    return registrar;
  }

  /** This registrar's 32-bit identifier. */
  get identifier(): number {
    return this.#identifier;
  }

  /** The ASAP endpoint's port. */
  get asapPort(): number {
    return this.#endpoint.localPort;
  }

  /** The ASAP endpoint's addresses. */
  asapAddresses(): string[] {
    return this.#endpoint.localAddresses();
  }

  /** The handlespace (read it; change it only through the registrar). */
  get handlespace(): Handlespace {
    return this.#handlespace;
  }

  /** `true` until the startup phase (mentor discovery) has ended. */
  get inStartupPhase(): boolean {
    return this.#inStartupPhase;
  }

  /** Counters. */
  statistics(): RegistrarStatistics {
    return {
      pools: this.#handlespace.poolCount,
      poolElements: this.#handlespace.size,
      ownedPoolElements: this.#handlespace.ownedCount,
      associations: this.#associations.size,
      peers: 0,
      ...this.#stats,
    };
  }

  /** Description of the ASAP endpoint for the banner, e.g. `{10.0.0.1}:3863`. */
  describeAsapEndpoint(): string {
    return formatEndpointAddresses({ addresses: this.asapAddresses(), port: this.asapPort });
  }

  async #open(): Promise<void> {
    const c = this.#config;
    const wildcard = c.ipv6 ? ["::"] : ["0.0.0.0"];
    const addresses = c.asap.addresses.length > 0 ? c.asap.addresses : wildcard;
    const onEvent = (event: SctpEvent) => this.#onEvent(event);
    const tuning = { autoClose: c.autoCloseTimeout, listen: true };
    let lastError: unknown;
    for (let trial = 0; trial < (c.asap.port === 0 ? 1024 : 1); trial++) {
      const port = c.asap.port !== 0 ? c.asap.port : 10000 + Math.floor(this.#random() * 50000);
      let endpoint: SctpEndpoint | undefined;
      try {
        endpoint = await this.#transport.open({ addresses, port, ...tuning }, onEvent);
        if (c.asapAnnounce !== undefined && this.#openAnnounceSender !== undefined) {
          this.#announce = await this.#openAnnounceSender({
            group: c.asapAnnounce.address,
            port: c.asapAnnounce.port,
            localPort: endpoint.localPort,
            ttl: c.announceTtl,
          });
        }
        this.#endpoint = endpoint;
        break;
      } catch (e) {
        lastError = e;
        await endpoint?.close({ abort: true });
        if (c.ipv6 && c.asap.addresses.length === 0 && trial === 0 && addresses[0] === "::") {
          // No IPv6 here: fall back to IPv4 like RSPLIB's checkIPv6().
          addresses.splice(0, 1, "0.0.0.0");
        }
      }
    }
    if (this.#endpoint === undefined) {
      throw new Error("Cannot find a suitable SCTP/UDP socket pair for the ASAP endpoint", {
        cause: lastError,
      });
    }
    this.#log.note("Registrar started. Going into initialization phase...");
    this.#startupTimer = setTimeout(() => {
      this.#startupTimer = undefined;
      this.beginNormalOperation(false);
    }, c.mentorDiscoveryTimeout);
  }

  /**
   * Ends the startup phase and starts the Server Announces (called by the mentor-discovery
   * timer, or by ENRP when the mentor's handle table has arrived).
   *
   * @param fromMentor Whether a mentor initialized the handlespace.
   */
  beginNormalOperation(fromMentor: boolean): void {
    if (!this.#inStartupPhase || this.#closed) return;
    this.#inStartupPhase = false;
    if (this.#startupTimer !== undefined) clearTimeout(this.#startupTimer);
    this.#startupTimer = undefined;
    this.#log.note(
      fromMentor
        ? "Initialization phase ended after obtaining handlespace from mentor server. The registrar is ready!"
        : "Initialization phase ended after ENRP mentor discovery timeout. The registrar is ready!",
    );
    if (this.#announce !== undefined) this.#sendAnnounce();
  }

  #sendAnnounce(): void {
    this.#announceTimer = undefined;
    const sender = this.#announce;
    if (this.#closed || sender === undefined) return;
    const bytes = encodeMessage({ type: "serverAnnounce", registrarIdentifier: this.#identifier });
    sender.send(bytes).catch((e) => this.#log.warning(`Unable to send announce: ${e}`));
    this.#announceTimer = setTimeout(
      () => this.#sendAnnounce(),
      randomizeCycle(this.#config.serverAnnounceCycle, this.#random),
    );
  }

  // ---- events -------------------------------------------------------------------------

  #onEvent(event: SctpEvent): void {
    try {
      switch (event.type) {
        case "message":
          this.#onMessage(event.assocId, event.ppid, event.data);
          break;
        case "up":
          this.#associations.add(event.assocId);
          if (event.peerAddresses.length > 0) {
            this.#peers.set(event.assocId, {
              addresses: event.peerAddresses.map((a) => normalizeIpAddress(a) ?? a),
              port: event.peerPort,
            });
          }
          break;
        case "peerAddressChange":
          this.#peers.delete(event.assocId); // read again at the next registration
          break;
        case "lost":
        case "closed":
        case "shutdown":
          this.#onAssociationEnd(event.assocId, event.type);
          break;
        case "restart":
          // The peer restarted: its old registrations belong to a dead process.
          this.#removePoolElementsOfConnection(event.assocId, "restart");
          break;
      }
    } catch (e) {
      // Nothing a peer sends may take the registrar down.
      this.#log.error(`Unexpected error while handling ${event.type}: ${e}`);
    }
  }

  #onAssociationEnd(assocId: number, why: string): void {
    const known = this.#associations.delete(assocId);
    this.#peers.delete(assocId);
    this.#limiter.forget(assocId);
    if (known || why !== "closed") this.#removePoolElementsOfConnection(assocId, why);
  }

  #onMessage(assocId: number, ppid: number, data: Uint8Array): void {
    if (ppid === Ppid.ENRP) {
      this.#log.warning(
        `Received PPID $${ppid.toString(16)} on ASAP socket -> sending ABORT to assoc ${assocId}`,
      );
      this.#abort(assocId);
      return;
    }
    if (ppid !== Ppid.ASAP) {
      this.#log.warning(`Ignoring message with PPID ${ppid} from assoc ${assocId}`);
      return;
    }
    let message: RSerPoolMessage;
    try {
      message = decodeMessage(ppid, data, {
        loopback: this.#config.minAddressScope <= AddressScope.Loopback,
      });
    } catch (e) {
      if (!(e instanceof RSerPoolDecodeError)) throw e;
      this.#stats.invalidMessages++;
      const type = data.length > 0 ? data[0] : 0;
      if (e.silent || type === AsapType.Error) {
        this.#log.warning(`Dropping invalid message from assoc ${assocId}: ${e.message}`);
        return;
      }
      this.#log.warning(
        `Sending ASAP Error message in reply to message type $${
          type.toString(16).padStart(2, "0")
        }: ${e.message}`,
      );
      this.#reply(assocId, {
        type: "asapError",
        error: e.offendingParameter === undefined
          ? { cause: e.errorCause }
          : { cause: e.errorCause, data: e.offendingParameter },
      });
      return;
    }
    switch (message.type) {
      case "registration":
        this.#handleRegistration(assocId, message);
        break;
      case "deregistration":
        this.#handleDeregistration(assocId, message);
        break;
      case "handleResolution":
        this.#handleHandleResolution(assocId, message);
        break;
      case "endpointKeepAliveAck":
        this.#handleKeepAliveAck(message);
        break;
      case "endpointUnreachable":
        this.#handleEndpointUnreachable(assocId, message);
        break;
      default:
        this.#log.warning(`Unsupported message type ${message.type} on ASAP socket`);
    }
  }

  #reply(assocId: number, message: RSerPoolMessage): void {
    try {
      this.#endpoint.send(assocId, encodeMessage(message), { ppid: Ppid.ASAP });
    } catch (e) {
      this.#log.warning(`Cannot send ${message.type} to assoc ${assocId}: ${e}`);
      this.#abort(assocId);
    }
  }

  #abort(assocId: number): void {
    try {
      this.#endpoint.abort(assocId);
    } catch {
      // already gone
    }
  }

  // ---- ASAP ---------------------------------------------------------------------------

  #handleRegistration(assocId: number, m: RegistrationMessage): void {
    const pe = m.poolElement;
    const withDistance = DPF_WITH_DISTANCE.has(pe.policy.type);
    let peer = this.#peers.get(assocId);
    let srtt = 0;
    if (peer === undefined || withDistance) {
      // Only DPF policies need the SRTT; the addresses come from the "up" event.
      const status = this.#endpoint.status(assocId);
      if (status === undefined) {
        this.#log.error(`Unable to obtain peer addresses of assoc ${assocId}`);
        return;
      }
      peer = {
        addresses: status.peerAddresses.map((a) => normalizeIpAddress(a) ?? a),
        port: status.peerPort,
      };
      this.#peers.set(assocId, peer);
      srtt = status.srtt;
    }
    const minScope = this.#config.minAddressScope;
    const peerAddresses = peer.addresses;
    // User transport: addresses of the association (port ignored) of at least the min scope.
    const userAddresses = pe.userTransport.addresses.filter((a) =>
      addressScope(a) >= minScope && peerAddresses.includes(a)
    );
    let error: OperationError | undefined;
    if (userAddresses.length === 0) {
      error = { cause: ErrorCause.NoUsableUserAddresses };
    } else {
      // ASAP transport: the association's addresses of at least the min scope.
      const asapAddresses = peerAddresses.filter((a) => addressScope(a) >= minScope);
      if (asapAddresses.length === 0) {
        error = { cause: ErrorCause.NoUsableAsapAddresses };
      } else {
        const registratorTransport: TransportParameter = {
          protocol: "sctp",
          port: peer.port,
          addresses: asapAddresses,
          controlChannel: false,
        };
        const distance = withDistance
          ? roundDistance(srtt / 2, this.#config.distanceStep)
          : undefined;
        const now = this.#clock();
        try {
          const entry = this.#handlespace.registerPoolElement(m.poolHandle, {
            ...pe,
            userTransport: { ...pe.userTransport, addresses: userAddresses },
          }, {
            homeRegistrarIdentifier: this.#identifier,
            registratorTransport,
            connection: assocId,
            distance,
            now,
          });
          this.#stats.registrations++;
          this.#handlespace.setTimer(
            entry,
            TimerKind.KeepAliveTransmission,
            now + this.#config.endpointKeepAliveTransmissionInterval,
          );
          this.#rescheduleHandlespaceTimer();
          if (this.#log.enabled(LogLevel.Action)) {
            this.#log.action(
              `${entry.isNew ? "Registered" : "Re-registered"} PE $${hex8(pe.identifier)} in pool ${
                formatPoolHandle(m.poolHandle)
              }`,
            );
          }
          this.#hooks.poolElementRegistered?.(entry);
        } catch (e) {
          if (!(e instanceof HandlespaceError)) throw e;
          error = e.errorCause === ErrorCause.PoolingPolicyInconsistent
            ? { cause: e.errorCause, data: encodePolicyParameter(pe.policy) }
            : { cause: e.errorCause };
        }
      }
    }
    if (error !== undefined) {
      this.#log.warning(
        `Failed to register PE $${hex8(pe.identifier)} to pool ${
          formatPoolHandle(m.poolHandle)
        }: ` +
          `cause 0x${error.cause.toString(16).padStart(4, "0")}`,
      );
    }
    this.#reply(
      assocId,
      error === undefined
        ? {
          type: "registrationResponse",
          poolHandle: m.poolHandle,
          identifier: pe.identifier,
          reject: false,
        }
        : {
          type: "registrationResponse",
          poolHandle: m.poolHandle,
          identifier: pe.identifier,
          reject: true,
          error,
        },
    );
  }

  #handleDeregistration(assocId: number, m: DeregistrationMessage): void {
    const entry = this.#handlespace.findPoolElement(m.poolHandle, m.identifier);
    if (entry !== undefined) {
      this.#remove(entry, "deregistration");
      this.#stats.deregistrations++;
    } else {
      if (this.#log.enabled(LogLevel.Action)) {
        this.#log.action(`Deregistration of unknown PE $${hex8(m.identifier)}: already gone`);
      }
    }
    this.#reply(assocId, {
      type: "deregistrationResponse",
      poolHandle: m.poolHandle,
      identifier: m.identifier,
    });
  }

  #handleHandleResolution(assocId: number, m: HandleResolutionMessage): void {
    let items = m.items ?? 0;
    if (items === 0) items = this.#config.maxHandleResolutionItems;
    items = Math.min(items, 128);
    this.#stats.handleResolutions++;
    if (
      this.#limiter.limits("handleResolution") &&
      !this.#limiter.permits(assocId, "handleResolution", m.poolHandle, 0, this.#clock())
    ) {
      // Logged only when enabled: this is the path of a request flood.
      if (this.#log.enabled(LogLevel.Warning)) {
        this.#log.warning(`Handle resolution rate of assoc ${assocId} exceeded`);
      }
      this.#reply(assocId, notFound(m.poolHandle));
      return;
    }
    const entries = this.#handlespace.handleResolution(m.poolHandle, items, {
      maxIncrement: this.#config.maxIncrement,
    });
    if (entries === undefined || entries.length === 0) {
      this.#reply(assocId, notFound(m.poolHandle));
      return;
    }
    // A fresh object without the registrator transport (`delete` would make it a slow dictionary).
    const poolElements: PoolElementParameter[] = entries.map((e) => ({
      identifier: e.identifier >>> 0,
      homeRegistrarIdentifier: e.homeRegistrarIdentifier >>> 0,
      registrationLife: e.registrationLife,
      userTransport: e.userTransport,
      policy: e.policy,
    }));
    this.#reply(assocId, {
      type: "handleResolutionResponse",
      poolHandle: m.poolHandle,
      policy: poolElements[0].policy,
      poolElements,
    });
  }

  #handleKeepAliveAck(m: EndpointKeepAliveAckMessage): void {
    const entry = this.#handlespace.findPoolElement(m.poolHandle, m.identifier);
    if (entry === undefined) {
      if (this.#log.enabled(LogLevel.Warning)) {
        this.#log.warning(`Endpoint Keep Alive Ack for unknown PE $${hex8(m.identifier)}`);
      }
      return;
    }
    this.#handlespace.setTimer(
      entry,
      TimerKind.KeepAliveTransmission,
      this.#clock() + this.#config.endpointKeepAliveTransmissionInterval,
    );
    this.#rescheduleHandlespaceTimer();
  }

  #handleEndpointUnreachable(assocId: number, m: EndpointUnreachableMessage): void {
    if (
      this.#limiter.limits("endpointUnreachable") &&
      !this.#limiter.permits(assocId, "endpointUnreachable", m.poolHandle, 0, this.#clock())
    ) {
      if (this.#log.enabled(LogLevel.Warning)) {
        this.#log.warning(`Endpoint unreachable rate of assoc ${assocId} exceeded: ignored`);
      }
      return;
    }
    this.#stats.endpointUnreachables++;
    const entry = this.#handlespace.findPoolElement(m.poolHandle, m.identifier);
    if (entry === undefined) {
      if (this.#log.enabled(LogLevel.Warning)) {
        this.#log.warning(`Endpoint Unreachable for unknown PE $${hex8(m.identifier)}`);
      }
      return;
    }
    const owned = entry.homeRegistrarIdentifier === this.#identifier;
    const report = this.#handlespace.reportUnreachable(m.poolHandle, m.identifier);
    if (report?.removed) {
      this.#log.action(
        `PE $${
          hex8(m.identifier)
        } removed after ${report.entry.unreachabilityReports} unreachability reports`,
      );
      this.#hooks.poolElementRemoved?.(m.poolHandle, report.entry.toParameter(), owned);
      this.#rescheduleHandlespaceTimer();
    }
  }

  /**
   * Adds or updates a PE owned by another registrar (ENRP Handle Update or Handle Table
   * Response): it expires after its registration life unless updated again.
   *
   * @param poolHandle The pool.
   * @param pe The PE, with its home registrar and registrator transport.
   * @returns The entry.
   * @throws {HandlespaceError} When the PE does not fit the pool.
   */
  learnPoolElement(poolHandle: Uint8Array, pe: PoolElementParameter): PoolElementEntry {
    const entry = this.#handlespace.registerPoolElement(poolHandle, pe);
    this.#handlespace.setTimer(entry, TimerKind.Expiry, this.#clock() + pe.registrationLife);
    this.#rescheduleHandlespaceTimer();
    return entry;
  }

  // ---- supervision ----------------------------------------------------------------------

  #remove(entry: PoolElementEntry, why: string): void {
    const poolHandle = entry.poolHandle;
    const owned = entry.homeRegistrarIdentifier === this.#identifier;
    this.#handlespace.deregisterPoolElement(poolHandle, entry.identifier);
    if (this.#log.enabled(LogLevel.Action)) {
      this.#log.action(
        `Removed PE $${hex8(entry.identifier)} of pool ${formatPoolHandle(poolHandle)} (${why})`,
      );
    }
    this.#hooks.poolElementRemoved?.(poolHandle, entry.toParameter(), owned);
    this.#rescheduleHandlespaceTimer();
  }

  #removePoolElementsOfConnection(assocId: number, why: string): void {
    const entries = this.#handlespace.poolElementsOfConnection(assocId);
    for (const entry of entries) this.#remove(entry, `${why} of assoc ${assocId}`);
  }

  #rescheduleHandlespaceTimer(): void {
    if (this.#closed) return;
    const due = this.#handlespace.nextTimerDue() ?? Infinity;
    // A timer armed earlier than needed stays (it re-arms when it fires with nothing due):
    // re-registrations move the earliest due time later at nearly every message.
    if (due >= this.#handlespaceTimerDue && this.#handlespaceTimer !== undefined) return;
    if (this.#handlespaceTimer !== undefined) clearTimeout(this.#handlespaceTimer);
    this.#handlespaceTimer = undefined;
    this.#handlespaceTimerDue = due;
    if (due === Infinity) return;
    this.#handlespaceTimer = setTimeout(() => {
      this.#handlespaceTimer = undefined;
      this.#handlespaceTimerDue = Infinity;
      this.#onHandlespaceTimer();
    }, Math.max(0, due - this.#clock()));
  }

  #onHandlespaceTimer(): void {
    try {
      const now = this.#clock();
      for (const entry of this.#handlespace.takeExpired(now)) {
        if (!entry.registered) continue;
        switch (entry.timerKind) {
          case TimerKind.KeepAliveTransmission:
            this.#sendKeepAlive(entry, false);
            this.#handlespace.setTimer(
              entry,
              TimerKind.KeepAliveTimeout,
              now + this.#config.endpointKeepAliveTimeoutInterval,
            );
            break;
          case TimerKind.KeepAliveTimeout: {
            this.#log.action(`Keep alive timeout for PE $${hex8(entry.identifier)}: removing it`);
            const connection = entry.connection;
            this.#remove(entry, "keep-alive timeout");
            if (connection !== undefined) {
              this.#abort(connection);
              this.#removePoolElementsOfConnection(connection, "abort");
            }
            break;
          }
          case TimerKind.Expiry:
            this.#remove(entry, "registration life expired");
            break;
        }
      }
    } catch (e) {
      this.#log.error(`Unexpected error in handlespace timer: ${e}`);
    }
    this.#rescheduleHandlespaceTimer();
  }

  /**
   * Sends an Endpoint Keep Alive (with the PE identifier; `home`: H flag, sender is the new home
   * registrar) over the PE's association, or to its ASAP transport when it has none.
   *
   * @param entry The PE.
   * @param home Set the H flag.
   */
  #sendKeepAlive(entry: PoolElementEntry, home: boolean): void {
    const bytes = encodeMessage({
      type: "endpointKeepAlive",
      registrarIdentifier: this.#identifier,
      poolHandle: entry.poolHandle,
      identifier: entry.identifier,
      home,
    });
    this.#stats.endpointKeepAlives++;
    if (entry.connection !== undefined) {
      try {
        this.#endpoint.send(entry.connection, bytes, { ppid: Ppid.ASAP });
        return;
      } catch (e) {
        this.#log.warning(`Cannot send keep alive to PE $${hex8(entry.identifier)}: ${e}`);
        return;
      }
    }
    const t = entry.registratorTransport;
    if (t !== undefined) {
      this.#endpoint.sendTo(t.addresses, t.port, bytes, { ppid: Ppid.ASAP }).catch((e) =>
        this.#log.warning(`Cannot send keep alive to PE $${hex8(entry.identifier)}: ${e}`)
      );
    }
  }

  /**
   * Stops the registrar: stops announcing and timers, shuts every association down gracefully
   * and closes the sockets.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const t of [this.#announceTimer, this.#startupTimer, this.#handlespaceTimer]) {
      if (t !== undefined) clearTimeout(t);
    }
    this.#announceTimer = this.#startupTimer = this.#handlespaceTimer = undefined;
    await this.#announce?.close();
    await this.#endpoint.close();
  }

  /** Same as {@linkcode Registrar.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function notFound(poolHandle: Uint8Array): RSerPoolMessage {
  return {
    type: "handleResolutionResponse",
    poolHandle,
    error: { cause: ErrorCause.UnknownPoolHandle },
    poolElements: [],
  };
}
