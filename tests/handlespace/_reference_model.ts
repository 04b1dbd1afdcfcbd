/**
 * A deliberately naive model of the handlespace for property tests: flat arrays, full scans and
 * full sorts, checksums recomputed from scratch. It mirrors RSPLIB's documented rules (RFC 5356
 * degradation counting) so that random operation sequences can be compared step by step with
 * the real, incrementally maintained Handlespace.
 */
import type { PolicyName, PoolElementParameter } from "../../mod.ts";

const MAX = 0xffffffff;
const SEQ_START = 0xfffffff0;

export interface RefPE {
  handle: string; // pool handle as latin1 text (one char per byte)
  id: number;
  home: number;
  connection: number | undefined;
  pe: PoolElementParameter;
  weight: number;
  load: number;
  loadDeg: number;
  loadDpf: number;
  weightDpf: number;
  distance: number;
  seq: number;
  round: number;
  vc: number;
  degradation: number;
  selections: number;
  timerKind: number;
  timerDue: number;
  marked: boolean;
  reports: number;
}

interface RefPool {
  policy: PolicyName;
  protocol: string;
  controlChannel: boolean;
  globalSeq: number;
}

const SORTED = new Set<PolicyName>([
  "RoundRobin",
  "WeightedRoundRobin",
  "Priority",
  "LeastUsed",
  "LeastUsedDegradation",
  "PriorityLeastUsed",
  "PriorityLeastUsedDegradation",
  "LeastUsedDPF",
  "LeastUsedDegradationDPF",
  "PriorityLeastUsedDPF",
  "PriorityLeastUsedDegradationDPF",
]);

export function handleText(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes);
}

function rint(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** RSPLIB's comparison functions, written out one by one. */
function sortKey(p: PolicyName, e: RefPE): [number, number] {
  const sat = (v: number) => Math.min(v, MAX);
  const dpf = (base: number) => Math.min(rint(base + e.distance * (e.loadDpf / MAX) * MAX), MAX);
  switch (p) {
    case "RoundRobin":
      return [0, 0];
    case "WeightedRoundRobin":
      return [e.round, e.vc];
    case "Priority":
      return [-e.weight, 0];
    case "LeastUsed":
      return [e.load, 0];
    case "LeastUsedDegradation":
      return [sat(e.load + e.degradation), 0];
    case "PriorityLeastUsed":
      return [sat(e.load + e.loadDeg), 0];
    case "PriorityLeastUsedDegradation":
      return [sat(e.load + e.loadDeg + e.degradation), 0];
    case "LeastUsedDPF":
      return [dpf(e.load), 0];
    case "LeastUsedDegradationDPF":
      return [dpf(e.load + e.degradation), 0];
    case "PriorityLeastUsedDPF":
      return [dpf(e.load + e.loadDeg), 0];
    default:
      return [dpf(e.load + e.loadDeg + e.degradation), 0];
  }
}

function compare(p: PolicyName, a: RefPE, b: RefPE): number {
  const [a1, a2] = sortKey(p, a);
  const [b1, b2] = sortKey(p, b);
  return a1 - b1 || a2 - b2 || a.seq - b.seq;
}

function compareHandles(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function checksumOf(list: RefPE[]): number {
  let sum = 0;
  for (const e of list) {
    for (let i = 0; i < e.handle.length; i += 2) {
      sum += (e.handle.charCodeAt(i) << 8) +
        (i + 1 < e.handle.length ? e.handle.charCodeAt(i + 1) : 0);
    }
    sum += (e.id >>> 16) + (e.id & 0xffff);
  }
  sum %= 2 ** 32;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 65536);
  return ~sum & 0xffff;
}

export class ReferenceHandlespace {
  pes: RefPE[] = [];
  pools = new Map<string, RefPool>();
  constructor(readonly home: number, readonly maxBadPeReports = 3) {}

  find(handle: string, id: number): RefPE | undefined {
    return this.pes.find((e) => e.handle === handle && e.id === id);
  }

  inPool(handle: string): RefPE[] {
    return this.pes.filter((e) => e.handle === handle);
  }

  /** Returns 0 or the RSPLIB error cause. */
  register(handle: string, pe: PoolElementParameter, connection?: number): number {
    const pool = this.pools.get(handle);
    const user = pe.userTransport;
    if (pe.identifier === 0) return 0xf000;
    if (pool && pool.protocol !== user.protocol) return 0x100a;
    if (user.addresses.length < 1 || user.addresses.length > 64 || user.port === 0) return 0xf005;
    if (pool && pool.controlChannel !== (user.controlChannel === true)) return 0x8;
    if (pool && pool.policy !== pe.policy.type) return 0x5;
    const p = pe.policy;
    const weight = (p.type === "Priority" ? p.priority ?? p.weight : p.weight) ?? 0;
    const settings = {
      weight,
      load: p.load ?? 0,
      loadDeg: p.loadDegradation ?? 0,
      loadDpf: p.loadDpf ?? 0,
      weightDpf: p.weightDpf ?? 0,
      distance: p.distance ?? 0,
    };
    const old = this.find(handle, pe.identifier);
    if (old !== undefined) {
      const changed = (Object.keys(settings) as (keyof typeof settings)[])
        .some((k) => old[k] !== settings[k]);
      Object.assign(old, settings);
      old.pe = pe;
      old.home = pe.homeRegistrarIdentifier;
      old.marked = false;
      if (connection !== undefined) old.connection = connection;
      if (changed || old.degradation !== 0) {
        old.degradation = 0;
        if (old.vc > old.weight) old.vc = old.weight;
        if (pool!.policy === "WeightedRoundRobin") this.#wrrStep(old);
      }
      return 0;
    }
    let owner = pool;
    if (owner === undefined) {
      owner = {
        policy: p.type,
        protocol: user.protocol,
        controlChannel: user.controlChannel === true,
        globalSeq: SEQ_START,
      };
      this.pools.set(handle, owner);
    }
    if (((owner.globalSeq + 1) >>> 0) < owner.globalSeq) this.#resequence(handle);
    const e: RefPE = {
      handle,
      id: pe.identifier,
      home: pe.homeRegistrarIdentifier,
      connection,
      pe,
      ...settings,
      seq: owner.globalSeq,
      round: 0,
      vc: 0,
      degradation: 0,
      selections: 0,
      timerKind: 0,
      timerDue: 0,
      marked: false,
      reports: 0,
    };
    owner.globalSeq = (owner.globalSeq + 1) >>> 0;
    if (owner.policy === "WeightedRoundRobin") {
      const order = this.#ordered(handle);
      e.round = order.length > 0 ? order[0].round : SEQ_START;
      e.vc = e.weight;
      this.#wrrStep(e);
    }
    this.pes.push(e);
    return 0;
  }

  #wrrStep(e: RefPE): void {
    if (e.vc > 1) e.vc--;
    else {
      e.round = (e.round + 1) >>> 0;
      e.vc = e.weight;
    }
  }

  #ordered(handle: string): RefPE[] {
    const pool = this.pools.get(handle)!;
    return this.inPool(handle).sort((a, b) => compare(pool.policy, a, b));
  }

  #resequence(handle: string): void {
    const pool = this.pools.get(handle)!;
    const list = SORTED.has(pool.policy)
      ? this.#ordered(handle)
      : this.inPool(handle).sort((a, b) => a.id - b.id);
    let seq = 0;
    for (const e of list) e.seq = seq++;
    pool.globalSeq = seq;
  }

  remove(e: RefPE): void {
    this.pes.splice(this.pes.indexOf(e), 1);
    if (this.inPool(e.handle).length === 0) this.pools.delete(e.handle);
  }

  deregister(handle: string, id: number): boolean {
    const e = this.find(handle, id);
    if (e === undefined) return false;
    this.remove(e);
    return true;
  }

  /** Selection of a sorted pool (identifiers); `undefined` for an unknown pool. */
  resolveSorted(handle: string, items: number, maxIncrement: number): number[] | undefined {
    const pool = this.pools.get(handle);
    if (pool === undefined) return undefined;
    if (maxIncrement === 0) maxIncrement = 1;
    if (((pool.globalSeq + items) >>> 0) < pool.globalSeq) this.#resequence(handle);
    if (pool.policy === "WeightedRoundRobin") {
      const first = this.#ordered(handle)[0];
      if (((first.round + 2) >>> 0) < first.round) {
        const lowest = first.round;
        for (const e of this.inPool(handle)) e.round = (e.round - lowest) >>> 0;
      }
    }
    const chosen = this.#ordered(handle).slice(0, items);
    for (const e of chosen.slice(0, maxIncrement)) {
      e.seq = pool.globalSeq;
      pool.globalSeq = (pool.globalSeq + 1) >>> 0;
      e.selections++;
      if (pool.policy === "WeightedRoundRobin") {
        this.#wrrStep(e);
        this.#wrrStep(e);
      } else if (pool.policy.includes("Degradation")) {
        e.degradation = Math.min(e.degradation + e.loadDeg, MAX);
      }
    }
    return chosen.map((e) => e.id);
  }

  isSorted(handle: string): boolean {
    const pool = this.pools.get(handle);
    return pool !== undefined && SORTED.has(pool.policy);
  }

  reportUnreachable(handle: string, id: number): "unknown" | "counted" | "removed" {
    const e = this.find(handle, id);
    if (e === undefined) return "unknown";
    e.reports++;
    if (e.reports >= this.maxBadPeReports) {
      this.remove(e);
      return "removed";
    }
    return "counted";
  }

  /** Fired timers as "handle/id:kind", earliest first; they stop. */
  takeExpired(now: number): string[] {
    const due = this.pes.filter((e) => e.timerKind !== 0 && e.timerDue <= now)
      .sort((a, b) => a.timerDue - b.timerDue || a.id - b.id || compareHandles(a.handle, b.handle));
    const fired = due.map((e) => `${e.handle}/${e.id}:${e.timerKind}`);
    for (const e of due) e.timerKind = 0;
    return fired;
  }

  handlespaceChecksum(): number {
    return checksumOf(this.pes);
  }

  ownershipChecksum(owner: number): number {
    return checksumOf(this.pes.filter((e) => e.home === owner));
  }

  owned(owner: number): RefPE[] {
    return this.pes.filter((e) => e.home === owner)
      .sort((a, b) => a.id - b.id || compareHandles(a.handle, b.handle));
  }

  /** All PEs in (pool handle, identifier) order. */
  ordered(): RefPE[] {
    return this.pes.slice().sort((a, b) => compareHandles(a.handle, b.handle) || a.id - b.id);
  }
}
