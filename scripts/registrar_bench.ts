/**
 * Registrar benchmark driver: runs `scripts/registrar_load.ts` against our registrar
 * (`cli/rspregistrar.ts`) and against RSPLIB's `rspregistrar`, alternately, several times, and
 * prints the medians and the ratios ours / RSPLIB. Meant to run inside the user-mode-linux
 * guest (kernel SCTP); `scripts/registrar_bench.sh` boots the guest and runs it.
 *
 * ```sh
 * scripts/registrar_bench.sh                       # 3 runs each, 10 s per phase
 * scripts/registrar_bench.sh --runs=5 --duration=20
 * scripts/registrar_bench.sh -- --reg-window=8     # after --: options for the generator
 * ```
 *
 * Each run: start the registrar, wait for its banner and until its CPU use has settled
 * (Deno's start-up takes seconds of CPU under UML), run the generator with the registrar's
 * pid (for CPU accounting), stop the registrar (SIGTERM). Results go to standard output
 * (table + one JSON line) and to `--out` (JSON and a Markdown table).
 *
 * @module
 */

import { HelpRequested, parseOptions } from "../src/common/options.ts";
import type { LoadResult, PhaseResult } from "./registrar_load.ts";

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

/** Command-line options of the benchmark driver. */
export const BENCH_OPTIONS = {
  runs: { kind: "integer", description: "Runs per registrar", default: 3, min: 1, max: 20 },
  which: {
    kind: "string",
    description: "Registrars to measure, comma-separated: ours, rsplib, variant names " +
      "(default: all)",
  },
  variant: {
    kind: "string",
    description: "Also measure NAME: a registrar program (.ts, options as cli/rspregistrar.ts), " +
      "e.g. a patched copy",
    valueName: "NAME=FILE",
    repeatable: true,
  },
  "registrar-arg": {
    kind: "string",
    description: "Extra option for every registrar, e.g. " +
      "-registrar-arg=-endpointkeepalivetransmissioninterval=60000",
    valueName: "option",
    repeatable: true,
  },
  address: { kind: "string", description: "Address of the registrars", default: "10.9.0.2" },
  port: { kind: "integer", description: "ASAP port of the registrars", default: 3863 },
  duration: {
    kind: "number",
    description: "Measured seconds per phase",
    valueName: "s",
    default: 10,
    min: 1,
    max: 300,
  },
  warmup: {
    kind: "number",
    description: "Warm-up seconds per phase",
    valueName: "s",
    default: 3,
    min: 0,
    max: 60,
  },
  rsplib: {
    kind: "string",
    description: "RSPLIB's registrar program",
    default: "rspregistrar",
  },
  out: {
    kind: "string",
    description: "Directory for the JSON and Markdown results",
    default: `${ROOT}/tests/tmp/registrar_bench`,
  },
  timeout: {
    kind: "number",
    description: "Wall-clock limit of the whole benchmark",
    valueName: "s",
    default: 1800,
    min: 10,
    max: 7200,
  },
  report: {
    kind: "string",
    description: "Measure nothing: print the report of a saved result file (<time>.json)",
    valueName: "file",
  },
  "allow-host": {
    kind: "flag",
    description: "Run outside the UML guest too (needs kernel SCTP or usrsctp for both)",
  },
} as const;

/** A registrar under test: ours (or a variant of it, a Deno program) or RSPLIB's. */
interface Contender {
  name: string;
  /** Deno program file; undefined for RSPLIB's registrar. */
  program?: string;
}

/** One measurement. */
export interface RunRecord {
  /** Registrar name ("ours", "rsplib", a variant). */
  registrar: string;
  /** Run number, from 1. */
  run: number;
  /** The generator's result. */
  result?: LoadResult;
  /** Why the run produced no result. */
  error?: string;
}

/** Median of numbers (undefined for none). */
export function median(values: number[]): number | undefined {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function cpuTicks(pid: number): number | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return Number(f[11]) + Number(f[12]);
  } catch {
    return undefined;
  }
}

/** Whether a kernel SCTP endpoint is bound to `port` (/proc/net/sctp/eps, column LPORT). */
function sctpListening(port: number): boolean {
  try {
    const lines = Deno.readTextFileSync("/proc/net/sctp/eps").split("\n").slice(1);
    return lines.some((l) => l.trim().split(/\s+/)[5] === String(port));
  } catch {
    return false;
  }
}

/** A registrar process with its output collected. */
class RegistrarProcess {
  readonly child: Deno.ChildProcess;
  output = "";
  readonly #reading: Promise<void>;

  constructor(program: string, args: string[]) {
    this.child = new Deno.Command(program, {
      args,
      cwd: ROOT,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const read = async (s: ReadableStream<Uint8Array>) => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
        if (this.output.length < 100_000) this.output += chunk;
      }
    };
    this.#reading = Promise.all([read(this.child.stdout), read(this.child.stderr)]).then(
      () => {},
    );
  }

  get pid(): number {
    return this.child.pid;
  }

  /**
   * Waits until an SCTP endpoint listens on `port` (/proc/net/sctp/eps; RSPLIB's banner sits in
   * a stdio buffer when stdout is a pipe), then until the process used < 10 % CPU for two 0.5 s
   * slices.
   */
  async ready(port: number, timeoutMs: number): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (!sctpListening(port)) {
      if (performance.now() > end || cpuTicks(this.pid) === undefined) {
        throw new Error(`not listening within ${timeoutMs} ms; output: ${this.output.slice(-500)}`);
      }
      await sleep(100);
    }
    let quiet = 0;
    let last = cpuTicks(this.pid) ?? 0;
    while (quiet < 2 && performance.now() < end) {
      await sleep(500);
      const now = cpuTicks(this.pid);
      if (now === undefined) throw new Error(`registrar exited: ${this.output.slice(-500)}`);
      quiet = now - last <= 5 ? quiet + 1 : 0;
      last = now;
    }
  }

  async stop(): Promise<void> {
    try {
      this.child.kill("SIGTERM");
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, 10_000);
    await this.child.status;
    clearTimeout(timer);
    await this.#reading;
  }
}

function startRegistrar(
  who: Contender,
  address: string,
  port: number,
  rsplib: string,
  extra: string[],
): RegistrarProcess {
  const common = [`-asap=${address}:${port}`, "-asapannounce=off", "-enrpannounce=off"];
  if (who.program !== undefined) {
    return new RegistrarProcess(Deno.execPath(), [
      "run",
      "-A",
      who.program,
      ...common,
      "-loglevel=0",
      ...extra,
    ]);
  }
  return new RegistrarProcess(rsplib, [
    ...common,
    `-enrp=${address}:9901`,
    "-loglevel=0",
    ...extra,
  ]);
}

async function runGenerator(
  args: string[],
  jsonFile: string,
  timeoutS: number,
): Promise<LoadResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}/scripts/registrar_load.ts`,
      ...args,
      `--json=${jsonFile}`,
      "--quiet",
    ],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // gone
    }
  }, timeoutS * 1000);
  const out = await child.output();
  clearTimeout(timer);
  const text = new TextDecoder().decode(out.stdout).trim();
  const last = text.split("\n").pop() ?? "";
  if (!last.startsWith("{")) {
    throw new Error(
      `generator exited with ${out.code} and no result: ${
        new TextDecoder().decode(out.stderr).slice(-800)
      }`,
    );
  }
  return JSON.parse(last) as LoadResult;
}

function fmt(v: number | undefined, digits = 0): string {
  return v === undefined ? "-" : v.toFixed(digits);
}

/** Medians of one registrar's runs. */
export interface Summary {
  /** Registrations per second. */
  registrationsPerSecond?: number;
  /** Handle resolutions per second. */
  resolutionsPerSecond?: number;
  /** Registrations per registrar CPU second. */
  registrationsPerCpuSecond?: number;
  /** Handle resolutions per registrar CPU second. */
  resolutionsPerCpuSecond?: number;
  /** Median registration latency (ms). */
  registrationP50Ms?: number;
  /** Median handle resolution latency (ms). */
  resolutionP50Ms?: number;
  /** Smallest and largest registrations/s. */
  registrationsRange?: [number, number];
  /** Smallest and largest handle resolutions/s. */
  resolutionsRange?: [number, number];
  /** Registration phases without errors (the medians use only these). */
  goodRegistrationPhases: number;
  /** Handle resolution phases without errors. */
  goodResolutionPhases: number;
  /** Runs. */
  runs: number;
  /** Runs without any error. */
  okRuns: number;
}

function range(values: number[]): [number, number] | undefined {
  return values.length === 0 ? undefined : [Math.min(...values), Math.max(...values)];
}

function rangeText(r: [number, number] | undefined): string {
  return r === undefined ? "-" : `${r[0]}–${r[1]}`;
}

/** A phase counts when it ran to its end without any error. */
function goodPhase(p: PhaseResult | undefined): p is PhaseResult {
  return p !== undefined && p.errors === 0;
}

function summarize(records: RunRecord[]): Summary {
  const reg = records.map((r) => r.result?.registration).filter(goodPhase);
  const hr = records.map((r) => r.result?.handleResolution).filter(goodPhase);
  const pick = (phases: PhaseResult[], f: (p: PhaseResult) => number | undefined) =>
    median(phases.map(f).filter((v): v is number => v !== undefined));
  return {
    registrationsPerSecond: pick(reg, (p) => p.perSecond),
    resolutionsPerSecond: pick(hr, (p) => p.perSecond),
    registrationsRange: range(reg.map((p) => p.perSecond)),
    resolutionsRange: range(hr.map((p) => p.perSecond)),
    registrationsPerCpuSecond: pick(reg, (p) => p.perRegistrarCpuSecond),
    resolutionsPerCpuSecond: pick(hr, (p) => p.perRegistrarCpuSecond),
    registrationP50Ms: pick(reg, (p) => p.latencyMs.p50),
    resolutionP50Ms: pick(hr, (p) => p.latencyMs.p50),
    goodRegistrationPhases: reg.length,
    goodResolutionPhases: hr.length,
    runs: records.length,
    okRuns: records.filter((r) => r.result?.ok).length,
  };
}

/**
 * Median over the runs of (contender / RSPLIB) in the same run (measured minutes apart, so less
 * exposed to drifting load on the host than the ratio of the medians).
 */
function pairedRatio(
  records: RunRecord[],
  name: string,
  phase: (r: LoadResult) => PhaseResult | undefined,
): number | undefined {
  const ratios: number[] = [];
  for (const a of records) {
    if (a.registrar !== name || a.result === undefined) continue;
    const b = records.find((r) => r.registrar === "rsplib" && r.run === a.run);
    const pa = phase(a.result);
    const pb = b?.result === undefined ? undefined : phase(b.result);
    if (goodPhase(pa) && goodPhase(pb) && pb.perSecond > 0) {
      ratios.push(pa.perSecond / pb.perSecond);
    }
  }
  return median(ratios);
}

function ratio(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined || b === 0 ? undefined : a / b;
}

function phaseCells(p: PhaseResult | undefined): string[] {
  if (p === undefined) return ["-", "-", "-", "-"];
  return [
    p.errors === 0 ? String(p.perSecond) : `(${p.perSecond}, ${p.errors} errors)`,
    fmt(p.registrarCpuSeconds, 2),
    fmt(p.perRegistrarCpuSecond),
    `${p.latencyMs.p50} / ${p.latencyMs.p99}`,
  ];
}

function environment(): Record<string, string> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpus = read("/proc/cpuinfo").split("\n").filter((l) => l.startsWith("processor")).length;
  let rsplibVersion = "";
  try {
    const o = new Deno.Command("dpkg-query", {
      args: ["-W", "-f=${Version}", "rsplib-registrar"],
      stdout: "piped",
      stderr: "null",
    }).outputSync();
    rsplibVersion = new TextDecoder().decode(o.stdout);
  } catch {
    // no dpkg
  }
  return {
    kernel: read("/proc/sys/kernel/osrelease").trim(),
    guest: Deno.env.get("RSERPOOL_UML_GUEST") === "1" ? "user-mode-linux" : "host",
    cpus: String(cpus),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    rsplib: rsplibVersion,
    date: new Date().toISOString(),
  };
}

/** What {@linkcode renderReport} needs besides the records. */
export interface ReportContext {
  /** Registrar names in run order (RSPLIB's is "rsplib"). */
  names: string[];
  /** Environment description (kernel, CPUs, date, ...). */
  environment: Record<string, string>;
  /** Measured and warm-up seconds per phase. */
  duration: number;
  /** Warm-up seconds per phase. */
  warmup: number;
  /** Options passed to the generator. */
  generatorOptions: string[];
  /** Options passed to every registrar. */
  registrarOptions: string[];
}

/** Medians per registrar, ratios against RSPLIB and a Markdown report. */
export interface Report {
  /** Medians (of the phases without errors) by registrar name. */
  medians: Record<string, Summary>;
  /** Ratios against RSPLIB by registrar name. */
  ratios: Record<string, Record<string, number | undefined>>;
  /** Runs table, medians table and ratios in Markdown. */
  markdown: string;
}

/**
 * Summarises benchmark records.
 *
 * @param records One record per registrar and run.
 * @param context Names, environment and settings for the text.
 * @returns Medians, ratios and the Markdown tables.
 */
export function renderReport(records: RunRecord[], context: ReportContext): Report {
  const env = context.environment;
  const extra = context.generatorOptions;
  const order = context.names.map((name) => ({ name }));
  const summaries: Record<string, Summary> = {};
  for (const c of order) {
    summaries[c.name] = summarize(records.filter((r) => r.registrar === c.name));
  }
  const base = summaries["rsplib"];
  const ratios: Record<string, Record<string, number | undefined>> = {};
  if (base !== undefined) {
    for (const c of order) {
      if (c.name === "rsplib") continue;
      const x = summaries[c.name];
      ratios[c.name] = {
        registrationsPerSecond: ratio(x.registrationsPerSecond, base.registrationsPerSecond),
        resolutionsPerSecond: ratio(x.resolutionsPerSecond, base.resolutionsPerSecond),
        registrationsPerCpuSecond: ratio(
          x.registrationsPerCpuSecond,
          base.registrationsPerCpuSecond,
        ),
        resolutionsPerCpuSecond: ratio(x.resolutionsPerCpuSecond, base.resolutionsPerCpuSecond),
        pairedRegistrationsPerSecond: pairedRatio(records, c.name, (r) => r.registration),
        pairedResolutionsPerSecond: pairedRatio(records, c.name, (r) => r.handleResolution),
      };
    }
  }
  const display = (name: string) => name === "rsplib" ? "RSPLIB" : name;

  // Markdown: one row per run, then medians (of the runs without errors) and ratios.
  const settings = [
    `${context.duration} s measured + ${context.warmup} s warm-up per phase`,
    ...(extra.length > 0 ? [`generator options \`${extra.join(" ")}\``] : []),
    ...(context.registrarOptions.length > 0
      ? [`registrar options \`${context.registrarOptions.join(" ")}\``]
      : []),
  ];
  const md: string[] = [
    `Runs (${env.date}; ${env.guest}, kernel ${env.kernel}, ${env.cpus} CPU; ` +
    `${settings.join("; ")}):`,
    "",
    "| Registrar | Run | Reg/s | Reg: registrar CPU s | Reg per CPU-s | Reg p50 / p99 ms | HR/s | HR: registrar CPU s | HR per CPU-s | HR p50 / p99 ms | OK |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of records) {
    const x = r.result;
    const why = r.error ??
      (x !== undefined && !x.ok
        ? Object.entries(x.errors).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`).join(", ")
        : "");
    md.push(
      `| ${display(r.registrar)} | ${r.run} | ${
        [...phaseCells(x?.registration), ...phaseCells(x?.handleResolution)].join(" | ")
      } | ${x?.ok ? "yes" : `no${why ? ` (${why.slice(0, 80)})` : ""}`} |`,
    );
  }
  md.push(
    "",
    "| Median (phases without errors) | Good phases reg / HR | Reg/s | HR/s | Reg per registrar CPU-s | HR per registrar CPU-s | Reg p50 ms | HR p50 ms | Reg/s range | HR/s range |",
    "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  );
  for (const c of order) {
    const x = summaries[c.name];
    md.push(
      `| ${
        display(c.name)
      } | ${x.goodRegistrationPhases} / ${x.goodResolutionPhases} of ${x.runs} | ${
        fmt(x.registrationsPerSecond)
      } | ${fmt(x.resolutionsPerSecond)} | ${fmt(x.registrationsPerCpuSecond)} | ${
        fmt(x.resolutionsPerCpuSecond)
      } | ${fmt(x.registrationP50Ms, 1)} | ${fmt(x.resolutionP50Ms, 1)} | ${
        rangeText(x.registrationsRange)
      } | ${rangeText(x.resolutionsRange)} |`,
    );
  }
  for (const [name, q] of Object.entries(ratios)) {
    md.push(
      `| **ratio ${name} / RSPLIB** | | **${fmt(q.registrationsPerSecond, 2)}** | **${
        fmt(q.resolutionsPerSecond, 2)
      }** | ${fmt(q.registrationsPerCpuSecond, 2)} | ${
        fmt(q.resolutionsPerCpuSecond, 2)
      } | | | | |`,
      `| median of per-run ratios ${name} / RSPLIB | | ${
        fmt(q.pairedRegistrationsPerSecond, 2)
      } | ${fmt(q.pairedResolutionsPerSecond, 2)} | | | | | | |`,
    );
  }
  return { medians: summaries, ratios, markdown: md.join("\n") + "\n" };
}

if (import.meta.main) {
  let o;
  let extra: string[] = [];
  try {
    const dash = Deno.args.indexOf("--");
    const own = dash >= 0 ? Deno.args.slice(0, dash) : Deno.args;
    extra = dash >= 0 ? Deno.args.slice(dash + 1) : [];
    o = parseOptions(own, BENCH_OPTIONS, {
      program: "registrar_bench.ts",
      usage: "[options] [-- generator options]",
      summary: "Registrar benchmark: our registrar against RSPLIB's rspregistrar under the same " +
        "load (scripts/registrar_load.ts), alternating, medians and ratios.",
    }).options;
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.help);
      Deno.exit(0);
    }
    console.error(`registrar_bench.ts: ${(e as Error).message}`);
    Deno.exit(2);
  }
  if (o.report !== undefined) {
    const saved = JSON.parse(await Deno.readTextFile(o.report));
    const names: string[] = [];
    for (const r of saved.records as RunRecord[]) {
      if (!names.includes(r.registrar)) names.push(r.registrar);
    }
    console.log(
      renderReport(saved.records, {
        names,
        environment: saved.environment,
        duration: saved.options.duration,
        warmup: saved.options.warmup,
        generatorOptions: saved.generatorOptions ?? [],
        registrarOptions: saved.options["registrar-arg"] ?? [],
      }).markdown,
    );
    Deno.exit(0);
  }
  if (Deno.env.get("RSERPOOL_UML_GUEST") !== "1" && !o["allow-host"]) {
    console.error(
      "registrar_bench.ts: run it in the UML guest (scripts/registrar_bench.sh), or pass " +
        "--allow-host",
    );
    Deno.exit(2);
  }
  const deadline = performance.now() + o.timeout * 1000;
  const hardStop = setTimeout(() => {
    console.error("registrar_bench.ts: --timeout reached");
    Deno.exit(124);
  }, o.timeout * 1000);
  await Deno.mkdir(o.out, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const env = environment();
  console.log(
    `# registrar benchmark ${env.date} (${env.guest}, kernel ${env.kernel}, ` +
      `${env.cpus} CPU, Deno ${env.deno}, RSPLIB ${env.rsplib || "?"})`,
  );
  const contenders: Contender[] = [{ name: "ours", program: `${ROOT}/cli/rspregistrar.ts` }];
  for (const v of o.variant) {
    const eq = v.indexOf("=");
    if (eq <= 0 || ["ours", "rsplib"].includes(v.slice(0, eq))) {
      console.error(`registrar_bench.ts: invalid -variant=${v}: expected NAME=FILE`);
      Deno.exit(2);
    }
    contenders.push({ name: v.slice(0, eq), program: v.slice(eq + 1) });
  }
  contenders.push({ name: "rsplib" });
  const wanted = o.which?.split(",").map((w) => w.trim()).filter((w) => w !== "");
  const order = wanted === undefined
    ? contenders
    : contenders.filter((c) => wanted.includes(c.name));
  if (order.length === 0) {
    console.error(`registrar_bench.ts: -which=${o.which} names no registrar`);
    Deno.exit(2);
  }
  const records: RunRecord[] = [];
  const phaseSeconds = o.warmup + o.duration;
  const width = Math.max(...order.map((c) => c.name.length));
  for (let run = 1; run <= o.runs; run++) {
    // Rotate the order from run to run: none always profits from a cooler machine.
    const shift = (run - 1) % order.length;
    const sequence = [...order.slice(shift), ...order.slice(0, shift)];
    for (const who of sequence) {
      if (performance.now() > deadline) break;
      const record: RunRecord = { registrar: who.name, run };
      records.push(record);
      const registrar = startRegistrar(who, o.address, o.port, o.rsplib, o["registrar-arg"]);
      try {
        await registrar.ready(o.port, 120_000);
        const jsonFile = `${o.out}/${stamp}-${who.name}-${run}.json`;
        record.result = await runGenerator(
          [
            `--registrar=${o.address}:${o.port}`,
            `--registrar-pid=${registrar.pid}`,
            `--duration=${o.duration}`,
            `--warmup=${o.warmup}`,
            `--label=${who.name}-${run}`,
            `--timeout=${Math.ceil(4 * phaseSeconds + 240)}`,
            ...extra,
          ],
          jsonFile,
          4 * phaseSeconds + 300,
        );
        const r = record.result;
        console.log(
          `${who.name.padEnd(width)} run ${run}: registrations ${
            r.registration?.perSecond ?? "-"
          }/s, handle resolutions ${r.handleResolution?.perSecond ?? "-"}/s; per registrar ` +
            `CPU second: ${fmt(r.registration?.perRegistrarCpuSecond)} reg, ${
              fmt(r.handleResolution?.perRegistrarCpuSecond)
            } hr${r.ok ? "" : `; FAILED ${JSON.stringify(r.errors)} ${r.errorSamples[0] ?? ""}`}`,
        );
      } catch (e) {
        record.error = e instanceof Error ? e.message : String(e);
        console.log(`${who.name.padEnd(width)} run ${run}: ERROR ${record.error}`);
      } finally {
        await registrar.stop();
      }
      await sleep(1000);
    }
  }
  clearTimeout(hardStop);

  const { medians: summaries, ratios, markdown } = renderReport(records, {
    names: order.map((c) => c.name),
    environment: env,
    duration: o.duration,
    warmup: o.warmup,
    generatorOptions: extra,
    registrarOptions: o["registrar-arg"],
  });
  console.log("");
  console.log(markdown);
  const summary = {
    environment: env,
    options: o,
    generatorOptions: extra,
    medians: summaries,
    ratios,
  };
  await Deno.writeTextFile(`${o.out}/${stamp}.md`, markdown);
  await Deno.writeTextFile(
    `${o.out}/${stamp}.json`,
    JSON.stringify({ ...summary, records }, null, 1) + "\n",
  );
  console.log(`results: ${o.out}/${stamp}.{json,md}`);
  console.log(JSON.stringify(summary));
  const failures = records.filter((r) => !r.result?.ok).length;
  Deno.exit(failures === 0 ? 0 : 1);
}
