/**
 * `scripts/registrar_load.ts` (the registrar load generator) against our registrar as a process,
 * on loopback over usrsctp: a short, small run of both phases must succeed with every response
 * checked, Endpoint Keep Alives must be acknowledged, and bad options must be refused.
 */
import assert from "node:assert/strict";
import { parseLoadArgs } from "../../scripts/registrar_load.ts";
import type { LoadResult } from "../../scripts/registrar_load.ts";
import { canUseRawSockets } from "../../src/transport/usrsctp/mod.ts";

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");
const CLI = `${ROOT}/cli/rspregistrar.ts`;
const LOAD = `${ROOT}/scripts/registrar_load.ts`;
const SCTP = canUseRawSockets() ? "usrsctp-raw" : "usrsctp-udp";

/** Our registrar as a process; `stop()` ends it and returns its output. */
interface RegistrarProcess {
  output(): string;
  stop(): Promise<string>;
}

/** Starts our registrar on 127.0.0.1:`port`. */
function startRegistrar(port: number, extra: string[] = []): RegistrarProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--quiet",
      CLI,
      `-asap=127.0.0.1:${port}`,
      "-minaddressscope=loopback",
      "-asapannounce=off",
      "-enrpannounce=off",
      "-loglevel=2",
      "-logcolor=off",
      "-quiet",
      ...extra,
    ],
    env: { RSERPOOL_SCTP: SCTP },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (s: ReadableStream<Uint8Array>) => {
    for await (const chunk of s.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  return {
    output: () => text,
    stop: async () => {
      try {
        child.kill("SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch {
          // gone
        }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await reading;
      return text;
    },
  };
}

/** Runs the generator; returns its exit code, its output and the parsed JSON result. */
async function load(
  args: string[],
): Promise<{ code: number; out: string; err: string; result?: LoadResult }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", LOAD, ...args],
    env: { RSERPOOL_SCTP: SCTP },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(o.stdout);
  const err = new TextDecoder().decode(o.stderr);
  const last = out.trim().split("\n").pop() ?? "";
  return {
    code: o.code,
    out,
    err,
    result: last.startsWith("{") ? JSON.parse(last) as LoadResult : undefined,
  };
}

const SMALL = [
  "--pes=40",
  "--pe-assocs=4",
  "--pools=4",
  "--pus=4",
  "--reg-window=2",
  "--hr-window=2",
  "--warmup=0.2",
  "--wait-registrar=20",
  "--timeout=60",
];

Deno.test("registrar_load.ts measures registrations and handle resolutions with every response checked", async () => {
  const port = 24651;
  const registrar = startRegistrar(port);
  try {
    for (const decode of ["fast", "full"]) {
      const r = await load([
        `--registrar=127.0.0.1:${port}`,
        ...SMALL,
        "--duration=1",
        `--decode=${decode}`,
        "--label=test",
      ]);
      assert.equal(r.code, 0, `${decode}: ${r.out}\n${r.err}\nregistrar: ${registrar.output()}`);
      const x = r.result!;
      assert.ok(x.ok, JSON.stringify(x.errorSamples));
      assert.equal(x.label, "test");
      assert.match(r.out, /^test: setup 40 PEs in \d+ ms \| registrations \d+\/s/);
      assert.ok(x.registration!.measured > 0 && x.registration!.perSecond > 0);
      assert.ok(x.handleResolution!.measured > 0 && x.handleResolution!.perSecond > 0);
      // 10 PEs per pool, no items option: the registrar's MaxHResItems (3) PEs per answer.
      assert.equal(x.handleResolution!.poolElementsPerResponse, 3);
      assert.ok(Object.values(x.errors).every((v) => v === 0));
      assert.ok(x.registration!.latencyMs.p50 > 0);
    }
  } finally {
    await registrar.stop();
  }
});

Deno.test("registrar_load.ts acknowledges keep-alives so that the PEs stay registered", async () => {
  const port = 24652;
  // Keep alives every 300 ms (the minimum), acks due within 1 s: unacknowledged PEs would be
  // gone before the run ends.
  const registrar = startRegistrar(port, [
    "-endpointkeepalivetransmissioninterval=300",
    "-endpointkeepalivetimeoutinterval=1000",
  ]);
  try {
    const r = await load([
      `--registrar=127.0.0.1:${port}`,
      ...SMALL,
      "--phases=hr",
      "--duration=2",
      "--items=10",
    ]);
    assert.equal(r.code, 0, `${r.out}\n${r.err}\nregistrar: ${registrar.output()}`);
    const x = r.result!;
    assert.ok(x.ok, JSON.stringify(x.errorSamples));
    assert.ok(x.keepAlivesAcked >= 40, `only ${x.keepAlivesAcked} keep-alives acked`);
    // Every PE is still there at the end: 10 PEs in each pool.
    assert.equal(x.handleResolution!.poolElementsPerResponse, 10);
    assert.equal(x.handleResolution!.shortResponses, 0);
  } finally {
    await registrar.stop();
  }
});

Deno.test("registrar_load.ts stops at --count and fails without a registrar", async () => {
  const port = 24653;
  const registrar = startRegistrar(port);
  try {
    const r = await load([
      `--registrar=127.0.0.1:${port}`,
      ...SMALL,
      "--phases=reg",
      "--duration=30",
      "--count=200",
    ]);
    assert.equal(r.code, 0, `${r.out}\n${r.err}\nregistrar: ${registrar.output()}`);
    assert.equal(r.result!.registration!.requests, 200);
    assert.ok(r.result!.elapsedSeconds < 30);
  } finally {
    await registrar.stop();
  }
  const none = await load([
    "--registrar=127.0.0.1:24654",
    ...SMALL.filter((a) => !a.startsWith("--wait-registrar")),
    "--wait-registrar=0.5",
  ]);
  assert.equal(none.code, 1);
  assert.equal(none.result!.ok, false);
});

Deno.test("registrar_load.ts refuses bad options with exit code 2 and prints --help", async () => {
  for (const bad of ["--bogus=1", "--phases=reg,xyz", "--registrar=nohost", "--pools=0"]) {
    const r = await load([bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /registrar_load\.ts: /);
  }
  const help = await load(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.out, /-reg-window=/);
});

Deno.test("parseLoadArgs() takes the local address from the registrar by default", () => {
  const { settings, quiet } = parseLoadArgs(["--registrar=[::1]:3863", "--quiet"]);
  assert.equal(settings.registrarAddress, "::1");
  assert.equal(settings.registrarPort, 3863);
  assert.equal(settings.localAddress, "::1");
  assert.deepEqual(settings.phases, ["reg", "hr"]);
  assert.equal(quiet, true);
  const local = parseLoadArgs(["--registrar=127.0.0.1:1", "--local=127.0.0.2"]).settings;
  assert.equal(local.localAddress, "127.0.0.2");
});
