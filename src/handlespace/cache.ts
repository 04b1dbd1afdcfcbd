/**
 * The pool user's handle resolution cache (RSPLIB's PU-side cache): a handlespace whose entries
 * expire after the stale cache value, selected with the pool's policy and a huge MaxIncrement so
 * that every PE handed out advances.
 *
 * @module
 */

import type { PoolElementParameter } from "../codec/mod.ts";
import { Handlespace } from "./handlespace.ts";
import { HandlespaceError } from "./errors.ts";
import type { RandomSource } from "./random.ts";
import {
  type DegradationMode,
  type PoolElementEntry,
  type PoolHandleLike,
  TimerKind,
} from "./types.ts";

/** MaxIncrement of cache selections (RSPLIB uses 10^9). */
const CACHE_MAX_INCREMENT = 1_000_000_000;

/**
 * Options of {@linkcode PoolUserCache}.
 *
 * @example
 * ```ts
 * import { PoolUserCache, seededRandom, type PoolUserCacheOptions } from "./mod.ts";
 * const options: PoolUserCacheOptions = { random: seededRandom(7) };
 * console.log(new PoolUserCache(options).size); // 0
 * ```
 */
export interface PoolUserCacheOptions {
  /**
   * Clock in milliseconds.
   *
   * @default {() => performance.now()}
   */
  clock?: () => number;
  /**
   * Randomness of the random policies.
   *
   * @default {Math.random}
   */
  random?: RandomSource;
  /**
   * How degradation policies count selections.
   *
   * @default {"rfc5356"}
   */
  degradation?: DegradationMode;
}

/**
 * A pool user's cache of handle resolution results.
 *
 * @example Cache a Handle Resolution Response for 5 s
 * ```ts
 * import { PoolUserCache } from "./mod.ts";
 * let now = 0;
 * const cache = new PoolUserCache({ clock: () => now });
 * const pe = (identifier: number) => ({
 *   identifier,
 *   homeRegistrarIdentifier: 0x10,
 *   registrationLife: 30000,
 *   userTransport: { protocol: "sctp" as const, port: 7, addresses: ["192.0.2.1"] },
 *   policy: { type: "RoundRobin" as const },
 * });
 * cache.add("EchoPool", [pe(1), pe(2)], 5000);
 * console.log(cache.resolve("EchoPool")![0].identifier); // 1
 * console.log(cache.resolve("EchoPool")![0].identifier); // 2
 * now = 5000;
 * console.log(cache.resolve("EchoPool")); // undefined: expired, ask the registrar
 * ```
 */
export class PoolUserCache {
  #hs: Handlespace;

  /**
   * Creates an empty cache.
   *
   * @param options Clock, randomness, degradation mode.
   */
  constructor(options: PoolUserCacheOptions = {}) {
    this.#hs = new Handlespace({
      clock: options.clock,
      random: options.random,
      degradation: options.degradation,
    });
  }

  /** The underlying handlespace. */
  get handlespace(): Handlespace {
    return this.#hs;
  }

  /** Number of cached PEs (including expired ones not purged yet). */
  get size(): number {
    return this.#hs.size;
  }

  /**
   * Adds or refreshes PEs (from a Handle Resolution Response); each expires `staleCacheValue`
   * milliseconds from now. PEs that do not fit the cached pool (another policy) are skipped.
   *
   * @example
   * ```ts
   * import { PoolUserCache } from "./mod.ts";
   * console.log(new PoolUserCache().add("EchoPool", [], 1000)); // 0
   * ```
   *
   * @param poolHandle The pool handle.
   * @param poolElements The PEs.
   * @param staleCacheValue Lifetime in milliseconds.
   * @returns How many PEs were added or refreshed.
   */
  add(
    poolHandle: PoolHandleLike,
    poolElements: Iterable<PoolElementParameter>,
    staleCacheValue: number,
  ): number {
    const hs = this.#hs;
    const now = hs.now();
    let added = 0;
    for (const pe of poolElements) {
      let entry: PoolElementEntry;
      try {
        entry = hs.registerPoolElement(poolHandle, pe, { now });
      } catch (e) {
        if (e instanceof HandlespaceError) continue;
        throw e;
      }
      hs.setTimer(entry, TimerKind.Expiry, now + staleCacheValue);
      added++;
    }
    return added;
  }

  /**
   * Purges expired PEs, then selects up to `maxItems` PEs of the pool with its policy, every
   * selected PE advancing its state.
   *
   * @example
   * ```ts
   * import { PoolUserCache } from "./mod.ts";
   * console.log(new PoolUserCache().resolve("EchoPool")); // undefined
   * ```
   *
   * @param poolHandle The pool handle.
   * @param maxItems Most PEs to return.
   * @returns The PEs, or `undefined` when the cache has none for the pool.
   */
  resolve(poolHandle: PoolHandleLike, maxItems = 1): PoolElementEntry[] | undefined {
    this.#hs.purgeExpired();
    const out = this.#hs.handleResolution(poolHandle, maxItems, {
      maxIncrement: CACHE_MAX_INCREMENT,
    });
    return out !== undefined && out.length > 0 ? out : undefined;
  }

  /**
   * Drops a PE (failure report: the PU could not reach it).
   *
   * @example
   * ```ts
   * import { PoolUserCache } from "./mod.ts";
   * console.log(new PoolUserCache().remove("EchoPool", 1)); // false
   * ```
   *
   * @param poolHandle The pool handle.
   * @param identifier The PE identifier.
   * @returns Whether it was cached.
   */
  remove(poolHandle: PoolHandleLike, identifier: number): boolean {
    return this.#hs.deregisterPoolElement(poolHandle, identifier) !== undefined;
  }

  /**
   * Removes expired PEs.
   *
   * @example
   * ```ts
   * import { PoolUserCache } from "./mod.ts";
   * console.log(new PoolUserCache().purge()); // 0
   * ```
   *
   * @param now The time (default: the cache's clock).
   * @returns How many PEs were removed.
   */
  purge(now?: number): number {
    return this.#hs.purgeExpired(now);
  }
}
