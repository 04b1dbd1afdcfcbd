/**
 * Property tests: random sequences of register / update / deregister / resolve / timers /
 * expire / ownership / connection operations, applied to the Handlespace and to a naive
 * reference model, must leave both with the same contents, ownership sets, checksums, handle
 * table order and (for the sorted policies) the same selections.
 */
import assert from "node:assert/strict";
import { type PolicyName, PolicyType, type PoolPolicy } from "../../mod.ts";
import { Handlespace, seededRandom, TimerKind } from "../../src/handlespace/mod.ts";
import { pe } from "./_policy_conformance.ts";
import { handleText, ReferenceHandlespace } from "./_reference_model.ts";

const HOME = 0x10;
const OWNERS = [HOME, 0x20, 0x30];
const encoder = new TextEncoder();
const HANDLES: Uint8Array[] = [
  encoder.encode("A"),
  encoder.encode("BB"),
  new Uint8Array([0xff, 0x00, 0x10]),
  encoder.encode("pool-\u00fc"),
];
const POLICIES = Object.keys(PolicyType) as PolicyName[];

function handleArg(bytes: Uint8Array, rnd: () => number): Uint8Array | string {
  // Text and bytes must name the same pool.
  if (rnd() < 0.5) return bytes;
  if (bytes[0] === 0xff) return bytes;
  return new TextDecoder().decode(bytes);
}

function randomPolicy(type: PolicyName, rnd: () => number): PoolPolicy {
  const pick = <T>(values: T[]): T => values[Math.floor(rnd() * values.length)];
  return {
    type,
    weight: pick([0, 1, 2, 7]),
    priority: pick([0, 1, 3]),
    load: pick([0, 0x10000000, 0x10000000, 0x80000000]),
    loadDegradation: pick([0, 0x01000000, 0x40000000]),
    loadDpf: pick([0, 4294967]),
    weightDpf: pick([0, 42949673]),
    distance: pick([0, 50, 100]),
  };
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

function key(e: { poolHandle: Uint8Array; identifier: number }): string {
  return `${handleText(e.poolHandle)}/${e.identifier}`;
}

function compareAll(hs: Handlespace, model: ReferenceHandlespace, step: number): void {
  const where = `at step ${step}`;
  assert.equal(hs.size, model.pes.length, `size ${where}`);
  assert.equal(hs.poolCount, model.pools.size, `pools ${where}`);
  assert.equal(hs.handlespaceChecksum(), model.handlespaceChecksum(), `checksum ${where}`);
  for (const owner of OWNERS) {
    assert.equal(hs.ownershipChecksum(owner), model.ownershipChecksum(owner), `owner ${where}`);
    assert.deepEqual(
      hs.poolElementsOwnedBy(owner).map(key),
      model.owned(owner).map((e) => `${e.handle}/${e.id}`),
      `owned by ${owner} ${where}`,
    );
  }
  const all = [...hs];
  assert.deepEqual(all.map(key), model.ordered().map((e) => `${e.handle}/${e.id}`), where);
  for (const entry of all) {
    const m = model.find(handleText(entry.poolHandle), entry.identifier)!;
    assert.equal(entry.homeRegistrarIdentifier, m.home, `home ${where}`);
    assert.equal(entry.connection, m.connection, `connection ${where}`);
    assert.equal(entry.marked, m.marked, `mark ${where}`);
    assert.equal(entry.unreachabilityReports, m.reports, `reports ${where}`);
    assert.equal(entry.timerRunning, m.timerKind !== 0, `timer ${where}`);
    if (m.timerKind !== 0) {
      assert.equal(entry.timerKind, m.timerKind, `timer kind ${where}`);
      assert.equal(entry.timerDue, m.timerDue, `timer due ${where}`);
    }
    assert.equal(entry.degradation, m.degradation, `degradation ${where}`);
    assert.equal(entry.selectionCounter, m.selections, `selections ${where}`);
  }
}

function pageThrough(hs: Handlespace, size: number, owner?: number): string[] {
  const out: string[] = [];
  let after: { poolHandle: Uint8Array; identifier: number } | undefined;
  for (;;) {
    const page = hs.handleTable({ owner, after, maxElements: size });
    out.push(...page.map(key));
    if (page.length < size) return out;
    const last = page[page.length - 1];
    after = { poolHandle: last.poolHandle, identifier: last.identifier };
  }
}

function run(seed: number, steps: number): void {
  const rnd = seededRandom(seed);
  let now = 1000;
  const hs = new Handlespace({ homeRegistrarIdentifier: HOME, clock: () => now, random: rnd });
  const model = new ReferenceHandlespace(HOME);
  const poolPolicy = HANDLES.map(() => POLICIES[Math.floor(rnd() * POLICIES.length)]);
  for (let step = 0; step < steps; step++) {
    const h = Math.floor(rnd() * HANDLES.length);
    const bytes = HANDLES[h];
    const text = handleText(bytes);
    const id = 1 + Math.floor(rnd() * 10);
    const r = rnd();
    if (r < 0.3) {
      const type = rnd() < 0.04 ? POLICIES[Math.floor(rnd() * POLICIES.length)] : poolPolicy[h];
      const element = pe(id, randomPolicy(type, rnd), OWNERS[Math.floor(rnd() * 3)]);
      if (rnd() < 0.03) element.userTransport = { ...element.userTransport, protocol: "tcp" };
      const connection = [undefined, 1, 2, 3][Math.floor(rnd() * 4)];
      const a = causeOf(() =>
        hs.registerPoolElement(handleArg(bytes, rnd), element, { connection })
      );
      const b = model.register(text, element, connection);
      assert.equal(a, b, `registration cause at step ${step}`);
    } else if (r < 0.4) {
      const a = hs.deregisterPoolElement(handleArg(bytes, rnd), id) !== undefined;
      assert.equal(a, model.deregister(text, id), `deregistration at step ${step}`);
    } else if (r < 0.65) {
      const items = 1 + Math.floor(rnd() * 4);
      const maxIncrement = [0, 1, 2, 1e9][Math.floor(rnd() * 4)];
      const sorted = model.isSorted(text);
      const got = hs.handleResolution(handleArg(bytes, rnd), items, { maxIncrement });
      if (!model.pools.has(text)) assert.equal(got, undefined);
      else if (sorted) {
        const want = model.resolveSorted(text, items, maxIncrement);
        assert.deepEqual(got?.map((e) => e.identifier), want, `selection at step ${step}`);
      } else {
        const members = new Set(model.inPool(text).map((e) => e.id));
        const ids = got!.map((e) => e.identifier);
        assert.ok(ids.length <= Math.min(items, members.size));
        assert.equal(new Set(ids).size, ids.length);
        for (const x of ids) assert.ok(members.has(x));
        // Mirror the selection's effect on the model's state (not predicted: random).
        for (const [i, entry] of got!.entries()) {
          const m = model.find(text, entry.identifier)!;
          m.selections++;
          if (m.pe.policy.type.includes("Degradation") && i < Math.max(maxIncrement, 1)) {
            m.degradation = Math.min(m.degradation + m.loadDeg, 0xffffffff);
          }
        }
      }
    } else if (r < 0.75) {
      const entry = hs.findPoolElement(bytes, id);
      const m = model.find(text, id);
      assert.equal(entry === undefined, m === undefined);
      if (entry !== undefined && m !== undefined) {
        const kind = [TimerKind.Expiry, TimerKind.KeepAliveTimeout][Math.floor(rnd() * 2)];
        const due = now + Math.floor(rnd() * 50);
        hs.setTimer(entry, kind, due);
        m.timerKind = kind;
        m.timerDue = due;
      }
    } else if (r < 0.82) {
      now += Math.floor(rnd() * 30);
      if (rnd() < 0.5) {
        const a = hs.takeExpired().map((e) => `${key(e)}:${e.timerKind}`);
        const b = model.takeExpired(now);
        assert.deepEqual(a, b, `expired timers at step ${step}`);
      } else {
        const purged = hs.purgeExpired();
        const due = model.pes.filter((e) => e.timerKind === TimerKind.Expiry && e.timerDue <= now);
        for (const e of due) model.remove(e);
        assert.equal(purged, due.length, `purged at step ${step}`);
      }
    } else if (r < 0.86) {
      const a = hs.reportUnreachable(handleArg(bytes, rnd), id);
      const b = model.reportUnreachable(text, id);
      assert.equal(a === undefined ? "unknown" : a.removed ? "removed" : "counted", b);
    } else if (r < 0.9) {
      const from = OWNERS[Math.floor(rnd() * 3)];
      const to = OWNERS[Math.floor(rnd() * 3)];
      const moved = hs.rehome(from, to);
      const want = model.owned(from);
      assert.equal(moved.length, want.length);
      for (const e of want) e.home = to;
    } else if (r < 0.94) {
      const owner = OWNERS[Math.floor(rnd() * 3)];
      if (rnd() < 0.5) {
        hs.markOwnedBy(owner);
        for (const e of model.owned(owner)) e.marked = true;
      } else {
        const removed = hs.purgeMarked(owner).map(key).sort();
        const want = model.owned(owner).filter((e) => e.marked);
        for (const e of want) model.remove(e);
        assert.deepEqual(removed, want.map((e) => `${e.handle}/${e.id}`).sort());
      }
    } else {
      const connection = 1 + Math.floor(rnd() * 3);
      const removed = hs.deregisterConnection(connection).map(key).sort();
      const want = model.pes.filter((e) => e.connection === connection);
      for (const e of want) model.remove(e);
      assert.deepEqual(removed, want.map((e) => `${e.handle}/${e.id}`).sort());
    }
    compareAll(hs, model, step);
    if (step % 25 === 0) {
      hs.verify();
      const size = 1 + Math.floor(rnd() * 5);
      assert.deepEqual(pageThrough(hs, size), model.ordered().map((e) => `${e.handle}/${e.id}`));
      const owner = OWNERS[Math.floor(rnd() * 3)];
      assert.deepEqual(
        pageThrough(hs, size, owner),
        model.owned(owner).map((e) => `${e.handle}/${e.id}`),
      );
    }
  }
  hs.verify();
}

Deno.test("Handlespace matches the reference model when random operations are applied", () => {
  for (let seed = 1; seed <= 40; seed++) run(seed, 400);
});

Deno.test("Handlespace matches the reference model when one pool grows large", () => {
  // Larger pools exercise deeper trees and Fenwick trees; selection checked on every step.
  const rnd = seededRandom(99);
  for (
    const policy of ["LeastUsed", "WeightedRoundRobin", "PriorityLeastUsedDegradation"] as const
  ) {
    const hs = new Handlespace({ random: rnd });
    const model = new ReferenceHandlespace(0);
    for (let step = 0; step < 1500; step++) {
      const id = 1 + Math.floor(rnd() * 300);
      if (rnd() < 0.6) {
        const element = pe(id, randomPolicy(policy, rnd), 0);
        hs.registerPoolElement("Big", element);
        model.register("Big", element);
      } else if (rnd() < 0.2) {
        hs.deregisterPoolElement("Big", id);
        model.deregister("Big", id);
      } else if (model.pools.has("Big")) {
        const items = 1 + Math.floor(rnd() * 8);
        const maxIncrement = [0, 3][Math.floor(rnd() * 2)];
        assert.deepEqual(
          hs.handleResolution("Big", items, { maxIncrement })!.map((e) => e.identifier),
          model.resolveSorted("Big", items, maxIncrement),
          `${policy} step ${step}`,
        );
      }
    }
    hs.verify();
    assert.equal(hs.size, model.pes.length);
  }
});
