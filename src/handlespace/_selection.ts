/**
 * Selection engine (RSPLIB's poolPolicySelectPoolElementNodes{BySortingOrder,ByValueTree}):
 * linking, re-linking and unlinking PEs and choosing PEs for a handle resolution.
 *
 * @module
 */

import type { PoolPolicy } from "../codec/mod.ts";
import { type Entry, type Pool, SEQ_START, SIGN } from "./_model.ts";
import { computeKey, computeValue, degrade, MAX_VALUE, wrrStep } from "./_policy.ts";
import { insert, listAppend, listRemove, remove, reposition, successor } from "./_sorted.ts";
import { valueFind, valueInsert, valueRemove, valueSet } from "./_weighted.ts";
import type { RandomSource } from "./random.ts";

/** What the engine needs from the handlespace. */
export interface EngineContext {
  random: RandomSource;
  /** RSPLIB's degradation counting (see DegradationMode). */
  rsplibDegradation: boolean;
}

/** The weight field: RSPLIB keeps a Priority policy's priority there. */
function weightOf(policy: PoolPolicy): number | undefined {
  return policy.type === "Priority" ? policy.priority ?? policy.weight : policy.weight;
}

function valid(v: number | undefined): boolean {
  return v === undefined || (Number.isInteger(v) && v >= 0 && v <= MAX_VALUE);
}

/** Whether all values of a policy are 32-bit unsigned integers. */
export function policyValuesValid(policy: PoolPolicy, distance: number | undefined): boolean {
  return valid(weightOf(policy)) && valid(policy.load) && valid(policy.loadDegradation) &&
    valid(policy.loadDpf) && valid(policy.weightDpf) && valid(distance ?? policy.distance);
}

/** Copies policy settings into the entry; returns whether any changed. */
export function applySettings(e: Entry, policy: PoolPolicy, distance: number | undefined): boolean {
  const weight = (weightOf(policy) ?? 0) | 0;
  const load = (policy.load ?? 0) | 0;
  const loadDegradation = (policy.loadDegradation ?? 0) | 0;
  const loadDpf = (policy.loadDpf ?? 0) | 0;
  const weightDpf = (policy.weightDpf ?? 0) | 0;
  const dist = (distance ?? policy.distance ?? 0) | 0;
  const changed = weight !== e.weight || load !== e.load || loadDegradation !== e.loadDegradation ||
    loadDpf !== e.loadDpf || weightDpf !== e.weightDpf || dist !== e.distance;
  e.weight = weight;
  e.load = load;
  e.loadDegradation = loadDegradation;
  e.loadDpf = loadDpf;
  e.weightDpf = weightDpf;
  e.distance = dist;
  return changed;
}

/** What RSPLIB does whenever it links a PE into the selection order. */
function linkHook(pool: Pool, e: Entry, ctx: EngineContext): void {
  const info = pool.info;
  if (info.wrr) wrrStep(e);
  else if (info.degrades && info.sorted && ctx.rsplibDegradation) degrade(e);
}

/** Renumbers the pool's sequence numbers in selection order (RSPLIB, before a wrap). */
function resequence(pool: Pool): void {
  let seq = 0;
  if (pool.info.list) {
    for (let e = pool.first; e !== null; e = e.right) e.sq = seq++ ^ SIGN;
  } else if (pool.info.sorted) {
    for (let e = pool.first; e !== null; e = successor(e)) e.sq = seq++ ^ SIGN;
  } else {
    const byId = pool.slots.slice().sort((a, b) => (a.id >>> 0) - (b.id >>> 0));
    for (const e of byId) e.sq = seq++ ^ SIGN;
  }
  pool.globalSeq = seq;
}

/** Gives an entry the pool's next sequence number. */
function takeSeq(pool: Pool, e: Entry): void {
  const s = pool.globalSeq;
  pool.globalSeq = (s + 1) >>> 0;
  e.sq = s ^ SIGN;
}

/** Links a new PE (settings applied) into its pool's selection. */
export function linkNew(pool: Pool, e: Entry, ctx: EngineContext): void {
  const info = pool.info;
  if (((pool.globalSeq + 1) >>> 0) < pool.globalSeq) resequence(pool);
  takeSeq(pool, e);
  if (info.list) {
    listAppend(pool, e);
    return;
  }
  if (info.wrr) {
    e.round = pool.first === null ? SEQ_START | 0 : pool.first.round;
    e.vc = e.weight;
  }
  linkHook(pool, e, ctx);
  if (info.sorted) {
    computeKey(e, info.key);
    insert(pool, e);
  } else {
    valueInsert(pool, e, computeValue(e, info.key));
  }
}

/**
 * Re-links a PE after an update (RSPLIB: only when its settings changed or it had degradation):
 * the degradation resets, the virtual counter is capped by the weight.
 */
export function relinkUpdated(pool: Pool, e: Entry, ctx: EngineContext): void {
  const info = pool.info;
  e.deg = 0;
  if ((e.vc >>> 0) > (e.weight >>> 0)) e.vc = e.weight;
  if (info.list) return; // the sequence number alone places it
  linkHook(pool, e, ctx);
  if (info.sorted) {
    computeKey(e, info.key);
    reposition(pool, e);
  } else {
    valueSet(pool, e, computeValue(e, info.key));
  }
}

/** Unlinks a PE from its pool's selection. */
export function unlink(pool: Pool, e: Entry): void {
  const info = pool.info;
  if (info.list) listRemove(pool, e);
  else if (info.sorted) remove(pool, e);
  else valueRemove(pool, e);
}

/**
 * Selects up to `maxItems` PEs into `out` (from index 0); the first `maxIncrement` of them
 * (0: the policy's default) advance their state. Returns how many were selected.
 */
export function select(
  pool: Pool,
  out: Entry[],
  maxItems: number,
  maxIncrement: number,
  ctx: EngineContext,
): number {
  if (maxItems < 1) return 0;
  const info = pool.info;
  if (maxIncrement <= 0) maxIncrement = info.defaultMaxIncrement;
  if (((pool.globalSeq + maxItems) >>> 0) < pool.globalSeq) resequence(pool);
  if (info.list) return selectList(pool, out, maxItems, maxIncrement);
  return info.sorted
    ? selectSorted(pool, out, maxItems, maxIncrement, ctx)
    : selectByValue(pool, out, maxItems, maxIncrement, ctx);
}

function selectList(pool: Pool, out: Entry[], maxItems: number, maxIncrement: number): number {
  let n = 0;
  for (let e = pool.first; e !== null && n < maxItems; e = e.right) out[n++] = e;
  const updates = n < maxIncrement ? n : maxIncrement;
  for (let i = 0; i < updates; i++) {
    const e = out[i];
    takeSeq(pool, e);
    e.selectionCounter++;
    if (e !== pool.last) {
      listRemove(pool, e);
      listAppend(pool, e);
    }
  }
  return n;
}

function selectSorted(
  pool: Pool,
  out: Entry[],
  maxItems: number,
  maxIncrement: number,
  ctx: EngineContext,
): number {
  const info = pool.info;
  if (info.wrr && pool.first !== null) {
    // RSPLIB renormalises the rounds before they wrap.
    const lowest = pool.first.round >>> 0;
    if (((lowest + 2) >>> 0) < lowest) {
      for (let e: Entry | null = pool.first; e !== null; e = successor(e)) {
        e.round = (e.round - lowest) | 0;
        e.k1 = e.round ^ SIGN;
      }
    }
  }
  let n = 0;
  for (let e = pool.first; e !== null && n < maxItems; e = successor(e)) out[n++] = e;
  const updates = n < maxIncrement ? n : maxIncrement;
  const keyChanges = info.keyChangesOnPick;
  const twice = info.degrades && ctx.rsplibDegradation;
  for (let i = 0; i < updates; i++) {
    const e = out[i];
    takeSeq(pool, e);
    e.selectionCounter++;
    if (keyChanges) {
      if (info.wrr) {
        wrrStep(e);
        wrrStep(e);
      } else {
        degrade(e);
        if (twice) degrade(e);
      }
      computeKey(e, info.key);
    }
    reposition(pool, e);
  }
  return n;
}

function selectByValue(
  pool: Pool,
  out: Entry[],
  maxItems: number,
  maxIncrement: number,
  ctx: EngineContext,
): number {
  const info = pool.info;
  const size = pool.slots.length;
  const count = size < maxItems ? size : maxItems;
  const degrades = info.degrades && !ctx.rsplibDegradation;
  const random = ctx.random;
  let n = 0;
  for (let i = 0; i < count; i++) {
    const sum = pool.valueSum;
    if (sum < 1) break;
    let target = Math.floor(random() * sum);
    if (target >= sum) target = sum - 1;
    const e = valueFind(pool, target);
    takeSeq(pool, e);
    e.selectionCounter++;
    if (degrades && n < maxIncrement) degrade(e);
    valueSet(pool, e, 0);
    out[n++] = e;
  }
  for (let i = 0; i < n; i++) {
    const e = out[i];
    valueSet(pool, e, computeValue(e, info.key));
  }
  return n;
}
