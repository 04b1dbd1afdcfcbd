/**
 * Side-by-side comparison of our Handlespace and RSPLIB 3.4.4's C handlespace for
 * docs/benchmarks.md: every row runs our batch and RSPLIB's batch alternately, many rounds, and
 * reports the median time of each (alternating spreads the noise of a shared machine over both).
 * Same workload as bench/handlespace_bench.ts.
 *
 * Run: deno run -A bench/rsplib_handlespace/compare.ts [--rounds=N] [--markdown]
 *
 * @module
 */

import type { PolicyName } from "../../mod.ts";
import type { Handlespace } from "../../src/handlespace/mod.ts";
import { loadRsplibHandlespace } from "./load.ts";
import {
  cDeregisterAll,
  cRegisterAll,
  cResolve,
  CSpaces,
  makeWorkload,
  SCENARIOS,
  tsDeregisterAll,
  tsRegisterAll,
  tsResolve,
  tsSpaces,
} from "./workload.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=")).map(([k, v]) => [k, v ?? "true"]),
);
const ROUNDS = Number(args.get("rounds") ?? 15);
const ONLY = args.get("only");
const RESOLUTIONS = 10_000;

const loaded = await loadRsplibHandlespace();
if (typeof loaded === "string") throw new Error(`Cannot compare: ${loaded}`);
const c = loaded;

/** One measured batch: setup (untimed), run (timed), teardown (untimed). */
interface Side {
  setup(): void;
  run(): void;
  teardown(): void;
}

interface Row {
  name: string;
  ops: number;
  ours: Side;
  theirs: Side;
  /** Frees the row's data when it is done. */
  done(): void;
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(side: Side): number {
  side.setup();
  const t = performance.now();
  side.run();
  const dt = performance.now() - t;
  side.teardown();
  return dt;
}

/** The rows of one scenario, built when the scenario's turn comes (keeps the heap small). */
function rowsOf(scenario: (typeof SCENARIOS)[number]): Row[] {
  const rows: Row[] = [];
  const ops = scenario.H * scenario.P * scenario.M;
  const lu = makeWorkload(scenario, "LeastUsed");
  const label = scenario.name;
  {
    let ours: Handlespace[] = [];
    let theirs: CSpaces | undefined;
    rows.push({
      name: `registration, ${label}`,
      ops,
      ours: {
        setup: () => ours = tsSpaces(lu),
        run: () => tsRegisterAll(ours, lu, 0),
        teardown: () => ours = [],
      },
      theirs: {
        setup: () => theirs = new CSpaces(c, scenario.H),
        run: () => cRegisterAll(c, theirs!, lu, 0),
        teardown: () => theirs!.free(),
      },
      done: () => {},
    });
  }
  {
    let ours: Handlespace[] | undefined;
    let theirs: CSpaces | undefined;
    let v: 0 | 1 = 0;
    let cv: 0 | 1 = 0;
    rows.push({
      name: `re-registration (load changes), ${label}`,
      ops,
      ours: {
        setup: () => {
          if (ours === undefined) {
            ours = tsSpaces(lu);
            tsRegisterAll(ours, lu, 0);
          }
          v = v === 0 ? 1 : 0;
        },
        run: () => tsRegisterAll(ours!, lu, v),
        teardown: () => {},
      },
      theirs: {
        setup: () => {
          if (theirs === undefined) {
            theirs = new CSpaces(c, scenario.H);
            cRegisterAll(c, theirs, lu, 0);
          }
          cv = cv === 0 ? 1 : 0;
        },
        run: () => cRegisterAll(c, theirs!, lu, cv),
        teardown: () => {},
      },
      done: () => {
        ours = undefined;
        theirs?.free();
      },
    });
  }
  {
    let ours: Handlespace[] = [];
    let theirs: CSpaces | undefined;
    rows.push({
      name: `deregistration, ${label}`,
      ops,
      ours: {
        setup: () => {
          ours = tsSpaces(lu);
          tsRegisterAll(ours, lu, 0);
        },
        run: () => tsDeregisterAll(ours, lu),
        teardown: () => ours = [],
      },
      theirs: {
        setup: () => {
          theirs = new CSpaces(c, scenario.H);
          cRegisterAll(c, theirs, lu, 0);
        },
        run: () => cDeregisterAll(c, theirs!, lu),
        teardown: () => theirs!.free(),
      },
      done: () => {},
    });
  }
  for (const policy of ["RoundRobin", "LeastUsed", "WeightedRandom"] as PolicyName[]) {
    let w: ReturnType<typeof makeWorkload> | undefined;
    const workload = () => w ??= policy === "LeastUsed" ? lu : makeWorkload(scenario, policy);
    let ours: Handlespace[] | undefined;
    let theirs: CSpaces | undefined;
    rows.push({
      name: `handle resolution ${policy}, ${label}`,
      ops: RESOLUTIONS,
      ours: {
        setup: () => {
          if (ours === undefined) {
            ours = tsSpaces(workload());
            tsRegisterAll(ours, workload(), 0);
          }
        },
        run: () => tsResolve(ours!, workload(), RESOLUTIONS),
        teardown: () => {},
      },
      theirs: {
        setup: () => {
          if (theirs === undefined) {
            theirs = new CSpaces(c, scenario.H);
            cRegisterAll(c, theirs, workload(), 0);
          }
        },
        run: () => cResolve(c, theirs!, workload(), RESOLUTIONS),
        teardown: () => {},
      },
      done: () => {
        ours = undefined;
        w = undefined;
        theirs?.free();
      },
    });
  }
  return rows;
}

const results: { name: string; ours: number; theirs: number; ops: number }[] = [];
for (const scenario of SCENARIOS) {
  for (const row of rowsOf(scenario)) {
    if (ONLY !== undefined && !row.name.includes(ONLY)) continue;
    runRow(row);
    row.done();
  }
}

function runRow(row: Row): void {
  const a: number[] = [];
  const b: number[] = [];
  // Warm up (the JIT compiler needs a few thousand calls): at least 3 runs and 0.5 s each.
  for (let i = 0, spent = 0; i < 3 || spent < 500; i++) {
    spent += measure(row.ours);
    measure(row.theirs);
  }
  for (let i = 0; i < ROUNDS; i++) {
    if (i % 2 === 0) {
      a.push(measure(row.ours));
      b.push(measure(row.theirs));
    } else {
      b.push(measure(row.theirs));
      a.push(measure(row.ours));
    }
  }
  const ours = median(a);
  const theirs = median(b);
  results.push({ name: row.name, ours, theirs, ops: row.ops });
  const rate = (ms: number) => (row.ops / ms / 1000).toFixed(2);
  console.log(
    `${row.name.padEnd(62)} ours ${rate(ours).padStart(7)} Mop/s  RSPLIB ${
      rate(theirs).padStart(7)
    } Mop/s  ratio ${(theirs / ours).toFixed(2)}`,
  );
}

if (args.has("markdown")) {
  console.log("\n| Operation | rserpool-deno (ops/s) | RSPLIB 3.4.4 C (ops/s) | ratio |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const r of results) {
    const f = (ms: number) => Math.round(r.ops / ms * 1000).toLocaleString("en-US");
    console.log(
      `| ${r.name} | ${f(r.ours)} | ${f(r.theirs)} | ${(r.theirs / r.ours).toFixed(2)} |`,
    );
  }
}
