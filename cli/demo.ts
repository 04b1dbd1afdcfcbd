/**
 * The README's first command: RSerPool live on one machine. A registrar, three echo pool
 * elements (`rspserver -echo`) and a pool user (`rspterminal`) typing a line per second; after
 * a few lines the pool element serving the session is killed, and the output shows the
 * failover to another pool element and how long it took. The pool user runs with short SCTP
 * timers for its session (`-sessionrtomin=100 ...`), so that it notices the dead pool element
 * within about a second (with RSPLIB's session timers it takes about 10 s).
 *
 * Runs without kernel SCTP and without root: everything uses usrsctp with UDP encapsulation on
 * 127.0.0.1 (override with `RSERPOOL_SCTP=kernel|usrsctp-raw|...`).
 *
 * ```sh
 * deno run -A cli/demo.ts            # kill the serving PE (SIGKILL)
 * deno run -A cli/demo.ts --stop     # stop it gracefully (SIGTERM): it deregisters first
 * deno run -A cli/demo.ts --lines=20 --stop-after=8
 * ```
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
const encoder = new TextEncoder();
const decoder = new TextDecoder();

interface Settings {
  lines: number;
  stopAfter: number;
  kill: boolean;
  interval: number;
  color: boolean;
}

function parseArgs(args: string[]): Settings {
  const s: Settings = {
    lines: 12,
    stopAfter: 5,
    kill: true,
    interval: 1000,
    color: Deno.stdout.isTerminal() && !Deno.env.get("NO_COLOR"),
  };
  for (const a of args) {
    const [k, v] = a.replace(/^--?/, "").split("=", 2);
    const n = Number(v);
    if (k === "kill") s.kill = true;
    else if (k === "stop") s.kill = false;
    else if (k === "lines" && n >= 1) s.lines = Math.floor(n);
    else if (k === "stop-after" && n >= 1) s.stopAfter = Math.floor(n);
    else if (k === "interval" && n >= 50) s.interval = Math.floor(n);
    else if (k === "no-color") s.color = false;
    else if (k === "help" || k === "h") {
      console.log(
        "Usage: deno run -A cli/demo.ts [--lines=N] [--stop-after=N] [--interval=ms] " +
          "[--kill|--stop] [--no-color]",
      );
      Deno.exit(0);
    } else {
      console.error(`demo: unknown argument ${a} (see --help)`);
      Deno.exit(1);
    }
  }
  if (s.stopAfter >= s.lines) s.stopAfter = Math.max(1, s.lines - 3);
  return s;
}

const settings = parseArgs(Deno.args);
const C = (code: string, text: string) => settings.color ? `\x1b[${code}m${text}\x1b[0m` : text;
const t0 = performance.now();
const clock = () => `${((performance.now() - t0) / 1000).toFixed(3).padStart(7)}s`;

function say(who: string, text: string, color = "0"): void {
  Deno.stdout.writeSync(encoder.encode(`${C("2", clock())} ${C(color, who.padEnd(10))} ${text}\n`));
}

// deno-lint-ignore no-control-regex
const plain = (t: string) => t.replace(/\x1b\[[0-9;]*m/g, "");

/** A child program (`cli/<name>.ts`) whose output lines go to a callback. */
class Child {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  readonly done: Promise<Deno.CommandStatus>;
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #readers: Promise<void>[];

  constructor(
    name: string,
    program: string,
    args: string[],
    onLine: (line: string, stream: "out" | "err") => void,
    stdin = false,
  ) {
    this.name = name;
    this.process = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--unstable-net", `${ROOT}/cli/${program}.ts`, ...args],
      env: { RSERPOOL_SCTP: Deno.env.get("RSERPOOL_SCTP") ?? "usrsctp-udp" },
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin) this.#stdin = this.process.stdin.getWriter();
    const pump = async (stream: ReadableStream<Uint8Array>, which: "out" | "err") => {
      let buffer = "";
      for await (const chunk of stream) {
        buffer += decoder.decode(chunk, { stream: true });
        let i;
        while ((i = buffer.indexOf("\n")) >= 0) {
          onLine(plain(buffer.slice(0, i)), which);
          buffer = buffer.slice(i + 1);
        }
      }
      if (buffer !== "") onLine(plain(buffer), which);
    };
    this.#readers = [pump(this.process.stdout, "out"), pump(this.process.stderr, "err")];
    this.done = this.process.status;
  }

  async write(text: string): Promise<void> {
    await this.#stdin?.write(encoder.encode(text));
  }

  async closeInput(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
    this.#stdin = undefined;
  }

  kill(signal: Deno.Signal): void {
    try {
      this.process.kill(signal);
    } catch {
      // exited already
    }
  }

  async stop(): Promise<void> {
    await this.closeInput();
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), 5000);
    await this.done;
    clearTimeout(t);
    await Promise.all(this.#readers);
  }
}

function waitUntil(cond: () => boolean, timeout: number, what: string): Promise<void> {
  const end = performance.now() + timeout;
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (cond()) return resolve();
      if (performance.now() > end) return reject(new Error(`Cannot start the demo: ${what}`));
      setTimeout(tick, 20);
    };
    tick();
  });
}

const port = 20000 + Math.floor(Math.random() * 10000);
const client = [`-registrar=127.0.0.1:${port}`, "-asapannounce=off", "-minaddressscope=loopback"];
const children: Child[] = [];
let stopping = false;

async function cleanUp(): Promise<void> {
  stopping = true;
  for (const c of [...children].reverse()) await c.stop();
}

const onSignal = () => {
  say("demo", "interrupted, stopping everything");
  void cleanUp().then(() => Deno.exit(130));
};
Deno.addSignalListener("SIGINT", onSignal);

say(
  "demo",
  `RSerPool on 127.0.0.1 over ${
    Deno.env.get("RSERPOOL_SCTP") ?? "usrsctp-udp"
  } (SCTP in user space, over UDP): 1 registrar, 3 echo pool elements, 1 pool user`,
  "1",
);

// ---- registrar ----------------------------------------------------------------------------
let registrarUp = false;
const registrar = new Child("registrar", "rspregistrar", [
  `-asap=127.0.0.1:${port}`,
  "-asapannounce=off",
  "-enrpannounce=off",
  "-minaddressscope=loopback",
  "-mentordiscoverytimeout=1000",
  "-loglevel=3",
  "-logcolor=off",
  "-quiet",
], (line) => {
  if (/Registrar started/.test(line)) registrarUp = true;
  if (/Error|Warning: Cannot/.test(line)) say("registrar", line, "31");
});
children.push(registrar);

const failures: string[] = [];
try {
  await waitUntil(() => registrarUp, 20000, "the registrar did not start");
  say("registrar", `ready at 127.0.0.1:${port}`, "33");

  // ---- pool elements ----------------------------------------------------------------------
  const ids = ["0000e001", "0000e002", "0000e003"];
  const servers = new Map<string, Child>();
  const registered = new Set<string>();
  for (const id of ids) {
    const server = new Child(`PE $${id}`, "rspserver", [
      "-echo",
      ...client,
      `-identifier=0x${id}`,
      "-rereginterval=5000",
    ], (line, stream) => {
      const m = line.match(/Identifier {14}= \$([0-9a-f]{8})/);
      if (m) registered.add(m[1]);
      if (/Echo \d+ bytes/.test(line)) say(`PE $${id}`, line.replace(/^.*?: /, ""), "36");
      if (stream === "err" && /ERROR|Error/.test(line)) say(`PE $${id}`, line, "31");
    });
    servers.set(id, server);
    children.push(server);
  }
  await waitUntil(
    () => registered.size === ids.length,
    30000,
    "the pool elements did not register",
  );
  say(
    "demo",
    `pool elements ${ids.map((i) => "$" + i).join(", ")} registered in pool EchoPool`,
    "33",
  );

  // ---- pool user ----------------------------------------------------------------------------
  let serving: string | undefined;
  let stoppedAt: number | undefined;
  let stoppedPe: string | undefined;
  let necessaryAt: number | undefined;
  let completeAt: number | undefined;
  let firstReplyAfterStop: { at: number; pe: string } | undefined;
  const echoed = new Set<number>();
  const sessionTimers = [
    "-sessionrtoinitial=200",
    "-sessionrtomin=100",
    "-sessionrtomax=200",
    "-sessionassocmaxrxt=3",
    "-sessionpathmaxrxt=3",
    "-sessionhbinterval=1000",
  ];
  say("demo", `pool user: rspterminal ${sessionTimers.join(" ")}`, "33");
  const terminal = new Child("terminal", "rspterminal", [...client, ...sessionTimers], (line) => {
    const m = line.match(/^from PE \$([0-9a-f]{8})> line (\d+)/);
    if (m) {
      serving = m[1];
      echoed.add(Number(m[2]));
      if (stoppedAt !== undefined && firstReplyAfterStop === undefined && m[1] !== stoppedPe) {
        firstReplyAfterStop = { at: performance.now(), pe: m[1] };
      }
      say("terminal", line, "34");
      return;
    }
    if (/FAILOVER_NECESSARY/.test(line) && stoppedAt !== undefined && necessaryAt === undefined) {
      necessaryAt = performance.now();
    }
    if (/FAILOVER_COMPLETE/.test(line) && stoppedAt !== undefined && completeAt === undefined) {
      completeAt = performance.now();
    }
    if (/Notification|FAILOVER #/.test(line)) say("terminal", line, "35");
  }, true);
  children.push(terminal);

  for (let n = 1; n <= settings.lines && !stopping; n++) {
    const now = new Date().toTimeString().slice(0, 8);
    await terminal.write(`line ${n} (${now})\n`);
    await new Promise((r) => setTimeout(r, settings.interval / 2));
    if (n === settings.stopAfter) {
      if (serving === undefined) {
        failures.push("no reply before the stop");
        continue;
      }
      stoppedPe = serving;
      stoppedAt = performance.now();
      say(
        "demo",
        `${settings.kill ? "killing (SIGKILL)" : "stopping (SIGTERM)"} PE $${serving}, ` +
          "the one serving the session",
        "1;31",
      );
      servers.get(serving)!.kill(settings.kill ? "SIGKILL" : "SIGTERM");
    }
    await new Promise((r) => setTimeout(r, settings.interval / 2));
  }
  await new Promise((r) => setTimeout(r, 500));
  // ---- summary ------------------------------------------------------------------------------
  const lost = [];
  for (let n = 1; n <= settings.lines; n++) if (!echoed.has(n)) lost.push(n);
  if (
    stoppedAt !== undefined && necessaryAt !== undefined && completeAt !== undefined &&
    firstReplyAfterStop !== undefined
  ) {
    const ms = (t: number) => `${(t - stoppedAt!).toFixed(0)} ms`;
    say(
      "demo",
      `failover: PE $${stoppedPe} ${settings.kill ? "killed" : "stopped"} at 0 ms; the pool ` +
        `user noticed at ${ms(necessaryAt)}, was connected to PE $${firstReplyAfterStop.pe} at ` +
        `${ms(completeAt)} (failover itself: ${(completeAt - necessaryAt).toFixed(0)} ms); ` +
        `first reply from it at ${ms(firstReplyAfterStop.at)} (to the next line sent)`,
      "1;32",
    );
  } else if (stoppedAt !== undefined) {
    failures.push("no failover seen");
  }
  say(
    "demo",
    `${settings.lines} lines sent, ${echoed.size} echoed` +
      (lost.length ? ` (lost in the failover: ${lost.join(", ")})` : ""),
    "1",
  );
} catch (e) {
  failures.push((e as Error).message);
} finally {
  await cleanUp();
  Deno.removeSignalListener("SIGINT", onSignal);
}
if (failures.length > 0) {
  say("demo", `FAILED: ${failures.join("; ")}`, "1;31");
  Deno.exit(1);
}
say("demo", "done", "1");
