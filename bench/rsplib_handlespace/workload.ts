/**
 * The benchmark workload, shared by bench/handlespace_bench.ts and the memory measurement: the
 * same pools, PE identifiers and policy values for our Handlespace and for RSPLIB's C one.
 *
 * @module
 */

import type { PolicyName, PoolElementParameter, TransportParameter } from "../../mod.ts";
import {
  type HandleResolutionOptions,
  Handlespace,
  type RegistrationOptions,
} from "../../src/handlespace/mod.ts";
import { seededRandom } from "../../src/handlespace/random.ts";
import type { RsplibHandlespaceSymbols } from "./load.ts";

/** H handlespaces, each with the same P pools of M PEs. */
export interface Scenario {
  name: string;
  H: number;
  P: number;
  M: number;
}

/** The rows of docs/benchmarks.md. */
export const SCENARIOS: Scenario[] = [
  { name: "pool of 10 PEs (×100 handlespaces)", H: 100, P: 1, M: 10 },
  { name: "pool of 1 000 PEs", H: 1, P: 1, M: 1000 },
  { name: "pool of 100 000 PEs", H: 1, P: 1, M: 100_000 },
  { name: "1 000 pools × 100 PEs", H: 1, P: 1000, M: 100 },
];

/** The registrar's own identifier in the benchmark. */
export const HOME = 0x12345678;

/** Settings slot of the per-PE value in the C shim (1 weight, 2 load). */
export const FIELD = { weight: 1, load: 2 } as const;

const encoder = new TextEncoder();

/** Pool handles, ids and per-PE values of one scenario; TS parameters built per PE. */
export interface Workload {
  scenario: Scenario;
  policy: PolicyName;
  handles: Uint8Array[];
  /** 33 bytes per handle: size, then 32 bytes (the C shim's layout). */
  handleTable: Uint8Array;
  ids: Uint32Array;
  /** Per-PE value (load for LeastUsed, weight for WeightedRandom), two variants. */
  values: [Uint32Array, Uint32Array];
  /** Per-PE registration parameters, two variants (the values differ). */
  params: [PoolElementParameter[], PoolElementParameter[]];
  /** Connection number per PE (as the C shim sets it). */
  connections: Uint32Array;
  field: number;
}

function transport(port: number, a: number): TransportParameter {
  return {
    protocol: "sctp",
    port,
    addresses: [`10.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}`],
    controlChannel: false,
  };
}

/** Builds the workload of a scenario for a policy (RoundRobin, LeastUsed, WeightedRandom). */
export function makeWorkload(scenario: Scenario, policy: PolicyName, seed = 1): Workload {
  const rnd = seededRandom(seed);
  const { P, M } = scenario;
  const handles = Array.from(
    { length: P },
    (_, i) => encoder.encode(P === 1 ? "BenchmarkPool" : `BenchmarkPool-${i}`),
  );
  const handleTable = new Uint8Array(33 * P);
  handles.forEach((h, i) => {
    handleTable[33 * i] = h.length;
    handleTable.set(h, 33 * i + 1);
  });
  const ids = new Uint32Array(P * M);
  const seen = new Set<number>();
  for (let i = 0; i < ids.length; i++) {
    let id: number;
    do id = 1 + Math.floor(rnd() * 0xfffffffe); while (seen.has(id));
    seen.add(id);
    ids[i] = id;
  }
  const field = policy === "WeightedRandom" ? FIELD.weight : FIELD.load;
  const value = () =>
    policy === "WeightedRandom" ? 1 + Math.floor(rnd() * 100) : Math.floor(rnd() * 0xffffffff);
  const values: [Uint32Array, Uint32Array] = [
    Uint32Array.from(ids, value),
    Uint32Array.from(ids, value),
  ];
  const connections = Uint32Array.from(ids, (id) => 1 + (id & 0xff));
  // Like the C shim, all PEs share one user and one registrator transport (the shim passes one
  // static address block); policy values differ per PE.
  const userTransport = transport(7, 1);
  const registratorTransport = transport(3863, 1);
  const params = values.map((vs) =>
    Array.from(ids, (id, i): PoolElementParameter => ({
      identifier: id,
      homeRegistrarIdentifier: HOME,
      registrationLife: 30000,
      userTransport,
      registratorTransport,
      policy: policy === "WeightedRandom"
        ? { type: policy, weight: vs[i] }
        : policy === "LeastUsed"
        ? { type: policy, load: vs[i] }
        : { type: policy },
    }))
  ) as [PoolElementParameter[], PoolElementParameter[]];
  return { scenario, policy, handles, handleTable, ids, values, params, connections, field };
}

/** Registration options, reused for every call (a registrar can do the same). */
const registrationOptions: RegistrationOptions = { connection: 0 };

/** Registers the workload's PEs (variant 0 or 1) into each of our handlespaces. */
export function tsRegisterAll(spaces: Handlespace[], w: Workload, variant: 0 | 1): void {
  const { P, M } = w.scenario;
  const params = w.params[variant];
  const connections = w.connections;
  const options = registrationOptions;
  for (const hs of spaces) {
    for (let j = 0; j < P; j++) {
      const handle = w.handles[j];
      for (let i = j * M, end = i + M; i < end; i++) {
        options.connection = connections[i];
        hs.registerPoolElement(handle, params[i], options);
      }
    }
  }
}

/** Deregisters all the workload's PEs from each of our handlespaces. */
export function tsDeregisterAll(spaces: Handlespace[], w: Workload): void {
  const { P, M } = w.scenario;
  for (const hs of spaces) {
    for (let j = 0; j < P; j++) {
      const handle = w.handles[j];
      for (let i = j * M, end = i + M; i < end; i++) hs.deregisterPoolElement(handle, w.ids[i]);
    }
  }
}

/** Options of the resolutions: fill one array, like a registrar encoding the response at once. */
const resolveOptions: HandleResolutionOptions = { into: [] };

/** n handle resolutions of 3 PEs, cycling through handlespaces and pools like the C batch. */
export function tsResolve(spaces: Handlespace[], w: Workload, n: number): number {
  const H = spaces.length;
  const P = w.handles.length;
  let total = 0;
  for (let i = 0; i < n; i++) {
    total += spaces[i % H].handleResolution(w.handles[i % P], 3, resolveOptions)!.length;
  }
  return total;
}

/** New, empty handlespaces of ours. */
export function tsSpaces(w: Workload): Handlespace[] {
  return Array.from(
    { length: w.scenario.H },
    () => new Handlespace({ homeRegistrarIdentifier: HOME, clock: () => 0 }),
  );
}

/** RSPLIB handlespaces and the pointer array the C batches take. */
export class CSpaces {
  readonly pointers: Deno.PointerValue[];
  readonly array: Uint8Array;
  #s: RsplibHandlespaceSymbols;
  constructor(s: RsplibHandlespaceSymbols, count: number) {
    this.#s = s;
    this.pointers = Array.from({ length: count }, () => s.rsphs_new(HOME));
    const a = new BigUint64Array(count);
    this.pointers.forEach((p, i) => a[i] = BigInt(Deno.UnsafePointer.value(p)));
    this.array = new Uint8Array(a.buffer);
  }
  free(): void {
    for (const p of this.pointers) this.#s.rsphs_free(p);
  }
}

const POLICY_CODE: Partial<Record<PolicyName, number>> = {
  RoundRobin: 0x1,
  WeightedRandom: 0x4,
  LeastUsed: 0x40000001,
};

/** Registers the workload's PEs (variant 0 or 1) into each RSPLIB handlespace. */
export function cRegisterAll(
  s: RsplibHandlespaceSymbols,
  spaces: CSpaces,
  w: Workload,
  variant: 0 | 1,
): void {
  const settings = new Uint32Array([POLICY_CODE[w.policy]!, 1, 0, 0, 0, 0, 0]);
  const failures = s.rsphs_batch_register(
    spaces.array,
    BigInt(spaces.pointers.length),
    w.handleTable,
    BigInt(w.scenario.P),
    new Uint8Array(w.ids.buffer),
    BigInt(w.scenario.M),
    HOME,
    new Uint8Array(settings.buffer),
    w.policy === "RoundRobin" ? null : new Uint8Array(w.values[variant].buffer),
    BigInt(w.field),
    0n,
  );
  if (failures !== 0) throw new Error(`Cannot register in RSPLIB: ${failures} failures`);
}

/** Deregisters all the workload's PEs from each RSPLIB handlespace. */
export function cDeregisterAll(s: RsplibHandlespaceSymbols, spaces: CSpaces, w: Workload): void {
  const failures = s.rsphs_batch_deregister(
    spaces.array,
    BigInt(spaces.pointers.length),
    w.handleTable,
    BigInt(w.scenario.P),
    new Uint8Array(w.ids.buffer),
    BigInt(w.scenario.M),
  );
  if (failures !== 0) throw new Error(`Cannot deregister in RSPLIB: ${failures} failures`);
}

/** n handle resolutions of 3 PEs in RSPLIB (default MaxIncrement). */
export function cResolve(
  s: RsplibHandlespaceSymbols,
  spaces: CSpaces,
  w: Workload,
  n: number,
): number {
  return Number(
    s.rsphs_batch_resolve(
      spaces.array,
      BigInt(spaces.pointers.length),
      w.handleTable,
      BigInt(w.scenario.P),
      BigInt(n),
      3n,
      0n,
    ),
  );
}
