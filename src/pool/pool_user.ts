/**
 * Pool users (RSPLIB's enhanced-mode PU side, inventory §7.5): sessions to a pool that fail
 * over to another pool element, with client-based state sharing by ASAP Cookies.
 *
 * @module
 */

import {
  decodeMessage,
  encodeMessage,
  ErrorCause,
  formatPoolHandle,
  type PoolElementParameter,
  poolHandle as toPoolHandle,
  Ppid,
} from "../codec/mod.ts";
import { type Logger, silentLogger } from "../common/mod.ts";
import {
  type SctpAssociationEvent,
  type SctpEndpoint,
  SctpError,
  type SctpEvent,
  type SctpMessageEvent,
  type SctpTransport,
  type SctpTuning,
} from "../transport/types.ts";
import { AsapClient } from "./asap_client.ts";
import { RSerPoolError } from "./errors.ts";
import type { FailoverNotification, SessionNotification } from "./notifications.ts";
import type { RegistrarClientOptions } from "./options.ts";
import { SESSION_SCTP_DEFAULTS, type SessionSendOptions } from "./pool_element.ts";
import { AsyncQueue } from "./_queue.ts";
import { hex } from "./_format.ts";
import { sleep } from "../common/program.ts";

/**
 * Options of {@linkcode PoolUser.create}.
 *
 * @example
 * ```ts
 * import type { PoolUserOptions } from "./pool_user.ts";
 * import { MemoryNetwork } from "../transport/memory/memory_transport.ts";
 * const options: PoolUserOptions = {
 *   transport: new MemoryNetwork().host(["10.0.0.50"]),
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * };
 * console.log(options.announce);
 * ```
 */
export interface PoolUserOptions extends RegistrarClientOptions {
  /** The SCTP transport. */
  transport: SctpTransport;
  /** SCTP parameters of session associations. @default {SESSION_SCTP_DEFAULTS} */
  sctp?: SctpTuning;
  /** Log target. @default {silentLogger} */
  logger?: Logger;
  /** Use this ASAP client (shared, not closed here) instead of opening one. */
  asap?: AsapClient;
}

/**
 * Options of {@linkcode PoolUser.connect}.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./pool_user.ts";
 * // Keep trying for 10 s; fail over by hand on "failover necessary".
 * const options: ConnectOptions = { timeout: 10000, autoFailover: false };
 * console.log(options.timeout);
 * ```
 */
export interface ConnectOptions {
  /**
   * Stale-cache value for handle resolutions in ms (0: ask the registrar each time, as all of
   * RSPLIB's programs do).
   * @default {0}
   */
  staleCacheValue?: number;
  /**
   * Fail over by itself when the pool element is lost (notifications are still delivered),
   * retrying every `retryDelay` ms until a pool element is reached or the session is closed.
   * With `false`, call {@linkcode PoolUserSession.failover} on a "failover necessary"
   * notification, as RSPLIB's applications do.
   * @default {true}
   */
  autoFailover?: boolean;
  /** Timeout of the association setup to a pool element, ms. @default {5000} */
  connectTimeout?: number;
  /** Wait after a handle resolution found no pool element, ms. @default {250} */
  retryDelay?: number;
  /**
   * How long {@linkcode PoolUser.connect} keeps trying to reach a first pool element, ms (0:
   * one attempt).
   * @default {0}
   */
  timeout?: number;
  /**
   * Throw when no pool element was reached within `timeout`. With `false` the session is
   * returned unconnected (RSPLIB's `rsp_connect`), and messages sent before a pool element is
   * reached are queued (with `autoFailover`).
   * @default {true}
   */
  throwIfUnreachable?: boolean;
  /** Most messages queued while no pool element is connected (older ones are dropped). @default {256} */
  maxQueuedMessages?: number;
  /** Cancels `connect()`. */
  signal?: AbortSignal;
}

/**
 * Something that happened on a pool user's session.
 *
 * @example
 * ```ts
 * import type { PoolUserSessionEvent } from "./pool_user.ts";
 * function show(e: PoolUserSessionEvent): string {
 *   return e.type === "message"
 *     ? `from PE $${e.poolElementIdentifier.toString(16).padStart(8, "0")}`
 *     : e.notification.type;
 * }
 * console.log(show({ type: "notification", notification: { type: "shutdown", session: 1 } }));
 * ```
 */
export type PoolUserSessionEvent =
  | {
    /** A message from the pool element. */
    type: "message";
    /** The payload (owned by the receiver). */
    data: Uint8Array;
    /** Its payload protocol identifier. */
    ppid: number;
    /** Its SCTP stream. */
    stream: number;
    /** Identifier of the pool element that sent it. */
    poolElementIdentifier: number;
  }
  | {
    /** A notification: failover necessary or complete, shutdown. */
    type: "notification";
    /** The notification. */
    notification: SessionNotification;
  };

/** An event of an association that is not bound to its session yet: a message, or its end. */
type OrphanEvent = SctpMessageEvent | SctpAssociationEvent;

const encoder = new TextEncoder();

/** Most associations whose events are kept until bound, and most remembered unbound ones. */
const MAX_ORPHANS = 16;
const MAX_RETIRED = 64;

/** `promise`'s value, or `undefined` as soon as `signal` aborts. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = () => resolve(undefined);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * A pool user: resolves pool handles at its registrar and keeps sessions to pools. Each
 * session talks to one pool element at a time and fails over to another one when that one is
 * lost (or on demand), handing over the newest ASAP Cookie the old one sent.
 *
 * @example Send a line to the echo pool and print the reply with the serving PE
 * ```ts ignore
 * import { PoolUser } from "./pool_user.ts";
 * import { usrsctpTransport } from "../transport/usrsctp/mod.ts";
 * await using user = await PoolUser.create({
 *   transport: usrsctpTransport(),
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * });
 * await using session = await user.connect("EchoPool");
 * session.send("Hello\n");
 * for await (const event of session) {
 *   if (event.type === "message") {
 *     console.log(event.poolElementIdentifier.toString(16), new TextDecoder().decode(event.data));
 *     break;
 *   }
 * }
 * ```
 */
export class PoolUser implements AsyncDisposable {
  /** @internal */
  readonly log: Logger;
  /** @internal */
  endpoint!: SctpEndpoint;
  #asap!: AsapClient;
  #ownsAsap = true;
  #byAssoc = new Map<number, PoolUserSession>();
  /** Events of associations whose connect() has not returned to their session yet. */
  #orphans = new Map<number, OrphanEvent[]>();
  /** Associations unbound by their session (given up): their late events are dropped. */
  #retired = new Set<number>();
  #sessions = new Set<PoolUserSession>();
  #nextSession = 1;
  #closed = false;
  readonly #closing = new AbortController();

  private constructor(options: PoolUserOptions) {
    this.log = options.logger ?? silentLogger;
  }

  /**
   * Opens the pool user's endpoints. The registrar hunt starts with the first handle
   * resolution.
   *
   * @param options Transport, registrars, timeouts.
   * @returns The pool user.
   */
  static async create(options: PoolUserOptions): Promise<PoolUser> {
    const pu = new PoolUser(options);
    if (options.asap !== undefined) {
      pu.#asap = options.asap;
      pu.#ownsAsap = false;
    } else {
      pu.#asap = await AsapClient.open({ ...options, logger: pu.log });
    }
    try {
      pu.endpoint = await options.transport.open(
        { ...SESSION_SCTP_DEFAULTS, ...options.sctp, port: 0 },
        (e) => pu.#onEvent(e),
      );
    } catch (e) {
      if (pu.#ownsAsap) await pu.#asap.close();
      throw e;
    }
    return pu;
  }

  /** The ASAP client (registrar connection) in use. */
  get asap(): AsapClient {
    return this.#asap;
  }

  /** Open sessions. */
  get sessions(): ReadonlySet<PoolUserSession> {
    return this.#sessions;
  }

  /**
   * Opens a session to a pool: resolves the pool handle and connects to the pool element the
   * registrar picked (no notification for this first connection).
   *
   * @param poolHandle The pool handle.
   * @param options Stale-cache value, failover behaviour, timeouts.
   * @returns The session.
   * @throws {RSerPoolError} When no pool element could be reached (unless
   *   `throwIfUnreachable: false`): 0x0009 (pool unknown or empty), 0x1007 (no registrar),
   *   0x1008 (timeout), 0x1006 (connection failed).
   */
  async connect(
    poolHandle: string | Uint8Array,
    options: ConnectOptions = {},
  ): Promise<PoolUserSession> {
    if (this.#closed) throw new Error("Cannot connect: pool user closed");
    const session = new PoolUserSession(this, this.#nextSession++, toPoolHandle(poolHandle), {
      staleCacheValue: Math.max(0, options.staleCacheValue ?? 0),
      autoFailover: options.autoFailover ?? true,
      connectTimeout: options.connectTimeout ?? 5000,
      retryDelay: options.retryDelay ?? 250,
      maxQueuedMessages: options.maxQueuedMessages ?? 256,
    });
    this.#sessions.add(session);
    // Ends a running attempt too (not only the waits between attempts).
    const signal = options.signal === undefined
      ? this.#closing.signal
      : AbortSignal.any([options.signal, this.#closing.signal]);
    const deadline = performance.now() + Math.max(0, options.timeout ?? 0);
    let ok = await session.attempt(false, true, signal);
    while (!ok && performance.now() < deadline && !signal.aborted) {
      await sleep(Math.min(session.retryDelay, deadline - performance.now()), signal);
      if (signal.aborted) break;
      ok = await session.attempt(false, true, signal);
    }
    if (!ok) {
      if (options.throwIfUnreachable ?? true) {
        await session.close();
        if (options.signal?.aborted) throw options.signal.reason;
        throw new RSerPoolError(
          session.lastErrorCause,
          `Cannot reach a pool element of pool ${formatPoolHandle(session.poolHandle)}`,
        );
      }
      session.startAutoFailover();
    }
    return session;
  }

  /** Closes every session and the endpoints. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    // Together: each may still be ending an attempt.
    await Promise.all([...this.#sessions].map((s) => s.close()));
    await this.endpoint.close();
    if (this.#ownsAsap) await this.#asap.close();
  }

  /** Same as {@linkcode PoolUser.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * @internal Routes an association's events to its session.
   * @returns The events that came before (messages, and its end when it ended already).
   */
  bind(assocId: number, session: PoolUserSession): OrphanEvent[] {
    this.#byAssoc.set(assocId, session);
    this.#retired.delete(assocId);
    const early = this.#orphans.get(assocId) ?? [];
    this.#orphans.delete(assocId);
    return early;
  }

  /** @internal The session gives the association up: its further events are dropped. */
  unbind(assocId: number): void {
    this.#byAssoc.delete(assocId);
    this.#orphans.delete(assocId);
    this.#retired.delete(assocId);
    this.#retired.add(assocId);
    if (this.#retired.size > MAX_RETIRED) {
      this.#retired.delete(this.#retired.values().next().value!);
    }
  }

  /** @internal */
  forget(session: PoolUserSession): void {
    this.#sessions.delete(session);
  }

  #onEvent(event: SctpEvent): void {
    if (event.type === "up") {
      // A new association (its id may be one used before): nothing recorded applies to it.
      this.#retired.delete(event.assocId);
      this.#orphans.delete(event.assocId);
      return;
    }
    if (event.type === "accept" || event.type === "peerAddressChange") return;
    const session = this.#byAssoc.get(event.assocId);
    if (session !== undefined) {
      session.handle(event);
      return;
    }
    if (this.#retired.has(event.assocId)) return;
    // May belong to an association whose connect() has not returned yet (events of the same
    // batch as its COMM_UP): kept for bind(), its end too.
    let kept: OrphanEvent;
    switch (event.type) {
      case "message":
        kept = { ...event, data: event.data.slice() };
        break;
      case "lost":
      case "shutdown":
      case "closed":
        kept = event;
        break;
      default:
        return;
    }
    const list = this.#orphans.get(event.assocId) ?? [];
    if (list.length < 64 || kept.type !== "message") list.push(kept);
    this.#orphans.set(event.assocId, list);
    if (this.#orphans.size > MAX_ORPHANS) {
      this.#orphans.delete(this.#orphans.keys().next().value!);
    }
  }
}

interface SessionSettings {
  staleCacheValue: number;
  autoFailover: boolean;
  connectTimeout: number;
  retryDelay: number;
  maxQueuedMessages: number;
}

/**
 * A pool user's session with a pool: send to the pool element currently serving it, iterate
 * its messages and notifications. When the pool element is lost the session reports "failover
 * necessary", connects to another one (sending it the newest cookie as Cookie Echo first) and
 * reports "failover complete".
 *
 * @example On-demand failover (RSPLIB's `rsp_forcefailover`)
 * ```ts ignore
 * import type { PoolUserSession } from "./pool_user.ts";
 * async function switchPoolElement(session: PoolUserSession): Promise<void> {
 *   const before = session.poolElementIdentifier;
 *   await session.failover({ reportUnreachable: true });
 *   console.log(`from $${before?.toString(16)} to $${session.poolElementIdentifier?.toString(16)}`);
 * }
 * ```
 */
export class PoolUserSession implements AsyncIterable<PoolUserSessionEvent>, AsyncDisposable {
  /** Session number (1, 2, ... per pool user). */
  readonly id: number;
  /** The pool. */
  readonly poolHandle: Uint8Array;
  readonly #pu: PoolUser;
  readonly #settings: SessionSettings;
  readonly #queue = new AsyncQueue<PoolUserSessionEvent>();
  readonly #closing = new AbortController();
  #assocId?: number;
  #pe?: PoolElementParameter;
  #avoid?: { identifier: number; report: boolean };
  #lastFailure?: "empty" | "resolution" | "connect";
  #failed = false;
  #failover?: Promise<boolean>;
  #auto?: Promise<void>;
  #cookie?: Uint8Array;
  #outbox: { data: Uint8Array; options: SessionSendOptions }[] = [];
  #closed = false;
  #failovers = 0;
  #lastErrorCause: number = ErrorCause.UnknownPoolHandle;
  #connectedAt = 0;

  /** @internal */
  constructor(pu: PoolUser, id: number, poolHandle: Uint8Array, settings: SessionSettings) {
    this.#pu = pu;
    this.id = id;
    this.poolHandle = poolHandle;
    this.#settings = settings;
  }

  /** Whether a pool element is connected. */
  get connected(): boolean {
    return this.#assocId !== undefined && !this.#failed;
  }

  /** Identifier of the serving pool element, or `undefined` while none. */
  get poolElementIdentifier(): number | undefined {
    return this.#pe?.identifier;
  }

  /** The serving pool element as the registrar described it. */
  get poolElement(): PoolElementParameter | undefined {
    return this.#pe;
  }

  /** When the current pool element was reached (`Date.now()` time; 0 while none). */
  get connectedAt(): number {
    return this.#connectedAt;
  }

  /** The newest cookie from a pool element (handed to the next one after a failover). */
  get cookie(): Uint8Array | undefined {
    return this.#cookie;
  }

  /** Completed failovers (not counting the first connection). */
  get failovers(): number {
    return this.#failovers;
  }

  /** Whether the session is closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** @internal */
  get retryDelay(): number {
    return this.#settings.retryDelay;
  }

  /** @internal */
  get lastErrorCause(): number {
    return this.#lastErrorCause;
  }

  /**
   * Sends a message to the serving pool element. While a failover is running (or with
   * `autoFailover` while none is reached yet) the message is queued and sent to the next pool
   * element after the Cookie Echo.
   *
   * @param data Bytes, or text (UTF-8).
   * @param options PPID, stream.
   * @returns `false` when the message could not be sent or queued.
   */
  send(data: Uint8Array | string, options: SessionSendOptions = {}): boolean {
    if (this.#closed) return false;
    // The transport copies what it has to keep; only a queued message needs its own copy here.
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const owned = bytes !== data;
    if (!this.connected) {
      const idle = this.#failover === undefined && this.#auto === undefined;
      if (idle) {
        this.#setFailed();
        if (!this.#settings.autoFailover) return false;
      }
      this.#queueMessage(owned ? bytes : bytes.slice(), options);
      // Nothing is trying to reach a pool element (e.g. after a failed failover()): start.
      if (idle) this.startAutoFailover();
      return true;
    }
    return this.#sendNow(bytes, options, owned);
  }

  /**
   * Fails over now (RSPLIB's `rsp_forcefailover`): optionally reports the current pool element
   * as unreachable, aborts its association, resolves the pool handle and connects to the pool
   * element found, sending the stored cookie as Cookie Echo. One attempt; after "no pool
   * element" it waits `retryDelay` ms (as RSPLIB does).
   *
   * @param options `reportUnreachable` sends an Endpoint Unreachable for the current pool
   *   element (RSPLIB's `FFF_UNREACHABLE`).
   * @returns `true` when a pool element was reached.
   */
  failover(options: { reportUnreachable?: boolean } = {}): Promise<boolean> {
    // Notifications queued before are out of date now (RSPLIB clears them too).
    this.#queue.remove((e) => e.type === "notification" && e.notification.type === "failover");
    return this.attempt(options.reportUnreachable ?? false, false);
  }

  /**
   * The next event, or `undefined` once the session is closed.
   *
   * @param options `signal` cancels waiting.
   * @returns The event.
   */
  async receive(options: { signal?: AbortSignal } = {}): Promise<PoolUserSessionEvent | undefined> {
    const r = await this.#queue.next(options.signal);
    return r.done ? undefined : r.value;
  }

  /** Iterates messages and notifications until the session is closed. */
  [Symbol.asyncIterator](): AsyncIterator<PoolUserSessionEvent> {
    return this.#queue[Symbol.asyncIterator]();
  }

  /** Ends the session: graceful shutdown of its association. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    await this.#failover?.catch(() => {});
    await this.#auto?.catch(() => {});
    if (this.#assocId !== undefined) {
      try {
        this.#pu.endpoint.shutdown(this.#assocId);
      } catch {
        // gone already
      }
      this.#pu.unbind(this.#assocId);
      this.#assocId = undefined;
    }
    this.#queue.close();
    this.#pu.forget(this);
  }

  /** Same as {@linkcode PoolUserSession.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals --------------------------------------------------------------------------

  #queueMessage(data: Uint8Array, options: SessionSendOptions): void {
    this.#outbox.push({ data, options });
    if (this.#outbox.length > this.#settings.maxQueuedMessages) this.#outbox.shift();
  }

  /** Sends now; `owned`: `data` is no caller's buffer (it is queued as is after a failure). */
  #sendNow(data: Uint8Array, options: SessionSendOptions, owned: boolean): boolean {
    try {
      this.#pu.endpoint.send(this.#assocId!, data, {
        ppid: options.ppid ?? 0,
        stream: options.stream ?? 0,
        unordered: options.unordered,
      });
      return true;
    } catch (e) {
      if (!(e instanceof SctpError)) throw e;
      this.#pu.log.action(`Session ${this.id}: send failed (${e.message}), failover necessary`);
      this.#lost(false);
      if (this.#settings.autoFailover) {
        this.#outbox.push({ data: owned ? data : data.slice(), options });
        return true;
      }
      return false;
    }
  }

  #notify(notification: SessionNotification): void {
    this.#queue.push({ type: "notification", notification });
  }

  #failoverNotification(state: FailoverNotification["state"]): FailoverNotification {
    return { type: "failover", state, session: this.id, hasCookie: this.#cookie !== undefined };
  }

  /** Marks the session failed and says so (once). */
  #setFailed(): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#notify(this.#failoverNotification("necessary"));
  }

  /** The serving pool element is gone. */
  #lost(aborted: boolean): void {
    if (this.#closed || this.#failed) return;
    // Do not go straight back to it: after an abort (it is probably dead) report it; after a
    // graceful end just ask the registrar for another one once.
    this.#avoid = this.#pe === undefined
      ? undefined
      : { identifier: this.#pe.identifier, report: aborted };
    this.#pu.log.action(
      `Session ${this.id}: lost PE $${hex(this.#pe?.identifier ?? 0)}, failover necessary`,
    );
    this.#setFailed();
    if (this.#settings.autoFailover) this.startAutoFailover();
  }

  /** @internal Keeps failing over until a pool element is reached or the session closes. */
  startAutoFailover(): void {
    if (this.#auto !== undefined || this.#closed) return;
    // Set before the loop runs: its first attempt may start (and end) synchronously.
    const auto = Promise.withResolvers<void>();
    this.#auto = auto.promise;
    this.#autoFailover().then(
      () => {
        this.#auto = undefined;
        auto.resolve();
      },
      (e) => {
        this.#auto = undefined;
        auto.reject(e);
      },
    );
  }

  async #autoFailover(): Promise<void> {
    let connectFailures = 0;
    while (!this.#closed && !this.connected) {
      if (await this.attempt(false, false)) break;
      // RSPLIB waits only when no PE was found (inside the attempt); a PE that cannot be
      // reached was reported, so ask again at once (a few times, then slow down).
      if (this.#lastFailure === "empty") continue;
      if (this.#lastFailure === "connect" && ++connectFailures <= 3) continue;
      connectFailures = 0;
      await sleep(this.#settings.retryDelay, this.#closing.signal);
    }
  }

  /**
   * @internal One failover attempt (coalesced with a running one).
   * @param signal Ends the attempt (besides closing the session).
   */
  attempt(reportUnreachable: boolean, silent: boolean, signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#failover !== undefined) return this.#failover;
    // The guard is set before the attempt starts: what it does synchronously (aborting the old
    // association) may lead here again.
    const failover = Promise.withResolvers<boolean>();
    this.#failover = failover.promise;
    const stop = signal === undefined
      ? this.#closing.signal
      : AbortSignal.any([signal, this.#closing.signal]);
    this.#attempt(reportUnreachable, silent, stop).then(
      (ok) => {
        this.#failover = undefined;
        failover.resolve(ok);
      },
      (e) => {
        this.#failover = undefined;
        failover.reject(e);
      },
    );
    return failover.promise;
  }

  async #attempt(
    reportUnreachable: boolean,
    silent: boolean,
    signal: AbortSignal,
  ): Promise<boolean> {
    const pu = this.#pu;
    const log = pu.log;
    const asap = pu.asap;
    const ph = this.poolHandle;
    log.note(`Session ${this.id}: starting failover`);
    const tStart = performance.now();
    let tResolved = tStart;
    this.#failed = false;
    const old = this.#pe;
    if (reportUnreachable && old !== undefined) void asap.reportUnreachable(ph, old.identifier);
    if (this.#assocId !== undefined) {
      // Unbound first: the abort reports its queued messages as failed (synchronously).
      const assocId = this.#assocId;
      pu.unbind(assocId);
      this.#assocId = undefined;
      try {
        pu.endpoint.abort(assocId);
      } catch {
        // gone already
      }
    }
    this.#connectedAt = 0;
    // ---- handle resolution ----
    let candidate: PoolElementParameter | undefined;
    for (let tries = 0; tries < 3 && candidate === undefined; tries++) {
      let found: PoolElementParameter[];
      try {
        found = await asap.handleResolution(ph, {
          items: 1,
          staleCacheValue: this.#settings.staleCacheValue,
          signal,
        });
      } catch (e) {
        if (this.#closed) return false;
        if (signal.aborted) {
          this.#failed = true;
          return false;
        }
        this.#lastErrorCause = e instanceof RSerPoolError ? e.code : ErrorCause.UnknownPoolHandle;
        log.action(`Session ${this.id}: handle resolution failed: ${(e as Error).message}`);
        this.#lastFailure = "resolution";
        if (this.#lastErrorCause === ErrorCause.UnknownPoolHandle) {
          this.#lastFailure = "empty";
          await sleep(this.#settings.retryDelay, signal);
        }
        this.#failed = true;
        return false;
      }
      const pe = found[0];
      if (pe.userTransport.protocol !== "sctp") {
        log.error(`Pool ${formatPoolHandle(ph)} does not use SCTP`);
        this.#failed = true;
        return false;
      }
      const avoid = this.#avoid;
      if (
        avoid !== undefined && pe.identifier === avoid.identifier && tries < (avoid.report ? 2 : 1)
      ) {
        // The association to it just ended: ask again (after an abort, report it first).
        if (avoid.report) await asap.reportUnreachable(ph, pe.identifier);
        continue;
      }
      candidate = pe;
    }
    this.#avoid = undefined;
    tResolved = performance.now();
    if (candidate === undefined || this.#closed || signal.aborted) {
      this.#lastFailure = "resolution";
      this.#failed = true;
      return false;
    }
    // ---- association ----
    let assocId: number | undefined;
    const connecting = pu.endpoint.connect(
      candidate.userTransport.addresses,
      candidate.userTransport.port,
      { timeout: this.#settings.connectTimeout },
    );
    try {
      assocId = await unlessAborted(connecting, signal);
    } catch (e) {
      log.action(
        `Session ${this.id}: cannot connect to PE $${hex(candidate.identifier)}: ${
          (e as Error).message
        }`,
      );
      this.#lastErrorCause = ErrorCause.ConnectionFailureConnect;
      this.#lastFailure = "connect";
      void asap.reportUnreachable(ph, candidate.identifier);
      this.#failed = true;
      return false;
    }
    if (assocId === undefined || this.#closed || signal.aborted) {
      // Ended (session closed or connect() cancelled): not wanted, even when it comes up later.
      const drop = (id: number) => {
        pu.unbind(id);
        try {
          pu.endpoint.abort(id);
        } catch {
          // gone
        }
      };
      if (assocId !== undefined) drop(assocId);
      else connecting.then(drop, () => {});
      this.#failed = true;
      return false;
    }
    this.#pe = candidate;
    this.#assocId = assocId;
    this.#connectedAt = Date.now();
    // Its events so far; they may include its end (in the same batch as its COMM_UP).
    const early = pu.bind(assocId, this);
    let cookieEchoFailed = false;
    if (this.#cookie !== undefined) {
      try {
        pu.endpoint.send(assocId, encodeMessage({ type: "cookieEcho", cookie: this.#cookie }), {
          ppid: Ppid.ASAP,
        });
      } catch (e) {
        log.warning(`Session ${this.id}: cannot send Cookie Echo: ${(e as Error).message}`);
        cookieEchoFailed = true;
      }
    }
    log.note(
      `Session ${this.id}: connected to PE $${hex(candidate.identifier)} (handle resolution ${
        (tResolved - tStart).toFixed(1)
      } ms, association ${(performance.now() - tResolved).toFixed(1)} ms)` +
        (this.#cookie !== undefined && !cookieEchoFailed ? " (Cookie Echo sent)" : ""),
    );
    if (!silent) {
      this.#failovers++;
      this.#notify(this.#failoverNotification("complete"));
    }
    for (const event of early) this.handle(event);
    if (cookieEchoFailed) this.#lost(true);
    const outbox = this.#outbox.splice(0);
    for (const m of outbox) {
      if (!this.connected) {
        this.#outbox.push(m);
        continue;
      }
      this.#sendNow(m.data, m.options, true);
    }
    // Lost already (its end came with it, or a send failed): the caller tries again.
    if (!this.connected) this.#lastFailure = "connect";
    return this.connected;
  }

  /** @internal An event of the session's association. */
  handle(event: SctpEvent): void {
    if (event.type === "accept") return;
    // Late events of an association given up (it is unbound first, but be sure).
    if (event.assocId !== this.#assocId) return;
    switch (event.type) {
      case "message": {
        if (event.ppid === Ppid.ASAP) {
          try {
            const m = decodeMessage(Ppid.ASAP, event.data, { loopback: true });
            if (m.type === "cookie") this.#cookie = m.cookie;
            else this.#pu.log.verbose(1, `Session ${this.id}: ignoring ASAP ${m.type}`);
          } catch (e) {
            this.#pu.log.warning(`Session ${this.id}: bad ASAP message: ${(e as Error).message}`);
          }
          return;
        }
        this.#queue.push({
          type: "message",
          data: event.data.slice(),
          ppid: event.ppid,
          stream: event.stream,
          poolElementIdentifier: this.#pe?.identifier ?? 0,
        });
        break;
      }
      case "shutdown":
        this.#lost(false);
        break;
      case "lost":
      case "restart":
        this.#lost(true);
        break;
      case "closed":
        this.#pu.unbind(event.assocId);
        this.#assocId = undefined;
        this.#lost(false);
        break;
      case "sendFailed":
        this.#lost(true);
        break;
      default:
        break;
    }
  }
}
