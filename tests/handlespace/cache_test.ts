/** Tests of the pool user's handle resolution cache. */
import assert from "node:assert/strict";
import { PoolUserCache, seededRandom } from "../../src/handlespace/mod.ts";
import { pe } from "./_policy_conformance.ts";

Deno.test("PoolUserCache.resolve() advances every PE it returns", () => {
  const cache = new PoolUserCache({ clock: () => 0 });
  cache.add("P", [1, 2, 3, 4].map((id) => pe(id, { type: "RoundRobin" })), 1000);
  const ids = () => cache.resolve("P", 2)!.map((e) => e.identifier);
  assert.deepEqual([ids(), ids(), ids()], [[1, 2], [3, 4], [1, 2]]);
});

Deno.test("PoolUserCache.resolve() returns undefined when the entries are stale", () => {
  let now = 0;
  const cache = new PoolUserCache({ clock: () => now });
  assert.equal(cache.add("P", [pe(1, { type: "Random" }), pe(2, { type: "Random" })], 100), 2);
  now = 50;
  cache.add("P", [pe(2, { type: "Random" })], 100); // refreshed until 150
  now = 100;
  assert.deepEqual(cache.resolve("P", 5)!.map((e) => e.identifier), [2]);
  now = 150;
  assert.equal(cache.resolve("P"), undefined);
  assert.equal(cache.size, 0);
});

Deno.test("PoolUserCache.add() skips PEs that do not fit the cached pool", () => {
  const cache = new PoolUserCache({ random: seededRandom(3) });
  assert.equal(
    cache.add("P", [
      pe(1, { type: "LeastUsed" }),
      pe(2, { type: "RoundRobin" }),
      pe(0, { type: "LeastUsed" }),
    ], 1000),
    1,
  );
  assert.equal(cache.remove("P", 1), true);
  assert.equal(cache.remove("P", 1), false);
  assert.equal(cache.purge(), 0);
  assert.equal(cache.handlespace.size, 0);
});
