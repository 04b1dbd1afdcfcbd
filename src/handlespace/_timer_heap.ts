/**
 * The timer structure: a binary min-heap of entries ordered by (due time, identifier, pool
 * handle), the order of RSPLIB's timer tree. Each entry knows its heap index, so setting,
 * moving and clearing a timer are O(log n); the next due timer is O(1).
 *
 * @module
 */

import { comparePoolHandles } from "../codec/mod.ts";
import type { Entry } from "./_model.ts";

function before(a: Entry, b: Entry): boolean {
  if (a.timerDue !== b.timerDue) return a.timerDue < b.timerDue;
  if (a.id !== b.id) return (a.id >>> 0) < (b.id >>> 0);
  return comparePoolHandles(a.pool.handle, b.pool.handle) < 0;
}

function up(heap: Entry[], i: number): void {
  const e = heap[i];
  while (i > 0) {
    const p = (i - 1) >> 1;
    const parent = heap[p];
    if (!before(e, parent)) break;
    heap[i] = parent;
    parent.timerIndex = i;
    i = p;
  }
  heap[i] = e;
  e.timerIndex = i;
}

function down(heap: Entry[], i: number): void {
  const n = heap.length;
  const e = heap[i];
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && before(heap[r], heap[l]) ? r : l;
    const child = heap[c];
    if (!before(child, e)) break;
    heap[i] = child;
    child.timerIndex = i;
    i = c;
  }
  heap[i] = e;
  e.timerIndex = i;
}

/** Adds an entry whose timerDue is set and which has no timer in the heap. */
export function timerPush(heap: Entry[], e: Entry): void {
  heap.push(e);
  up(heap, heap.length - 1);
}

/** Removes an entry's timer from the heap (no-op when it has none). */
export function timerRemove(heap: Entry[], e: Entry): void {
  const i = e.timerIndex;
  if (i < 0) return;
  e.timerIndex = -1;
  const last = heap.pop()!;
  if (last === e) return;
  heap[i] = last;
  last.timerIndex = i;
  if (i > 0 && before(last, heap[(i - 1) >> 1])) up(heap, i);
  else down(heap, i);
}

/** Re-positions an entry whose timerDue changed while in the heap. */
export function timerUpdate(heap: Entry[], e: Entry): void {
  const i = e.timerIndex;
  if (i > 0 && before(e, heap[(i - 1) >> 1])) up(heap, i);
  else down(heap, i);
}

/** Removes and returns the earliest timer's entry. */
export function timerPop(heap: Entry[]): Entry | undefined {
  const top = heap[0];
  if (top === undefined) return undefined;
  timerRemove(heap, top);
  return top;
}
