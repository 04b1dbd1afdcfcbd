/**
 * The handlespace: pools of pool elements with their selection policies, as kept by a
 * registrar (and, as a cache, by a pool user).
 *
 * @module
 */

import {
  comparePoolHandles,
  ErrorCause,
  formatPoolHandle,
  type PolicyName,
  type PoolElementParameter,
  type TransportParameter,
} from "../codec/mod.ts";
import { finishChecksum, poolHandleWordSum } from "./checksum.ts";
import { HandlespaceError } from "./errors.ts";
import { Entry, entryChecksum, Flag, OwnerGroup, Pool } from "./_model.ts";
import { POLICY_INFO } from "./_policy.ts";
import { IdTable, PoolTable } from "./_tables.ts";
import {
  applySettings,
  type EngineContext,
  linkNew,
  policyValuesValid,
  relinkUpdated,
  select,
  unlink,
} from "./_selection.ts";
import { successor, verify as verifyTree, verifyList } from "./_sorted.ts";
import { timerPop, timerPush, timerRemove, timerUpdate } from "./_timer_heap.ts";
import type { RandomSource } from "./random.ts";
import {
  type HandleResolutionOptions,
  type HandlespaceOptions,
  type HandleTableOptions,
  type PoolElementEntry,
  type PoolHandleLike,
  type RegistrationOptions,
  TimerKind,
  type TimerKindCode,
  type UnreachableReport,
} from "./types.ts";

const MAX_HANDLE_TABLE_ELEMENTS = 1024;
const encoder = new TextEncoder();

/** Pool handle copies are cut from shared slabs (one ArrayBuffer per 4 KiB, not per pool). */
let slab = new Uint8Array(4096);
let slabUsed = 0;

/** Our own copy of a handle, or `undefined` when it does not have 1 to 32 bytes. */
function copyHandle(handle: PoolHandleLike): Uint8Array | undefined {
  const bytes = typeof handle === "string" ? encoder.encode(handle) : handle;
  const n = bytes.length;
  if (n < 1 || n > 32) return undefined;
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(4096);
    slabUsed = 0;
  }
  const copy = slab.subarray(slabUsed, slabUsed + n);
  for (let i = 0; i < n; i++) copy[i] = bytes[i];
  slabUsed += n;
  return copy;
}

function checkConnection(connection: number | undefined): void {
  if (connection !== undefined && (connection | 0) !== connection) {
    throw new RangeError(`Cannot use connection ${connection}: it must be a 32-bit integer`);
  }
}

function describePe(handle: Uint8Array, identifier: number): string {
  return `pool element 0x${(identifier >>> 0).toString(16).padStart(8, "0")} of pool ` +
    `"${formatPoolHandle(handle)}"`;
}

function checkTransport(t: TransportParameter | undefined): boolean {
  return t !== undefined && Array.isArray(t.addresses) && t.addresses.length >= 1 &&
    t.addresses.length <= 64 && t.port !== 0;
}

/** Orders entries by identifier (unsigned), then pool handle. */
function byIdentifierThenHandle(a: Entry, b: Entry): number {
  return (a.id >>> 0) - (b.id >>> 0) || comparePoolHandles(a.pool.handle, b.pool.handle);
}

/**
 * The handlespace: pools (by pool handle) of pool elements (by identifier), the 18 selection
 * policies of RSPLIB, per-PE timers, ownership by home registrar with ENRP checksums,
 * connections, and paged iteration for Handle Table Responses.
 *
 * A pool takes its policy, transport protocol and control-channel flag from its first PE;
 * later PEs must match. Registering an existing identifier updates the entry. An empty pool
 * disappears.
 *
 * | Operation | Cost (n PEs in the pool, N in the handlespace) |
 * | --- | --- |
 * | register (new), deregister | O(1) for RoundRobin, O(log n) for the other policies |
 * | re-register (update) | O(1), O(log n) if the policy values changed |
 * | handle resolution of k PEs | O(k) RoundRobin, O(k + log n) other sorted policies, O(k log n) random ones |
 * | find by (pool handle, identifier) | O(1) |
 * | set / clear timer | O(log N); next due O(1) |
 * | ownership checksum, counts | O(1) (kept incrementally) |
 * | PEs of an owner / connection | O(m) for m results |
 * | handle table page of p PEs | O(p + log N) when the order is cached, else O(m log m) to sort the m PEs concerned |
 *
 * @example Register, resolve, deregister
 * ```ts
 * import { Handlespace } from "./mod.ts";
 * const hs = new Handlespace({ homeRegistrarIdentifier: 0x10 });
 * for (const id of [1, 2, 3, 4]) {
 *   hs.registerPoolElement("EchoPool", {
 *     identifier: id,
 *     homeRegistrarIdentifier: 0x10,
 *     registrationLife: 30000,
 *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *     policy: { type: "RoundRobin" },
 *   });
 * }
 * const ids = () => hs.handleResolution("EchoPool", 3)!.map((e) => e.identifier).join(" ");
 * console.log(ids()); // 1 2 3
 * console.log(ids()); // 2 3 4 (the rotation advances by one per resolution)
 * hs.deregisterPoolElement("EchoPool", 2);
 * console.log(hs.size, hs.ownershipChecksum().toString(16));
 * ```
 */
export class Handlespace {
  #home: number;
  #clock: () => number;
  #maxBadPeReports: number;
  #maxItems: number;
  #ctx: EngineContext;
  #pools = new PoolTable<Pool>();
  #size = 0;
  #sortedPools: Pool[] | null = null;
  #checksum = 0;
  #owners = new Map<number, OwnerGroup>();
  /** First PE of each connection (the others follow through connectionNext). */
  #connections = new IdTable<Entry>();
  #timers: Entry[] = [];

  /**
   * Creates an empty handlespace.
   *
   * @param options Owner identifier, clock, randomness, limits.
   */
  constructor(options: HandlespaceOptions = {}) {
    this.#home = (options.homeRegistrarIdentifier ?? 0) >>> 0;
    this.#clock = options.clock ?? (() => performance.now());
    const random: RandomSource = options.random ?? Math.random;
    this.#maxBadPeReports = options.maxBadPeReports ?? 3;
    this.#maxItems = options.maxHandleResolutionItems ?? 128;
    this.#ctx = { random, rsplibDegradation: options.degradation === "rsplib" };
  }

  /** The owner whose PEs are "own" (see {@linkcode HandlespaceOptions.homeRegistrarIdentifier}). */
  get homeRegistrarIdentifier(): number {
    return this.#home;
  }

  /** Number of pool elements. */
  get size(): number {
    return this.#size;
  }

  /** Number of pools. */
  get poolCount(): number {
    return this.#pools.size;
  }

  /** Number of pool elements owned by {@linkcode Handlespace.homeRegistrarIdentifier}. */
  get ownedCount(): number {
    return this.#owners.get(this.#home | 0)?.count ?? 0;
  }

  /**
   * The handlespace clock.
   *
   * @returns Milliseconds (the clock given in the options).
   */
  now(): number {
    return this.#clock();
  }

  // ---- pools ------------------------------------------------------------------------------

  #findPool(handle: PoolHandleLike): Pool | undefined {
    if (typeof handle === "string") {
      const n = handle.length;
      if (n < 1 || n > 32) return n > 32 ? this.#findPoolBytes(encoder.encode(handle)) : undefined;
      for (let i = 0; i < n; i++) {
        if (handle.charCodeAt(i) >= 0x80) return this.#findPoolBytes(encoder.encode(handle));
      }
      return this.#pools.getAscii(handle);
    }
    return this.#findPoolBytes(handle);
  }

  #findPoolBytes(bytes: Uint8Array): Pool | undefined {
    const n = bytes.length;
    return n < 1 || n > 32 ? undefined : this.#pools.get(bytes);
  }

  #addPool(pool: Pool): void {
    this.#pools.add(pool);
    this.#sortedPools = null;
  }

  #removePool(pool: Pool): void {
    this.#pools.delete(pool);
    this.#sortedPools = null;
  }

  // ---- owner and connection groups --------------------------------------------------------

  #joinOwner(e: Entry): void {
    let g = this.#owners.get(e.home);
    if (g === undefined) {
      g = new OwnerGroup(e.home);
      this.#owners.set(e.home, g);
    }
    e.ownerPrev = null;
    e.ownerNext = g.head;
    if (g.head !== null) g.head.ownerPrev = e;
    g.head = e;
    g.count++;
    g.checksum = (g.checksum + entryChecksum(e)) >>> 0;
    g.sorted = null;
  }

  #leaveOwner(e: Entry): void {
    const g = this.#owners.get(e.home)!;
    if (e.ownerPrev !== null) e.ownerPrev.ownerNext = e.ownerNext;
    else g.head = e.ownerNext;
    if (e.ownerNext !== null) e.ownerNext.ownerPrev = e.ownerPrev;
    e.ownerPrev = e.ownerNext = null;
    g.count--;
    g.checksum = (g.checksum - entryChecksum(e)) >>> 0;
    g.sorted = null;
    if (g.count === 0) this.#owners.delete(g.owner);
  }

  #joinConnection(e: Entry, connection: number): void {
    const head = this.#connections.get(connection);
    e.connection = connection;
    e.connectionPrev = null;
    e.connectionNext = head ?? null;
    if (head !== undefined) {
      head.connectionPrev = e;
      this.#connections.set(connection, e);
    } else {
      this.#connections.add(connection, e);
    }
  }

  #leaveConnection(e: Entry): void {
    const connection = e.connection;
    if (connection === undefined) return;
    const prev = e.connectionPrev;
    const next = e.connectionNext;
    if (prev !== null) prev.connectionNext = next;
    else if (next !== null) this.#connections.set(connection, next);
    else this.#connections.delete(connection);
    if (next !== null) next.connectionPrev = prev;
    e.connectionPrev = e.connectionNext = null;
    e.connection = undefined;
  }

  // ---- registration -----------------------------------------------------------------------

  /**
   * Registers a pool element, or updates it when the pool already has its identifier. A new
   * pool takes its policy, transport protocol and control-channel flag from this PE.
   *
   * On an update the policy values, transports, registration life, home registrar and time
   * stamp are replaced, the degradation resets, the mark is cleared; the rotation state stays.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * const pe = {
   *   identifier: 0x1234,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 30000,
   *   userTransport: { protocol: "sctp" as const, port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "LeastUsed" as const, load: 0x40000000 },
   * };
   * const entry = hs.registerPoolElement("EchoPool", pe, { homeRegistrarIdentifier: 7, connection: 3 });
   * console.log(entry.isNew, entry.homeRegistrarIdentifier); // true 7
   * console.log(hs.registerPoolElement("EchoPool", pe).isNew); // false
   * ```
   *
   * @param poolHandle The pool handle (1 to 32 bytes; text is UTF-8 encoded).
   * @param poolElement The PE as carried in a Registration or Handle Update.
   * @param options Values that replace the parameter's (home registrar, registrator transport,
   *   distance), the connection number and the time stamp.
   * @returns The entry.
   * @throws {HandlespaceError} With the RSPLIB error cause: 0xf004 invalid pool handle, 0xf003
   *   invalid policy values, 0xf000 identifier 0, 0x100a protocol differs from the pool's,
   *   0xf006 invalid registrator transport, 0xf005 invalid user transport addresses or port,
   *   0x0008 control-channel flag differs, 0x0005 policy differs from the pool's.
   * @throws {RangeError} When the connection is not a 32-bit integer.
   */
  registerPoolElement(
    poolHandle: PoolHandleLike,
    poolElement: PoolElementParameter,
    options?: RegistrationOptions,
  ): PoolElementEntry {
    const policy = poolElement.policy;
    const info = POLICY_INFO[policy.type];
    const identifier = poolElement.identifier >>> 0;
    let pool = this.#findPool(poolHandle);
    checkConnection(options?.connection);
    if (pool === undefined) {
      const bytes = copyHandle(poolHandle);
      if (bytes === undefined) {
        throw new HandlespaceError(
          ErrorCause.InvalidPoolHandle,
          `Cannot register pool element: the pool handle must have 1 to 32 bytes`,
        );
      }
      if (info === undefined) this.#refuse(ErrorCause.InvalidPoolPolicy, bytes, identifier);
      this.#check(undefined, bytes, poolElement, options);
      pool = new Pool(
        bytes,
        policy.type,
        info,
        poolElement.userTransport.protocol,
        poolElement.userTransport.controlChannel === true,
        poolHandleWordSum(bytes),
      );
      this.#addPool(pool);
      return this.#insert(pool, poolElement, options);
    }
    if (info === undefined) this.#refuse(ErrorCause.InvalidPoolPolicy, pool.handle, identifier);
    this.#check(pool, pool.handle, poolElement, options);
    const existing = pool.byId.get(identifier | 0);
    if (existing === undefined) return this.#insert(pool, poolElement, options);
    this.#update(pool, existing, poolElement, options);
    return existing;
  }

  #refuse(cause: number, handle: Uint8Array, identifier: number): never {
    const why: Record<number, string> = {
      [ErrorCause.InvalidPoolPolicy]: "its policy values are invalid",
      [ErrorCause.InvalidId]: "identifier 0 is invalid",
      [ErrorCause.WrongProtocol]: "its transport protocol differs from the pool's",
      [ErrorCause.InvalidRegistrator]: "its registrator transport is invalid",
      [ErrorCause.InvalidAddresses]: "its user transport needs 1 to 64 addresses and a port",
      [ErrorCause.InconsistentDataControlConfiguration]:
        "its control-channel flag differs from the pool's",
      [ErrorCause.PoolingPolicyInconsistent]: "its policy differs from the pool's",
    };
    throw new HandlespaceError(
      cause,
      `Cannot register ${describePe(handle, identifier)}: ${why[cause] ?? "refused"}`,
    );
  }

  /** RSPLIB's compatibility checks, in RSPLIB's order. */
  #check(
    pool: Pool | undefined,
    handle: Uint8Array,
    pe: PoolElementParameter,
    options: RegistrationOptions | undefined,
  ): void {
    const identifier = pe.identifier >>> 0;
    const user = pe.userTransport;
    if (identifier === 0) this.#refuse(ErrorCause.InvalidId, handle, identifier);
    if (pool !== undefined && user.protocol !== pool.protocol) {
      this.#refuse(ErrorCause.WrongProtocol, handle, identifier);
    }
    const registrator = options?.registratorTransport ?? pe.registratorTransport;
    if (
      registrator !== undefined &&
      (registrator.protocol !== "sctp" || registrator.controlChannel === true ||
        !checkTransport(registrator))
    ) {
      this.#refuse(ErrorCause.InvalidRegistrator, handle, identifier);
    }
    if (!checkTransport(user)) this.#refuse(ErrorCause.InvalidAddresses, handle, identifier);
    if (pool !== undefined && (user.controlChannel === true) !== pool.controlChannel) {
      this.#refuse(ErrorCause.InconsistentDataControlConfiguration, handle, identifier);
    }
    if (!policyValuesValid(pe.policy, options?.distance)) {
      this.#refuse(ErrorCause.InvalidPoolPolicy, handle, identifier);
    }
    if (pool !== undefined && pe.policy.type !== pool.policyName) {
      this.#refuse(ErrorCause.PoolingPolicyInconsistent, handle, identifier);
    }
  }

  #insert(
    pool: Pool,
    pe: PoolElementParameter,
    options: RegistrationOptions | undefined,
  ): Entry {
    const e = new Entry(pool, pe);
    if (options !== undefined) {
      if (options.homeRegistrarIdentifier !== undefined) {
        e.home = options.homeRegistrarIdentifier | 0;
      }
      if (options.registratorTransport !== undefined) {
        e.registratorTransport = options.registratorTransport;
      }
      if (options.distance !== undefined) e.policy = { ...pe.policy, distance: options.distance };
    }
    e.lastUpdate = options?.now ?? this.#clock();
    applySettings(e, pe.policy, options?.distance);
    pool.byId.add(e.id, e);
    pool.sortedById = null;
    linkNew(pool, e, this.#ctx);
    this.#checksum = (this.#checksum + entryChecksum(e)) >>> 0;
    this.#joinOwner(e);
    if (options?.connection !== undefined) this.#joinConnection(e, options.connection);
    this.#size++;
    return e;
  }

  #update(
    pool: Pool,
    e: Entry,
    pe: PoolElementParameter,
    options: RegistrationOptions | undefined,
  ): void {
    const distance = options?.distance;
    const changed = applySettings(e, pe.policy, distance);
    e.policy = distance === undefined ? pe.policy : { ...pe.policy, distance };
    e.flags = Flag.Registered;
    if (changed || e.deg !== 0) relinkUpdated(pool, e, this.#ctx);
    e.registrationLife = pe.registrationLife;
    e.userTransport = pe.userTransport;
    e.registratorTransport = options?.registratorTransport ?? pe.registratorTransport;
    e.lastUpdate = options?.now ?? this.#clock();
    const connection = options?.connection;
    if (connection !== undefined && connection !== e.connection) {
      this.#leaveConnection(e);
      this.#joinConnection(e, connection);
    }
    const home = (options?.homeRegistrarIdentifier ?? pe.homeRegistrarIdentifier) | 0;
    if (home !== e.home) {
      this.#leaveOwner(e);
      e.home = home;
      this.#joinOwner(e);
    }
  }

  /**
   * Deregisters a pool element. Its timer stops; an emptied pool disappears.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * console.log(hs.deregisterPoolElement("EchoPool", 1)); // undefined (unknown PE)
   * ```
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   * @returns The removed entry (for an ENRP Handle Update), or `undefined` if unknown.
   */
  deregisterPoolElement(
    poolHandle: PoolHandleLike,
    identifier: number,
  ): PoolElementEntry | undefined {
    const pool = this.#findPool(poolHandle);
    const e = pool?.byId.get(identifier | 0);
    if (e === undefined) return undefined;
    this.#remove(e);
    return e;
  }

  /**
   * Removes an entry obtained from this handlespace.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 1,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "Random" },
   * });
   * console.log(hs.removePoolElement(entry), entry.registered, hs.poolCount); // true false 0
   * ```
   *
   * @param entry The entry.
   * @returns `false` if it was not registered (any more).
   */
  removePoolElement(entry: PoolElementEntry): boolean {
    const e = entry as Entry;
    if ((e.flags & Flag.Registered) === 0 || this.#findPool(e.pool.handle) !== e.pool) {
      return false;
    }
    this.#remove(e);
    return true;
  }

  #remove(e: Entry): void {
    const pool = e.pool;
    timerRemove(this.#timers, e);
    this.#leaveOwner(e);
    this.#leaveConnection(e);
    unlink(pool, e);
    pool.byId.delete(e.id);
    pool.sortedById = null;
    this.#checksum = (this.#checksum - entryChecksum(e)) >>> 0;
    this.#size--;
    e.flags &= ~Flag.Registered;
    if (pool.byId.size === 0) this.#removePool(pool);
  }

  /**
   * Finds a pool element.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().findPoolElement("EchoPool", 1)); // undefined
   * ```
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   * @returns The entry, or `undefined`.
   */
  findPoolElement(poolHandle: PoolHandleLike, identifier: number): PoolElementEntry | undefined {
    return this.#findPool(poolHandle)?.byId.get(identifier | 0);
  }

  /**
   * Handle resolution: selects up to `maxItems` PEs of a pool by its policy. `maxItems` 0 means
   * 3; larger values, and 0xffffffff ("as many as possible"), are capped at
   * {@linkcode HandlespaceOptions.maxHandleResolutionItems} (128). Only the first
   * `maxIncrement` selected PEs advance their selection state (RSPLIB's MaxIncrement: a
   * registrar returning 3 PEs of a round-robin pool moves the rotation on by one).
   *
   * @example A pool user's cache advances every PE it returns
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * for (const id of [1, 2, 3]) {
   *   hs.registerPoolElement("P", {
   *     identifier: id,
   *     homeRegistrarIdentifier: 0,
   *     registrationLife: 1000,
   *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *     policy: { type: "RoundRobin" },
   *   });
   * }
   * const pick = (n: number) => hs.handleResolution("P", n, { maxIncrement: 1e9 })!;
   * console.log(pick(2).map((e) => e.identifier)); // [ 1, 2 ]
   * console.log(pick(2).map((e) => e.identifier)); // [ 3, 1 ]
   * ```
   *
   * @param poolHandle The pool handle.
   * @param maxItems Most PEs to return.
   * @param options MaxIncrement, and an array to fill.
   * @returns The selected PEs (possibly none), or `undefined` for an unknown pool (RSPLIB
   *   answers error cause 0x9).
   */
  handleResolution(
    poolHandle: PoolHandleLike,
    maxItems = 3,
    options?: HandleResolutionOptions,
  ): PoolElementEntry[] | undefined {
    const pool = this.#findPool(poolHandle);
    if (pool === undefined) return undefined;
    let items = maxItems >>> 0;
    if (items === 0) items = 3;
    if (items > this.#maxItems) items = this.#maxItems;
    const out = (options?.into as Entry[] | undefined) ?? [];
    const n = select(pool, out, items, options?.maxIncrement ?? 0, this.#ctx);
    if (out.length !== n) out.length = n;
    return out;
  }

  /**
   * Counts an Endpoint Unreachable report; at {@linkcode HandlespaceOptions.maxBadPeReports}
   * reports the PE is removed. The counter survives re-registrations (as in RSPLIB).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace({ maxBadPeReports: 2 });
   * hs.registerPoolElement("P", {
   *   identifier: 9,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * console.log(hs.reportUnreachable("P", 9)?.removed); // false
   * console.log(hs.reportUnreachable("P", 9)?.removed); // true
   * ```
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   * @returns The PE and whether it was removed, or `undefined` for an unknown PE.
   */
  reportUnreachable(poolHandle: PoolHandleLike, identifier: number): UnreachableReport | undefined {
    const e = this.#findPool(poolHandle)?.byId.get(identifier | 0);
    if (e === undefined) return undefined;
    e.unreachabilityReports++;
    const removed = e.unreachabilityReports >= this.#maxBadPeReports;
    if (removed) this.#remove(e);
    return { entry: e, removed };
  }

  /**
   * The policy of a pool.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().poolPolicy("EchoPool")); // undefined
   * ```
   *
   * @param poolHandle The pool handle.
   * @returns Its policy name, or `undefined` for an unknown pool.
   */
  poolPolicy(poolHandle: PoolHandleLike): PolicyName | undefined {
    return this.#findPool(poolHandle)?.policyName;
  }

  /**
   * The number of PEs in a pool.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().poolSize("EchoPool")); // 0
   * ```
   *
   * @param poolHandle The pool handle.
   * @returns The count (0 for an unknown pool).
   */
  poolSize(poolHandle: PoolHandleLike): number {
    return this.#findPool(poolHandle)?.byId.size ?? 0;
  }

  #sortedPoolList(): Pool[] {
    if (this.#sortedPools === null) {
      const pools: Pool[] = [];
      this.#pools.forEach((p) => pools.push(p));
      pools.sort((a, b) => comparePoolHandles(a.handle, b.handle));
      this.#sortedPools = pools;
    }
    return this.#sortedPools;
  }

  #poolById(pool: Pool): Entry[] {
    if (pool.sortedById === null) {
      const list: Entry[] = [];
      pool.byId.forEach((e) => list.push(e));
      pool.sortedById = list.sort((a, b) => (a.id >>> 0) - (b.id >>> 0));
    }
    return pool.sortedById;
  }

  /**
   * The pool handles, in RSPLIB's order (by length, then bytes).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().pools()); // []
   * ```
   *
   * @returns A new array of the (shared) handles.
   */
  pools(): Uint8Array[] {
    return this.#sortedPoolList().map((p) => p.handle);
  }

  /**
   * The PEs of a pool, by identifier.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().poolElements("EchoPool")); // []
   * ```
   *
   * @param poolHandle The pool handle.
   * @returns A new array (empty for an unknown pool).
   */
  poolElements(poolHandle: PoolHandleLike): PoolElementEntry[] {
    const pool = this.#findPool(poolHandle);
    return pool === undefined ? [] : this.#poolById(pool).slice();
  }

  /**
   * All PEs, ordered by (pool handle, identifier).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * for (const entry of new Handlespace()) console.log(entry.identifier);
   * ```
   *
   * @returns An iterator (do not change the handlespace while iterating).
   */
  *[Symbol.iterator](): IterableIterator<PoolElementEntry> {
    for (const pool of this.#sortedPoolList()) yield* this.#poolById(pool);
  }

  // ---- timers -----------------------------------------------------------------------------

  /**
   * Sets the PE's timer (each PE has at most one; a running one is replaced).
   *
   * @example
   * ```ts
   * import { Handlespace, TimerKind } from "./mod.ts";
   * let now = 0;
   * const hs = new Handlespace({ clock: () => now });
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 1,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * hs.setTimer(entry, TimerKind.KeepAliveTransmission, now + 5000);
   * console.log(hs.nextTimerDue()); // 5000
   * now = 5000;
   * console.log(hs.takeExpired().map((e) => e.timerKind)); // [ 1001 ]
   * ```
   *
   * @param entry The PE.
   * @param kind What the timer is for.
   * @param due When it is due (handlespace clock, milliseconds).
   */
  setTimer(entry: PoolElementEntry, kind: TimerKindCode, due: number): void {
    const e = entry as Entry;
    if ((e.flags & Flag.Registered) === 0) return;
    e.timerKind = kind;
    e.timerDue = due;
    if (e.timerIndex >= 0) timerUpdate(this.#timers, e);
    else timerPush(this.#timers, e);
  }

  /**
   * Stops the PE's timer.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 1,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * hs.restartExpiryTimer(entry, 1000);
   * hs.clearTimer(entry);
   * console.log(hs.nextTimerDue()); // undefined
   * ```
   *
   * @param entry The PE.
   */
  clearTimer(entry: PoolElementEntry): void {
    const e = entry as Entry;
    timerRemove(this.#timers, e);
    e.timerKind = TimerKind.None;
  }

  /**
   * Sets the PE's Expiry timer to its last update plus `timeout` (RSPLIB's
   * RestartPoolElementExpiryTimer).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace({ clock: () => 100 });
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 1,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * hs.restartExpiryTimer(entry, entry.registrationLife);
   * console.log(entry.timerDue); // 1100
   * ```
   *
   * @param entry The PE.
   * @param timeout Milliseconds after its last update.
   */
  restartExpiryTimer(entry: PoolElementEntry, timeout: number): void {
    this.setTimer(entry, TimerKind.Expiry, entry.lastUpdate + timeout);
  }

  /**
   * When the next timer is due.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().nextTimerDue()); // undefined
   * ```
   *
   * @returns Milliseconds (handlespace clock), or `undefined` when no timer runs.
   */
  nextTimerDue(): number | undefined {
    return this.#timers[0]?.timerDue;
  }

  /**
   * Takes the timers due at `now`: their PEs, earliest first. The timers stop;
   * `entry.timerKind` and `entry.timerDue` still tell which timer fired.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().takeExpired(1000)); // []
   * ```
   *
   * @param now The time (default: the handlespace clock).
   * @returns The PEs whose timers fired.
   */
  takeExpired(now: number = this.#clock()): PoolElementEntry[] {
    const out: Entry[] = [];
    const heap = this.#timers;
    while (heap.length > 0 && heap[0].timerDue <= now) out.push(timerPop(heap)!);
    return out;
  }

  /**
   * Removes the PEs whose Expiry timer is due (RSPLIB's PurgeExpiredPoolElements; a pool user
   * cache calls it before each selection). Timers of other kinds are left running.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().purgeExpired(1000)); // 0
   * ```
   *
   * @param now The time (default: the handlespace clock).
   * @returns How many PEs were removed.
   */
  purgeExpired(now: number = this.#clock()): number {
    const heap = this.#timers;
    let purged = 0;
    let kept: Entry[] | undefined;
    while (heap.length > 0 && heap[0].timerDue <= now) {
      const e = timerPop(heap)!;
      if (e.timerKind === TimerKind.Expiry) {
        this.#remove(e);
        purged++;
      } else {
        (kept ??= []).push(e);
      }
    }
    if (kept !== undefined) { for (const e of kept) timerPush(heap, e); }
    return purged;
  }

  // ---- ownership and checksums -------------------------------------------------------------

  /**
   * The 16-bit checksum over the PEs of one owner (ENRP Presence; RSPLIB's ownership checksum).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace({ homeRegistrarIdentifier: 5 });
   * hs.registerPoolElement("EchoPoolX", {
   *   identifier: 0x12345678,
   *   homeRegistrarIdentifier: 5,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * console.log(hs.ownershipChecksum().toString(16)); // d1a4
   * ```
   *
   * @param owner The owner (default: {@linkcode Handlespace.homeRegistrarIdentifier}).
   * @returns The checksum (0xffff for no PEs).
   */
  ownershipChecksum(owner: number = this.#home): number {
    return finishChecksum(this.#owners.get(owner | 0)?.checksum ?? 0);
  }

  /**
   * The 16-bit checksum over all PEs.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().handlespaceChecksum().toString(16)); // ffff
   * ```
   *
   * @returns The checksum.
   */
  handlespaceChecksum(): number {
    return finishChecksum(this.#checksum);
  }

  /**
   * The number of PEs an owner has.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().countOwnedBy(7)); // 0
   * ```
   *
   * @param owner The owner's registrar identifier.
   * @returns The count.
   */
  countOwnedBy(owner: number): number {
    return this.#owners.get(owner | 0)?.count ?? 0;
  }

  /**
   * The owners that have PEs.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().owners()); // []
   * ```
   *
   * @returns Registrar identifiers, ascending.
   */
  owners(): number[] {
    return Array.from(this.#owners.keys(), (o) => o >>> 0).sort((a, b) => a - b);
  }

  #ownerSorted(g: OwnerGroup): Entry[] {
    if (g.sorted === null) {
      const list: Entry[] = [];
      for (let e = g.head; e !== null; e = e.ownerNext) list.push(e);
      g.sorted = list.sort(byIdentifierThenHandle);
    }
    return g.sorted;
  }

  /**
   * The PEs of an owner, ordered by (identifier, pool handle).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().poolElementsOwnedBy(7)); // []
   * ```
   *
   * @param owner The owner's registrar identifier.
   * @returns A new array.
   */
  poolElementsOwnedBy(owner: number): PoolElementEntry[] {
    const g = this.#owners.get(owner | 0);
    return g === undefined ? [] : this.#ownerSorted(g).slice();
  }

  /**
   * Changes the owner (home registrar) of one PE.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace({ homeRegistrarIdentifier: 1 });
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 3,
   *   homeRegistrarIdentifier: 2,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * hs.setOwner(entry, 1);
   * console.log(hs.ownedCount); // 1
   * ```
   *
   * @param entry The PE.
   * @param owner The new owner's registrar identifier.
   */
  setOwner(entry: PoolElementEntry, owner: number): void {
    const e = entry as Entry;
    owner |= 0;
    if ((e.flags & Flag.Registered) === 0 || owner === e.home) return;
    this.#leaveOwner(e);
    e.home = owner;
    this.#joinOwner(e);
  }

  /**
   * Re-homes every PE of an owner (takeover of a failed registrar).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace({ homeRegistrarIdentifier: 1 });
   * console.log(hs.rehome(2, 1)); // []
   * ```
   *
   * @param from The failed owner.
   * @param to The new owner.
   * @returns The re-homed PEs, ordered by (identifier, pool handle).
   */
  rehome(from: number, to: number): PoolElementEntry[] {
    const moved = this.poolElementsOwnedBy(from);
    for (const e of moved) this.setOwner(e, to);
    return moved;
  }

  /**
   * Marks every PE of an owner (before an ENRP handle table synchronisation); registering or
   * updating a PE clears its mark.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().markOwnedBy(7)); // 0
   * ```
   *
   * @param owner The owner's registrar identifier.
   * @returns How many PEs were marked.
   */
  markOwnedBy(owner: number): number {
    const g = this.#owners.get(owner | 0);
    if (g === undefined) return 0;
    for (let e = g.head; e !== null; e = e.ownerNext) e.flags |= Flag.Marked;
    return g.count;
  }

  /**
   * Removes the still-marked PEs of an owner (after the synchronisation).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().purgeMarked(7)); // []
   * ```
   *
   * @param owner The owner's registrar identifier.
   * @returns The removed PEs.
   */
  purgeMarked(owner: number): PoolElementEntry[] {
    const g = this.#owners.get(owner | 0);
    const removed: Entry[] = [];
    if (g === undefined) return removed;
    for (let e = g.head; e !== null;) {
      const next: Entry | null = e.ownerNext;
      if ((e.flags & Flag.Marked) !== 0) removed.push(e);
      e = next;
    }
    for (const e of removed) this.#remove(e);
    return removed;
  }

  // ---- connections --------------------------------------------------------------------------

  /**
   * Sets (or, with `undefined`, clears) the connection number of a PE.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * const entry = hs.registerPoolElement("P", {
   *   identifier: 1,
   *   homeRegistrarIdentifier: 0,
   *   registrationLife: 1000,
   *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *   policy: { type: "RoundRobin" },
   * });
   * hs.setConnection(entry, 12);
   * console.log(hs.poolElementsOfConnection(12).length); // 1
   * ```
   *
   * @param entry The PE.
   * @param connection The connection number (a 32-bit integer).
   * @throws {RangeError} When the connection is not a 32-bit integer.
   */
  setConnection(entry: PoolElementEntry, connection: number | undefined): void {
    const e = entry as Entry;
    checkConnection(connection);
    if ((e.flags & Flag.Registered) === 0 || connection === e.connection) return;
    this.#leaveConnection(e);
    if (connection !== undefined) this.#joinConnection(e, connection);
  }

  /**
   * The PEs registered over a connection.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().poolElementsOfConnection(3)); // []
   * ```
   *
   * @param connection The connection number.
   * @returns A new array.
   */
  poolElementsOfConnection(connection: number): PoolElementEntry[] {
    const out: Entry[] = [];
    for (
      let e = this.#connections.get(connection) ?? null;
      e !== null;
      e = e.connectionNext
    ) {
      out.push(e);
    }
    return out;
  }

  /**
   * Deregisters every PE of a connection (its association went away).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * console.log(new Handlespace().deregisterConnection(3)); // []
   * ```
   *
   * @param connection The connection number.
   * @returns The removed PEs.
   */
  deregisterConnection(connection: number): PoolElementEntry[] {
    const removed = this.poolElementsOfConnection(connection) as Entry[];
    for (const e of removed) this.#remove(e);
    return removed;
  }

  // ---- handle table paging -----------------------------------------------------------------

  /**
   * One page of the handle table (ENRP Handle Table Response): up to `maxElements` PEs after
   * the cursor. Pass the last PE you sent as `after` to get the next page; an empty or short
   * page means the end. Like RSPLIB, pages of all PEs follow (pool handle, identifier) and
   * pages of one owner's PEs follow (identifier, pool handle).
   *
   * @example Page through all PEs
   * ```ts
   * import { Handlespace, type HandleTableCursor } from "./mod.ts";
   * const hs = new Handlespace();
   * for (let id = 1; id <= 5; id++) {
   *   hs.registerPoolElement("P", {
   *     identifier: id,
   *     homeRegistrarIdentifier: 0,
   *     registrationLife: 1000,
   *     userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
   *     policy: { type: "RoundRobin" },
   *   });
   * }
   * let after: HandleTableCursor | undefined;
   * for (;;) {
   *   const page = hs.handleTable({ after, maxElements: 2 });
   *   if (page.length === 0) break;
   *   console.log(page.map((e) => e.identifier)); // [1, 2], then [3, 4], then [5]
   *   const last = page[page.length - 1];
   *   after = { poolHandle: last.poolHandle, identifier: last.identifier };
   * }
   * ```
   *
   * @param options Owner filter, cursor and page size.
   * @returns The page.
   */
  handleTable(options: HandleTableOptions = {}): PoolElementEntry[] {
    let max = options.maxElements ?? 128;
    if (max > MAX_HANDLE_TABLE_ELEMENTS) max = MAX_HANDLE_TABLE_ELEMENTS;
    const out: Entry[] = [];
    if (max < 1) return out;
    const after = options.after;
    if (options.owner !== undefined) {
      const g = this.#owners.get(options.owner | 0);
      if (g === undefined) return out;
      const list = this.#ownerSorted(g);
      let lo = 0;
      if (after !== undefined) {
        const id = after.identifier >>> 0;
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          const e = list[mid];
          const eid = e.id >>> 0;
          if (
            eid < id || (eid === id &&
              comparePoolHandles(e.pool.handle, after.poolHandle) <= 0)
          ) lo = mid + 1;
          else hi = mid;
        }
      }
      for (let i = lo; i < list.length && out.length < max; i++) out.push(list[i]);
      return out;
    }
    const pools = this.#sortedPoolList();
    let p = 0;
    let startId = -1;
    if (after !== undefined) {
      let hi = pools.length;
      while (p < hi) {
        const mid = (p + hi) >> 1;
        if (comparePoolHandles(pools[mid].handle, after.poolHandle) < 0) p = mid + 1;
        else hi = mid;
      }
      if (p < pools.length && comparePoolHandles(pools[p].handle, after.poolHandle) === 0) {
        startId = after.identifier >>> 0;
      }
    }
    for (; p < pools.length && out.length < max; p++) {
      const list = this.#poolById(pools[p]);
      let lo = 0;
      if (startId >= 0) {
        let hi = list.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if ((list[mid].id >>> 0) <= startId) lo = mid + 1;
          else hi = mid;
        }
        startId = -1;
      }
      for (let i = lo; i < list.length && out.length < max; i++) out.push(list[i]);
    }
    return out;
  }

  // ---- housekeeping -------------------------------------------------------------------------

  /**
   * Removes every pool element.
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * const hs = new Handlespace();
   * hs.clear();
   * console.log(hs.size); // 0
   * ```
   */
  clear(): void {
    for (const pool of this.#sortedPoolList()) {
      pool.byId.forEach((e) => {
        e.flags &= ~Flag.Registered;
        e.timerIndex = -1;
      });
    }
    this.#pools = new PoolTable();
    this.#size = 0;
    this.#sortedPools = null;
    this.#checksum = 0;
    this.#owners.clear();
    this.#connections = new IdTable();
    this.#timers.length = 0;
  }

  /**
   * Checks every internal invariant (trees, counters, checksums, timers); for tests. O(N log N).
   *
   * @example
   * ```ts
   * import { Handlespace } from "./mod.ts";
   * new Handlespace().verify();
   * ```
   *
   * @throws {Error} When an invariant does not hold.
   */
  verify(): void {
    const fail = (what: string): never => {
      throw new Error(`Cannot verify handlespace: ${what}`);
    };
    let size = 0;
    let checksum = 0;
    const pools = this.#sortedPoolList();
    if (pools.length !== this.#pools.size) fail("pool count");
    for (const pool of pools) {
      if (this.#findPoolBytes(pool.handle) !== pool) fail("pool lookup");
      if (pool.byId.size === 0) fail("empty pool");
      if (pool.info.list) {
        verifyList(pool);
      } else if (pool.info.sorted) {
        verifyTree(pool);
      } else {
        if (pool.slots.length !== pool.byId.size) fail("slot count");
        let sum = 0;
        pool.slots.forEach((e, i) => {
          if (e.k2 !== i) fail("slot index");
          sum += e.k1 >>> 0;
        });
        if (sum !== pool.valueSum) fail("value sum");
      }
      if (pool.info.sorted) {
        let n = 0;
        const next = pool.info.list ? (e: Entry) => e.right : successor;
        for (let e = pool.first; e !== null; e = next(e)) n++;
        if (n !== pool.byId.size) fail("selection size");
      }
      pool.byId.forEach((e) => {
        if (pool.byId.get(e.id) !== e || e.pool !== pool || !e.registered) fail("entry index");
        checksum = (checksum + entryChecksum(e)) >>> 0;
        if (!this.#owners.has(e.home)) fail("owner group");
        if (e.connection !== undefined && this.#connections.get(e.connection) === undefined) {
          fail("connection group");
        }
        if (e.timerIndex >= 0 && this.#timers[e.timerIndex] !== e) fail("timer index");
        size++;
      });
    }
    if (size !== this.#size) fail("size");
    if (checksum !== this.#checksum) fail("handlespace checksum");
    let owned = 0;
    for (const g of this.#owners.values()) {
      let n = 0;
      let sum = 0;
      for (let e = g.head; e !== null; e = e.ownerNext) {
        if (e.home !== g.owner) fail("owner of a listed PE");
        n++;
        sum = (sum + entryChecksum(e)) >>> 0;
      }
      if (n !== g.count || sum !== g.checksum || n === 0) fail("owner group counts");
      owned += n;
    }
    if (owned !== size) fail("owner total");
    this.#connections.forEachEntry((connection, head) => {
      if (head.connectionPrev !== null) fail("connection list head");
      for (let e: Entry | null = head; e !== null; e = e.connectionNext) {
        if (e.connection !== connection) fail("connection of a listed PE");
      }
    });
    this.#timers.forEach((e, i) => {
      if (e.timerIndex !== i || !e.registered) fail("timer heap index");
      if (i > 0 && this.#timers[(i - 1) >> 1].timerDue > e.timerDue) fail("timer heap order");
    });
  }
}
