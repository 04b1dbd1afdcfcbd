/**
 * 64-bit component ids: a group (registrar, pool element, pool user) in the top byte and an
 * object number in the low 56 bits, as RSPLIB's `CID_COMPOUND`, `CID_GROUP` and `CID_OBJECT`.
 *
 * @module
 */

import { ComponentGroup } from "./constants.ts";

const OBJECT_MASK = 0x00ff_ffff_ffff_ffffn;
const ID_MASK = 0xffff_ffff_ffff_ffffn;

/**
 * Builds a component id from a group and an object number (only its low 56 bits are kept, as
 * RSPLIB does).
 *
 * @example The id a registrar with registrar id 0x12345678 reports under
 * ```ts
 * import { ComponentGroup, componentId } from "./mod.ts";
 * const id = componentId(ComponentGroup.Registrar, 0x12345678);
 * console.log(id.toString(16)); // 100000012345678
 * ```
 *
 * @param group The group ({@linkcode ComponentGroup}), 0..255.
 * @param object The object number: a registrar or PE id, or a random number for a PU.
 * @returns The 64-bit id.
 * @throws {RangeError} When `group` is not an integer in 0..255, or `object` is negative or not
 * an integer.
 */
export function componentId(group: number, object: number | bigint): bigint {
  if (!Number.isInteger(group) || group < 0 || group > 0xff) {
    throw new RangeError(`Cannot build component id: group ${group} is not in 0..255`);
  }
  if (typeof object === "number" && !Number.isSafeInteger(object)) {
    throw new RangeError(`Cannot build component id: object ${object} is not an integer`);
  }
  const o = BigInt(object);
  if (o < 0n) throw new RangeError(`Cannot build component id: object ${o} is negative`);
  return (BigInt(group) << 56n) | (o & OBJECT_MASK);
}

/**
 * The group of a component id (its top byte).
 *
 * @example
 * ```ts
 * import { ComponentGroup, componentGroup, componentId } from "./mod.ts";
 * const id = componentId(ComponentGroup.PoolUser, 42);
 * console.log(componentGroup(id) === ComponentGroup.PoolUser); // true
 * ```
 *
 * @param id The component id.
 * @returns The group, 0..255.
 */
export function componentGroup(id: bigint): number {
  return Number((id & ID_MASK) >> 56n);
}

/**
 * The object number of a component id (its low 56 bits).
 *
 * @example
 * ```ts
 * import { componentId, componentObject } from "./mod.ts";
 * console.log(componentObject(componentId(2, 0xabcdef01))); // 2882400001n
 * ```
 *
 * @param id The component id.
 * @returns The object number.
 */
export function componentObject(id: bigint): bigint {
  return id & OBJECT_MASK;
}

/**
 * A random component id of a group with a non-zero 56-bit object number (RSPLIB gives pool
 * users such ids).
 *
 * @example
 * ```ts
 * import { ComponentGroup, componentObject, randomComponentId } from "./mod.ts";
 * const id = randomComponentId(ComponentGroup.PoolUser);
 * console.log(componentObject(id) !== 0n); // true
 * ```
 *
 * @param group The group ({@linkcode ComponentGroup}).
 * @returns The id.
 */
export function randomComponentId(group: number): bigint {
  const bytes = new Uint8Array(8);
  let object = 0n;
  while (object === 0n) {
    crypto.getRandomValues(bytes);
    object = new DataView(bytes.buffer).getBigUint64(0) & OBJECT_MASK;
  }
  return componentId(group, object);
}

/**
 * Describes a component id the way RSPLIB's monitor shows it: `PR $0000abcd`, `PE $0000abcd`,
 * `PU $00000000abcdef` (14 hex digits), or `ID $        abcdef` for an unknown group.
 *
 * @example
 * ```ts
 * import { ComponentGroup, componentId, describeComponentId } from "./mod.ts";
 * console.log(describeComponentId(componentId(ComponentGroup.Registrar, 0xabcd))); // PR $0000abcd
 * ```
 *
 * @param id The component id.
 * @returns The description.
 */
export function describeComponentId(id: bigint): string {
  const object = componentObject(id).toString(16);
  switch (componentGroup(id)) {
    case ComponentGroup.Registrar:
      return `PR $${object.padStart(8, "0")}`;
    case ComponentGroup.PoolElement:
      return `PE $${object.padStart(8, "0")}`;
    case ComponentGroup.PoolUser:
      return `PU $${object.padStart(14, "0")}`;
    default:
      return `ID $${object.padStart(14, " ")}`;
  }
}
