/**
 * The ASAP side of pool elements and pool users (RSPLIB's ASAP instance, inventory §7.2): the
 * registrar hunt, the queue of requests with response timeouts and trials, Endpoint Keep Alive
 * Acks, the home-registrar change by a Keep Alive with the H flag, the pool user's cache and
 * Endpoint Unreachable reports.
 *
 * @module
 */

import {
  type AsapMessage,
  decodeMessage,
  encodeMessage,
  ErrorCause,
  formatPoolHandle,
  Limits,
  type PoolElementParameter,
  poolHandle as toPoolHandle,
  Ppid,
  type RSerPoolMessage,
} from "../codec/mod.ts";
import { type Logger, silentLogger } from "../common/mod.ts";
import { formatEndpointAddresses } from "../net/address_port.ts";
import type { SctpEndpoint, SctpEvent, SctpTransport } from "../transport/types.ts";
import { HandlespacePoolElementCache, type PoolElementCache } from "./cache.ts";
import { RSerPoolError } from "./errors.ts";
import {
  type RegistrarClientOptions,
  type ResolvedRegistrarClientOptions,
  resolveRegistrarClientOptions,
} from "./options.ts";
import { type AnnounceListener, listenForAnnounces } from "./_announce.ts";
import { type RegistrarEntry, RegistrarTable } from "./_registrar_table.ts";
import { hex } from "./_format.ts";
import { sleep } from "../common/program.ts";
import { keyOf } from "../handlespace/_tables.ts";

/**
 * Options of {@linkcode AsapClient.open}.
 *
 * @example
 * ```ts
 * import type { AsapClientOptions } from "./asap_client.ts";
 * import { MemoryNetwork } from "../transport/memory/memory_transport.ts";
 * const options: AsapClientOptions = {
 *   transport: new MemoryNetwork().host(["10.0.0.5"]),
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * };
 * console.log(options.registrars);
 * ```
 */
export interface AsapClientOptions extends RegistrarClientOptions {
  /** The SCTP transport for the registrar associations. */
  transport: SctpTransport;
  /**
   * Local addresses of the ASAP endpoint (the one a new home registrar reaches the pool
   * element at).
   * @default {all local addresses}
   */
  localAddresses?: string[];
  /** Log target. @default {silentLogger} */
  logger?: Logger;
  /** The pool user's handle resolution cache. @default {a new HandlespacePoolElementCache} */
  cache?: PoolElementCache;
  /** Clock in milliseconds (cache expiry, announce expiry). @default {performance.now} */
  clock?: () => number;
  /** Called whenever the registrar association changes (identifier, or `undefined` when lost). */
  onRegistrarChange?: (identifier: number | undefined) => void;
}

/**
 * Options of {@linkcode AsapClient.handleResolution}.
 *
 * @example
 * ```ts
 * import type { HandleResolutionRequestOptions } from "./asap_client.ts";
 * const options: HandleResolutionRequestOptions = { items: 3, staleCacheValue: 5000 };
 * console.log(options.items);
 * ```
 */
export interface HandleResolutionRequestOptions {
  /**
   * How many pool elements are wanted (1 to 128, or 0xffffffff for all the registrar has).
   * @default {1}
   */
  items?: number;
  /**
   * How long the pool elements from the registrar stay in the cache, in milliseconds; 0 asks
   * the registrar every time, without looking into the cache (what all of RSPLIB's programs
   * do).
   * @default {0}
   */
  staleCacheValue?: number;
  /** Cancels waiting. */
  signal?: AbortSignal;
}

/**
 * State of the association to the current registrar, for status reports.
 *
 * @example
 * ```ts
 * import type { RegistrarStatus } from "./asap_client.ts";
 * function describe(r: RegistrarStatus | undefined): string {
 *   return r === undefined ? "no registrar" : `registrar $${r.identifier.toString(16)}`;
 * }
 * console.log(describe(undefined));
 * ```
 */
export interface RegistrarStatus {
  /** The registrar's identifier (0 while unknown). */
  identifier: number;
  /** The association. */
  assocId: number;
  /** When it came up (`Date.now()` time). */
  connectedAt: number;
}

interface OwnPoolElement {
  poolHandle: Uint8Array;
  parameter: PoolElementParameter;
  /** Its Endpoint Keep Alive Ack, encoded once (it never changes). */
  ack: Uint8Array;
}

/** The response a request waits for: its type, pool handle and (for (de)registrations) PE. */
interface ExpectedResponse {
  type: "registrationResponse" | "deregistrationResponse" | "handleResolutionResponse";
  poolHandle: Uint8Array;
  identifier?: number;
}

interface PendingResponse {
  expected: ExpectedResponse;
  resolve: (m: AsapMessage) => void;
  reject: (e: unknown) => void;
}

/** A registration waiting in the queue or for its response; a deregistration cancels it. */
interface RegistrationTicket {
  cancelled: boolean;
}

/** Internal: the registrar association went away while waiting. */
class RegistrarLostError extends Error {}

/**
 * At most this many responses of aborted requests are remembered (per registrar association):
 * they are discarded when they come instead of being taken for another request's response.
 */
const MAX_STALE_RESPONSES = 64;

/** Key of an own pool element: the identifier (2 UTF-16 units), then the pool handle bytes. */
function ownKey(poolHandle: Uint8Array, identifier: number): string {
  return String.fromCharCode(identifier >>> 16, identifier & 0xffff) + keyOf(poolHandle);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `message` is the response `expected` describes (registrars echo handle and PE). */
function answers(message: RSerPoolMessage, expected: ExpectedResponse): boolean {
  switch (message.type) {
    case "registrationResponse":
    case "deregistrationResponse":
      return message.type === expected.type &&
        (message.identifier >>> 0) === ((expected.identifier ?? 0) >>> 0) &&
        sameBytes(message.poolHandle, expected.poolHandle);
    case "handleResolutionResponse":
      return message.type === expected.type && sameBytes(message.poolHandle, expected.poolHandle);
    default:
      return false;
  }
}

function shuffledFrom<T>(items: T[]): T[] {
  if (items.length === 0) return items;
  const start = Math.floor(Math.random() * items.length);
  return [...items.slice(start), ...items.slice(0, start)];
}

/**
 * The connection of a pool element or pool user to its registrar (ASAP, RFC 5352): finds a
 * registrar (static entries and announces, several in parallel), sends requests one after
 * another with RSPLIB's timeouts and trials, answers Endpoint Keep Alives for the pool
 * elements it registered, follows a new home registrar (Keep Alive with the H flag) and, after
 * losing its registrar, finds another one and registers its pool elements again.
 *
 * This is the basic-mode API (RSPLIB's `rsp_pe_registration`, `rsp_getaddrinfo`,
 * `rsp_pe_failure`); {@linkcode import("./pool_element.ts").PoolElement} and
 * {@linkcode import("./pool_user.ts").PoolUser} build on it.
 *
 * @example Resolve a pool handle (basic mode)
 * ```ts ignore
 * import { AsapClient } from "./asap_client.ts";
 * import { usrsctpTransport } from "../transport/usrsctp/mod.ts";
 * await using asap = await AsapClient.open({
 *   transport: usrsctpTransport(),
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 * });
 * const [pe] = await asap.handleResolution("EchoPool");
 * console.log(pe.identifier, pe.userTransport.addresses, pe.userTransport.port);
 * ```
 */
export class AsapClient implements AsyncDisposable {
  readonly #options: ResolvedRegistrarClientOptions;
  readonly #log: Logger;
  readonly #clock: () => number;
  readonly #cache: PoolElementCache;
  readonly #table: RegistrarTable;
  readonly #onRegistrarChange?: (identifier: number | undefined) => void;
  #endpoint!: SctpEndpoint;
  #announce?: AnnounceListener;
  #registrar?: RegistrarStatus;
  #hunt?: Promise<RegistrarStatus>;
  #pending?: PendingResponse;
  /** Responses still owed for requests aborted by their signal, oldest first. */
  #stale: ExpectedResponse[] = [];
  #chain: Promise<unknown> = Promise.resolve();
  #own = new Map<string, OwnPoolElement>();
  /** Registrations not finished yet, by own key. */
  #tickets = new Map<string, Set<RegistrationTicket>>();
  #maintainTimer?: ReturnType<typeof setTimeout>;
  #closing = new AbortController();
  #closed = false;

  private constructor(options: AsapClientOptions) {
    this.#options = resolveRegistrarClientOptions(options);
    this.#log = options.logger ?? silentLogger;
    this.#clock = options.clock ?? (() => performance.now());
    this.#cache = options.cache ?? new HandlespacePoolElementCache();
    this.#table = new RegistrarTable(
      this.#options.registrars,
      this.#options.announceTimeout,
      this.#clock,
    );
    this.#onRegistrarChange = options.onRegistrarChange;
  }

  /**
   * Opens the ASAP endpoint (listening, so that a new home registrar can reach it) and starts
   * listening for registrar announces. The registrar hunt starts with the first request.
   *
   * @example
   * ```ts ignore
   * import { AsapClient } from "./asap_client.ts";
   * import { usrsctpTransport } from "../transport/usrsctp/mod.ts";
   * const asap = await AsapClient.open({ transport: usrsctpTransport(), announce: "off" });
   * await asap.close();
   * ```
   *
   * @param options Transport, registrars, timeouts.
   * @returns The client.
   */
  static async open(options: AsapClientOptions): Promise<AsapClient> {
    const client = new AsapClient(options);
    client.#endpoint = await options.transport.open(
      { addresses: options.localAddresses, port: 0, listen: true },
      (event) => client.#onEvent(event),
    );
    const group = client.#options.announce;
    if (group !== undefined) {
      client.#announce = await listenForAnnounces(
        group,
        (heard) => {
          if (client.#table.announce(heard.identifier, heard.addresses, heard.port)) {
            client.#log.verbose(
              1,
              `Registrar $${hex(heard.identifier)} heard at ${
                formatEndpointAddresses(heard)
              } (announce)`,
            );
          }
        },
        client.#log,
        client.#options.minAddressScope === "loopback",
      );
    }
    return client;
  }

  /** The settings in use (defaults filled in). */
  get options(): ResolvedRegistrarClientOptions {
    return this.#options;
  }

  /** Local port of the ASAP endpoint. */
  get localPort(): number {
    return this.#endpoint.localPort;
  }

  /** Identifier of the current registrar (0 while unknown), or `undefined` when not connected. */
  get registrarIdentifier(): number | undefined {
    return this.#registrar?.identifier;
  }

  /** The current registrar association, or `undefined`. */
  get registrar(): RegistrarStatus | undefined {
    return this.#registrar === undefined ? undefined : { ...this.#registrar };
  }

  /**
   * Adds a registrar as if an announce had been heard from it (for discovery by other means).
   *
   * @param identifier The registrar's identifier (0 if unknown).
   * @param addresses Its ASAP addresses.
   * @param port Its ASAP port.
   */
  addAnnouncedRegistrar(identifier: number, addresses: string[], port: number): void {
    this.#table.announce(identifier, addresses, port);
  }

  /**
   * Registers (or re-registers) a pool element and waits for the response. The pool element is
   * then answered for in Keep Alives and registered again after a registrar change.
   *
   * @param poolHandle The pool handle.
   * @param poolElement The pool element (identifier, registration life, user transport, policy).
   * @param options `signal` cancels waiting.
   * @throws {RSerPoolError} With the registrar's cause (rejected), 0x1007 (no registrar) or
   *   0x1008 (timeout).
   */
  async register(
    poolHandle: string | Uint8Array,
    poolElement: PoolElementParameter,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const ph = toPoolHandle(poolHandle);
    const key = ownKey(ph, poolElement.identifier);
    const ticket: RegistrationTicket = { cancelled: false };
    let tickets = this.#tickets.get(key);
    if (tickets === undefined) this.#tickets.set(key, tickets = new Set());
    tickets.add(ticket);
    let response: AsapMessage | undefined;
    try {
      response = await this.#request(
        { type: "registration", poolHandle: ph, poolElement },
        { type: "registrationResponse", poolHandle: ph, identifier: poolElement.identifier },
        options.signal,
        `registration of PE $${hex(poolElement.identifier)} in pool ${formatPoolHandle(ph)}`,
      );
    } finally {
      tickets.delete(ticket);
      if (tickets.size === 0 && this.#tickets.get(key) === tickets) this.#tickets.delete(key);
    }
    if (response?.type !== "registrationResponse") return;
    if (response.reject || response.error !== undefined) {
      const cause = response.error?.cause ?? ErrorCause.InvalidValues;
      if (
        cause === ErrorCause.NoUsableAsapAddresses || cause === ErrorCause.NoUsableUserAddresses
      ) {
        // The registrar may see other addresses on a new association (RSPLIB does the same).
        this.#disconnect(true);
      }
      throw new RSerPoolError(
        cause,
        `Cannot register PE $${hex(poolElement.identifier)} in pool ${formatPoolHandle(ph)}`,
      );
    }
    if (ticket.cancelled) {
      // Deregistered (or forgotten) while this registration waited: do not answer for it again.
      this.#log.verbose(
        1,
        `PE $${hex(poolElement.identifier)} was deregistered while its registration waited`,
      );
      return;
    }
    const ack = this.#own.get(key)?.ack ??
      encodeMessage({
        type: "endpointKeepAliveAck",
        poolHandle: ph,
        identifier: poolElement.identifier,
      });
    this.#own.set(key, { poolHandle: ph, parameter: poolElement, ack });
  }

  /**
   * Deregisters a pool element: it is no longer answered for, and the registrar is told.
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   * @param options `hunt: false` skips the registrar message when no registrar association is
   *   up (the registrar then notices by itself); `signal` cancels waiting.
   * @throws {RSerPoolError} 0x1007 (no registrar) or 0x1008 (timeout).
   */
  async deregister(
    poolHandle: string | Uint8Array,
    identifier: number,
    options: { hunt?: boolean; signal?: AbortSignal } = {},
  ): Promise<void> {
    const ph = toPoolHandle(poolHandle);
    this.#dropOwn(ph, identifier);
    if (options.hunt === false && this.#registrar === undefined) return;
    const response = await this.#request(
      { type: "deregistration", poolHandle: ph, identifier },
      { type: "deregistrationResponse", poolHandle: ph, identifier },
      options.signal,
      `deregistration of PE $${hex(identifier)}`,
    );
    if (response?.type === "deregistrationResponse" && response.error !== undefined) {
      this.#log.warning(
        `Deregistration of PE $${hex(identifier)}: registrar answered with cause 0x${
          response.error.cause.toString(16)
        }`,
      );
    }
  }

  /**
   * Stops answering for a pool element without telling the registrar (which removes it after
   * its Keep Alives go unanswered, as after a crash); registrations of it still waiting are
   * not kept either. For a pool element closed without deregistration on a shared client.
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   */
  forget(poolHandle: string | Uint8Array, identifier: number): void {
    this.#dropOwn(toPoolHandle(poolHandle), identifier);
  }

  #dropOwn(ph: Uint8Array, identifier: number): void {
    const key = ownKey(ph, identifier);
    this.#own.delete(key);
    const tickets = this.#tickets.get(key);
    if (tickets !== undefined) { for (const t of tickets) t.cancelled = true; }
  }

  /**
   * Resolves a pool handle into pool elements: with a stale-cache value, from the cache if it
   * has unexpired entries, else from the registrar (then cached for `staleCacheValue` ms);
   * without one (0), always from the registrar.
   *
   * @param poolHandle The pool handle.
   * @param options How many, the stale-cache value, cancellation.
   * @returns At least one pool element.
   * @throws {RSerPoolError} 0x0009 when the pool is unknown or empty, 0x1007 (no registrar),
   *   0x1008 (timeout).
   */
  async handleResolution(
    poolHandle: string | Uint8Array,
    options: HandleResolutionRequestOptions = {},
  ): Promise<PoolElementParameter[]> {
    const ph = toPoolHandle(poolHandle);
    const all = options.items === Limits.HANDLE_RESOLUTION_ALL;
    const items = all
      ? Limits.MAX_HANDLE_RESOLUTION_ITEMS
      : Math.min(Math.max(1, Math.floor(options.items ?? 1)), Limits.MAX_HANDLE_RESOLUTION_ITEMS);
    const stale = Math.max(0, options.staleCacheValue ?? 0);
    if (stale > 0) {
      const cached = this.#cache.select(ph, items, this.#clock());
      if (cached.length > 0) return cached;
    }
    const response = await this.#request(
      {
        type: "handleResolution",
        poolHandle: ph,
        // RSPLIB: with a stale-cache value the registrar's default count fills the cache.
        items: stale > 0 && !all ? undefined : (all ? Limits.HANDLE_RESOLUTION_ALL : items),
      },
      { type: "handleResolutionResponse", poolHandle: ph },
      options.signal,
      `handle resolution of pool ${formatPoolHandle(ph)}`,
    );
    if (response?.type !== "handleResolutionResponse") {
      throw new RSerPoolError(ErrorCause.UnknownPoolHandle, "Cannot resolve pool handle");
    }
    if (response.error !== undefined || response.poolElements.length === 0) {
      throw new RSerPoolError(
        response.error?.cause ?? ErrorCause.UnknownPoolHandle,
        `Cannot resolve pool handle ${formatPoolHandle(ph)}`,
      );
    }
    // Stale-cache value 0: the entries would expire at once; the registrar already picked.
    if (stale === 0) return response.poolElements.slice(0, items);
    const now = this.#clock();
    this.#cache.store(ph, response.poolElements, stale, now);
    const selected = this.#cache.select(ph, items, now);
    return selected.length > 0 ? selected : response.poolElements.slice(0, items);
  }

  /**
   * Reports a pool element as unreachable: removes it from the cache and sends an Endpoint
   * Unreachable to the registrar (no response is expected). Never throws.
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   */
  async reportUnreachable(poolHandle: string | Uint8Array, identifier: number): Promise<void> {
    const ph = toPoolHandle(poolHandle);
    this.#cache.remove(ph, identifier);
    this.#log.action(`Reporting failure of ${formatPoolHandle(ph)}/$${hex(identifier)}`);
    try {
      await this.#request(
        { type: "endpointUnreachable", poolHandle: ph, identifier },
        undefined,
        undefined,
        `endpoint unreachable report for PE $${hex(identifier)}`,
      );
    } catch (e) {
      this.#log.verbose(1, `Failure report not sent: ${(e as Error).message}`);
    }
  }

  /**
   * Closes the registrar association (gracefully, or with `abort: true` by ABORT) and the ASAP
   * endpoint; pending requests fail.
   *
   * @param options `abort` aborts the associations.
   */
  async close(options: { abort?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#maintainTimer);
    this.#pending?.reject(
      new RSerPoolError(ErrorCause.NoRegistrar, "Cannot finish request: closed"),
    );
    this.#pending = undefined;
    this.#stale = [];
    this.#registrar = undefined;
    await this.#endpoint.close({ abort: options.abort });
    await this.#hunt?.catch(() => {});
    await this.#chain.catch(() => {});
    await this.#announce?.close();
  }

  /** Same as {@linkcode AsapClient.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- requests ---------------------------------------------------------------------------

  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => {});
    return run;
  }

  #request(
    message: AsapMessage,
    expect: ExpectedResponse | undefined,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<AsapMessage | undefined> {
    return this.#exclusive(async () => {
      let lastCause: number = ErrorCause.NoRegistrar;
      for (let trial = 1; trial <= this.#options.requestMaxTrials; trial++) {
        if (this.#closed) break;
        if (signal?.aborted) throw signal.reason;
        let registrar: RegistrarStatus;
        try {
          registrar = await this.#connected(signal);
        } catch (e) {
          if (e instanceof RSerPoolError) {
            lastCause = e.code;
            continue;
          }
          throw e;
        }
        const bytes = encodeMessage(message);
        if (expect === undefined) {
          this.#send(registrar.assocId, bytes);
          return undefined;
        }
        try {
          return await this.#exchange(registrar.assocId, bytes, expect, signal);
        } catch (e) {
          if (e instanceof RegistrarLostError) {
            lastCause = ErrorCause.Timeout;
            continue;
          }
          if (e instanceof RSerPoolError && e.code === ErrorCause.Timeout) {
            this.#log.warning(`No response from registrar for ${what}`);
            lastCause = ErrorCause.Timeout;
            this.#disconnect(true);
            continue;
          }
          throw e;
        }
      }
      throw new RSerPoolError(
        lastCause,
        lastCause === ErrorCause.NoRegistrar
          ? `Cannot send ${what}: no registrar found`
          : `Cannot complete ${what}: no response from the registrar`,
      );
    });
  }

  #send(assocId: number, bytes: Uint8Array): void {
    try {
      this.#endpoint.send(assocId, bytes, { ppid: Ppid.ASAP });
    } catch (e) {
      this.#log.warning(`Cannot send to registrar: ${(e as Error).message}`);
      this.#disconnect(true);
      throw new RegistrarLostError();
    }
  }

  #exchange(
    assocId: number,
    bytes: Uint8Array,
    expected: ExpectedResponse,
    signal?: AbortSignal,
  ): Promise<AsapMessage> {
    return new Promise<AsapMessage>((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const timer = setTimeout(() => {
        finish();
        reject(new RSerPoolError(ErrorCause.Timeout, "Cannot get a registrar response"));
      }, this.#options.responseTimeout);
      const onAbort = () => {
        finish();
        // The registrar still answers: remember the response, so that it is not taken for the
        // next request's one (or for an unexpected message).
        if (this.#registrar?.assocId === assocId) {
          if (this.#stale.length >= MAX_STALE_RESPONSES) this.#stale.shift();
          this.#stale.push(expected);
        }
        reject(signal?.reason);
      };
      const finish = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        if (this.#pending === pending) this.#pending = undefined;
      };
      const pending: PendingResponse = {
        expected,
        resolve: (m) => {
          finish();
          resolve(m);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#pending = pending;
      try {
        this.#send(assocId, bytes);
      } catch (e) {
        pending.reject(e);
      }
    });
  }

  // ---- registrar hunt ---------------------------------------------------------------------

  #connected(signal?: AbortSignal): Promise<RegistrarStatus> {
    if (this.#registrar !== undefined) return Promise.resolve(this.#registrar);
    if (this.#hunt === undefined) {
      this.#hunt = this.#huntRegistrar().finally(() => {
        this.#hunt = undefined;
      });
    }
    if (signal === undefined) return this.#hunt;
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#hunt!.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  async #huntRegistrar(): Promise<RegistrarStatus> {
    const o = this.#options;
    const closing = this.#closing.signal;
    for (let round = 1; round <= o.connectMaxTrials && !closing.aborted; round++) {
      const deadline = this.#clock() + o.connectTimeout;
      this.#log.verbose(1, `Registrar hunt, round ${round} of ${o.connectMaxTrials}`);
      const tried = new Set<RegistrarEntry>();
      while (!closing.aborted) {
        const left = deadline - this.#clock();
        if (left <= 0) break;
        let candidates = shuffledFrom(this.#table.entries()).filter((e) => !tried.has(e));
        if (candidates.length === 0 && tried.size > 0) {
          // Everything failed quickly: try again a bit later within this round.
          await this.#waitForAnnounce(Math.min(left, 500), closing);
          tried.clear();
          continue;
        }
        if (candidates.length === 0) {
          await this.#waitForAnnounce(left, closing);
          continue;
        }
        candidates = candidates.slice(0, o.parallelConnects);
        for (const c of candidates) tried.add(c);
        const won = await this.#connectAny(candidates, left);
        if (won !== undefined) return won;
      }
    }
    this.#log.warning("No registrar found");
    throw new RSerPoolError(ErrorCause.NoRegistrar, "Cannot find a registrar");
  }

  #waitForAnnounce(ms: number, signal: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const stop = () => controller.abort();
    const off = this.#table.onNew(stop);
    signal.addEventListener("abort", stop, { once: true });
    return sleep(ms, controller.signal).finally(() => {
      off();
      signal.removeEventListener("abort", stop);
    });
  }

  /** Connects to all candidates at once; the first association up wins, the others go. */
  #connectAny(candidates: RegistrarEntry[], timeout: number): Promise<RegistrarStatus | undefined> {
    return new Promise((resolve) => {
      let winner: RegistrarStatus | undefined;
      let open = candidates.length;
      for (const c of candidates) {
        this.#log.verbose(2, `Trying registrar at ${formatEndpointAddresses(c)}`);
        this.#endpoint.connect(c.addresses, c.port, { timeout }).then((assocId) => {
          if (winner !== undefined || this.#closed) {
            try {
              this.#endpoint.shutdown(assocId);
            } catch {
              // gone already
            }
            return;
          }
          const identifier = c.identifier || this.#table.identifierOf(c.addresses, c.port);
          winner = { identifier, assocId, connectedAt: Date.now() };
          this.#adopt(winner, `${formatEndpointAddresses(c)}`);
          resolve(winner);
        }, (e) => {
          this.#log.verbose(
            2,
            `Cannot connect to registrar at ${formatEndpointAddresses(c)}: ${(e as Error).message}`,
          );
        }).finally(() => {
          if (--open === 0 && winner === undefined) resolve(undefined);
        });
      }
    });
  }

  #adopt(registrar: RegistrarStatus, where: string): void {
    this.#registrar = registrar;
    this.#stale = [];
    this.#log.note(
      `Connected to registrar ${
        registrar.identifier ? "$" + hex(registrar.identifier) + " " : ""
      }at ${where}`,
    );
    this.#onRegistrarChange?.(registrar.identifier);
    if (this.#own.size > 0) this.#scheduleMaintenance(0);
  }

  #disconnect(abort: boolean): void {
    const r = this.#registrar;
    if (r === undefined) return;
    this.#registrar = undefined;
    this.#stale = [];
    if (abort) {
      try {
        this.#endpoint.abort(r.assocId);
      } catch {
        // already gone
      }
    }
    this.#log.action(`Disconnected from registrar${r.identifier ? " $" + hex(r.identifier) : ""}`);
    this.#pending?.reject(new RegistrarLostError());
    this.#onRegistrarChange?.(undefined);
    if (this.#own.size > 0) this.#scheduleMaintenance(0);
  }

  /** While own pool elements exist: keep a registrar association and keep them registered. */
  #scheduleMaintenance(delay: number): void {
    if (this.#closed || this.#maintainTimer !== undefined) return;
    this.#maintainTimer = setTimeout(async () => {
      this.#maintainTimer = undefined;
      if (this.#closed || this.#own.size === 0) return;
      for (const own of [...this.#own.values()]) {
        if (this.#closed || !this.#own.has(ownKey(own.poolHandle, own.parameter.identifier))) {
          continue;
        }
        try {
          await this.register(own.poolHandle, own.parameter);
        } catch (e) {
          this.#log.warning(
            `Cannot re-register PE $${hex(own.parameter.identifier)}: ${(e as Error).message}`,
          );
          if (this.#registrar === undefined) {
            this.#scheduleMaintenance(this.#options.connectTimeout);
            return;
          }
        }
      }
    }, delay);
  }

  // ---- events -----------------------------------------------------------------------------

  #onEvent(event: SctpEvent): void {
    switch (event.type) {
      case "message":
        this.#onMessage(event.assocId, event.ppid, event.data);
        break;
      case "lost":
      case "closed":
      case "shutdown":
      case "restart":
        if (this.#registrar?.assocId === event.assocId) {
          this.#log.action(`Registrar association ${event.type}`);
          this.#disconnect(event.type !== "lost" && event.type !== "closed");
        }
        break;
      default:
        break;
    }
  }

  #onMessage(assocId: number, ppid: number, data: Uint8Array): void {
    const fromRegistrar = this.#registrar?.assocId === assocId;
    let message: RSerPoolMessage;
    try {
      if (ppid !== Ppid.ASAP) throw new Error(`PPID ${ppid} on the ASAP endpoint`);
      message = decodeMessage(Ppid.ASAP, data, {
        loopback: this.#options.minAddressScope === "loopback",
      });
    } catch (e) {
      this.#log.warning(`Bad message from ${fromRegistrar ? "registrar" : "peer"}: ${e}`);
      if (fromRegistrar) this.#disconnect(true);
      else this.#abortQuietly(assocId);
      return;
    }
    if (message.type === "endpointKeepAlive") {
      this.#onKeepAlive(assocId, message, fromRegistrar);
      return;
    }
    if (!fromRegistrar) {
      this.#log.verbose(2, `Ignoring ${message.type} from a non-registrar association`);
      return;
    }
    // The registrar answers in order: the responses of aborted requests come first.
    const stale = this.#stale.findIndex((e) => answers(message, e));
    if (stale >= 0) {
      this.#stale.splice(stale, 1);
      this.#log.verbose(1, `Discarding the late ${message.type} of an aborted request`);
      return;
    }
    const pending = this.#pending;
    if (pending !== undefined && answers(message, pending.expected)) {
      pending.resolve(message as AsapMessage);
      return;
    }
    // A response of the wrong type or an ASAP Error: RSPLIB drops the registrar.
    this.#log.warning(
      message.type === "asapError"
        ? `Registrar sent ASAP Error, cause 0x${message.error.cause.toString(16)}`
        : `Unexpected ${message.type} from registrar`,
    );
    this.#disconnect(true);
  }

  #onKeepAlive(
    assocId: number,
    message: Extract<AsapMessage, { type: "endpointKeepAlive" }>,
    fromRegistrar: boolean,
  ): void {
    if (!fromRegistrar) {
      if (!message.home) {
        this.#log.verbose(
          2,
          `Ignoring Keep Alive without H flag from registrar $${hex(message.registrarIdentifier)}`,
        );
        return;
      }
      // A new home registrar (takeover): switch to its association.
      const old = this.#registrar;
      this.#log.note(
        `Registrar $${hex(message.registrarIdentifier)} is the new home registrar` +
          (old ? ` (was $${hex(old.identifier)})` : ""),
      );
      if (old !== undefined) {
        this.#registrar = undefined;
        this.#stale = [];
        this.#pending?.reject(new RegistrarLostError());
        this.#abortQuietly(old.assocId);
      }
      this.#registrar = {
        identifier: message.registrarIdentifier,
        assocId,
        connectedAt: Date.now(),
      };
      this.#onRegistrarChange?.(message.registrarIdentifier);
    } else if (this.#registrar !== undefined && this.#registrar.identifier === 0) {
      this.#registrar.identifier = message.registrarIdentifier;
      this.#onRegistrarChange?.(message.registrarIdentifier);
    }
    const acks: OwnPoolElement[] = [];
    if (message.identifier !== undefined) {
      const own = this.#own.get(ownKey(message.poolHandle, message.identifier));
      if (own !== undefined) acks.push(own);
      else {
        this.#log.verbose(2, `Keep Alive for unknown PE $${hex(message.identifier)}`);
      }
    } else {
      acks.push(...this.#own.values());
    }
    for (const own of acks) {
      try {
        this.#endpoint.send(assocId, own.ack, { ppid: Ppid.ASAP });
      } catch (e) {
        this.#log.warning(`Cannot send Keep Alive Ack: ${(e as Error).message}`);
      }
    }
  }

  #abortQuietly(assocId: number): void {
    try {
      this.#endpoint.abort(assocId);
    } catch {
      // gone already
    }
  }
}
