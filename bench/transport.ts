/**
 * Transport benchmark: round-trip time and message rate of the usrsctp backend between two
 * processes on loopback (raw IP when privileged, and UDP encapsulation), next to a C program
 * doing the same over the same library (`bench/transport_baseline.c`, compiled into
 * `tests/tmp/` when gcc and the usrsctp headers are there). Writes
 * `docs/benchmarks/transport-usrsctp.md`.
 *
 *   deno run -A bench/transport.ts [--quick] [--no-write]
 *
 * Workloads (all on 127.0.0.1, one association, both directions through the network stack):
 * - rtt: 2000 ping-pongs of 100-byte messages (after a warm-up), p50/avg/p99;
 * - flood: 100 000 messages of 100 bytes one way, then one reply; messages per second;
 * - bulk: 2000 messages of 16 KiB one way, then one reply; MB/s.
 *
 * @module
 */

import { usrsctpTransport } from "../src/transport/usrsctp/mod.ts";
import { canUseRawSockets, udpEncapsulationPort } from "../src/transport/usrsctp/mod.ts";
import type { SctpEndpoint, UsrsctpMode } from "../src/transport/types.ts";

const args = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args.set(m[1], m[2] ?? "true");
}
const ROOT = new URL("..", import.meta.url).pathname;
const PPID_ECHO = 1, PPID_END = 2, PPID_QUIT = 3;

/** Server role (child process): echo PPID 1, answer PPID 2, quit on PPID 3. */
async function serve(mode: UsrsctpMode, port: number): Promise<void> {
  let quit!: () => void;
  const done = new Promise<void>((r) => (quit = r));
  let server: SctpEndpoint | undefined = undefined;
  server = await usrsctpTransport({ mode }).open(
    { addresses: ["127.0.0.1"], port, listen: true },
    (e) => {
      if (e.type !== "message" || server === undefined) return;
      if (e.ppid === PPID_ECHO) server.send(e.assocId, e.data, { ppid: PPID_ECHO });
      else if (e.ppid === PPID_END) {
        server.send(e.assocId, e.data.subarray(0, 4), { ppid: PPID_END });
      } else if (e.ppid === PPID_QUIT) quit();
    },
  );
  console.log("ready");
  await done;
  await server.close();
}

interface Result {
  rttAvgUs?: number;
  rttP50Us?: number;
  rttP99Us?: number;
  messagesPerSecond?: number;
  megabytesPerSecond?: number;
}

/** Client role (this process): the three workloads against a server on `port`. */
async function measureDeno(mode: UsrsctpMode, port: number, quick: boolean): Promise<Result> {
  let waiter: ((ppid: number) => void) | undefined;
  const client = await usrsctpTransport({ mode }).open({ addresses: ["127.0.0.1"] }, (e) => {
    if (e.type === "message") waiter?.(e.ppid);
  });
  const reply = () => new Promise<number>((r) => (waiter = r));
  try {
    const id = await client.connect(["127.0.0.1"], port, { timeout: 5000 });
    const small = new Uint8Array(100);
    // rtt
    for (let i = 0; i < 200; i++) {
      const p = reply();
      client.send(id, small, { ppid: PPID_ECHO });
      await p;
    }
    const n = quick ? 500 : 2000;
    const rtt: number[] = [];
    for (let i = 0; i < n; i++) {
      const p = reply();
      const t0 = performance.now();
      client.send(id, small, { ppid: PPID_ECHO });
      await p;
      rtt.push((performance.now() - t0) * 1000);
    }
    rtt.sort((a, b) => a - b);
    const result: Result = {
      rttAvgUs: rtt.reduce((a, b) => a + b, 0) / n,
      rttP50Us: rtt[Math.floor(n / 2)],
      rttP99Us: rtt[Math.floor(n * 0.99)],
    };
    // flood
    const count = quick ? 20000 : 100000;
    let p = reply();
    let t0 = performance.now();
    for (let i = 0; i < count; i++) {
      client.send(id, small, { ppid: i === count - 1 ? PPID_END : 0 });
    }
    await p;
    result.messagesPerSecond = count / ((performance.now() - t0) / 1000);
    // bulk
    const big = new Uint8Array(16384);
    const bulk = quick ? 500 : 2000;
    p = reply();
    t0 = performance.now();
    for (let i = 0; i < bulk; i++) client.send(id, big, { ppid: i === bulk - 1 ? PPID_END : 0 });
    await p;
    result.megabytesPerSecond = bulk * big.length / 1e6 / ((performance.now() - t0) / 1000);
    client.send(id, small, { ppid: PPID_QUIT });
    return result;
  } finally {
    await client.close();
  }
}

async function startServer(command: Deno.Command): Promise<Deno.ChildProcess> {
  const child = command.spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("ready")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("Cannot start the benchmark server");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return child;
}

async function runDeno(mode: UsrsctpMode, port: number, quick: boolean): Promise<Result> {
  const server = await startServer(
    new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL(import.meta.url).pathname,
        "--role=server",
        `--mode=${mode}`,
        `--port=${port}`,
      ],
      stdout: "piped",
      stderr: "inherit",
    }),
  );
  try {
    return await measureDeno(mode, port, quick);
  } finally {
    const timer = setTimeout(() => server.kill("SIGKILL"), 10000);
    await server.status;
    clearTimeout(timer);
  }
}

function compileBaseline(): string | undefined {
  const out = `${ROOT}tests/tmp/transport_baseline`;
  try {
    Deno.mkdirSync(`${ROOT}tests/tmp`, { recursive: true });
    const r = new Deno.Command("gcc", {
      args: ["-O2", "-o", out, `${ROOT}bench/transport_baseline.c`, "-lusrsctp"],
      stderr: "piped",
    }).outputSync();
    if (!r.success) {
      console.error(`C baseline not built: ${new TextDecoder().decode(r.stderr).trim()}`);
      return undefined;
    }
    return out;
  } catch (error) {
    console.error(`C baseline not built: ${(error as Error).message}`);
    return undefined;
  }
}

/** Runs a command with a time limit; `undefined` when it failed or hung. */
async function outputWithin(command: Deno.Command, ms: number): Promise<string | undefined> {
  const child = command.spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), ms);
  const out = await child.output();
  clearTimeout(timer);
  return out.success ? new TextDecoder().decode(out.stdout) : undefined;
}

async function runC(
  binary: string,
  mode: UsrsctpMode,
  firstPort: number,
  quick: boolean,
): Promise<Result> {
  const result: Result = {};
  const workloads: [string, number, number][] = [
    ["rtt", quick ? 500 : 2000, 100],
    ["flood", quick ? 20000 : 100000, 100],
    ["flood", quick ? 500 : 2000, 16384],
  ];
  let port = firstPort;
  for (const [test, count, size] of workloads) {
    // A fresh port per run: nothing of the previous association can interfere.
    let line: Result | undefined;
    for (let attempt = 0; attempt < 2 && line === undefined; attempt++) {
      const serverPort = port++;
      const serverUdp = udpEncapsulationPort(serverPort);
      const server = await startServer(
        new Deno.Command(binary, {
          args: ["server", mode, String(serverPort), String(serverUdp)],
          stdout: "piped",
          stderr: "inherit",
        }),
      );
      const out = await outputWithin(
        new Deno.Command(binary, {
          args: [
            "client",
            mode,
            String(serverPort),
            String(serverUdp + 1),
            String(serverUdp),
            test,
            String(count),
            String(size),
          ],
          stdout: "piped",
          stderr: "inherit",
        }),
        60000,
      );
      const timer = setTimeout(() => server.kill("SIGKILL"), 5000);
      await server.status;
      clearTimeout(timer);
      if (out !== undefined) line = JSON.parse(out.trim());
    }
    if (line === undefined) continue;
    if (test === "rtt") Object.assign(result, line);
    else if (size === 100) result.messagesPerSecond = line.messagesPerSecond;
    else result.megabytesPerSecond = line.megabytesPerSecond;
  }
  return result;
}

const fmt = (v: number | undefined, digits = 0) => v === undefined ? "–" : v.toFixed(digits);

/** Per metric, the median over several runs (this is a shared VM: single runs vary a lot). */
function median(results: Result[]): Result {
  const out: Result = {};
  for (const key of Object.keys(results[0] ?? {}) as (keyof Result)[]) {
    const values = results.map((r) => r[key]).filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    if (values.length > 0) out[key] = values[Math.floor((values.length - 1) / 2)];
  }
  return out;
}

function percent(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? "–" : `${Math.round((100 * a) / b)} %`;
}

async function main(): Promise<void> {
  const quick = args.has("quick");
  const load = Deno.loadavg()[0].toFixed(1);
  const runs = Number(args.get("runs") ?? (quick ? 1 : 3));
  const modes: UsrsctpMode[] = canUseRawSockets() ? ["raw", "udp"] : ["udp"];
  const baseline = compileBaseline();
  const rows: string[] = [];
  const ratios: string[] = [];
  let port = 25000;
  for (const mode of modes) {
    const label = mode === "raw" ? "raw IP" : "UDP encapsulation";
    const denoRuns: Result[] = [];
    const cRuns: Result[] = [];
    for (let run = 0; run < runs; run++) {
      denoRuns.push(await runDeno(mode, port++, quick));
      console.log(mode, "deno", JSON.stringify(denoRuns.at(-1)));
      if (baseline !== undefined) {
        cRuns.push(await runC(baseline, mode, port, quick));
        port += 10;
        console.log(mode, "C", JSON.stringify(cRuns.at(-1)));
      }
    }
    const deno = median(denoRuns);
    rows.push(
      `| Deno (upcall + threadSafe callback) | ${label} | ${fmt(deno.rttP50Us)} | ${
        fmt(deno.rttAvgUs)
      } | ${fmt(deno.rttP99Us)} | ${fmt(deno.messagesPerSecond)} | ${
        fmt(deno.megabytesPerSecond, 1)
      } |`,
    );
    if (cRuns.length > 0) {
      const c = median(cRuns);
      rows.push(
        `| C (blocking usrsctp calls) | ${label} | ${fmt(c.rttP50Us)} | ${fmt(c.rttAvgUs)} | ${
          fmt(c.rttP99Us)
        } | ${fmt(c.messagesPerSecond)} | ${fmt(c.megabytesPerSecond, 1)} |`,
      );
      ratios.push(
        `${label}: RTT p50 ${percent(deno.rttP50Us, c.rttP50Us)} of C's, flood ${
          percent(deno.messagesPerSecond, c.messagesPerSecond)
        }, bulk ${percent(deno.megabytesPerSecond, c.megabytesPerSecond)}`,
      );
    }
  }
  const cpus = navigator.hardwareConcurrency;
  const text = `<!-- Generated by bench/transport.ts on ${
    new Date().toISOString().slice(0, 10)
  }; do not edit by hand. -->
## usrsctp transport: round-trip time and message rate

Setup: two processes on 127.0.0.1 (the server echoes), one association; usrsctp 0.9.5
(Debian libusrsctp2); Deno ${Deno.version.deno}; Linux ${Deno.osRelease()}; ${cpus} CPUs, load
average ${load} at the start (a shared VM: single runs vary by ±30 % and more); each figure is
the median of ${runs} run(s).

Workloads: RTT = ${quick ? 500 : 2000} ping-pongs of 100 bytes; flood = ${
    quick ? "20 000" : "100 000"
  } messages of 100 bytes one way; bulk = ${quick ? 500 : 2000} messages of 16 KiB one way.
Reproduce with \`deno run -A bench/transport.ts\` (the C program is
\`bench/transport_baseline.c\`, built with gcc against \`libusrsctp-dev\`).

| Program | Mode | RTT p50 (µs) | RTT avg (µs) | RTT p99 (µs) | Flood (msg/s) | Bulk (MB/s) |
|---|---|---|---|---|---|---|
${rows.join("\n")}

${ratios.map((r) => `- ${r}.`).join("\n")}

Reading: round trips and small messages (bundled into few packets) cost Deno a thread hop per
received packet on top of C's work; bulk transfer is bound by packets per second, because every
received packet makes usrsctp's receive thread wait until the JavaScript thread has run the
upcall, while C's blocking calls let the stack run on. Path MTU is usrsctp's default (1500
bytes), so a 16 KiB message takes 12 packets. RSerPool traffic (small ASAP/ENRP messages) sits
in the first two columns.
`;
  console.log(text);
  if (!args.has("no-write")) {
    Deno.writeTextFileSync(`${ROOT}docs/benchmarks/transport-usrsctp.md`, text);
    console.log("written to docs/benchmarks/transport-usrsctp.md");
  }
}

// Every run is bounded: a hung peer ends the benchmark after five minutes.
const watchdog = setTimeout(() => {
  console.error("transport benchmark: no progress for 5 minutes, giving up");
  Deno.exit(1);
}, 300000);
Deno.unrefTimer(watchdog);

if (args.get("role") === "server") {
  await serve(args.get("mode") as UsrsctpMode, Number(args.get("port")));
} else {
  await main();
}
