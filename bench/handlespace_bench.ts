/**
 * Handlespace benchmarks, side by side with RSPLIB 3.4.4's C handlespace (Debian
 * librsphsmgt.so.3, SimpleRedBlackTree variant, called through our shim in
 * bench/rsplib_handlespace/; its loops run in C, so the C rows carry no per-operation FFI cost).
 *
 * Rows: registration (filling empty handlespaces), re-registration (every PE re-registers with a
 * changed load), deregistration, and handle resolution of 3 PEs with the registrar's default
 * MaxIncrement for RoundRobin, LeastUsed and WeightedRandom pools; each at a pool of 10 PEs
 * (100 handlespaces, to batch 1 000 operations), 1 000 PEs, 100 000 PEs, and 1 000 pools × 100
 * PEs. One iteration = one batch (see the group name). RSPLIB is the baseline of each group.
 *
 * Run: deno bench -A --v8-flags=--expose-gc bench/handlespace_bench.ts  (RSPLIB rows need gcc
 * and librsplib3). With --expose-gc, the garbage that earlier iterations left behind (discarded
 * handlespaces: RSPLIB frees its own outside the timed part) is collected before each timed
 * part of the large rows and of the first iteration of every group, so that it is not charged
 * to the next measurement. docs/benchmarks.md uses bench/rsplib_handlespace/compare.ts (same
 * workload, alternating runs, medians), which is steadier on a shared machine.
 */
import type { PolicyName } from "../mod.ts";
import type { Handlespace } from "../src/handlespace/mod.ts";
import { loadRsplibHandlespace } from "./rsplib_handlespace/load.ts";
import {
  cDeregisterAll,
  cRegisterAll,
  cResolve,
  CSpaces,
  makeWorkload,
  type Scenario,
  SCENARIOS,
  tsDeregisterAll,
  tsRegisterAll,
  tsResolve,
  tsSpaces,
  type Workload,
} from "./rsplib_handlespace/workload.ts";

const loaded = await loadRsplibHandlespace();
const c = typeof loaded === "string" ? undefined : loaded;
if (c === undefined) console.warn(`RSPLIB rows skipped: ${loaded}`);

const RESOLUTIONS = 10_000;
const gc = (globalThis as { gc?: (options?: { type: "minor" | "major" }) => void }).gc;

/**
 * Collects leftover garbage before a timed part: a full collection for large rows and for the
 * first iteration of a group; for the other iterations of rows that discard handlespaces every
 * iteration (`churn`), a young-generation one.
 */
function settle(churn = false): (big: boolean) => void {
  let first = true;
  return (big) => {
    if (gc !== undefined) {
      if (big || first) gc();
      else if (churn) gc({ type: "minor" });
    }
    first = false;
  };
}
const OURS = "rserpool-deno";
const RSPLIB = "RSPLIB 3.4.4 (C)";

/**
 * Data of the scenario being benchmarked; dropped (and RSPLIB's handlespaces freed) when the
 * benches move on to the next scenario, so that earlier scenarios do not weigh on the heap.
 */
class ScenarioData {
  #scenario: Scenario | undefined;
  #workloads = new Map<string, Workload>();
  #ours = new Map<string, Handlespace[]>();
  #theirs = new Map<string, CSpaces>();

  #enter(scenario: Scenario): void {
    if (this.#scenario === scenario) return;
    for (const spaces of this.#theirs.values()) spaces.free();
    this.#workloads.clear();
    this.#ours.clear();
    this.#theirs.clear();
    this.#scenario = scenario;
  }

  workload(scenario: Scenario, policy: PolicyName): Workload {
    this.#enter(scenario);
    let w = this.#workloads.get(policy);
    if (w === undefined) {
      w = makeWorkload(scenario, policy);
      this.#workloads.set(policy, w);
    }
    return w;
  }

  /** Filled handlespaces of ours, kept across iterations under `key`. */
  ours(scenario: Scenario, policy: PolicyName, key: string): Handlespace[] {
    const w = this.workload(scenario, policy);
    let spaces = this.#ours.get(key);
    if (spaces === undefined) {
      spaces = tsSpaces(w);
      tsRegisterAll(spaces, w, 0);
      this.#ours.set(key, spaces);
    }
    return spaces;
  }

  /** Filled RSPLIB handlespaces, kept across iterations under `key`. */
  theirs(scenario: Scenario, policy: PolicyName, key: string): CSpaces {
    const w = this.workload(scenario, policy);
    let spaces = this.#theirs.get(key);
    if (spaces === undefined) {
      spaces = new CSpaces(c!, scenario.H);
      cRegisterAll(c!, spaces, w, 0);
      this.#theirs.set(key, spaces);
    }
    return spaces;
  }
}

const data = new ScenarioData();

for (const scenario of SCENARIOS) {
  const ops = scenario.H * scenario.P * scenario.M;
  const big = ops >= 100_000;
  const n = big ? 10 : undefined;
  const warmup = big ? 3 : undefined;
  const lu = (): Workload => data.workload(scenario, "LeastUsed");

  // ---- registration: fill empty handlespaces ----------------------------------------------
  {
    const group = `register ${ops} PEs, ${scenario.name}`;
    const ours = settle(true);
    const theirs = settle(true);
    Deno.bench({
      name: OURS,
      group,
      n,
      warmup,
      fn(b) {
        const w = lu();
        const spaces = tsSpaces(w);
        ours(big);
        b.start();
        tsRegisterAll(spaces, w, 0);
        b.end();
      },
    });
    Deno.bench({
      name: RSPLIB,
      group,
      baseline: true,
      ignore: c === undefined,
      n,
      warmup,
      fn(b) {
        const w = lu();
        const spaces = new CSpaces(c!, scenario.H);
        theirs(big);
        b.start();
        cRegisterAll(c!, spaces, w, 0);
        b.end();
        spaces.free();
      },
    });
  }

  // ---- re-registration with a changed load --------------------------------------------------
  {
    const group = `re-register ${ops} PEs (load changes), ${scenario.name}`;
    const ours = settle();
    const theirs = settle();
    let variant: 0 | 1 = 0;
    Deno.bench({
      name: OURS,
      group,
      n,
      warmup,
      fn(b) {
        const spaces = data.ours(scenario, "LeastUsed", "rereg");
        variant = variant === 0 ? 1 : 0;
        ours(big);
        b.start();
        tsRegisterAll(spaces, lu(), variant);
        b.end();
      },
    });
    let cVariant: 0 | 1 = 0;
    Deno.bench({
      name: RSPLIB,
      group,
      baseline: true,
      ignore: c === undefined,
      n,
      warmup,
      fn(b) {
        const spaces = data.theirs(scenario, "LeastUsed", "rereg");
        cVariant = cVariant === 0 ? 1 : 0;
        theirs(big);
        b.start();
        cRegisterAll(c!, spaces, lu(), cVariant);
        b.end();
      },
    });
  }

  // ---- deregistration -----------------------------------------------------------------------
  {
    const group = `deregister ${ops} PEs, ${scenario.name}`;
    const ours = settle(true);
    const theirs = settle(true);
    Deno.bench({
      name: OURS,
      group,
      n,
      warmup,
      fn(b) {
        const w = lu();
        const spaces = tsSpaces(w);
        tsRegisterAll(spaces, w, 0);
        ours(big);
        b.start();
        tsDeregisterAll(spaces, w);
        b.end();
      },
    });
    Deno.bench({
      name: RSPLIB,
      group,
      baseline: true,
      ignore: c === undefined,
      n,
      warmup,
      fn(b) {
        const w = lu();
        const spaces = new CSpaces(c!, scenario.H);
        cRegisterAll(c!, spaces, w, 0);
        theirs(big);
        b.start();
        cDeregisterAll(c!, spaces, w);
        b.end();
        spaces.free();
      },
    });
  }

  // ---- handle resolution --------------------------------------------------------------------
  for (const policy of ["RoundRobin", "LeastUsed", "WeightedRandom"] as PolicyName[]) {
    const group = `resolve ${RESOLUTIONS}× 3 PEs, ${policy}, ${scenario.name}`;
    const ours = settle();
    const theirs = settle();
    Deno.bench({
      name: OURS,
      group,
      fn(b) {
        const spaces = data.ours(scenario, policy, `resolve ${policy}`);
        const w = data.workload(scenario, policy);
        ours(false);
        b.start();
        tsResolve(spaces, w, RESOLUTIONS);
        b.end();
      },
    });
    Deno.bench({
      name: RSPLIB,
      group,
      baseline: true,
      ignore: c === undefined,
      fn(b) {
        const spaces = data.theirs(scenario, policy, `resolve ${policy}`);
        const w = data.workload(scenario, policy);
        theirs(false);
        b.start();
        cResolve(c!, spaces, w, RESOLUTIONS);
        b.end();
      },
    });
  }
}
