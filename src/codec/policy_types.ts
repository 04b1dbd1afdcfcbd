/**
 * The 18 pool member selection policies of RSPLIB (RFC 5356 plus RSPLIB's vendor types):
 * their type codes, names and wire layouts.
 *
 * @module
 */

/**
 * Policy type codes: RFC 5356 (0x0000000x, 0x4000000x) and RSPLIB's vendor codes (0xb000xxxx).
 *
 * @example
 * ```ts
 * import { PolicyType } from "./policy_types.ts";
 * console.log(PolicyType.LeastUsed.toString(16)); // 40000001
 * ```
 */
export const PolicyType = {
  RoundRobin: 0x00000001,
  WeightedRoundRobin: 0x00000002,
  Random: 0x00000003,
  WeightedRandom: 0x00000004,
  Priority: 0x00000005,
  LeastUsed: 0x40000001,
  LeastUsedDegradation: 0x40000002,
  PriorityLeastUsed: 0x40000003,
  RandomizedLeastUsed: 0x40000004,
  RandomizedPriorityLeastUsed: 0xb0001001,
  RandomizedLeastUsedDegradation: 0xb0001002,
  PriorityLeastUsedDegradation: 0xb0001003,
  RandomizedPriorityLeastUsedDegradation: 0xb0001004,
  WeightedRandomDPF: 0xb0002001,
  LeastUsedDPF: 0xb0002002,
  LeastUsedDegradationDPF: 0xb0002003,
  PriorityLeastUsedDPF: 0xb0002004,
  PriorityLeastUsedDegradationDPF: 0xb0002005,
} as const;

/**
 * Name of a pool member selection policy, e.g. `"RoundRobin"`.
 *
 * @example Pick the adaptive policies
 * ```ts
 * import { isAdaptivePolicy, type PolicyName } from "./policy_types.ts";
 * const names: PolicyName[] = ["RoundRobin", "LeastUsed", "WeightedRandom"];
 * console.log(names.filter((name) => isAdaptivePolicy(name))); // [ "LeastUsed" ]
 * ```
 */
export type PolicyName = keyof typeof PolicyType;

/**
 * A 32-bit field of a policy parameter, in wire order.
 *
 * @example A policy's values in wire order
 * ```ts
 * import { POLICY_FIELDS, type PolicyField, type PoolPolicy } from "./policy_types.ts";
 * const policy: PoolPolicy = { type: "LeastUsedDegradation", load: 0x40000000 };
 * const fields: readonly PolicyField[] = POLICY_FIELDS[policy.type];
 * console.log(fields.map((field) => policy[field] ?? 0)); // [ 1073741824, 0 ]
 * ```
 */
export type PolicyField =
  | "weight"
  | "priority"
  | "load"
  | "loadDegradation"
  | "loadDpf"
  | "weightDpf"
  | "distance";

/**
 * A pool member selection policy with its per-PE settings, as carried in a Pool Member Selection
 * Policy parameter. Only the fields of the policy's layout ({@linkcode POLICY_FIELDS}) are
 * encoded; absent ones count as 0.
 *
 * Load-type values (`load`, `loadDegradation`, `loadDpf`, `weightDpf`) are 32-bit fractions:
 * 0xffffffff is 100 %. `distance` is in milliseconds.
 *
 * @example A least-used PE at 25 % load
 * ```ts
 * import type { PoolPolicy } from "./policy_types.ts";
 * const policy: PoolPolicy = { type: "LeastUsed", load: 0x40000000 };
 * console.log(policy.type);
 * ```
 */
export interface PoolPolicy {
  /** Which policy. */
  type: PolicyName;
  /** Weight (WeightedRoundRobin, WeightedRandom, WeightedRandomDPF). */
  weight?: number;
  /** Priority, highest first (Priority). RSPLIB keeps it in its weight field. */
  priority?: number;
  /** Current load, 0xffffffff = 100 % (least-used family). */
  load?: number;
  /** Load degradation per selection, or static load offset of the priority variants. */
  loadDegradation?: number;
  /** Load penalty per millisecond of distance (DPF variants). */
  loadDpf?: number;
  /** Weight penalty per millisecond of distance (WeightedRandomDPF). */
  weightDpf?: number;
  /** Distance in milliseconds (DPF variants). */
  distance?: number;
}

/**
 * The 32-bit fields that follow the policy type on the wire, per policy.
 *
 * RSPLIB has no layout for PriorityLeastUsedDPF and PriorityLeastUsedDegradationDPF (its encoder
 * fails, its decoder answers "unsupported policy"); this project encodes both like
 * LeastUsedDegradationDPF (see docs/compatibility.md).
 *
 * @example The fields of a policy
 * ```ts
 * import { POLICY_FIELDS } from "./policy_types.ts";
 * console.log(POLICY_FIELDS.WeightedRandomDPF); // [ "weight", "weightDpf", "distance" ]
 * console.log(POLICY_FIELDS.RoundRobin.length); // 0
 * ```
 */
export const POLICY_FIELDS: Readonly<Record<PolicyName, readonly PolicyField[]>> = {
  RoundRobin: [],
  WeightedRoundRobin: ["weight"],
  Random: [],
  WeightedRandom: ["weight"],
  Priority: ["priority"],
  LeastUsed: ["load"],
  LeastUsedDegradation: ["load", "loadDegradation"],
  PriorityLeastUsed: ["load", "loadDegradation"],
  RandomizedLeastUsed: ["load"],
  RandomizedPriorityLeastUsed: ["load", "loadDegradation"],
  RandomizedLeastUsedDegradation: ["load", "loadDegradation"],
  PriorityLeastUsedDegradation: ["load", "loadDegradation"],
  RandomizedPriorityLeastUsedDegradation: ["load", "loadDegradation"],
  WeightedRandomDPF: ["weight", "weightDpf", "distance"],
  LeastUsedDPF: ["load", "loadDpf", "distance"],
  LeastUsedDegradationDPF: ["load", "loadDegradation", "loadDpf", "distance"],
  PriorityLeastUsedDPF: ["load", "loadDegradation", "loadDpf", "distance"],
  PriorityLeastUsedDegradationDPF: ["load", "loadDegradation", "loadDpf", "distance"],
};

/**
 * Policies that RSPLIB 3.4.4 cannot put on the wire (it rejects them as unsupported).
 *
 * @example Warn about a policy RSPLIB cannot handle
 * ```ts
 * import { type PolicyName, RSPLIB_UNENCODABLE_POLICIES } from "./policy_types.ts";
 * const policy: PolicyName = "PriorityLeastUsedDPF";
 * if (RSPLIB_UNENCODABLE_POLICIES.has(policy)) console.log(`${policy}: not for RSPLIB peers`); // PriorityLeastUsedDPF: not for RSPLIB peers
 * ```
 */
export const RSPLIB_UNENCODABLE_POLICIES: ReadonlySet<PolicyName> = new Set([
  "PriorityLeastUsedDPF",
  "PriorityLeastUsedDegradationDPF",
]);

const NAME_BY_CODE: ReadonlyMap<number, PolicyName> = new Map(
  (Object.entries(PolicyType) as [PolicyName, number][]).map(([name, code]) => [code, name]),
);

/**
 * Looks up a policy name by its type code.
 *
 * @example
 * ```ts
 * import { policyNameOf } from "./policy_types.ts";
 * console.log(policyNameOf(0x40000001)); // LeastUsed
 * console.log(policyNameOf(0x1234)); // undefined
 * ```
 *
 * @param code The 32-bit policy type code.
 * @returns The name, or `undefined` for an unknown code.
 */
export function policyNameOf(code: number): PolicyName | undefined {
  return NAME_BY_CODE.get(code);
}

/**
 * Whether a policy adapts to load (RSPLIB's `PPT_IS_ADAPTIVE`): a pool element re-registers when
 * its load changes and reports its load by CSP.
 *
 * @example
 * ```ts
 * import { isAdaptivePolicy } from "./policy_types.ts";
 * console.log(isAdaptivePolicy("LeastUsed"), isAdaptivePolicy("RoundRobin")); // true false
 * ```
 *
 * @param name The policy.
 * @returns `true` for the least-used family.
 */
export function isAdaptivePolicy(name: PolicyName): boolean {
  return POLICY_FIELDS[name].includes("load");
}
