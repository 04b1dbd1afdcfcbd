/**
 * The ENRP handlespace checksum of RSPLIB (16 bits, RFC 1071 style): a 32-bit accumulator of
 * 16-bit big-endian words over each pool element's pool handle and identifier, summed over a set
 * of pool elements and folded at the end.
 *
 * @module
 */

/**
 * Computes the checksum accumulator of one pool element: the sum of the 16-bit big-endian words
 * of its pool handle (an odd last byte is padded with zero) plus the two words of its identifier.
 *
 * @example
 * ```ts
 * import { finishChecksum, poolElementChecksum } from "./checksum.ts";
 * const acc = poolElementChecksum(new TextEncoder().encode("EchoPoolX"), 0x12345678);
 * console.log(finishChecksum(acc).toString(16)); // d1a4
 * ```
 *
 * @param poolHandle The pool handle's bytes.
 * @param identifier The 32-bit pool element identifier.
 * @returns The 32-bit accumulator (add accumulators with {@linkcode addChecksums}).
 */
export function poolElementChecksum(poolHandle: Uint8Array, identifier: number): number {
  return (poolHandleWordSum(poolHandle) + (identifier >>> 16) + (identifier & 0xffff)) >>> 0;
}

/**
 * Sums the 16-bit big-endian words of a pool handle, the first half of
 * {@linkcode poolElementChecksum}.
 *
 * @example
 * ```ts
 * import { poolHandleWordSum } from "./checksum.ts";
 * console.log(poolHandleWordSum(new Uint8Array([0x12, 0x34, 0x56])).toString(16)); // 6834
 * ```
 *
 * @param poolHandle The pool handle's bytes.
 * @returns The sum (at most 16 words, so it needs no wrapping).
 */
export function poolHandleWordSum(poolHandle: Uint8Array): number {
  let sum = 0;
  const n = poolHandle.length;
  let i = 0;
  for (; i + 1 < n; i += 2) sum += (poolHandle[i] << 8) | poolHandle[i + 1];
  if (i < n) sum += poolHandle[i] << 8;
  return sum;
}

/**
 * Adds two checksum accumulators (modulo 2^32, as RSPLIB does).
 *
 * @example
 * ```ts
 * import { addChecksums } from "./checksum.ts";
 * console.log(addChecksums(0xffffffff, 2)); // 1
 * ```
 *
 * @param a First accumulator.
 * @param b Second accumulator.
 * @returns The sum.
 */
export function addChecksums(a: number, b: number): number {
  return (a + b) >>> 0;
}

/**
 * Folds an accumulator to 16 bits and complements it: the value of a PE Checksum parameter.
 *
 * @example
 * ```ts
 * import { finishChecksum } from "./checksum.ts";
 * console.log(finishChecksum(0).toString(16)); // ffff
 * ```
 *
 * @param accumulator The 32-bit accumulator.
 * @returns The 16-bit checksum (as a number; big-endian on the wire).
 */
export function finishChecksum(accumulator: number): number {
  let sum = accumulator >>> 0;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
