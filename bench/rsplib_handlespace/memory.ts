/**
 * Memory per PE at 100 000 PEs (one LeastUsed pool, connections and registrator transports set,
 * as in a registrar), for docs/benchmarks.md:
 *
 * - ours: V8 heap growth after a full GC, with the PE parameters as a registrar would hold them
 *   (the handlespace keeps the transport and policy objects of each registration; the wrapper
 *   objects are dropped), and separately the part that the parameters themselves take;
 * - RSPLIB 3.4.4: malloc'd bytes growth (mallinfo2), which includes its own copies of the
 *   transport address blocks.
 *
 * Run: deno run -A --v8-flags=--expose-gc bench/rsplib_handlespace/memory.ts
 *
 * @module
 */

import type { PoolElementParameter } from "../../mod.ts";
import { Handlespace } from "../../src/handlespace/mod.ts";
import { loadRsplibHandlespace } from "./load.ts";
import { cRegisterAll, CSpaces, HOME, makeWorkload, SCENARIOS } from "./workload.ts";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("Cannot measure: run with --v8-flags=--expose-gc");
const N = 100_000;
const scenario = SCENARIOS.find((s) => s.M === N && s.P === 1)!;

function heap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return Deno.memoryUsage().heapUsed;
}
heap();

const ids = makeWorkload(scenario, "LeastUsed").ids.slice();
const loads = makeWorkload(scenario, "LeastUsed").values[0].slice();

/** Fresh parameters, as freshly decoded Registration messages would be. */
function freshParameters(): PoolElementParameter[] {
  return Array.from(ids, (identifier, i): PoolElementParameter => ({
    identifier,
    homeRegistrarIdentifier: HOME,
    registrationLife: 30000,
    userTransport: {
      protocol: "sctp",
      port: 7,
      addresses: [`10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`],
      controlChannel: false,
    },
    registratorTransport: {
      protocol: "sctp",
      port: 3863,
      addresses: [`10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}`],
      controlChannel: false,
    },
    policy: { type: "LeastUsed", load: loads[i] },
  }));
}

// ---- ours: handlespace plus the objects it keeps ------------------------------------------
// (In functions, before any await: heap figures taken at the top level of a module that uses
// top-level await came out wrong in Deno 2.9.)
function measureOurs(): { total: number; kept: number } {
  const ph = new TextEncoder().encode("BenchmarkPool");
  const before = heap();
  let params: PoolElementParameter[] | undefined = freshParameters();
  const hs = new Handlespace({ homeRegistrarIdentifier: HOME });
  for (const p of params) hs.registerPoolElement(ph, p, { connection: 1 + (p.identifier & 0xff) });
  params = undefined;
  const total = (heap() - before) / N;
  if (hs.size !== N) throw new Error("Cannot measure: not all PEs registered");
  return { total, kept: measureKept() };
}

/** What the kept parameter objects (two transports and a policy per PE) take on their own. */
function measureKept(): number {
  const before = heap();
  const kept: unknown[] = [];
  for (const p of freshParameters()) kept.push(p.userTransport, p.registratorTransport, p.policy);
  const bytes = (heap() - before) / N - 3 * 8; // minus the slots of `kept`
  if (kept.length !== 3 * N) throw new Error("Cannot measure: lost objects");
  return bytes;
}

const ours = measureOurs();
console.log(`rserpool-deno: ${ours.total.toFixed(0)} bytes/PE in total (100 000 PEs)`);
console.log(`  the PEs' transport and policy objects: ${ours.kept.toFixed(0)} bytes/PE`);
console.log(`  the handlespace's own structures: ${(ours.total - ours.kept).toFixed(0)} bytes/PE`);

// ---- RSPLIB ------------------------------------------------------------------------------
const c = await loadRsplibHandlespace();
if (typeof c === "string") {
  console.log(`RSPLIB: not available (${c})`);
} else {
  const w = makeWorkload(scenario, "LeastUsed");
  const b0 = Number(c.rsphs_heap_in_use());
  const spaces = new CSpaces(c, 1);
  cRegisterAll(c, spaces, w, 0);
  const b1 = Number(c.rsphs_heap_in_use());
  console.log(`RSPLIB 3.4.4: ${((b1 - b0) / N).toFixed(0)} bytes/PE (malloc, incl. transports)`);
  spaces.free();
}
