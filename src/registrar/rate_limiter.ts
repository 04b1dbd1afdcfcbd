/**
 * RSPLIB's registrar rate limits (`-maxhrrate`, `-maxeurate`): per pool user association and
 * action, a hash table of 64 buckets with the last 16 time stamps each; the rate of a bucket is
 * its number of entries divided by the time between its oldest and newest entry.
 *
 * @module
 */

const BUCKETS = 64;
const ENTRIES = 16;

/** The two limited actions. */
export type LimitedAction = "handleResolution" | "endpointUnreachable";

/**
 * RSPLIB's computePHPEHash: XOR of the pool handle's 32-bit words (read little-endian as on x86,
 * the last partial word zero-padded) and the PE identifier.
 */
function hashOf(poolHandle: Uint8Array, identifier: number): number {
  let hash = 0;
  let i = 0;
  for (; i + 4 <= poolHandle.length; i += 4) {
    hash ^= poolHandle[i] | (poolHandle[i + 1] << 8) | (poolHandle[i + 2] << 16) |
      (poolHandle[i + 3] << 24);
  }
  let rest = 0;
  for (let s = 0; i < poolHandle.length; i++, s += 8) rest |= poolHandle[i] << s;
  return ((hash ^ rest ^ identifier) >>> 0);
}

/** Time stamps of one action of one pool user: BUCKETS rings of ENTRIES, oldest first. */
class TimeStampTable {
  readonly #stamps = new Float64Array(BUCKETS * ENTRIES);
  readonly #counts = new Uint8Array(BUCKETS);

  /** Adds `now` to the bucket of `hash` and returns that bucket's rate (per second). */
  note(hash: number, now: number): number {
    const bucket = hash % BUCKETS;
    const base = bucket * ENTRIES;
    const n = this.#counts[bucket];
    const stamps = this.#stamps;
    if (n === 0 || stamps[base + n - 1] <= now) {
      if (n < ENTRIES) {
        stamps[base + n] = now;
        this.#counts[bucket] = n + 1;
      } else {
        stamps.copyWithin(base, base + 1, base + ENTRIES);
        stamps[base + ENTRIES - 1] = now;
      }
    }
    const count = this.#counts[bucket];
    if (count < 2) return 0;
    const duration = stamps[base + count - 1] - stamps[base];
    return duration > 0 ? count / (duration / 1000) : Infinity;
  }
}

/**
 * Decides whether a pool user may do an action now, by RSPLIB's rate rule.
 *
 * @example
 * ```ts
 * import { RateLimiter } from "./rate_limiter.ts";
 * const limiter = new RateLimiter({ handleResolution: 10 });
 * const ph = new TextEncoder().encode("EchoPool");
 * let allowed = 0;
 * for (let i = 0; i < 20; i++) if (limiter.permits(1, "handleResolution", ph, 0, i * 10)) allowed++;
 * console.log(allowed < 20); // true: 100 requests/s exceed 10/s
 * ```
 */
export class RateLimiter {
  readonly #limits: Partial<Record<LimitedAction, number>>;
  readonly #users = new Map<number, Partial<Record<LimitedAction, TimeStampTable>>>();

  /**
   * @param limits Allowed rate per action in requests per second; absent or ≤ 0 = unlimited.
   */
  constructor(limits: Partial<Record<LimitedAction, number>>) {
    this.#limits = limits;
  }

  /** Whether `action` is limited at all. */
  limits(action: LimitedAction): boolean {
    return (this.#limits[action] ?? 0) > 0;
  }

  /**
   * Records one request and says whether it is within the limit.
   *
   * @param user Pool user key (its association id).
   * @param action The action.
   * @param poolHandle Pool handle of the request.
   * @param identifier PE identifier (RSPLIB passes 0 for both actions).
   * @param now Time in ms.
   * @returns `true` when permitted.
   */
  permits(
    user: number,
    action: LimitedAction,
    poolHandle: Uint8Array,
    identifier: number,
    now: number,
  ): boolean {
    const threshold = this.#limits[action] ?? 0;
    if (threshold <= 0) return true;
    let tables = this.#users.get(user);
    if (tables === undefined) {
      tables = {};
      this.#users.set(user, tables);
    }
    const table = tables[action] ??= new TimeStampTable();
    return table.note(hashOf(poolHandle, identifier), now) <= threshold;
  }

  /** Forgets a pool user (its association went away). */
  forget(user: number): void {
    this.#users.delete(user);
  }

  /** Number of pool users tracked. */
  get size(): number {
    return this.#users.size;
  }
}
