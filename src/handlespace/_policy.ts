/**
 * The 18 policies as data: how each orders or weighs its PEs, what a selection changes, and the
 * default MaxIncrement. Semantics follow RSPLIB 3.4.4's policy table (see docs/handlespace.md);
 * the arithmetic (saturation, rounding half to even, double precision) is reproduced so that the
 * deterministic policies order PEs exactly as RSPLIB does.
 *
 * Entry values are uint32 stored as int32 (see _model.ts): read with `>>> 0`, store with `| 0`,
 * keys as `x ^ SIGN`.
 *
 * @module
 */

import { type PolicyName, PolicyType } from "../codec/mod.ts";
import { type Entry, SIGN } from "./_model.ts";

/** 100 % of a load-type value, and the largest weight. */
export const MAX_VALUE = 0xffffffff;

/** How a policy keys (sorted policies) or weighs (value policies) its PEs. */
export const Key = {
  RoundRobin: 0,
  WeightedRoundRobin: 1,
  Priority: 2,
  LeastUsed: 3,
  LeastUsedDegradation: 4,
  PriorityLeastUsed: 5,
  PriorityLeastUsedDegradation: 6,
  LeastUsedDPF: 7,
  LeastUsedDegradationDPF: 8,
  PriorityLeastUsedDPF: 9,
  PriorityLeastUsedDegradationDPF: 10,
  Random: 20,
  WeightedRandom: 21,
  WeightedRandomDPF: 22,
  RandomizedLeastUsed: 23,
  RandomizedLeastUsedDegradation: 24,
  RandomizedPriorityLeastUsed: 25,
  RandomizedPriorityLeastUsedDegradation: 26,
} as const satisfies Record<PolicyName, number>;

/** A policy's behaviour. */
export interface PolicyInfo {
  /** The policy's name. */
  readonly name: PolicyName;
  /** The 32-bit type code. */
  readonly code: number;
  /** Key kind ({@linkcode Key}). */
  readonly key: number;
  /** Selection by sort order (`true`) or by weighted random choice (`false`). */
  readonly sorted: boolean;
  /** The sort order is the sequence order only (RoundRobin): kept as a list. */
  readonly list: boolean;
  /** A selection changes the sort key itself (WRR counters, degradation). */
  readonly keyChangesOnPick: boolean;
  /** MaxIncrement when the caller passes 0. */
  readonly defaultMaxIncrement: number;
  /** Selections add the load degradation to the PE's degradation. */
  readonly degrades: boolean;
  /** Weighted round robin counters. */
  readonly wrr: boolean;
}

function info(name: PolicyName): PolicyInfo {
  const key = Key[name];
  const sorted = key < 20;
  const degrades = name.includes("Degradation");
  const wrr = name === "WeightedRoundRobin";
  return {
    name,
    code: PolicyType[name],
    key,
    sorted,
    list: name === "RoundRobin",
    keyChangesOnPick: wrr || degrades,
    defaultMaxIncrement: name === "Random" || name === "WeightedRandom" ||
        name === "WeightedRandomDPF"
      ? 0
      : 1,
    degrades,
    wrr,
  };
}

/** Every policy by name. */
export const POLICY_INFO: Readonly<Record<PolicyName, PolicyInfo>> = Object.fromEntries(
  (Object.keys(PolicyType) as PolicyName[]).map((name) => [name, info(name)]),
) as Record<PolicyName, PolicyInfo>;

/** C's rint(): round to nearest, ties to even (for non-negative x). */
export function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function saturate(v: number): number {
  return v > MAX_VALUE ? MAX_VALUE : v;
}

/** Load plus distance penalty, rounded and capped as RSPLIB's DPF comparisons do. */
function withDistancePenalty(e: Entry, base: number): number {
  const dpf = (e.distance >>> 0) * ((e.loadDpf >>> 0) / MAX_VALUE);
  return saturate(rint(base + dpf * MAX_VALUE));
}

/** 100 % minus the given load, at least 1 (RSPLIB's value fraction). */
function remainingCapacity(used: number): number {
  return used >= MAX_VALUE ? 1 : MAX_VALUE - used;
}

/** Sets k1/k2 of an entry of a sorted pool from its settings and state. */
export function computeKey(e: Entry, key: number): void {
  switch (key) {
    case Key.RoundRobin:
      e.k1 = 0;
      e.k2 = 0;
      break;
    case Key.WeightedRoundRobin:
      e.k1 = e.round ^ SIGN;
      e.k2 = e.vc ^ SIGN;
      break;
    case Key.Priority: // highest priority first: order by MAX - priority
      e.k1 = ~e.weight ^ SIGN;
      break;
    case Key.LeastUsed:
      e.k1 = e.load ^ SIGN;
      break;
    case Key.LeastUsedDegradation:
      e.k1 = saturate((e.load >>> 0) + (e.deg >>> 0)) ^ SIGN;
      break;
    case Key.PriorityLeastUsed:
      e.k1 = saturate((e.load >>> 0) + (e.loadDegradation >>> 0)) ^ SIGN;
      break;
    case Key.PriorityLeastUsedDegradation:
      e.k1 = saturate((e.load >>> 0) + (e.loadDegradation >>> 0) + (e.deg >>> 0)) ^ SIGN;
      break;
    case Key.LeastUsedDPF:
      e.k1 = withDistancePenalty(e, e.load >>> 0) ^ SIGN;
      break;
    case Key.LeastUsedDegradationDPF:
      e.k1 = withDistancePenalty(e, (e.load >>> 0) + (e.deg >>> 0)) ^ SIGN;
      break;
    case Key.PriorityLeastUsedDPF:
      e.k1 = withDistancePenalty(e, (e.load >>> 0) + (e.loadDegradation >>> 0)) ^ SIGN;
      break;
    default: // PriorityLeastUsedDegradationDPF
      e.k1 = withDistancePenalty(
        e,
        (e.load >>> 0) + (e.loadDegradation >>> 0) + (e.deg >>> 0),
      ) ^ SIGN;
      break;
  }
}

/** The selection weight of an entry of a value pool (an unsigned number). */
export function computeValue(e: Entry, key: number): number {
  switch (key) {
    case Key.Random:
      return 1;
    case Key.WeightedRandom:
      return e.weight >>> 0;
    case Key.WeightedRandomDPF: {
      const weight = e.weight >>> 0;
      const dpf = (e.distance >>> 0) * ((e.weightDpf >>> 0) / MAX_VALUE);
      const v = weight - rint(weight * dpf);
      return v < 0 ? 1 : v;
    }
    case Key.RandomizedLeastUsed:
      return remainingCapacity(e.load >>> 0);
    case Key.RandomizedLeastUsedDegradation:
      return remainingCapacity((e.load >>> 0) + (e.deg >>> 0));
    case Key.RandomizedPriorityLeastUsed:
      return remainingCapacity((e.load >>> 0) + (e.loadDegradation >>> 0));
    default: // RandomizedPriorityLeastUsedDegradation
      return remainingCapacity((e.load >>> 0) + (e.loadDegradation >>> 0) + (e.deg >>> 0));
  }
}

/** One weighted-round-robin step: use up a virtual slot or start the next round. */
export function wrrStep(e: Entry): void {
  const vc = e.vc >>> 0;
  if (vc > 1) {
    e.vc = (vc - 1) | 0;
  } else {
    e.round = (e.round + 1) | 0;
    e.vc = e.weight;
  }
}

/** Adds the load degradation to the degradation (saturating). */
export function degrade(e: Entry): void {
  e.deg = saturate((e.deg >>> 0) + (e.loadDegradation >>> 0)) | 0;
}
