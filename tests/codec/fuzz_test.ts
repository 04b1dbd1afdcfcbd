/** Bounded fuzz run of the codec (the long run is `deno task fuzz`). */
import assert from "node:assert/strict";
import { fuzz } from "./_fuzz.ts";

const PER_PROTOCOL = 100_000;

Deno.test(`decodeMessage() survives ${PER_PROTOCOL} fuzzed inputs per protocol`, async () => {
  const started = performance.now();
  const result = await fuzz(PER_PROTOCOL);
  for (const [ppid, c] of result) {
    console.log(
      `PPID ${ppid}: ${c.inputs} inputs, ${c.decoded} decoded, ${c.rejected} rejected, ` +
        `causes ${JSON.stringify(c.causes)}`,
    );
    assert.equal(c.inputs, PER_PROTOCOL);
    assert.deepEqual(c.failures.slice(0, 5), []);
    assert.ok(c.decoded > 0 && c.rejected > 0);
  }
  console.log(`${(performance.now() - started).toFixed(0)} ms`);
});
