/**
 * Pool elements (RSPLIB's enhanced-mode PE side, inventory §7.5): a data endpoint that pool
 * users connect to, registered in a pool at a registrar and kept registered, with its sessions.
 *
 * @module
 */

import {
  decodeMessage,
  encodeMessage,
  formatPoolHandle,
  isAdaptivePolicy,
  Limits,
  type PoolElementParameter,
  poolHandle as toPoolHandle,
  type PoolPolicy,
  Ppid,
  type TransportParameter,
} from "../codec/mod.ts";
import { type Logger, silentLogger } from "../common/mod.ts";
import { addressScope } from "../net/ip_address.ts";
import {
  type SctpEndpoint,
  SctpError,
  type SctpEvent,
  type SctpTransport,
  type SctpTuning,
} from "../transport/types.ts";
import { AsapClient } from "./asap_client.ts";
import { RSerPoolError } from "./errors.ts";
import type { SessionNotification } from "./notifications.ts";
import { type RegistrarClientOptions, scopeValue } from "./options.ts";
import { AsyncQueue } from "./_queue.ts";
import { hex, randomIdentifier } from "./_format.ts";

/**
 * SCTP parameters of session associations, RSPLIB's defaults (`rsp_socket`): RTO initial
 * 2000 ms, min 1000 ms, max 5000 ms, 8 association and 3 path retransmissions, heartbeat every
 * 15 s.
 *
 * @example
 * ```ts
 * import { SESSION_SCTP_DEFAULTS } from "./pool_element.ts";
 * console.log(SESSION_SCTP_DEFAULTS.rtoMin); // 1000
 * ```
 */
export const SESSION_SCTP_DEFAULTS: Readonly<SctpTuning> = {
  rtoInitial: 2000,
  rtoMin: 1000,
  rtoMax: 5000,
  associationMaxRetransmissions: 8,
  pathMaxRetransmissions: 3,
  heartbeatInterval: 15000,
};

/**
 * Options of {@linkcode PoolElement.create}.
 *
 * @example
 * ```ts
 * import type { PoolElementOptions } from "./pool_element.ts";
 * import { MemoryNetwork } from "../transport/memory/memory_transport.ts";
 * const options: PoolElementOptions = {
 *   transport: new MemoryNetwork().host(["10.0.0.5"]),
 *   poolHandle: "EchoPool",
 *   policy: { type: "LeastUsed" },
 *   reregistrationInterval: 10000,
 *   registrars: ["10.0.0.1:3863"],
 * };
 * console.log(options.poolHandle);
 * ```
 */
export interface PoolElementOptions extends RegistrarClientOptions {
  /** The SCTP transport. */
  transport: SctpTransport;
  /** The pool to join. */
  poolHandle: string | Uint8Array;
  /** A fixed PE identifier (1..0xfffffffe). @default {random} */
  identifier?: number;
  /** Policy and its settings. @default {{ type: "RoundRobin" }} */
  policy?: PoolPolicy;
  /** Local addresses of the data endpoint (and the ASAP endpoint). @default {all} */
  localAddresses?: string[];
  /**
   * SCTP port of the data endpoint. @default {a random free port in 10000..59999, so that the
   * UDP-encapsulation port of usrsctp is known to pool users}
   */
  port?: number;
  /** Re-registration interval in ms (at least 10); the registration life is 3 times it. @default {30000} */
  reregistrationInterval?: number;
  /**
   * Keep running (and keep trying) when the first registration fails, instead of throwing
   * (RSPLIB's `REGF_DAEMONMODE`).
   * @default {false}
   */
  daemonMode?: boolean;
  /** SCTP parameters of session associations. @default {SESSION_SCTP_DEFAULTS} */
  sctp?: SctpTuning;
  /** Log target. @default {silentLogger} */
  logger?: Logger;
  /** Use this ASAP client (shared with others, not closed here) instead of opening one. */
  asap?: AsapClient;
}

/**
 * Something that happened on a pool element's session.
 *
 * @example
 * ```ts
 * import type { PoolElementSessionEvent } from "./pool_element.ts";
 * function size(e: PoolElementSessionEvent): number {
 *   return e.type === "message" ? e.data.length : e.type === "cookieEcho" ? e.cookie.length : 0;
 * }
 * console.log(size({ type: "message", data: new Uint8Array(3), ppid: 0, stream: 0 })); // 3
 * ```
 */
export type PoolElementSessionEvent =
  | {
    /** A user message. */
    type: "message";
    /** The payload (owned by the receiver). */
    data: Uint8Array;
    /** Its payload protocol identifier. */
    ppid: number;
    /** Its SCTP stream. */
    stream: number;
  }
  | {
    /** The pool user's Cookie Echo after a failover: the state to resume from. */
    type: "cookieEcho";
    /** The cookie, as a previous pool element sent it. */
    cookie: Uint8Array;
  }
  | {
    /** A notification (shutdown of the session by the pool user). */
    type: "notification";
    /** The notification. */
    notification: SessionNotification;
  };

/**
 * Options of {@linkcode PoolElementSession.send}.
 *
 * @example
 * ```ts
 * import type { SessionSendOptions } from "./pool_element.ts";
 * const options: SessionSendOptions = { ppid: 33, stream: 1 };
 * console.log(options.ppid);
 * ```
 */
export interface SessionSendOptions {
  /** Payload protocol identifier. @default {0} */
  ppid?: number;
  /** SCTP stream. @default {0} */
  stream?: number;
  /** Deliver unordered. @default {false} */
  unordered?: boolean;
}

const encoder = new TextEncoder();

function toBytes(data: Uint8Array | string): Uint8Array {
  return typeof data === "string" ? encoder.encode(data) : data;
}

/**
 * One session at a pool element: the association of one pool user. Iterate it for its
 * messages, Cookie Echo and shutdown notification; the iteration ends when the association is
 * gone.
 *
 * @example Echo every message back
 * ```ts ignore
 * import type { PoolElementSession } from "./pool_element.ts";
 * async function echo(session: PoolElementSession): Promise<void> {
 *   for await (const event of session) {
 *     if (event.type === "message") {
 *       session.send(event.data, { ppid: event.ppid, stream: event.stream });
 *     }
 *   }
 * }
 * ```
 */
export class PoolElementSession implements AsyncIterable<PoolElementSessionEvent> {
  /** Session number (1, 2, ...; reused after the session ended). */
  readonly id: number;
  /** The association carrying the session. */
  readonly assocId: number;
  /** The pool user's addresses. */
  readonly peerAddresses: readonly string[];
  /** The pool user's port. */
  readonly peerPort: number;
  /** When the session started (`Date.now()` time). */
  readonly startedAt: number;
  readonly #pe: PoolElement;
  readonly #queue = new AsyncQueue<PoolElementSessionEvent>();
  #handler?: (event: PoolElementSessionEvent) => void;
  #cookieEchoSeen = false;
  #ended = false;
  #load = 0;
  readonly #endListeners: (() => void)[] = [];

  /** @internal */
  constructor(
    pe: PoolElement,
    id: number,
    assocId: number,
    peerAddresses: string[],
    peerPort: number,
  ) {
    this.#pe = pe;
    this.id = id;
    this.assocId = assocId;
    this.peerAddresses = peerAddresses;
    this.peerPort = peerPort;
    this.startedAt = Date.now();
  }

  /** The pool element the session belongs to. */
  get poolElement(): PoolElement {
    return this.#pe;
  }

  /** Whether the association is gone. */
  get ended(): boolean {
    return this.#ended;
  }

  /** This session's share of the pool element's load (0..1), see {@linkcode setLoad}. */
  get load(): number {
    return this.#load;
  }

  /**
   * Sets this session's load (0..1). The pool element's load is the sum over its sessions
   * (at most 1); adaptive policies re-register when it changed by 1 % or more.
   *
   * @param load The fraction.
   */
  setLoad(load: number): void {
    const old = this.#load;
    this.#load = Math.min(Math.max(load, 0), 1);
    this.#pe.updateLoadFromSessions(this, old);
  }

  /**
   * Sends a message to the pool user.
   *
   * @param data Bytes, or text (UTF-8).
   * @param options PPID, stream.
   * @returns `false` when the session has ended (nothing sent).
   */
  send(data: Uint8Array | string, options: SessionSendOptions = {}): boolean {
    if (this.#ended) return false;
    try {
      this.#pe.endpoint.send(this.assocId, toBytes(data), {
        ppid: options.ppid ?? 0,
        stream: options.stream ?? 0,
        unordered: options.unordered,
      });
      return true;
    } catch (e) {
      if (e instanceof SctpError) return false;
      throw e;
    }
  }

  /**
   * Sends an ASAP Cookie with the session state; the pool user keeps the newest one and hands
   * it to the next pool element after a failover. RSPLIB's parser rejects cookies whose length
   * is not a multiple of 4: such a cookie is sent unchanged, with a warning in the log.
   *
   * @param cookie The state (1 byte or more).
   * @returns `false` when the session has ended.
   */
  sendCookie(cookie: Uint8Array | string): boolean {
    const bytes = toBytes(cookie);
    if (bytes.length % 4 !== 0) {
      this.#pe.log.warning(
        `Cookie of ${bytes.length} bytes (not a multiple of 4): RSPLIB pool users reject it`,
      );
    }
    if (this.#ended) return false;
    try {
      this.#pe.endpoint.send(this.assocId, encodeMessage({ type: "cookie", cookie: bytes }), {
        ppid: Ppid.ASAP,
      });
      return true;
    } catch (e) {
      if (e instanceof SctpError) return false;
      throw e;
    }
  }

  /** Ends the session gracefully (SCTP shutdown). */
  close(): void {
    if (this.#ended) return;
    try {
      this.#pe.endpoint.shutdown(this.assocId);
    } catch {
      // gone already
    }
  }

  /** Ends the session at once (SCTP ABORT). */
  abort(): void {
    if (this.#ended) return;
    try {
      this.#pe.endpoint.abort(this.assocId);
    } catch {
      // gone already
    }
  }

  /**
   * The next event, or `undefined` once the session has ended.
   *
   * @param options `signal` cancels waiting.
   * @returns The event.
   */
  async receive(
    options: { signal?: AbortSignal } = {},
  ): Promise<PoolElementSessionEvent | undefined> {
    const r = await this.#queue.next(options.signal);
    return r.done ? undefined : r.value;
  }

  /**
   * Delivers events to `handler` instead of the iterator (used by
   * {@linkcode import("./server.ts").serve}); events already queued are handed over first.
   *
   * @param handler Called for each event.
   */
  setEventHandler(handler: (event: PoolElementSessionEvent) => void): void {
    this.#handler = handler;
    for (const event of this.#queue.takeAll()) handler(event);
  }

  /**
   * Calls `listener` once when the session ends.
   *
   * @param listener The callback.
   */
  onEnd(listener: () => void): void {
    if (this.#ended) queueMicrotask(listener);
    else this.#endListeners.push(listener);
  }

  /** Iterates the session's events until it ends. */
  [Symbol.asyncIterator](): AsyncIterator<PoolElementSessionEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** @internal */
  deliver(event: PoolElementSessionEvent): void {
    if (event.type === "cookieEcho") {
      if (this.#cookieEchoSeen) {
        this.#pe.log.verbose(1, `Session ${this.id}: ignoring another Cookie Echo`);
        return;
      }
      this.#cookieEchoSeen = true;
    }
    if (this.#handler !== undefined) this.#handler(event);
    else this.#queue.push(event);
  }

  /** @internal */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#load = 0;
    this.#queue.close();
    for (const l of this.#endListeners.splice(0)) {
      try {
        l();
      } catch (e) {
        this.#pe.log.error(`Session end handler failed: ${e}`);
      }
    }
  }
}

/**
 * A pool element: opens its data endpoint (first, so that its port decides usrsctp's UDP
 * encapsulation port), registers in a pool with its policy, re-registers every interval
 * (registration life 3 × interval), answers the registrar's Keep Alives, re-registers at once
 * when an adaptive policy's load changed by 1 % or more, and deregisters when closed. Iterate
 * it for new sessions.
 *
 * @example A pool element that echoes (see also {@linkcode import("./server.ts").serve})
 * ```ts ignore
 * import { PoolElement } from "./pool_element.ts";
 * import { usrsctpTransport } from "../transport/usrsctp/mod.ts";
 * await using pe = await PoolElement.create({
 *   transport: usrsctpTransport(),
 *   poolHandle: "EchoPool",
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * });
 * console.log(`PE $${pe.identifier.toString(16).padStart(8, "0")} registered`);
 * for await (const session of pe) {
 *   (async () => {
 *     for await (const event of session) {
 *       if (event.type === "message") session.send(event.data, { ppid: event.ppid });
 *     }
 *   })();
 * }
 * ```
 */
export class PoolElement implements AsyncDisposable, AsyncIterable<PoolElementSession> {
  /** The PE identifier. */
  readonly identifier: number;
  /** The pool handle. */
  readonly poolHandle: Uint8Array;
  /** Registration life sent to the registrar, ms. */
  readonly registrationLife: number;
  /** Re-registration interval, ms. */
  readonly reregistrationInterval: number;
  /** @internal */
  readonly log: Logger;
  /** @internal */
  endpoint!: SctpEndpoint;
  #asap!: AsapClient;
  #ownsAsap = true;
  #policy: PoolPolicy;
  #registeredLoad = 0;
  #load = 0;
  #loadFromSessions = false;
  #localAddresses?: string[];
  #minScope: number;
  #sessions = new Map<number, PoolElementSession>();
  #byAssoc = new Map<number, PoolElementSession>();
  /** Highest session number handed out since the last time none was up. */
  #lastSessionId = 0;
  /** Session numbers below `#lastSessionId` that are free again (a min-heap). */
  #freeSessionIds: number[] = [];
  /** Sum of the loads of the sessions that are up, and how many of them have a load. */
  #sessionLoad = 0;
  #loadedSessions = 0;
  #newSessions = new AsyncQueue<PoolElementSession>();
  #sessionHandler?: (session: PoolElementSession) => void;
  #timer?: ReturnType<typeof setTimeout>;
  #registering?: Promise<void>;
  #registerAgain = false;
  #registered = false;
  #closed = false;
  #onRegistrationError?: (error: unknown) => void;

  private constructor(options: PoolElementOptions, identifier: number) {
    this.identifier = identifier;
    this.poolHandle = toPoolHandle(options.poolHandle);
    this.reregistrationInterval = Math.max(10, options.reregistrationInterval ?? 30000);
    this.registrationLife = Math.min(3 * this.reregistrationInterval, Limits.MAX_UINT32);
    this.log = options.logger ?? silentLogger;
    this.#policy = { ...(options.policy ?? { type: "RoundRobin" }) };
    this.#localAddresses = options.localAddresses;
    this.#minScope = scopeValue(options.minAddressScope ?? "sitelocal");
  }

  /**
   * Creates the pool element and registers it.
   *
   * @param options Transport, pool handle, policy, registrars, addresses.
   * @returns The registered pool element.
   * @throws {RSerPoolError} When the first registration fails (not in daemon mode): 0x1007 no
   *   registrar, 0x1008 timeout, or the registrar's cause; 0xf008 when no local address has the
   *   minimum scope.
   */
  static async create(options: PoolElementOptions): Promise<PoolElement> {
    const identifier = options.identifier ?? randomIdentifier();
    if (!Number.isInteger(identifier) || identifier < 1 || identifier > 0xffffffff) {
      throw new RangeError(`Cannot use PE identifier ${identifier}: it must be 1..0xffffffff`);
    }
    const pe = new PoolElement(options, identifier >>> 0);
    const tuning = { ...SESSION_SCTP_DEFAULTS, ...options.sctp };
    pe.endpoint = await openDataEndpoint(options, tuning, (e) => pe.#onEvent(e));
    try {
      if (options.asap !== undefined) {
        pe.#asap = options.asap;
        pe.#ownsAsap = false;
      } else {
        pe.#asap = await AsapClient.open({
          ...options,
          localAddresses: options.localAddresses,
          logger: pe.log,
        });
      }
      try {
        await pe.register();
      } catch (e) {
        if (!options.daemonMode) throw e;
        pe.log.error(`Registration failed, retrying (daemon mode): ${(e as Error).message}`);
      }
      pe.#schedule();
    } catch (e) {
      await pe.#shutdown(false);
      throw e;
    }
    return pe;
  }

  /** The ASAP client (registrar connection) in use. */
  get asap(): AsapClient {
    return this.#asap;
  }

  /** The policy with its current settings (load as last set). */
  get policy(): PoolPolicy {
    return {
      ...this.#policy,
      load: this.#policyHasLoad() ? this.#toLoadValue(this.#load) : undefined,
    };
  }

  /** Current load, 0..1. */
  get load(): number {
    return this.#load;
  }

  /** Whether the last registration succeeded. */
  get registered(): boolean {
    return this.#registered;
  }

  /** Local port of the data endpoint. */
  get port(): number {
    return this.endpoint.localPort;
  }

  /** The user transport registered: where pool users reach this pool element. */
  get userTransport(): TransportParameter {
    const scope = this.#minScope;
    const addresses = (this.#localAddresses?.length ? this.#localAddresses : this.endpoint
      .localAddresses())
      .filter((a) => addressScope(a) >= scope);
    return {
      protocol: "sctp",
      port: this.endpoint.localPort,
      addresses: addresses.slice(0, Limits.MAX_TRANSPORT_ADDRESSES),
      controlChannel: true,
    };
  }

  /** The sessions that are up, by session number. */
  get sessions(): ReadonlyMap<number, PoolElementSession> {
    return this.#sessions;
  }

  /**
   * Sets the load (0..1). For adaptive (least-used) policies the pool element re-registers at
   * once when the load differs by 1 % or more from the registered one.
   *
   * @param load The fraction.
   */
  setLoad(load: number): void {
    if (!Number.isFinite(load) || load < 0 || load > 1) {
      throw new RangeError(`Cannot set load ${load}: it must be 0..1`);
    }
    this.#load = load;
    if (isAdaptivePolicy(this.#policy.type) && Math.abs(load - this.#registeredLoad) >= 0.01) {
      void this.register().catch((e) =>
        this.log.warning(`Cannot re-register with new load: ${(e as Error).message}`)
      );
    }
  }

  /**
   * Makes the load the sum of the sessions' loads (see {@linkcode PoolElementSession.setLoad}).
   * @internal
   *
   * @param session The session whose load changed (its new load is `session.load`).
   * @param old Its previous load.
   */
  updateLoadFromSessions(session: PoolElementSession, old: number): void {
    this.#loadFromSessions = true;
    if (this.#byAssoc.get(session.assocId) === session) this.#sessionLoadChanged(old, session.load);
    this.#applySessionLoad();
  }

  #sessionLoadChanged(old: number, load: number): void {
    this.#loadedSessions += (load > 0 ? 1 : 0) - (old > 0 ? 1 : 0);
    // A running sum; exactly 0 again once no session has a load (no rounding drift).
    this.#sessionLoad = this.#loadedSessions === 0 ? 0 : this.#sessionLoad + load - old;
  }

  #applySessionLoad(): void {
    this.setLoad(Math.min(Math.max(this.#sessionLoad, 0), 1));
  }

  /**
   * Calls `handler` for each new session instead of queueing it for the iterator.
   *
   * @param handler Called when a session starts.
   */
  setSessionHandler(handler: (session: PoolElementSession) => void): void {
    this.#sessionHandler = handler;
  }

  /**
   * Calls `handler` when a periodic re-registration fails.
   *
   * @param handler The callback.
   */
  onRegistrationError(handler: (error: unknown) => void): void {
    this.#onRegistrationError = handler;
  }

  /**
   * Registers now (re-registration with the current settings). Calls during a registration run
   * once more after it.
   *
   * @throws {RSerPoolError} When the registration fails.
   */
  register(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("Cannot register: pool element closed"));
    if (this.#registering !== undefined) {
      this.#registerAgain = true;
      return this.#registering;
    }
    this.#registering = (async () => {
      try {
        do {
          this.#registerAgain = false;
          const parameter = this.#parameter();
          if (parameter.userTransport.addresses.length === 0) {
            throw new RSerPoolError(
              0xf008,
              "Cannot register: no local address of the minimum scope " +
                "(use a site-local address, or -minaddressscope=loopback on one host)",
            );
          }
          const load = this.#load;
          await this.#asap.register(this.poolHandle, parameter);
          this.#registeredLoad = load;
          if (!this.#registered) {
            this.log.note(
              `Registered PE $${hex(this.identifier)} in pool ${formatPoolHandle(this.poolHandle)}`,
            );
          }
          this.#registered = true;
        } while (this.#registerAgain && !this.#closed);
      } catch (e) {
        this.#registered = false;
        throw e;
      } finally {
        this.#registering = undefined;
      }
    })();
    return this.#registering;
  }

  /**
   * Waits for the next session (`undefined` once closed).
   *
   * @param options `signal` cancels waiting.
   * @returns The session.
   */
  async accept(options: { signal?: AbortSignal } = {}): Promise<PoolElementSession | undefined> {
    const r = await this.#newSessions.next(options.signal);
    return r.done ? undefined : r.value;
  }

  /** Iterates new sessions until the pool element is closed. */
  [Symbol.asyncIterator](): AsyncIterator<PoolElementSession> {
    return this.#newSessions[Symbol.asyncIterator]();
  }

  /**
   * Deregisters, shuts the sessions down gracefully and closes the endpoints.
   *
   * @param options `abort: true` aborts the sessions instead; `deregister: false` skips the
   *   deregistration (the registrar then notices by itself, as after a crash).
   */
  async close(options: { abort?: boolean; deregister?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    await this.#shutdown(options.deregister ?? true, options.abort);
  }

  /** Same as {@linkcode PoolElement.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals --------------------------------------------------------------------------

  async #shutdown(deregister: boolean, abort = false): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#registering?.catch(() => {});
    if (deregister && this.#asap !== undefined) {
      try {
        await this.#asap.deregister(this.poolHandle, this.identifier, { hunt: false });
        this.log.note(`Deregistered PE $${hex(this.identifier)}`);
      } catch (e) {
        this.log.warning(`Cannot deregister: ${(e as Error).message}`);
      }
    }
    if (!deregister) this.#asap?.forget(this.poolHandle, this.identifier);
    this.#newSessions.close();
    await this.endpoint?.close({ abort });
    for (const s of this.#sessions.values()) s.end();
    this.#sessions.clear();
    this.#byAssoc.clear();
    this.#freeSessionIds = [];
    this.#lastSessionId = 0;
    this.#sessionLoad = 0;
    this.#loadedSessions = 0;
    if (this.#ownsAsap) await this.#asap?.close({ abort });
  }

  #policyHasLoad(): boolean {
    return isAdaptivePolicy(this.#policy.type);
  }

  #toLoadValue(fraction: number): number {
    return Math.round(fraction * Limits.MAX_UINT32);
  }

  #parameter(): PoolElementParameter {
    return {
      identifier: this.identifier,
      homeRegistrarIdentifier: 0,
      registrationLife: this.registrationLife,
      userTransport: this.userTransport,
      policy: this.policy,
    };
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      if (this.#closed) return;
      try {
        await this.register();
      } catch (e) {
        this.log.warning(`Re-registration failed: ${(e as Error).message}`);
        this.#onRegistrationError?.(e);
      }
      this.#schedule();
    }, this.reregistrationInterval);
  }

  /** The smallest session number not in use. */
  #nextSessionId(): number {
    const free = this.#freeSessionIds;
    if (free.length === 0) return ++this.#lastSessionId;
    const id = free[0];
    const last = free.pop()!;
    if (free.length > 0) {
      // Sift `last` down from the root.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= free.length) break;
        const c = l + 1 < free.length && free[l + 1] < free[l] ? l + 1 : l;
        if (free[c] >= last) break;
        free[i] = free[c];
        i = c;
      }
      free[i] = last;
    }
    return id;
  }

  #releaseSessionId(id: number): void {
    if (this.#sessions.size === 0) {
      // None up: numbering starts at 1 again.
      this.#lastSessionId = 0;
      this.#freeSessionIds = [];
      return;
    }
    const free = this.#freeSessionIds;
    let i = free.length;
    free.push(id);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (free[parent] <= id) break;
      free[i] = free[parent];
      i = parent;
    }
    free[i] = id;
  }

  /** Removes an ended session (its association is gone or aborted). */
  #endSession(session: PoolElementSession, why: string): void {
    this.#sessions.delete(session.id);
    this.#byAssoc.delete(session.assocId);
    this.#releaseSessionId(session.id);
    const load = session.load;
    if (load !== 0) this.#sessionLoadChanged(load, 0);
    this.log.action(`Session ${session.id} ended (${why})`);
    session.end();
    if (this.#loadFromSessions && !this.#closed) this.#applySessionLoad();
  }

  #onEvent(event: SctpEvent): void {
    switch (event.type) {
      case "up": {
        if (this.#closed) return;
        const previous = this.#byAssoc.get(event.assocId);
        if (previous !== undefined) this.#endSession(previous, "association restarted");
        const session = new PoolElementSession(
          this,
          this.#nextSessionId(),
          event.assocId,
          event.peerAddresses,
          event.peerPort,
        );
        this.#sessions.set(session.id, session);
        this.#byAssoc.set(session.assocId, session);
        this.log.action(
          `Session ${session.id} from ${event.peerAddresses.join(", ")}:${event.peerPort}`,
        );
        if (this.#sessionHandler !== undefined) this.#sessionHandler(session);
        else this.#newSessions.push(session);
        break;
      }
      case "message": {
        const session = this.#byAssoc.get(event.assocId);
        if (session === undefined) return;
        if (event.ppid === Ppid.ASAP) {
          try {
            const m = decodeMessage(Ppid.ASAP, event.data, { loopback: true });
            if (m.type === "cookieEcho") session.deliver({ type: "cookieEcho", cookie: m.cookie });
            else this.log.verbose(1, `Session ${session.id}: ignoring ASAP ${m.type}`);
          } catch (e) {
            this.log.warning(`Session ${session.id}: bad ASAP message: ${(e as Error).message}`);
          }
          return;
        }
        session.deliver({
          type: "message",
          data: event.data.slice(),
          ppid: event.ppid,
          stream: event.stream,
        });
        break;
      }
      case "shutdown": {
        const session = this.#byAssoc.get(event.assocId);
        session?.deliver({
          type: "notification",
          notification: { type: "shutdown", session: session.id },
        });
        break;
      }
      case "lost":
      case "closed": {
        const session = this.#byAssoc.get(event.assocId);
        if (session === undefined) return;
        this.#endSession(session, event.type);
        break;
      }
      case "restart": {
        // The pool user's side restarted: its session state is gone. End the session and
        // abort the association, so that the pool user starts a new session (a new
        // association) instead of sending into one nobody serves.
        const session = this.#byAssoc.get(event.assocId);
        try {
          this.endpoint.abort(event.assocId);
        } catch {
          // gone already
        }
        if (session !== undefined) this.#endSession(session, "restart");
        break;
      }
      default:
        break;
    }
  }
}

async function openDataEndpoint(
  options: PoolElementOptions,
  tuning: SctpTuning,
  onEvent: (event: SctpEvent) => void,
): Promise<SctpEndpoint> {
  const open = (port: number) =>
    options.transport.open({
      ...tuning,
      addresses: options.localAddresses,
      port,
      listen: true,
    }, onEvent);
  if (options.port !== undefined && options.port !== 0) return await open(options.port);
  for (let attempt = 1;; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 50000);
    try {
      return await open(port);
    } catch (e) {
      if (!(e instanceof SctpError && e.code === "address-in-use") || attempt >= 32) throw e;
    }
  }
}
