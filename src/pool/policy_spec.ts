/**
 * `rspserver`'s `-policy=` specifications (RSPLIB's rspserver.cc): a policy name with its
 * parameters, fractions given as 0..1.
 *
 * @module
 */

import { Limits, type PoolPolicy } from "../codec/mod.ts";

const MAX = Limits.MAX_UINT32;

function fraction(text: string, what: string, spec: string): number {
  const v = Number(text);
  if (text.trim() === "" || !Number.isFinite(v) || v < 0 || v > 1) {
    throw new RangeError(`Cannot use policy "${spec}": bad ${what} "${text}" (0 to 1)`);
  }
  return Math.round(v * MAX);
}

function uint(text: string, what: string, spec: string): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) > MAX) {
    throw new RangeError(`Cannot use policy "${spec}": bad ${what} "${text}" (0 to 4294967295)`);
  }
  return Number(text);
}

/**
 * Parses a policy specification as `rspserver -policy=` accepts it: `RoundRobin`, `Random`,
 * `LeastUsed`, `RandomizedLeastUsed`, `RandomizedPriorityLeastUsed`,
 * `LeastUsedDegradation:<deg>`, `PriorityLeastUsed:<deg>`, `PriorityLeastUsedDegradation:<deg>`,
 * `LeastUsedDPF:<dpf>`, `LeastUsedDegradationDPF:<deg>:<dpf>`,
 * `PriorityLeastUsedDegradationDPF:<deg>:<dpf>`, `WeightedRoundRobin:<weight>`,
 * `Priority:<priority>`, `WeightedRandom:<weight>`, `WeightedRandomDPF:<weight>:<dpf>`.
 * Degradations and DPF values are fractions 0..1 (scaled to 0..0xffffffff).
 *
 * @example
 * ```ts
 * import { parsePolicySpec } from "./policy_spec.ts";
 * console.log(parsePolicySpec("WeightedRoundRobin:3")); // { type: "WeightedRoundRobin", weight: 3 }
 * console.log(parsePolicySpec("LeastUsedDegradation:0.5").loadDegradation); // 2147483648
 * ```
 *
 * @param spec The specification.
 * @returns The policy (load 0).
 * @throws {RangeError} For anything else, naming the problem.
 */
export function parsePolicySpec(spec: string): PoolPolicy {
  const [name, ...args] = spec.split(":");
  const want = (n: number) => {
    if (args.length !== n) {
      throw new RangeError(
        `Cannot use policy "${spec}": ${name} takes ${n} parameter${n === 1 ? "" : "s"}`,
      );
    }
  };
  switch (name) {
    case "RoundRobin":
    case "Random":
      want(0);
      return { type: name };
    case "LeastUsed":
    case "RandomizedLeastUsed":
      want(0);
      return { type: name, load: 0 };
    case "RandomizedPriorityLeastUsed":
      want(0);
      return { type: name, load: 0, loadDegradation: 0 };
    case "LeastUsedDegradation":
    case "PriorityLeastUsed":
    case "PriorityLeastUsedDegradation":
      want(1);
      return { type: name, load: 0, loadDegradation: fraction(args[0], "degradation", spec) };
    case "LeastUsedDPF":
      want(1);
      return { type: name, load: 0, loadDpf: fraction(args[0], "DPF value", spec), distance: 0 };
    case "LeastUsedDegradationDPF":
    case "PriorityLeastUsedDegradationDPF":
      want(2);
      return {
        type: name,
        load: 0,
        loadDegradation: fraction(args[0], "degradation", spec),
        loadDpf: fraction(args[1], "DPF value", spec),
        distance: 0,
      };
    case "WeightedRoundRobin":
    case "WeightedRandom":
      want(1);
      return { type: name, weight: uint(args[0], "weight", spec) };
    case "Priority":
      want(1);
      return { type: name, priority: uint(args[0], "priority", spec) };
    case "WeightedRandomDPF":
      want(2);
      return {
        type: name,
        weight: uint(args[0], "weight", spec),
        weightDpf: fraction(args[1], "DPF value", spec),
        distance: 0,
      };
    default:
      throw new RangeError(`Cannot use policy "${spec}": unknown policy`);
  }
}
