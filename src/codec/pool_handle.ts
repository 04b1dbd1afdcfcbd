/**
 * Pool handles: byte strings of 1 to 32 bytes.
 *
 * @module
 */

import { Limits } from "./constants.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/**
 * Makes a pool handle from text (UTF-8) or copies one given as bytes.
 *
 * @example
 * ```ts
 * import { poolHandle } from "./pool_handle.ts";
 * console.log(poolHandle("EchoPool").length); // 8
 * ```
 *
 * @param handle Text or bytes.
 * @returns The handle's bytes.
 * @throws {RangeError} When the handle is empty or longer than 32 bytes.
 */
export function poolHandle(handle: string | Uint8Array): Uint8Array {
  const bytes = typeof handle === "string" ? encoder.encode(handle) : handle.slice();
  if (bytes.length < 1 || bytes.length > Limits.MAX_POOL_HANDLE_SIZE) {
    throw new RangeError(
      `Cannot use pool handle of ${bytes.length} bytes: it must have 1 to 32 bytes`,
    );
  }
  return bytes;
}

/**
 * Shows a pool handle as text when it is printable ASCII, else as hex (like RSPLIB's print).
 *
 * @example
 * ```ts
 * import { formatPoolHandle } from "./pool_handle.ts";
 * console.log(formatPoolHandle(new TextEncoder().encode("EchoPool"))); // EchoPool
 * console.log(formatPoolHandle(new Uint8Array([0, 1]))); // 0x0001
 * ```
 *
 * @param handle The handle.
 * @returns Its text form.
 */
export function formatPoolHandle(handle: Uint8Array): string {
  for (const b of handle) {
    if (b < 0x20 || b > 0x7e) {
      return "0x" + Array.from(handle, (x) => x.toString(16).padStart(2, "0")).join("");
    }
  }
  return decoder.decode(handle);
}

/**
 * Compares two pool handles as RSPLIB orders them: by length, then bytes.
 *
 * @example
 * ```ts
 * import { comparePoolHandles, poolHandle } from "./pool_handle.ts";
 * console.log(comparePoolHandles(poolHandle("B"), poolHandle("AA")) < 0); // true
 * ```
 *
 * @param a First handle.
 * @param b Second handle.
 * @returns Negative, zero or positive.
 */
export function comparePoolHandles(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return 0;
}
