/**
 * Failover time of a pool user session: the pool element serving `rspterminal` is killed
 * (SIGKILL) and we measure the time until the first reply from another pool element, for
 * RSPLIB 3.4.4's programs and for ours, in the same user-mode-linux guest (kernel SCTP) with the
 * same (default) timers. The terminal gets a line every `--every` ms.
 *
 * ```sh
 * scripts/uml/run.sh -- .tools/bin/deno run -A bench/failover.ts --rounds=15 --every=50 \
 *   --stacks=rsplib,ours
 * ```
 *
 * Prints a Markdown table (also written to `--out`, default tests/tmp/failover_bench.md).
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const decoder = new TextDecoder();
const encoder = new TextEncoder();

interface Settings {
  rounds: number;
  warmup: number;
  settle: number;
  every: number;
  out: string;
  stacks: string[];
}

function parse(args: string[]): Settings {
  const s: Settings = {
    rounds: 10,
    warmup: 1,
    settle: 2000,
    every: 25,
    out: `${ROOT}/tests/tmp/failover_bench.md`,
    stacks: ["rsplib", "ours", "ours-pu"],
  };
  for (const a of args) {
    const [k, v] = a.replace(/^--?/, "").split("=", 2);
    if (k === "rounds") s.rounds = Math.max(1, Number(v));
    else if (k === "warmup") s.warmup = Math.max(0, Number(v));
    else if (k === "settle") s.settle = Math.max(0, Number(v));
    else if (k === "every") s.every = Math.max(5, Number(v));
    else if (k === "out") s.out = v;
    else if (k === "stacks") s.stacks = v.split(",");
    else throw new Error(`Unknown argument ${a}`);
  }
  return s;
}

type Side = "rsplib" | "ours";

/** Which program of which implementation, per stack. */
const STACKS: Record<string, { registrar: Side; server: Side; terminal: Side; label: string }> = {
  rsplib: {
    registrar: "rsplib",
    server: "rsplib",
    terminal: "rsplib",
    label: "RSPLIB rspregistrar + rspserver + rspterminal",
  },
  ours: {
    registrar: "ours",
    server: "ours",
    terminal: "ours",
    label: "our rspregistrar + rspserver + rspterminal",
  },
  "ours-pu": {
    registrar: "rsplib",
    server: "rsplib",
    terminal: "ours",
    label: "RSPLIB rspregistrar + rspserver, our rspterminal",
  },
  "ours-pe": {
    registrar: "rsplib",
    server: "ours",
    terminal: "rsplib",
    label: "RSPLIB rspregistrar + rspterminal, our rspserver",
  },
};

class Proc {
  readonly child: Deno.ChildProcess;
  out = "";
  lines: { at: number; text: string }[] = [];
  #writer?: WritableStreamDefaultWriter<Uint8Array>;
  #pending = "";

  constructor(side: Side, program: string, args: string[], stdin = false) {
    const [cmd, argv] = side === "rsplib"
      ? ["/usr/bin/stdbuf", ["-oL", "-eL", `/usr/bin/${program}`, ...args]]
      : [Deno.execPath(), ["run", "-A", "--unstable-net", `${ROOT}/cli/${program}.ts`, ...args]];
    this.child = new Deno.Command(cmd, {
      args: argv,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    if (stdin) this.#writer = this.child.stdin.getWriter();
    const stdout = this.child.stdout;
    (async () => {
      for await (const chunk of stdout) {
        const at = performance.now();
        const text = decoder.decode(chunk, { stream: true });
        this.out += text;
        this.#pending += text;
        let i;
        while ((i = this.#pending.indexOf("\n")) >= 0) {
          this.lines.push({ at, text: this.#pending.slice(0, i) });
          this.#pending = this.#pending.slice(i + 1);
        }
      }
    })();
  }

  write(text: string): Promise<void> {
    return this.#writer?.write(encoder.encode(text)) ?? Promise.resolve();
  }

  kill(signal: Deno.Signal): void {
    try {
      this.child.kill(signal);
    } catch {
      // gone
    }
  }

  async stop(): Promise<void> {
    await this.#writer?.close().catch(() => {});
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), 3000);
    await this.child.status;
    clearTimeout(t);
  }
}

async function until(cond: () => boolean, timeout: number, what: string): Promise<void> {
  const end = performance.now() + timeout;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Wall-clock time stamp like the logger's (HH:MM:SS.mmm). */
function stamp(): string {
  const d = new Date();
  return `${d.toTimeString().slice(0, 8)}.${String(d.getMilliseconds()).padStart(3, "0")}`;
}

function guestAddress(): string {
  const listed = (Deno.env.get("RSERPOOL_UML_GUEST_ADDRESSES") ?? "10.9.0.2").split(/\s+/);
  return listed.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)) ?? "10.9.0.2";
}

// deno-lint-ignore no-control-regex
const REPLY = /^(?:\x1b\[34m)?from PE \$([0-9a-f]{8})> /;

/** One stack's processes: registrar, three pool elements, the terminal fed with lines. */
class Setup {
  readonly name: string;
  readonly results: number[] = [];
  readonly #stack: (typeof STACKS)[string];
  readonly #client: string[];
  readonly #registrar: Proc;
  readonly #servers = new Map<string, Proc>();
  #terminal?: Proc;
  #feeding = true;
  #feeder?: Promise<void>;
  readonly #debug = Deno.env.get("FAILOVER_BENCH_DEBUG");

  constructor(name: string, port: number) {
    this.name = name;
    this.#stack = STACKS[name];
    const address = guestAddress();
    this.#client = [`-registrar=${address}:${port}`, "-asapannounce=off"];
    this.#registrar = this.#stack.registrar === "rsplib"
      ? new Proc("rsplib", "rspregistrar", [
        `-asap=${address}:${port}`,
        `-enrp=${address}:${port + 1000}`,
        "-asapannounce=off",
        "-enrpannounce=off",
      ])
      : new Proc("ours", "rspregistrar", [
        `-asap=${address}:${port}`,
        "-asapannounce=off",
        "-enrpannounce=off",
        "-quiet",
      ]);
  }

  /** Starts a pool element; tries again (at most 3 times) when it does not register in time. */
  async #startServer(id: string): Promise<void> {
    for (let attempt = 1;; attempt++) {
      try {
        return await this.#startServerOnce(id);
      } catch (e) {
        const p = this.#servers.get(id);
        console.error(`  ${this.name}: PE ${id} did not register (${(e as Error).message}):`);
        console.error(p?.out.split("\n").slice(-5).join("\n"));
        await p?.stop();
        if (attempt >= 3) throw e;
      }
    }
  }

  #startServerOnce(id: string): Promise<void> {
    const p = new Proc(this.#stack.server, "rspserver", [
      "-echo",
      ...this.#client,
      `-identifier=0x${id}`,
      ...(this.#debug && this.#stack.server === "ours"
        ? ["-loglevel=4", "-logcolor=off", `-logappend=${this.#debug}.pe`]
        : []),
    ]);
    this.#servers.set(id, p);
    return until(() => /Identifier {14}= \$/.test(p.out), 30000, `PE ${id} registered`);
  }

  async start(every: number): Promise<void> {
    await new Promise((r) => setTimeout(r, 1500));
    for (const id of ["0000e001", "0000e002", "0000e003"]) await this.#startServer(id);
    const t = new Proc(
      this.#stack.terminal,
      "rspterminal",
      this.#debug
        ? [...this.#client, "-loglevel=4", "-logcolor=off", `-logappend=${this.#debug}`]
        : this.#client,
      true,
    );
    this.#terminal = t;
    let seq = 0;
    this.#feeder = (async () => {
      while (this.#feeding) {
        await t.write(`seq ${++seq}\n`).catch(() => {});
        await new Promise((r) => setTimeout(r, every));
      }
    })();
  }

  /** Kills the serving pool element, waits for a reply from another one, restarts it. */
  async round(record: boolean): Promise<number> {
    const t = this.#terminal!;
    const from = t.lines.length;
    await until(() => t.lines.slice(from).some((l) => REPLY.test(l.text)), 60000, "a reply");
    const last = t.lines.slice(from).filter((l) => REPLY.test(l.text)).at(-1)!;
    const serving = last.text.match(REPLY)![1];
    const mark = t.lines.length;
    const killedAt = performance.now();
    this.#servers.get(serving)!.kill("SIGKILL");
    if (this.#debug) {
      await Deno.writeTextFile(this.#debug, `${stamp()}: BENCH kill $${serving}\n`, {
        append: true,
      });
    }
    const other = (l: { text: string }) => {
      const m = l.text.match(REPLY);
      return m !== null && m[1] !== serving;
    };
    await until(() => t.lines.slice(mark).some(other), 60000, "a reply from another PE");
    const took = t.lines.slice(mark).find(other)!.at - killedAt;
    if (this.#debug) {
      await Deno.writeTextFile(
        this.#debug,
        `${stamp()}: BENCH ${this.name}: reply after ${took.toFixed(1)} ms\n`,
        { append: true },
      );
      for (const [id, p] of this.#servers) {
        const echoes = p.out.split("\n").filter((l) => /Echo \d+ bytes/.test(l));
        if (echoes.length > 0) {
          await Deno.writeTextFile(
            this.#debug,
            `PE ${id} ${echoes.slice(-3).join(` | PE ${id} `)}\n`,
            {
              append: true,
            },
          );
        }
      }
    }
    if (record) this.results.push(took);
    await this.#servers.get(serving)!.child.status;
    await this.#startServer(serving);
    return took;
  }

  async stop(): Promise<void> {
    this.#feeding = false;
    await this.#feeder;
    await this.#terminal?.stop();
    for (const s of this.#servers.values()) await s.stop();
    await this.#registrar.stop();
  }
}

function stats(values: number[]) {
  const v = [...values].sort((a, b) => a - b);
  const q = (p: number) => v[Math.min(v.length - 1, Math.floor(p * (v.length - 1) + 0.5))];
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return { n: v.length, min: v[0], median: q(0.5), mean, p90: q(0.9), max: v.at(-1)! };
}

const settings = parse(Deno.args);
if (Deno.env.get("RSERPOOL_UML_GUEST") !== "1") {
  console.error("bench/failover.ts: run it in the guest: scripts/uml/run.sh -- ...");
}
// All stacks run side by side; rounds alternate between them, so that they share the
// (noisy) conditions of the guest.
const setups = settings.stacks.map((name, i) => new Setup(name, 4000 + 10 * i));
try {
  for (const s of setups) await s.start(settings.every);
  for (let round = 1 - settings.warmup; round <= settings.rounds; round++) {
    for (const s of setups) {
      const took = await s.round(round >= 1);
      console.log(
        `  round ${round}${round < 1 ? " (warm-up)" : ""}, ${s.name}: ${took.toFixed(1)} ms`,
      );
      // Let the restarted pool element finish starting up (one CPU in the guest).
      await new Promise((r) => setTimeout(r, settings.settle));
    }
  }
} finally {
  for (const s of setups) await s.stop();
}
const rows = setups.map((setup) => {
  const s = stats(setup.results);
  const f = (x: number) => x.toFixed(0);
  return `| ${STACKS[setup.name].label} | ${s.n} | ${f(s.median)} | ${f(s.mean)} | ${f(s.min)} | ${
    f(s.p90)
  } | ${f(s.max)} |`;
});
const table = [
  `Failover time in ms: SIGKILL of the serving pool element until the first reply from another ` +
  `one; rspterminal gets a line every ${settings.every} ms; user-mode-linux guest, kernel SCTP, ` +
  `default timers of both implementations; the setups run side by side, rounds alternate ` +
  `(${settings.warmup} warm-up round(s) not counted, ${settings.settle} ms pause after each).`,
  "",
  "| Programs | Failovers | Median | Mean | Min | P90 | Max |",
  "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
  ...rows,
].join("\n");
console.log("\n" + table);
await Deno.writeTextFile(settings.out, table + "\n");
