/**
 * Internal data of the handlespace: entries (one per PE), pools and owner/connection groups.
 * Plain classes with public fields so that the algorithm modules can reach them; not exported
 * from mod.ts.
 *
 * Entries are kept small and free of boxed numbers: every 32-bit unsigned value is stored as an
 * int32 (`x | 0`, read back with `x >>> 0`), and the sort keys as `x ^ 0x80000000`, whose
 * signed order is the unsigned order of `x`. Fields used while walking the selection order come
 * first, so that a tree step touches one or two cache lines.
 *
 * @module
 */

import type {
  PolicyName,
  PoolElementParameter,
  PoolPolicy,
  TransportParameter,
  TransportProtocol,
} from "../codec/mod.ts";
import type { PoolElementEntry, TimerKindCode } from "./types.ts";
import type { PolicyInfo } from "./_policy.ts";
import { IdTable, keyOf } from "./_tables.ts";

/** RSPLIB starts every pool's sequence numbers (and WRR rounds) just below 2^32. */
export const SEQ_START = 0xfffffff0;

/** Flips the sign bit: signed order of the result = unsigned order of the argument. */
export const SIGN = 0x80000000;

/** Entry flag bits. */
export const Flag = { Marked: 1, New: 2, Registered: 4 } as const;

/** One pool element. */
export class Entry implements PoolElementEntry {
  // ---- selection order. Sorted pools: red-black tree keyed by (k1, k2, sq), or a list
  // (left = previous, right = next) for RoundRobin. Value pools: k1 = value (uint32 as int32),
  // k2 = slot index.
  k1 = 0;
  k2 = 0;
  /** Sequence number ^ SIGN. */
  sq = 0;
  left: Entry | null = null;
  right: Entry | null = null;
  parent: Entry | null = null;
  red = false;
  pool: Pool;
  // ---- identity and registration data (uint32 values as int32)
  id: number;
  home: number;
  registrationLife: number;
  userTransport: TransportParameter;
  registratorTransport: TransportParameter | undefined;
  policy: PoolPolicy;
  connection: number | undefined = undefined;
  // ---- policy settings (RSPLIB keeps a priority in the weight), uint32 as int32
  weight = 0;
  load = 0;
  loadDegradation = 0;
  loadDpf = 0;
  weightDpf = 0;
  distance = 0;
  // ---- selection state
  round = 0;
  vc = 0;
  deg = 0;
  selectionCounter = 0;
  unreachabilityReports = 0;
  lastUpdate = 0;
  // ---- timer
  timerKind: TimerKindCode = 0;
  timerDue = 0;
  timerIndex = -1;
  // ---- owner and connection lists
  ownerPrev: Entry | null = null;
  ownerNext: Entry | null = null;
  connectionPrev: Entry | null = null;
  connectionNext: Entry | null = null;
  flags: number = Flag.New | Flag.Registered;

  constructor(pool: Pool, pe: PoolElementParameter) {
    this.pool = pool;
    this.id = pe.identifier | 0;
    this.home = pe.homeRegistrarIdentifier | 0;
    this.registrationLife = pe.registrationLife;
    this.userTransport = pe.userTransport;
    this.registratorTransport = pe.registratorTransport;
    this.policy = pe.policy;
  }

  get poolHandle(): Uint8Array {
    return this.pool.handle;
  }
  get identifier(): number {
    return this.id >>> 0;
  }
  get homeRegistrarIdentifier(): number {
    return this.home >>> 0;
  }
  get seqNumber(): number {
    return (this.sq ^ SIGN) >>> 0;
  }
  get roundCounter(): number {
    return this.round >>> 0;
  }
  get virtualCounter(): number {
    return this.vc >>> 0;
  }
  get degradation(): number {
    return this.deg >>> 0;
  }
  get marked(): boolean {
    return (this.flags & Flag.Marked) !== 0;
  }
  get isNew(): boolean {
    return (this.flags & Flag.New) !== 0;
  }
  get registered(): boolean {
    return (this.flags & Flag.Registered) !== 0;
  }
  get timerRunning(): boolean {
    return this.timerIndex >= 0;
  }

  toParameter(): PoolElementParameter {
    const p: PoolElementParameter = {
      identifier: this.id >>> 0,
      homeRegistrarIdentifier: this.home >>> 0,
      registrationLife: this.registrationLife,
      userTransport: this.userTransport,
      policy: this.policy,
    };
    if (this.registratorTransport !== undefined) p.registratorTransport = this.registratorTransport;
    return p;
  }
}

/** The checksum accumulator of an entry (RSPLIB: handle words plus identifier words). */
export function entryChecksum(e: Entry): number {
  return (e.pool.handleWordSum + (e.id >>> 16) + (e.id & 0xffff)) >>> 0;
}

/** One pool: its PEs by identifier and its selection structure. */
export class Pool {
  handle: Uint8Array;
  /** The handle as a string of one char per byte (pool table lookups). */
  key: string;
  policyName: PolicyName;
  info: PolicyInfo;
  protocol: TransportProtocol;
  controlChannel: boolean;
  byId: IdTable<Entry> = new IdTable();
  /** Next sequence number (uint32, renumbered before it wraps, like RSPLIB). */
  globalSeq = SEQ_START;
  /** Sum of the checksum words of the handle. */
  handleWordSum: number;
  // ---- sorted selection: tree root, first and last entry (or list head and tail)
  root: Entry | null = null;
  first: Entry | null = null;
  last: Entry | null = null;
  // ---- value selection: slots and a Fenwick tree of values
  slots: Entry[] = [];
  fenwick: Float64Array = EMPTY;
  valueSum = 0;
  /** PEs ordered by identifier for handle table paging, built on demand. */
  sortedById: Entry[] | null = null;

  constructor(
    handle: Uint8Array,
    policyName: PolicyName,
    info: PolicyInfo,
    protocol: TransportProtocol,
    controlChannel: boolean,
    handleWordSum: number,
  ) {
    this.handle = handle;
    this.key = keyOf(handle);
    this.policyName = policyName;
    this.info = info;
    this.protocol = protocol;
    this.controlChannel = controlChannel;
    this.handleWordSum = handleWordSum;
  }
}

const EMPTY = new Float64Array(0);

/** The PEs of one owner (home registrar), with their checksum accumulator. */
export class OwnerGroup {
  /** Owner identifier as int32. */
  owner: number;
  head: Entry | null = null;
  count = 0;
  checksum = 0;
  /** PEs ordered by (identifier, pool handle), built on demand. */
  sorted: Entry[] | null = null;

  constructor(owner: number) {
    this.owner = owner;
  }
}
