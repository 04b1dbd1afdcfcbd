/**
 * A small seedable pseudo-random generator for the random selection policies, so that tests and
 * simulations can repeat a run.
 *
 * @module
 */

/**
 * A source of uniformly distributed numbers in [0, 1), like `Math.random`.
 *
 * @example
 * ```ts
 * import type { RandomSource } from "./random.ts";
 * const random: RandomSource = Math.random;
 * console.log(random() < 1); // true
 * ```
 */
export type RandomSource = () => number;

/**
 * Makes a deterministic random source (xoshiro128**, 2^128 − 1 period) from a 32-bit seed.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./random.ts";
 * const a = seededRandom(42);
 * const b = seededRandom(42);
 * console.log(a() === b()); // true
 * ```
 *
 * @param seed Any 32-bit integer.
 * @returns A function returning numbers in [0, 1) with 53 random bits.
 */
export function seededRandom(seed: number): RandomSource {
  // SplitMix32 to spread the seed over the 128-bit state.
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = next(), b = next(), c = next(), d = next();
  if ((a | b | c | d) === 0) a = 1;
  const u32 = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  };
  return () => ((u32() >>> 5) * 67108864 + (u32() >>> 6)) / 9007199254740992;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
