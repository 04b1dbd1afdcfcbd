/**
 * Long fuzz run: `deno task fuzz [inputs per protocol]` (default 1 000 000 per protocol).
 * Prints the counts and exits non-zero on any codec failure.
 */
import { fuzz } from "./_fuzz.ts";

const perProtocol = Number(Deno.args[0] ?? 1_000_000);
const seed = Number(Deno.args[1] ?? Date.now() % 0xffffffff);
const started = performance.now();
const result = await fuzz(perProtocol, seed);
let failures = 0;
for (const [ppid, c] of result) {
  console.log(
    `PPID ${ppid}: ${c.inputs} inputs, ${c.decoded} decoded, ${c.rejected} rejected, ` +
      `${c.failures.length} failures, causes ${JSON.stringify(c.causes)}`,
  );
  for (const f of c.failures.slice(0, 10)) console.log("  " + f);
  failures += c.failures.length;
}
console.log(`seed ${seed}, ${((performance.now() - started) / 1000).toFixed(1)} s`);
if (failures > 0) Deno.exit(1);
