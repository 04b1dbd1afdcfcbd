/**
 * The pool user's handle resolution cache (RSPLIB's PU-side cache, inventory §7.4): pool
 * elements from Handle Resolution Responses, kept for the stale-cache value and selected with
 * the pool's policy.
 *
 * @module
 */

import type { PoolElementParameter } from "../codec/mod.ts";
import { PoolUserCache } from "../handlespace/cache.ts";
import { keyOf } from "../handlespace/_tables.ts";

/**
 * What a pool user needs from its cache. {@linkcode HandlespacePoolElementCache} (the default,
 * RSPLIB's behaviour) and {@linkcode SimplePoolElementCache} implement it.
 *
 * @example
 * ```ts
 * import { type PoolElementCache, SimplePoolElementCache } from "./cache.ts";
 * const cache: PoolElementCache = new SimplePoolElementCache();
 * console.log(cache.select(new TextEncoder().encode("EchoPool"), 1, 0).length); // 0
 * ```
 */
export interface PoolElementCache {
  /**
   * Up to `items` pool elements of a pool, after removing expired entries, as the pool's
   * policy picks them; every returned entry advances the pool's rotation.
   *
   * @param poolHandle The pool handle.
   * @param items How many (at least 1).
   * @param now The clock, in milliseconds.
   * @returns The pool elements (empty when none are cached).
   */
  select(poolHandle: Uint8Array, items: number, now: number): PoolElementParameter[];
  /**
   * Adds or updates pool elements; each expires `lifetime` ms after `now` (0: usable for the
   * lookup that stores it, gone at the next one).
   *
   * @param poolHandle The pool handle.
   * @param poolElements The pool elements.
   * @param lifetime Stale-cache value in milliseconds.
   * @param now The clock, in milliseconds.
   */
  store(
    poolHandle: Uint8Array,
    poolElements: readonly PoolElementParameter[],
    lifetime: number,
    now: number,
  ): void;
  /**
   * Forgets one pool element (after a failure report).
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   */
  remove(poolHandle: Uint8Array, identifier: number): void;
  /** Forgets everything. */
  clear(): void;
}

interface CachedPool {
  entries: Map<number, { pe: PoolElementParameter; expires: number; seq: number }>;
  seq: number;
}

/** A cheap map key of a pool handle: its bytes as a string. */
function key(poolHandle: Uint8Array): string {
  return keyOf(poolHandle);
}

/**
 * A small cache: per pool, the cached pool elements in least-recently-selected order (round
 * robin over the cache). Policy-specific selection (least used, weights) is left to the
 * registrar, which already applied it to the entries it returned.
 *
 * @example
 * ```ts
 * import { SimplePoolElementCache } from "./cache.ts";
 * const ph = new TextEncoder().encode("EchoPool");
 * const pe = (identifier: number) => ({
 *   identifier,
 *   homeRegistrarIdentifier: 0,
 *   registrationLife: 30000,
 *   userTransport: { protocol: "sctp" as const, port: 7, addresses: ["10.0.0.1"] },
 *   policy: { type: "RoundRobin" as const },
 * });
 * const cache = new SimplePoolElementCache();
 * cache.store(ph, [pe(1), pe(2)], 5000, 0);
 * console.log(cache.select(ph, 1, 1)[0].identifier, cache.select(ph, 1, 2)[0].identifier); // 1 2
 * console.log(cache.select(ph, 1, 6000).length); // 0 (expired)
 * ```
 */
export class SimplePoolElementCache implements PoolElementCache {
  #pools = new Map<string, CachedPool>();

  /** Selects up to `items` unexpired pool elements, least recently selected first. */
  select(poolHandle: Uint8Array, items: number, now: number): PoolElementParameter[] {
    const pool = this.#pools.get(key(poolHandle));
    if (pool === undefined) return [];
    for (const [id, e] of pool.entries) {
      if (e.expires < now) pool.entries.delete(id);
    }
    if (pool.entries.size === 0) {
      this.#pools.delete(key(poolHandle));
      return [];
    }
    const picked = [...pool.entries.values()].sort((a, b) => a.seq - b.seq).slice(
      0,
      Math.max(1, items),
    );
    for (const e of picked) e.seq = ++pool.seq;
    return picked.map((e) => e.pe);
  }

  /** Adds or updates pool elements with an expiry of `now + lifetime`. */
  store(
    poolHandle: Uint8Array,
    poolElements: readonly PoolElementParameter[],
    lifetime: number,
    now: number,
  ): void {
    const k = key(poolHandle);
    let pool = this.#pools.get(k);
    if (pool === undefined) {
      pool = { entries: new Map(), seq: 0 };
      this.#pools.set(k, pool);
    }
    for (const pe of poolElements) {
      const old = pool.entries.get(pe.identifier);
      pool.entries.set(pe.identifier, {
        pe,
        expires: now + Math.max(0, lifetime),
        seq: old?.seq ?? ++pool.seq,
      });
    }
  }

  /** Forgets one pool element. */
  remove(poolHandle: Uint8Array, identifier: number): void {
    const k = key(poolHandle);
    const pool = this.#pools.get(k);
    pool?.entries.delete(identifier);
    if (pool?.entries.size === 0) this.#pools.delete(k);
  }

  /** Forgets everything. */
  clear(): void {
    this.#pools.clear();
  }
}

/**
 * RSPLIB's pool user cache: a handlespace (`src/handlespace/`) whose entries expire after the
 * stale-cache value; selections use the pool's policy (round robin, least used, weights, ...)
 * with a huge MaxIncrement, so that every PE handed out advances. The default cache of
 * {@linkcode import("./asap_client.ts").AsapClient}.
 *
 * @example
 * ```ts
 * import { HandlespacePoolElementCache } from "./cache.ts";
 * const ph = new TextEncoder().encode("EchoPool");
 * const pe = (identifier: number) => ({
 *   identifier,
 *   homeRegistrarIdentifier: 0,
 *   registrationLife: 30000,
 *   userTransport: { protocol: "sctp" as const, port: 7, addresses: ["10.0.0.1"] },
 *   policy: { type: "RoundRobin" as const },
 * });
 * const cache = new HandlespacePoolElementCache();
 * cache.store(ph, [pe(1), pe(2)], 5000, 0);
 * console.log(cache.select(ph, 1, 1)[0].identifier, cache.select(ph, 1, 2)[0].identifier); // 1 2
 * console.log(cache.select(ph, 1, 6000).length); // 0 (expired)
 * ```
 */
export class HandlespacePoolElementCache implements PoolElementCache {
  #now = 0;
  #cache = new PoolUserCache({ clock: () => this.#now });

  /** Selects up to `items` unexpired pool elements with the pool's policy. */
  select(poolHandle: Uint8Array, items: number, now: number): PoolElementParameter[] {
    this.#now = now;
    return (this.#cache.resolve(poolHandle, Math.max(1, items)) ?? []).map((e) => e.toParameter());
  }

  /** Adds or updates pool elements with an expiry of `now + lifetime`. */
  store(
    poolHandle: Uint8Array,
    poolElements: readonly PoolElementParameter[],
    lifetime: number,
    now: number,
  ): void {
    this.#now = now;
    this.#cache.add(poolHandle, poolElements, lifetime);
  }

  /** Forgets one pool element. */
  remove(poolHandle: Uint8Array, identifier: number): void {
    this.#cache.remove(poolHandle, identifier);
  }

  /** Forgets everything. */
  clear(): void {
    this.#cache.handlespace.clear();
  }
}
