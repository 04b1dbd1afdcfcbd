/**
 * The selection order of a sorted pool: an intrusive red-black tree of entries keyed by
 * (k1, k2, sq), with the first and last entries cached. Appending after the last entry needs no
 * search; re-positioning an entry whose key did not pass a neighbour (least used with distinct
 * loads) is O(1). RoundRobin pools, whose order is the sequence order alone, use a plain list
 * instead (see the `list*` functions).
 *
 * @module
 */

import type { Entry, Pool } from "./_model.ts";

/** Strict order of two entries of one pool. */
export function less(a: Entry, b: Entry): boolean {
  if (a.k1 !== b.k1) return a.k1 < b.k1;
  if (a.k2 !== b.k2) return a.k2 < b.k2;
  return a.sq < b.sq;
}

/** In-order successor. */
export function successor(n: Entry): Entry | null {
  let r = n.right;
  if (r !== null) {
    while (r.left !== null) r = r.left;
    return r;
  }
  let p = n.parent;
  while (p !== null && n === p.right) {
    n = p;
    p = p.parent;
  }
  return p;
}

/** In-order predecessor. */
export function predecessor(n: Entry): Entry | null {
  let l = n.left;
  if (l !== null) {
    while (l.right !== null) l = l.right;
    return l;
  }
  let p = n.parent;
  while (p !== null && n === p.left) {
    n = p;
    p = p.parent;
  }
  return p;
}

function rotateLeft(pool: Pool, x: Entry): void {
  const y = x.right!;
  x.right = y.left;
  if (y.left !== null) y.left.parent = x;
  const p = x.parent;
  y.parent = p;
  if (p === null) pool.root = y;
  else if (x === p.left) p.left = y;
  else p.right = y;
  y.left = x;
  x.parent = y;
}

function rotateRight(pool: Pool, x: Entry): void {
  const y = x.left!;
  x.left = y.right;
  if (y.right !== null) y.right.parent = x;
  const p = x.parent;
  y.parent = p;
  if (p === null) pool.root = y;
  else if (x === p.right) p.right = y;
  else p.left = y;
  y.right = x;
  x.parent = y;
}

/** Inserts an entry (its key set, not linked). */
export function insert(pool: Pool, z: Entry): void {
  z.left = null;
  z.right = null;
  const root = pool.root;
  if (root === null) {
    z.parent = null;
    z.red = false;
    pool.root = pool.first = pool.last = z;
    return;
  }
  z.red = true;
  const last = pool.last!;
  const first = pool.first!;
  if (less(last, z)) {
    last.right = z;
    z.parent = last;
    pool.last = z;
  } else if (less(z, first)) {
    first.left = z;
    z.parent = first;
    pool.first = z;
  } else {
    let x: Entry | null = root;
    let y: Entry = root;
    let goLeft = false;
    while (x !== null) {
      y = x;
      goLeft = less(z, x);
      x = goLeft ? x.left : x.right;
    }
    z.parent = y;
    if (goLeft) y.left = z;
    else y.right = z;
  }
  insertFixup(pool, z);
}

function insertFixup(pool: Pool, z: Entry): void {
  let p = z.parent;
  while (p !== null && p.red) {
    const g = p.parent!;
    if (p === g.left) {
      const u = g.right;
      if (u !== null && u.red) {
        p.red = false;
        u.red = false;
        g.red = true;
        z = g;
      } else {
        if (z === p.right) {
          z = p;
          rotateLeft(pool, z);
        }
        z.parent!.red = false;
        g.red = true;
        rotateRight(pool, g);
      }
    } else {
      const u = g.left;
      if (u !== null && u.red) {
        p.red = false;
        u.red = false;
        g.red = true;
        z = g;
      } else {
        if (z === p.left) {
          z = p;
          rotateRight(pool, z);
        }
        z.parent!.red = false;
        g.red = true;
        rotateLeft(pool, g);
      }
    }
    p = z.parent;
  }
  pool.root!.red = false;
}

function transplant(pool: Pool, u: Entry, v: Entry | null): void {
  const p = u.parent;
  if (p === null) pool.root = v;
  else if (u === p.left) p.left = v;
  else p.right = v;
  if (v !== null) v.parent = p;
}

/** Removes a linked entry. */
export function remove(pool: Pool, z: Entry): void {
  if (pool.first === z) pool.first = successor(z);
  if (pool.last === z) pool.last = predecessor(z);
  let x: Entry | null;
  let xParent: Entry | null;
  let removedRed = z.red;
  if (z.left === null) {
    x = z.right;
    xParent = z.parent;
    transplant(pool, z, x);
  } else if (z.right === null) {
    x = z.left;
    xParent = z.parent;
    transplant(pool, z, x);
  } else {
    let y = z.right;
    while (y.left !== null) y = y.left;
    removedRed = y.red;
    x = y.right;
    if (y.parent === z) {
      xParent = y;
    } else {
      xParent = y.parent;
      transplant(pool, y, y.right);
      y.right = z.right;
      y.right.parent = y;
    }
    transplant(pool, z, y);
    y.left = z.left;
    y.left.parent = y;
    y.red = z.red;
  }
  z.left = z.right = z.parent = null;
  if (!removedRed) deleteFixup(pool, x, xParent);
}

function isBlack(n: Entry | null): boolean {
  return n === null || !n.red;
}

function deleteFixup(pool: Pool, x: Entry | null, parent: Entry | null): void {
  while (x !== pool.root && isBlack(x)) {
    const p = parent!;
    if (x === p.left) {
      let w = p.right!;
      if (w.red) {
        w.red = false;
        p.red = true;
        rotateLeft(pool, p);
        w = p.right!;
      }
      if (isBlack(w.left) && isBlack(w.right)) {
        w.red = true;
        x = p;
        parent = p.parent;
      } else {
        if (isBlack(w.right)) {
          w.left!.red = false;
          w.red = true;
          rotateRight(pool, w);
          w = p.right!;
        }
        w.red = p.red;
        p.red = false;
        if (w.right !== null) w.right.red = false;
        rotateLeft(pool, p);
        x = pool.root;
        parent = null;
      }
    } else {
      let w = p.left!;
      if (w.red) {
        w.red = false;
        p.red = true;
        rotateRight(pool, p);
        w = p.left!;
      }
      if (isBlack(w.right) && isBlack(w.left)) {
        w.red = true;
        x = p;
        parent = p.parent;
      } else {
        if (isBlack(w.left)) {
          w.right!.red = false;
          w.red = true;
          rotateLeft(pool, w);
          w = p.left!;
        }
        w.red = p.red;
        p.red = false;
        if (w.left !== null) w.left.red = false;
        rotateRight(pool, p);
        x = pool.root;
        parent = null;
      }
    }
  }
  if (x !== null) x.red = false;
}

/** Moves a linked entry whose key changed to its new place (no-op if still in order). */
export function reposition(pool: Pool, e: Entry): void {
  const s = successor(e);
  if (s === null || less(e, s)) {
    if (e === pool.first) return;
    const p = predecessor(e);
    if (p === null || less(p, e)) return;
  }
  remove(pool, e);
  insert(pool, e);
}

/** Checks the red-black and order invariants (tests); returns the black height. */
export function verify(pool: Pool): number {
  const check = (n: Entry | null, lo: Entry | null, hi: Entry | null): number => {
    if (n === null) return 1;
    if (lo !== null && !less(lo, n)) throw new Error("Cannot verify tree: order violated");
    if (hi !== null && !less(n, hi)) throw new Error("Cannot verify tree: order violated");
    if (n.left !== null && n.left.parent !== n) throw new Error("Cannot verify tree: parent link");
    if (n.right !== null && n.right.parent !== n) {
      throw new Error("Cannot verify tree: parent link");
    }
    if (n.red && (!isBlack(n.left) || !isBlack(n.right))) {
      throw new Error("Cannot verify tree: red node with red child");
    }
    const l = check(n.left, lo, n);
    const r = check(n.right, n, hi);
    if (l !== r) throw new Error("Cannot verify tree: black heights differ");
    return l + (n.red ? 0 : 1);
  };
  if (pool.root !== null && (pool.root.red || pool.root.parent !== null)) {
    throw new Error("Cannot verify tree: bad root");
  }
  let first = pool.root;
  while (first !== null && first.left !== null) first = first.left;
  let last = pool.root;
  while (last !== null && last.right !== null) last = last.right;
  if (first !== pool.first || last !== pool.last) {
    throw new Error("Cannot verify tree: first/last cache is stale");
  }
  return check(pool.root, null, null);
}

// ---- RoundRobin: the order is the sequence order; new and picked PEs go to the end. ----------

/** Appends an entry to a list pool. */
export function listAppend(pool: Pool, e: Entry): void {
  const last = pool.last;
  e.left = last;
  e.right = null;
  if (last === null) pool.first = e;
  else last.right = e;
  pool.last = e;
}

/** Unlinks an entry from a list pool. */
export function listRemove(pool: Pool, e: Entry): void {
  const prev = e.left;
  const next = e.right;
  if (prev === null) pool.first = next;
  else prev.right = next;
  if (next === null) pool.last = prev;
  else next.left = prev;
  e.left = e.right = null;
}

/** Checks a list pool's links and order (tests). */
export function verifyList(pool: Pool): void {
  let prev: Entry | null = null;
  for (let e = pool.first; e !== null; e = e.right) {
    if (e.left !== prev) throw new Error("Cannot verify list: back link");
    if (prev !== null && !(prev.sq < e.sq)) throw new Error("Cannot verify list: order");
    prev = e;
  }
  if (prev !== pool.last) throw new Error("Cannot verify list: stale tail");
}
