/** Tests of the small building blocks: checksum, random source, rounding, tree. */
import assert from "node:assert/strict";
import {
  addChecksums,
  finishChecksum,
  poolElementChecksum,
  poolHandleWordSum,
  seededRandom,
} from "../../src/handlespace/mod.ts";
import { rint } from "../../src/handlespace/_policy.ts";
import { IdTable, keyOf, PoolTable } from "../../src/handlespace/_tables.ts";

Deno.test("poolElementChecksum() matches RSPLIB's checksum of EchoPoolX/0x12345678", () => {
  const ph = new TextEncoder().encode("EchoPoolX");
  assert.equal(finishChecksum(poolElementChecksum(ph, 0x12345678)), 0xd1a4);
  const both = addChecksums(
    poolElementChecksum(ph, 0x12345678),
    poolElementChecksum(ph, 0xdeadbeef),
  );
  assert.equal(finishChecksum(both), 0x6e58);
  assert.equal(poolHandleWordSum(new Uint8Array([1])), 0x100);
  assert.equal(finishChecksum(0x1ffff), 0xfffe);
});

Deno.test("seededRandom() repeats its sequence when the seed repeats", () => {
  const a = seededRandom(5);
  const b = seededRandom(5);
  const c = seededRandom(6);
  const xs = Array.from({ length: 1000 }, () => a());
  assert.deepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => b()));
  assert.notEqual(xs[0], c());
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05);
});

Deno.test("rint() rounds half to even like C", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4, 2.6, 3, 4294967294.5].map(rint), [
    0,
    2,
    2,
    2,
    3,
    3,
    4294967294,
  ]);
});

Deno.test("IdTable behaves like a Map when keys are added and deleted at random", () => {
  const rnd = seededRandom(11);
  for (let run = 0; run < 20; run++) {
    const table = new IdTable<number>();
    const map = new Map<number, number>();
    const spread = run % 2 === 0 ? 1 : 65536; // clustered and spread identifiers
    for (let step = 0; step < 3000; step++) {
      const key = (Math.floor(rnd() * 400) * spread) | 0;
      if (rnd() < 0.55) {
        if (!map.has(key)) {
          map.set(key, step);
          table.add(key, step);
        }
      } else {
        assert.equal(table.delete(key), map.delete(key));
      }
    }
    assert.equal(table.size, map.size);
    for (let k = 0; k < 400; k++) {
      assert.equal(table.get((k * spread) | 0), map.get((k * spread) | 0));
    }
    let n = 0;
    table.forEach(() => n++);
    assert.equal(n, map.size);
  }
});

Deno.test("PoolTable switches to full hashing when handles collide in the sampled bytes", () => {
  const table = new PoolTable<{ handle: Uint8Array; key: string }>();
  // Same length, first, last and quarter bytes: only the unsampled bytes differ.
  const pools = Array.from({ length: 200 }, (_, i) => {
    const handle = new TextEncoder().encode("A--x0000000000--Z");
    handle[5] = 0x30 + (i % 10);
    handle[6] = 0x30 + Math.floor(i / 10) % 10;
    handle[7] = 0x30 + Math.floor(i / 100);
    return { handle, key: keyOf(handle) };
  });
  for (const p of pools) table.add(p);
  assert.equal(table.fullHash, true);
  for (const p of pools) {
    assert.equal(table.get(p.handle.slice()), p);
    assert.equal(table.getAscii(new TextDecoder().decode(p.handle)), p);
  }
  for (const p of pools.slice(0, 100)) table.delete(p);
  assert.equal(table.size, 100);
  for (const [i, p] of pools.entries()) assert.equal(table.get(p.handle), i < 100 ? undefined : p);
});
