/**
 * The shared conformance suite of the 18 pool member selection policies (modelled on hono's
 * common router suite): every implementation of the small {@linkcode HandlespaceLike} interface
 * runs the same cases, skipping the ones it documents as deviations.
 *
 * Used by policy_conformance_test.ts for our Handlespace (both degradation modes) and for
 * RSPLIB 3.4.4's own C handlespace.
 */
import assert from "node:assert/strict";
import type { PolicyName, PoolElementParameter, PoolPolicy } from "../../mod.ts";
import { PolicyType } from "../../mod.ts";
import { type RandomSource, seededRandom } from "../../src/handlespace/mod.ts";

/** Selection state of one PE as the suite reads it. */
export interface SelectionState {
  identifier: number;
  seqNumber: number;
  roundCounter: number;
  virtualCounter: number;
  degradation: number;
  selectionCounter: number;
  homeRegistrarIdentifier: number;
}

/** What an implementation must offer to run the suite. */
export interface HandlespaceLike {
  registerPoolElement(
    poolHandle: Uint8Array | string,
    poolElement: PoolElementParameter,
    options?: { homeRegistrarIdentifier?: number; connection?: number; now?: number },
  ): unknown;
  deregisterPoolElement(poolHandle: Uint8Array | string, identifier: number): unknown;
  handleResolution(
    poolHandle: Uint8Array | string,
    maxItems?: number,
    options?: { maxIncrement?: number },
  ): readonly { identifier: number }[] | undefined;
  findPoolElement(poolHandle: Uint8Array | string, identifier: number): SelectionState | undefined;
  handlespaceChecksum(): number;
  ownershipChecksum(): number;
  readonly size: number;
  readonly poolCount: number;
  dispose?(): void;
}

/** Options of {@linkcode runPolicyConformance}. */
export interface ConformanceOptions {
  /** Shown in front of every test name. */
  name: string;
  /** Makes an empty handlespace owned by `homeRegistrarIdentifier`. */
  newHandlespace: (options: {
    random: RandomSource;
    homeRegistrarIdentifier: number;
  }) => HandlespaceLike | Promise<HandlespaceLike>;
  /** Cases this implementation does not run, with the reason. */
  skip?: { reason: string; tests: string[] }[];
  /** Set to skip every case (e.g. library not available), with the reason. */
  ignore?: string;
}

const MAX = 0xffffffff;
const HOME = 0x10;
const POOL = "ConformancePool";

/** A PE with an SCTP user transport. */
export function pe(identifier: number, policy: PoolPolicy, home = HOME): PoolElementParameter {
  return {
    identifier,
    homeRegistrarIdentifier: home,
    registrationLife: 30000,
    userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
    policy,
  };
}

function ids(list: readonly { identifier: number }[] | undefined): number[] {
  assert.ok(list !== undefined, "pool is unknown");
  return list.map((e) => e.identifier);
}

function picks(hs: HandlespaceLike, n: number, items = 1, maxIncrement = 0): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(ids(hs.handleResolution(POOL, items, { maxIncrement })));
  return out;
}

/** Counts single-PE picks and checks them against expected shares within 6 sigma. */
function assertProportions(hs: HandlespaceLike, shares: Record<number, number>, draws: number) {
  const total = Object.values(shares).reduce((a, b) => a + b, 0);
  const counts: Record<number, number> = {};
  for (let i = 0; i < draws; i++) {
    const [id] = ids(hs.handleResolution(POOL, 1));
    counts[id] = (counts[id] ?? 0) + 1;
  }
  for (const [id, share] of Object.entries(shares)) {
    const p = share / total;
    const expected = draws * p;
    const sigma = Math.sqrt(draws * p * (1 - p));
    const got = counts[Number(id)] ?? 0;
    assert.ok(
      Math.abs(got - expected) <= 6 * sigma + 1,
      `PE ${id}: ${got} picks, expected ${expected.toFixed(0)} ± ${(6 * sigma).toFixed(0)}`,
    );
  }
  for (const id of Object.keys(counts)) {
    assert.ok(Number(id) in shares, `PE ${id} must never be picked`);
  }
}

function register(hs: HandlespaceLike, list: [number, PoolPolicy][]): void {
  for (const [id, policy] of list) hs.registerPoolElement(POOL, pe(id, policy));
}

function degradationOf(hs: HandlespaceLike, id: number): number {
  const state = hs.findPoolElement(POOL, id);
  assert.ok(state !== undefined, `PE ${id} is unknown`);
  return state.degradation;
}

function errorCauseOf(f: () => unknown): number | undefined {
  try {
    f();
  } catch (e) {
    return (e as { errorCause?: number }).errorCause;
  }
  return undefined;
}

type Case = (hs: HandlespaceLike) => void;

/** The cases, by name (names are what `skip` lists). */
export const CASES: Record<string, Case> = {
  "handleResolution() rotates RoundRobin by one per request when maxIncrement is the default": (
    hs,
  ) => {
    register(hs, [1, 2, 3, 4].map((id) => [id, { type: "RoundRobin" }]));
    assert.deepEqual(picks(hs, 5, 3), [[1, 2, 3], [2, 3, 4], [3, 4, 1], [4, 1, 2], [1, 2, 3]]);
  },
  "handleResolution() advances every returned RoundRobin PE when maxIncrement is large": (hs) => {
    register(hs, [1, 2, 3, 4].map((id) => [id, { type: "RoundRobin" }]));
    assert.deepEqual(picks(hs, 3, 3, 1e9), [[1, 2, 3], [4, 1, 2], [3, 4, 1]]);
  },
  "handleResolution() puts a new RoundRobin PE at the end of the rotation": (hs) => {
    register(hs, [1, 2, 3].map((id) => [id, { type: "RoundRobin" }]));
    assert.deepEqual(picks(hs, 1), [[1]]);
    register(hs, [[9, { type: "RoundRobin" }]]);
    assert.deepEqual(picks(hs, 4).flat(), [2, 3, 1, 9]);
  },
  "handleResolution() follows RSPLIB's WeightedRoundRobin sequence when weights are 3 and 1": (
    hs,
  ) => {
    register(hs, [[1, { type: "WeightedRoundRobin", weight: 3 }], [2, {
      type: "WeightedRoundRobin",
      weight: 1,
    }]]);
    assert.deepEqual(picks(hs, 12).flat(), [1, 2, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1]);
  },
  "handleResolution() picks WeightedRoundRobin PEs in proportion to their weights": (hs) => {
    register(hs, [[1, { type: "WeightedRoundRobin", weight: 1 }], [2, {
      type: "WeightedRoundRobin",
      weight: 2,
    }], [3, { type: "WeightedRoundRobin", weight: 4 }]]);
    const counts = [0, 0, 0, 0];
    for (const [id] of picks(hs, 7 * 50)) counts[id]++;
    for (const [id, w] of [[1, 1], [2, 2], [3, 4]]) {
      assert.ok(Math.abs(counts[id] - 50 * w) <= 4, `PE ${id}: ${counts[id]} picks`);
    }
  },
  "handleResolution() selects the highest Priority first": (hs) => {
    register(hs, [[1, { type: "Priority", priority: 1 }], [2, { type: "Priority", priority: 5 }], [
      3,
      { type: "Priority", priority: 3 },
    ]]);
    assert.deepEqual(picks(hs, 3, 3), [[2, 3, 1], [2, 3, 1], [2, 3, 1]]);
  },
  "handleResolution() rotates Priority PEs of equal priority": (hs) => {
    register(hs, [[1, { type: "Priority", priority: 7 }], [2, { type: "Priority", priority: 7 }], [
      3,
      { type: "Priority", priority: 1 },
    ]]);
    assert.deepEqual(picks(hs, 4).flat(), [1, 2, 1, 2]);
  },
  "handleResolution() selects the least-used PE first and rotates equal loads": (hs) => {
    register(hs, [[1, { type: "LeastUsed", load: 0x30000000 }], [2, {
      type: "LeastUsed",
      load: 0x10000000,
    }], [3, { type: "LeastUsed", load: 0x10000000 }]]);
    assert.deepEqual(picks(hs, 4, 3), [[2, 3, 1], [3, 2, 1], [2, 3, 1], [3, 2, 1]]);
  },
  "handleResolution() reorders LeastUsed PEs when a registration updates the load": (hs) => {
    register(hs, [[1, { type: "LeastUsed", load: 0x10000000 }], [2, {
      type: "LeastUsed",
      load: 0x20000000,
    }]]);
    assert.deepEqual(picks(hs, 1, 2), [[1, 2]]);
    register(hs, [[1, { type: "LeastUsed", load: 0x30000000 }]]);
    assert.deepEqual(picks(hs, 1, 2), [[2, 1]]);
  },
  "handleResolution() orders PriorityLeastUsed by load plus load degradation": (hs) => {
    register(hs, [[1, { type: "PriorityLeastUsed", load: 0, loadDegradation: 0x30000000 }], [2, {
      type: "PriorityLeastUsed",
      load: 0x20000000,
      loadDegradation: 0,
    }]]);
    assert.deepEqual(picks(hs, 3, 2), [[2, 1], [2, 1], [2, 1]]);
  },
  "handleResolution() adds the LeastUsedDPF distance penalty to the load": (hs) => {
    const perMs = Math.round(MAX / 1000); // 0.1 % load per millisecond
    register(hs, [
      [1, { type: "LeastUsedDPF", load: 0, loadDpf: perMs, distance: 100 }], // ~10 %
      [2, { type: "LeastUsedDPF", load: Math.round(MAX * 0.05), loadDpf: perMs, distance: 0 }],
      [3, { type: "LeastUsedDPF", load: Math.round(MAX * 0.125), loadDpf: perMs, distance: 0 }],
    ]);
    assert.deepEqual(picks(hs, 2, 3), [[2, 1, 3], [2, 1, 3]]);
  },
  "handleResolution() adds the PriorityLeastUsedDPF distance penalty to load and offset": (hs) => {
    const perMs = Math.round(MAX / 1000);
    register(hs, [
      [1, {
        type: "PriorityLeastUsedDPF",
        load: 0,
        loadDegradation: 0,
        loadDpf: perMs,
        distance: 50,
      }],
      [2, {
        type: "PriorityLeastUsedDPF",
        load: 0,
        loadDegradation: Math.round(MAX * 0.04),
        loadDpf: perMs,
        distance: 0,
      }],
    ]);
    assert.deepEqual(picks(hs, 2, 2), [[2, 1], [2, 1]]);
  },
  "handleResolution() adds the load degradation once per LeastUsedDegradation selection (RFC 5356)":
    (hs) => {
      register(hs, [[1, { type: "LeastUsedDegradation", load: 0, loadDegradation: 0x10000000 }], [
        2,
        { type: "LeastUsedDegradation", load: 0x08000000, loadDegradation: 0x10000000 },
      ]]);
      assert.equal(degradationOf(hs, 1), 0);
      assert.deepEqual(picks(hs, 4).flat(), [1, 2, 1, 2]);
      assert.equal(degradationOf(hs, 1), 0x20000000);
      assert.equal(degradationOf(hs, 2), 0x20000000);
    },
  "handleResolution() adds the load degradation twice per LeastUsedDegradation selection (RSPLIB)":
    (hs) => {
      register(hs, [[1, { type: "LeastUsedDegradation", load: 0, loadDegradation: 0x10000000 }], [
        2,
        { type: "LeastUsedDegradation", load: 0x08000000, loadDegradation: 0x10000000 },
      ]]);
      assert.equal(degradationOf(hs, 1), 0x10000000);
      assert.deepEqual(picks(hs, 3).flat(), [1, 2, 1]);
      assert.equal(degradationOf(hs, 1), 0x50000000);
      assert.equal(degradationOf(hs, 2), 0x30000000);
    },
  "registerPoolElement() resets the degradation when it updates a PE (RFC 5356)": (hs) => {
    const policy: PoolPolicy = { type: "LeastUsedDegradation", load: 0, loadDegradation: 0x100 };
    register(hs, [[1, policy], [2, policy]]);
    picks(hs, 6);
    assert.equal(degradationOf(hs, 1), 0x300);
    register(hs, [[1, policy]]);
    assert.equal(degradationOf(hs, 1), 0);
    assert.equal(degradationOf(hs, 2), 0x300);
  },
  "registerPoolElement() resets the degradation when it updates a PE (RSPLIB)": (hs) => {
    const policy: PoolPolicy = { type: "LeastUsedDegradation", load: 0, loadDegradation: 0x100 };
    register(hs, [[1, policy], [2, policy]]);
    picks(hs, 6);
    assert.equal(degradationOf(hs, 1), 0x700);
    register(hs, [[1, policy]]);
    assert.equal(degradationOf(hs, 1), 0x100); // RSPLIB degrades on re-linking too
  },
  "handleResolution() degrades only the first maxIncrement PEs (RFC 5356)": (hs) => {
    const policy: PoolPolicy = { type: "LeastUsedDegradation", load: 0, loadDegradation: 0x100 };
    register(hs, [[1, policy], [2, policy], [3, policy]]);
    assert.deepEqual(picks(hs, 1, 3, 2), [[1, 2, 3]]);
    assert.deepEqual([1, 2, 3].map((id) => degradationOf(hs, id)), [0x100, 0x100, 0]);
  },
  "handleResolution() accumulates degradation for every degradation policy (RFC 5356)": (hs) => {
    const names: PolicyName[] = [
      "PriorityLeastUsedDegradation",
      "LeastUsedDegradationDPF",
      "PriorityLeastUsedDegradationDPF",
      "RandomizedLeastUsedDegradation",
      "RandomizedPriorityLeastUsedDegradation",
    ];
    for (const [i, type] of names.entries()) {
      const pool = `${POOL}${i}`;
      hs.registerPoolElement(pool, pe(1, { type, load: 0, loadDegradation: 0x1000 }));
      for (let k = 0; k < 3; k++) hs.handleResolution(pool, 1);
      assert.equal(hs.findPoolElement(pool, 1)?.degradation, 0x3000, type);
    }
  },
  "handleResolution() never degrades the randomized degradation policies (RSPLIB)": (hs) => {
    for (
      const [i, type]
        of (["RandomizedLeastUsedDegradation", "RandomizedPriorityLeastUsedDegradation"] as const)
          .entries()
    ) {
      const pool = `${POOL}${i}`;
      hs.registerPoolElement(pool, pe(1, { type, load: 0, loadDegradation: 0x1000 }));
      for (let k = 0; k < 3; k++) hs.handleResolution(pool, 1);
      assert.equal(hs.findPoolElement(pool, 1)?.degradation, 0, type);
    }
  },
  "handleResolution() picks Random PEs uniformly": (hs) => {
    register(hs, [1, 2, 3, 4].map((id) => [id, { type: "Random" }]));
    assertProportions(hs, { 1: 1, 2: 1, 3: 1, 4: 1 }, 8000);
  },
  "handleResolution() picks WeightedRandom PEs in proportion to weight and never weight 0": (
    hs,
  ) => {
    register(hs, [[1, { type: "WeightedRandom", weight: 1 }], [2, {
      type: "WeightedRandom",
      weight: 3,
    }], [3, { type: "WeightedRandom", weight: 0 }]]);
    assertProportions(hs, { 1: 1, 2: 3 }, 8000);
  },
  "handleResolution() reduces WeightedRandomDPF weights by the distance penalty": (hs) => {
    const perMs = Math.round(MAX / 100); // 1 % of the weight per millisecond
    register(hs, [
      [1, { type: "WeightedRandomDPF", weight: 1000, weightDpf: perMs, distance: 50 }],
      [
        2,
        { type: "WeightedRandomDPF", weight: 1000, weightDpf: perMs, distance: 0 },
      ],
    ]);
    assertProportions(hs, { 1: 500, 2: 1000 }, 8000);
  },
  "handleResolution() picks RandomizedLeastUsed PEs in proportion to free capacity": (hs) => {
    register(hs, [[1, { type: "RandomizedLeastUsed", load: 0 }], [2, {
      type: "RandomizedLeastUsed",
      load: 0xc0000000,
    }]]);
    assertProportions(hs, { 1: 4, 2: 1 }, 8000);
  },
  "handleResolution() picks RandomizedPriorityLeastUsed PEs by capacity minus the offset": (hs) => {
    register(hs, [[1, {
      type: "RandomizedPriorityLeastUsed",
      load: 0,
      loadDegradation: 0x80000000,
    }], [
      2,
      { type: "RandomizedPriorityLeastUsed", load: 0, loadDegradation: 0 },
    ]]);
    assertProportions(hs, { 1: 1, 2: 2 }, 8000);
  },
  "handleResolution() returns distinct PEs for every random policy": (hs) => {
    const names: PolicyName[] = [
      "Random",
      "WeightedRandom",
      "WeightedRandomDPF",
      "RandomizedLeastUsed",
      "RandomizedLeastUsedDegradation",
      "RandomizedPriorityLeastUsed",
      "RandomizedPriorityLeastUsedDegradation",
    ];
    for (const [i, type] of names.entries()) {
      const pool = `${POOL}${i}`;
      for (let id = 1; id <= 5; id++) hs.registerPoolElement(pool, pe(id, { type, weight: id }));
      for (let k = 0; k < 20; k++) {
        const got = ids(hs.handleResolution(pool, 4));
        assert.equal(got.length, 4, type);
        assert.equal(new Set(got).size, 4, type);
      }
      assert.equal(ids(hs.handleResolution(pool, 9)).length, 5, type);
    }
  },
  "handleResolution() selects from pools of every one of the 18 policies": (hs) => {
    for (const [i, type] of (Object.keys(PolicyType) as PolicyName[]).entries()) {
      const pool = `${POOL}${i}`;
      for (let id = 1; id <= 3; id++) {
        hs.registerPoolElement(pool, pe(id, { type, weight: 1, priority: 1, load: id << 20 }));
      }
      const got = ids(hs.handleResolution(pool, 3));
      assert.equal(got.length, 3, type);
      assert.deepEqual(got.slice().sort(), [1, 2, 3], type);
    }
    assert.equal(hs.poolCount, 18);
    assert.equal(hs.size, 54);
  },
  "handleResolution() returns undefined when the pool is unknown": (hs) => {
    assert.equal(hs.handleResolution("NoSuchPool", 3), undefined);
  },
  "registerPoolElement() refuses a PE whose policy differs from the pool's with cause 0x5": (
    hs,
  ) => {
    register(hs, [[1, { type: "RoundRobin" }]]);
    assert.equal(errorCauseOf(() => register(hs, [[2, { type: "Random" }]])), 0x5);
    assert.equal(errorCauseOf(() => register(hs, [[1, { type: "LeastUsed" }]])), 0x5);
    assert.equal(hs.size, 1);
  },
  "registerPoolElement() refuses a wrong protocol, control channel or identifier 0": (hs) => {
    register(hs, [[1, { type: "RoundRobin" }]]);
    const tcp = pe(2, { type: "RoundRobin" });
    tcp.userTransport = { protocol: "tcp", port: 7, addresses: ["192.0.2.1"] };
    assert.equal(errorCauseOf(() => hs.registerPoolElement(POOL, tcp)), 0x100a);
    const cc = pe(3, { type: "RoundRobin" });
    cc.userTransport = { ...cc.userTransport, controlChannel: true };
    assert.equal(errorCauseOf(() => hs.registerPoolElement(POOL, cc)), 0x8);
    assert.equal(errorCauseOf(() => register(hs, [[0, { type: "RoundRobin" }]])), 0xf000);
    assert.equal(hs.size, 1);
  },
  "registerPoolElement() updates the entry when the identifier is registered": (hs) => {
    register(hs, [[1, { type: "LeastUsed", load: 5 }], [1, { type: "LeastUsed", load: 6 }]]);
    assert.equal(hs.size, 1);
  },
  "deregisterPoolElement() removes the pool with its last PE": (hs) => {
    register(hs, [[1, { type: "RoundRobin" }], [2, { type: "RoundRobin" }]]);
    hs.deregisterPoolElement(POOL, 1);
    assert.deepEqual(ids(hs.handleResolution(POOL, 3)), [2]);
    hs.deregisterPoolElement(POOL, 2);
    assert.equal(hs.poolCount, 0);
    assert.equal(hs.handleResolution(POOL, 3), undefined);
  },
  "handlespaceChecksum() equals the RFC 1071 sum over pool handles and identifiers": (hs) => {
    hs.registerPoolElement("EchoPoolX", pe(0x12345678, { type: "RoundRobin" }, HOME));
    assert.equal(hs.ownershipChecksum(), 0xd1a4);
    assert.equal(hs.handlespaceChecksum(), 0xd1a4);
    hs.registerPoolElement("EchoPoolX", pe(0xdeadbeef, { type: "RoundRobin" }, HOME + 1));
    assert.equal(hs.handlespaceChecksum(), 0x6e58);
    assert.equal(hs.ownershipChecksum(), 0xd1a4);
  },
};

/**
 * Registers one Deno test per case (named "[name] case").
 *
 * @param options The implementation and what it skips.
 */
export function runPolicyConformance(options: ConformanceOptions): void {
  const skipped = new Map<string, string>();
  for (const { reason, tests } of options.skip ?? []) {
    for (const t of tests) {
      if (!(t in CASES)) throw new Error(`Cannot skip unknown case "${t}"`);
      skipped.set(t, reason);
    }
  }
  for (const [caseName, run] of Object.entries(CASES)) {
    // A case that states the other mode's behaviour does not apply to this implementation:
    // it is not registered at all (the opposite case covers the same operation).
    if (skipped.has(caseName)) continue;
    Deno.test({
      name: `[${options.name}] ${caseName}`,
      ignore: options.ignore !== undefined,
      async fn() {
        const hs = await options.newHandlespace({
          random: seededRandom(caseName.length * 7919),
          homeRegistrarIdentifier: HOME,
        });
        try {
          run(hs);
        } finally {
          hs.dispose?.();
        }
      },
    });
  }
}
