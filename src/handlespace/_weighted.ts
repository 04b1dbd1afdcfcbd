/**
 * The selection structure of a value (random) pool: PEs in a dense slot array and their
 * selection values in a Fenwick tree, so that a weighted random choice, a removal and a value
 * change are O(log n). Values are integers below 2^32; sums stay exact below 2^53.
 *
 * An entry of a value pool keeps its value in `k1` (uint32 as int32) and its slot in `k2`.
 *
 * @module
 */

import type { Entry, Pool } from "./_model.ts";

function add(tree: Float64Array, index: number, delta: number): void {
  const n = tree.length;
  for (let i = index; i < n; i += i & -i) tree[i] += delta;
}

function rebuild(pool: Pool, capacity: number): void {
  const tree = new Float64Array(capacity + 1);
  const slots = pool.slots;
  for (let i = 1; i <= slots.length; i++) tree[i] += slots[i - 1].k1 >>> 0;
  for (let i = 1; i <= capacity; i++) {
    const j = i + (i & -i);
    if (j <= capacity) tree[j] += tree[i];
  }
  pool.fenwick = tree;
}

/** Adds an entry with the given value. */
export function valueInsert(pool: Pool, e: Entry, value: number): void {
  const slot = pool.slots.length;
  pool.slots.push(e);
  e.k2 = slot;
  e.k1 = value | 0;
  pool.valueSum += value;
  if (slot + 1 >= pool.fenwick.length) {
    rebuild(pool, Math.max(8, pool.fenwick.length * 2));
  } else {
    add(pool.fenwick, slot + 1, value);
  }
}

/** Removes an entry (the last slot's entry takes its place). */
export function valueRemove(pool: Pool, e: Entry): void {
  const slots = pool.slots;
  const tree = pool.fenwick;
  const lastSlot = slots.length - 1;
  const last = slots.pop()!;
  const value = e.k1 >>> 0;
  if (last !== e) {
    const lastValue = last.k1 >>> 0;
    add(tree, lastSlot + 1, -lastValue);
    add(tree, e.k2 + 1, lastValue - value);
    slots[e.k2] = last;
    last.k2 = e.k2;
  } else {
    add(tree, lastSlot + 1, -value);
  }
  pool.valueSum -= value;
  e.k2 = -1;
  e.k1 = 0;
  if (slots.length === 0) pool.valueSum = 0;
}

/** Changes an entry's value. */
export function valueSet(pool: Pool, e: Entry, value: number): void {
  const delta = value - (e.k1 >>> 0);
  if (delta === 0) return;
  add(pool.fenwick, e.k2 + 1, delta);
  pool.valueSum += delta;
  e.k1 = value | 0;
}

/** The entry owning `target` in [0, valueSum): the one whose value range contains it. */
export function valueFind(pool: Pool, target: number): Entry {
  const tree = pool.fenwick;
  const capacity = tree.length - 1;
  let pos = 0;
  for (let step = 1 << (31 - Math.clz32(capacity)); step > 0; step >>= 1) {
    const next = pos + step;
    if (next <= capacity && tree[next] <= target) {
      pos = next;
      target -= tree[next];
    }
  }
  const slots = pool.slots;
  return slots[pos < slots.length ? pos : slots.length - 1];
}
