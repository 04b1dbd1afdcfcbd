/**
 * Differential tests against RSPLIB 3.4.4's own C handlespace (Debian librsphsmgt.so.3): the
 * same random sequences of registrations, updates, deregistrations and handle resolutions must
 * give the same selections, the same per-PE selection state and the same checksums. Our
 * Handlespace runs with `degradation: "rsplib"` here, so that even the degradation policies
 * must match RSPLIB bit for bit; the RFC 5356 mode differs only in the documented counting.
 */
import assert from "node:assert/strict";
import type { PolicyName, PoolPolicy } from "../../mod.ts";
import { Handlespace, type RandomSource, seededRandom } from "../../src/handlespace/mod.ts";
import { pe } from "./_policy_conformance.ts";
import { RsplibHandlespace, rsplibSymbols } from "./_rsplib_adapter.ts";

const symbols = await rsplibSymbols();
const ignore = symbols === undefined;

const SORTED: PolicyName[] = [
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
];
const RANDOM: PolicyName[] = [
  "Random",
  "WeightedRandom",
  "WeightedRandomDPF",
  "RandomizedLeastUsed",
  "RandomizedLeastUsedDegradation",
  "RandomizedPriorityLeastUsed",
  "RandomizedPriorityLeastUsedDegradation",
];
const POOLS = ["A", "BB", "CCC"];

/** Random policy values from small ranges, so that ties (and rotation) happen often. */
function randomPolicy(type: PolicyName, rnd: RandomSource): PoolPolicy {
  const pick = <T>(values: T[]): T => values[Math.floor(rnd() * values.length)];
  const load = pick([0, 0, 0x10000000, 0x20000000, 0x7fffffff, 0xffffffff]);
  return {
    type,
    weight: pick([0, 1, 2, 3, 5]),
    priority: pick([0, 1, 2, 0xffffffff]),
    load,
    loadDegradation: pick([0, 0x01000000, 0x10000000, 0x80000000]),
    loadDpf: pick([0, 4294967, 429496730]),
    weightDpf: pick([0, 42949673]),
    distance: pick([0, 0, 50, 100, 150]),
  };
}

function compareState(ts: Handlespace, c: RsplibHandlespace, step: number): void {
  assert.equal(ts.size, c.size, `size at step ${step}`);
  assert.equal(ts.poolCount, c.poolCount, `pools at step ${step}`);
  assert.equal(ts.handlespaceChecksum(), c.handlespaceChecksum(), `checksum at step ${step}`);
  assert.equal(ts.ownershipChecksum(), c.ownershipChecksum(), `ownership at step ${step}`);
  for (const entry of ts) {
    const other = c.findPoolElement(entry.poolHandle, entry.identifier);
    assert.ok(other !== undefined, `PE ${entry.identifier} missing in RSPLIB at step ${step}`);
    const mine = {
      identifier: entry.identifier,
      seqNumber: entry.seqNumber,
      roundCounter: entry.roundCounter,
      virtualCounter: entry.virtualCounter,
      degradation: entry.degradation,
      selectionCounter: entry.selectionCounter,
      homeRegistrarIdentifier: entry.homeRegistrarIdentifier,
    };
    assert.deepEqual(mine, other, `state of PE ${entry.identifier} at step ${step}`);
  }
}

function causeOf(f: () => unknown): number {
  try {
    f();
    return 0;
  } catch (e) {
    const cause = (e as { errorCause?: number }).errorCause;
    if (cause === undefined) throw e;
    return cause;
  }
}

function run(policy: PolicyName, seed: number, steps: number, sorted: boolean): void {
  const rnd = seededRandom(seed);
  const HOME = 0x10;
  const ts = new Handlespace({ homeRegistrarIdentifier: HOME, degradation: "rsplib", random: rnd });
  const c = new RsplibHandlespace(symbols!, HOME);
  try {
    for (let step = 0; step < steps; step++) {
      const r = rnd();
      const pool = POOLS[Math.floor(rnd() * POOLS.length)];
      const id = 1 + Math.floor(rnd() * 12);
      if (r < 0.35) {
        // Register or update, sometimes with a mismatching policy or another owner.
        const type = rnd() < 0.05 ? "RoundRobin" : policy;
        const element = pe(id, randomPolicy(type, rnd), rnd() < 0.5 ? HOME : HOME + 1);
        const a = causeOf(() => ts.registerPoolElement(pool, element));
        const b = causeOf(() => c.registerPoolElement(pool, element));
        assert.equal(a, b, `registration error at step ${step}`);
      } else if (r < 0.45) {
        ts.deregisterPoolElement(pool, id);
        c.deregisterPoolElement(pool, id);
      } else {
        const items = 1 + Math.floor(rnd() * 5);
        const maxIncrement = [0, 0, 1, 2, 3, 1e9][Math.floor(rnd() * 6)];
        const a = ts.handleResolution(pool, items, { maxIncrement })?.map((e) => e.identifier);
        const b = c.handleResolution(pool, items, { maxIncrement })?.map((e) => e.identifier);
        if (sorted) assert.deepEqual(a, b, `selection at step ${step}`);
        else assert.equal(a?.length, b?.length, `selection size at step ${step}`);
      }
      if (sorted || step % 50 === 0) {
        if (sorted) compareState(ts, c, step);
        else {
          assert.equal(ts.size, c.size);
          assert.equal(ts.handlespaceChecksum(), c.handlespaceChecksum());
          assert.equal(ts.ownershipChecksum(), c.ownershipChecksum());
        }
      }
    }
    ts.verify();
  } finally {
    c.dispose();
  }
}

for (const policy of SORTED) {
  Deno.test({
    name: `handleResolution() selects like RSPLIB 3.4.4 when the policy is ${policy}`,
    ignore,
    fn() {
      for (let seed = 1; seed <= 4; seed++) run(policy, seed * 1000 + policy.length, 600, true);
    },
  });
}

for (const policy of RANDOM) {
  Deno.test({
    name:
      `registerPoolElement() keeps contents and checksums like RSPLIB 3.4.4 when the policy is ${policy}`,
    ignore,
    fn() {
      run(policy, 77 + policy.length, 1500, false);
    },
  });
}

Deno.test({
  name: "handleResolution() selects like RSPLIB 3.4.4 when sequence numbers wrap around",
  ignore,
  fn() {
    // 4 PEs, ~70 000 resolutions: the pool's sequence numbers (starting at 0xfffffff0) are
    // renumbered early and WRR rounds reset, in both implementations alike.
    for (const policy of ["RoundRobin", "WeightedRoundRobin", "LeastUsed"] as const) {
      const ts = new Handlespace({ degradation: "rsplib" });
      const c = new RsplibHandlespace(symbols!, 0);
      try {
        for (let id = 1; id <= 4; id++) {
          const element = pe(id, { type: policy, weight: id, load: (id & 1) << 28 });
          ts.registerPoolElement("W", element);
          c.registerPoolElement("W", element);
        }
        for (let i = 0; i < 20000; i++) {
          const items = 1 + (i % 4);
          const a = ts.handleResolution("W", items)!.map((e) => e.identifier);
          const b = c.handleResolution("W", items)!.map((e) => e.identifier);
          if (a.join() !== b.join()) assert.deepEqual(a, b, `${policy} resolution ${i}`);
        }
        compareState(ts, c, 20000);
      } finally {
        c.dispose();
      }
    }
  },
});
