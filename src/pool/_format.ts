/**
 * Text helpers shared by the pool element and pool user code (internal).
 *
 * @module
 */

export { hex8 as hex } from "../common/program.ts";

/** A random 32-bit identifier in 1..0xfffffffe (RSPLIB's PE identifier range). */
export function randomIdentifier(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a); while (a[0] === 0 || a[0] === 0xffffffff);
  return a[0];
}
