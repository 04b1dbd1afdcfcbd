/**
 * Small open-addressing hash tables (linear probing, backward-shift deletion) that replace
 * `Map` on the hot paths: pools by handle and PEs by identifier. Keys are int32 numbers (small
 * integer arrays); lookups allocate nothing.
 *
 * @module
 */

const EMPTY_SLOT = undefined;

/**
 * A per-process random seed mixed into every hash: PE identifiers and pool handles come from
 * the network, and with a fixed hash anyone could register keys that all collide.
 */
const SEED = crypto.getRandomValues(new Int32Array(1))[0];

/**
 * int32 key → value. Keys and values are interleaved in one array (key at 2i, value at 2i + 1),
 * so that a lookup touches one cache line.
 */
export class IdTable<V> {
  slots: unknown[] = newSlots(16);
  mask = 15;
  /** 32 − log2(capacity): Fibonacci hashing takes the top bits of key × 2^32/φ. */
  shift = 28;
  size = 0;

  get(key: number): V | undefined {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = Math.imul(key ^ SEED, 0x9e3779b1) >>> this.shift;; i = (i + 1) & mask) {
      const v = slots[2 * i + 1];
      if (v === EMPTY_SLOT) return undefined;
      if (slots[2 * i] === key) return v as V;
    }
  }

  /** Adds a key that is not in the table. */
  add(key: number, value: V): void {
    // At most 5/8 full: short probe sequences, and a pool of 10 PEs needs no growth.
    if ((this.size + 1) * 8 > (this.mask + 1) * 5) this.#grow();
    const slots = this.slots;
    const mask = this.mask;
    let i = Math.imul(key ^ SEED, 0x9e3779b1) >>> this.shift;
    while (slots[2 * i + 1] !== EMPTY_SLOT) i = (i + 1) & mask;
    slots[2 * i] = key;
    slots[2 * i + 1] = value;
    this.size++;
  }

  /** Sets the value of a key (added if absent). */
  set(key: number, value: V): void {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = Math.imul(key ^ SEED, 0x9e3779b1) >>> this.shift;; i = (i + 1) & mask) {
      if (slots[2 * i + 1] === EMPTY_SLOT) break;
      if (slots[2 * i] === key) {
        slots[2 * i + 1] = value;
        return;
      }
    }
    this.add(key, value);
  }

  /** Removes a key; returns whether it was present. */
  delete(key: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    const shift = this.shift;
    let i = Math.imul(key ^ SEED, 0x9e3779b1) >>> shift;
    for (;; i = (i + 1) & mask) {
      if (slots[2 * i + 1] === EMPTY_SLOT) return false;
      if (slots[2 * i] === key) break;
    }
    // Backward-shift the following cluster members into the hole.
    let hole = i;
    for (let j = (i + 1) & mask; slots[2 * j + 1] !== EMPTY_SLOT; j = (j + 1) & mask) {
      const home = Math.imul((slots[2 * j] as number) ^ SEED, 0x9e3779b1) >>> shift;
      // Move j into the hole if its home is not cyclically within (hole, j].
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        slots[2 * hole] = slots[2 * j];
        slots[2 * hole + 1] = slots[2 * j + 1];
        hole = j;
      }
    }
    slots[2 * hole + 1] = EMPTY_SLOT;
    this.size--;
    return true;
  }

  /** Calls f for every value. */
  forEach(f: (value: V) => void): void {
    const slots = this.slots;
    for (let i = 1; i < slots.length; i += 2) {
      if (slots[i] !== EMPTY_SLOT) f(slots[i] as V);
    }
  }

  /** Calls f for every key and value. */
  forEachEntry(f: (key: number, value: V) => void): void {
    const slots = this.slots;
    for (let i = 0; i < slots.length; i += 2) {
      if (slots[i + 1] !== EMPTY_SLOT) f(slots[i] as number, slots[i + 1] as V);
    }
  }

  #grow(): void {
    const old = this.slots;
    const capacity = (this.mask + 1) * 2;
    const slots = newSlots(capacity);
    const mask = capacity - 1;
    const shift = this.shift - 1;
    for (let i = 0; i < old.length; i += 2) {
      const v = old[i + 1];
      if (v === EMPTY_SLOT) continue;
      const key = old[i] as number;
      let j = Math.imul(key ^ SEED, 0x9e3779b1) >>> shift;
      while (slots[2 * j + 1] !== EMPTY_SLOT) j = (j + 1) & mask;
      slots[2 * j] = key;
      slots[2 * j + 1] = v;
    }
    this.slots = slots;
    this.mask = mask;
    this.shift = shift;
  }
}

function newSlots(capacity: number): unknown[] {
  if (capacity > 4096) {
    // Large: allocate once (pushing would copy the growing array again and again).
    const slots: unknown[] = new Array(2 * capacity);
    for (let i = 0; i < slots.length; i += 2) {
      slots[i] = 0;
      slots[i + 1] = EMPTY_SLOT;
    }
    return slots;
  }
  // Small: built by push, a packed (not holey) array whose reads need no hole checks.
  const slots: unknown[] = [];
  for (let i = 0; i < capacity; i++) slots.push(0, EMPTY_SLOT);
  return slots;
}

/**
 * What a pool table stores: anything with its handle bytes, and the same bytes as a string of
 * one char per byte (compared on lookups: its chars sit inside the string object, one memory
 * access less than a typed array's).
 */
export interface Handled {
  handle: Uint8Array;
  key: string;
}

/** The string of one char per byte. */
export function keyOf(bytes: Uint8Array): string {
  return String.fromCharCode.apply(null, bytes as unknown as number[]);
}

function sameBytes(key: string, b: Uint8Array): boolean {
  const n = key.length;
  if (n !== b.length) return false;
  for (let i = 0; i < n; i++) if (key.charCodeAt(i) !== b[i]) return false;
  return true;
}

/** Probe length after which the table switches from sampled to full hashing. */
const MAX_PROBE = 12;

/**
 * Pools by handle bytes. Hashing samples five bytes (cheap for the usual short, distinct
 * names); if probe sequences grow long (many handles alike in the sampled bytes, e.g. crafted
 * ones), the table switches for good to hashing every byte.
 */
export class PoolTable<P extends Handled> {
  keys: number[] = [0, 0, 0, 0, 0, 0, 0, 0];
  values: (P | undefined)[] = new Array(8).fill(EMPTY_SLOT);
  mask = 7;
  size = 0;
  fullHash = false;

  hashBytes(b: Uint8Array): number {
    const n = b.length;
    if (this.fullHash) {
      let h = 0x811c9dc5 ^ SEED;
      for (let i = 0; i < n; i++) h = Math.imul(h ^ b[i], 0x01000193);
      return h | 0;
    }
    let h = Math.imul(n ^ b[0] ^ SEED, 0x9e3779b1);
    h = Math.imul(h ^ b[n - 1] ^ (b[n >> 1] << 8), 0x85ebca6b);
    h = Math.imul(h ^ b[n >> 2] ^ (b[(3 * n) >> 2] << 8), 0xc2b2ae35);
    return h ^ (h >>> 15);
  }

  /** Same as hashBytes for an ASCII string (the UTF-8 bytes are the char codes). */
  hashAscii(s: string): number {
    const n = s.length;
    if (this.fullHash) {
      let h = 0x811c9dc5 ^ SEED;
      for (let i = 0; i < n; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
      return h | 0;
    }
    let h = Math.imul(n ^ s.charCodeAt(0) ^ SEED, 0x9e3779b1);
    h = Math.imul(h ^ s.charCodeAt(n - 1) ^ (s.charCodeAt(n >> 1) << 8), 0x85ebca6b);
    h = Math.imul(h ^ s.charCodeAt(n >> 2) ^ (s.charCodeAt((3 * n) >> 2) << 8), 0xc2b2ae35);
    return h ^ (h >>> 15);
  }

  /** Finds a pool by handle bytes (1 to 32 bytes). */
  get(b: Uint8Array): P | undefined {
    const hash = this.hashBytes(b);
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const v = values[i];
      if (v === EMPTY_SLOT) return undefined;
      if (keys[i] === hash && sameBytes(v.key, b)) return v;
    }
  }

  /** Finds a pool by an ASCII handle (1 to 32 characters below 0x80). */
  getAscii(s: string): P | undefined {
    const hash = this.hashAscii(s);
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const v = values[i];
      if (v === EMPTY_SLOT) return undefined;
      if (keys[i] === hash && v.key === s) return v;
    }
  }

  /** Adds a pool whose handle is not in the table. */
  add(pool: P): void {
    if ((this.size + 1) * 2 > this.mask + 1) this.#rebuild((this.mask + 1) * 2);
    const hash = this.hashBytes(pool.handle);
    const mask = this.mask;
    let i = hash & mask;
    let probes = 0;
    while (this.values[i] !== EMPTY_SLOT) {
      i = (i + 1) & mask;
      probes++;
    }
    this.keys[i] = hash;
    this.values[i] = pool;
    this.size++;
    if (probes > MAX_PROBE && !this.fullHash) {
      this.fullHash = true;
      this.#rebuild(this.mask + 1);
    }
  }

  /** Removes a pool (by identity). */
  delete(pool: P): void {
    const keys = this.keys;
    const values = this.values;
    const mask = this.mask;
    let i = this.hashBytes(pool.handle) & mask;
    for (;; i = (i + 1) & mask) {
      const v = values[i];
      if (v === EMPTY_SLOT) return;
      if (v === pool) break;
    }
    let hole = i;
    for (let j = (i + 1) & mask; values[j] !== EMPTY_SLOT; j = (j + 1) & mask) {
      const home = keys[j] & mask;
      if (hole <= j ? home <= hole || home > j : home <= hole && home > j) {
        keys[hole] = keys[j];
        values[hole] = values[j];
        hole = j;
      }
    }
    values[hole] = EMPTY_SLOT;
    this.size--;
  }

  /** Calls f for every pool. */
  forEach(f: (pool: P) => void): void {
    for (const v of this.values) if (v !== EMPTY_SLOT) f(v);
  }

  #rebuild(capacity: number): void {
    const old = this.values;
    this.keys = new Array(capacity).fill(0);
    this.values = new Array(capacity).fill(EMPTY_SLOT);
    this.mask = capacity - 1;
    this.size = 0;
    for (const v of old) if (v !== EMPTY_SLOT) this.add(v);
  }
}
