/**
 * `cli/rspregistrar.ts` as a process: help, option errors, registration over SCTP, clean
 * shutdown on SIGTERM, background mode with a pid file, failure-test mode, and ASAP Server
 * Announces by real multicast inside a test namespace.
 */
import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  decodeComponentStatusReport,
  decodeMessage,
  poolHandle,
} from "../../mod.ts";
import { canUseRawSockets, usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";
import { createTestbed, netnsAvailable } from "../_netns.ts";
import { AsapTestClient } from "./_asap_client.ts";
import { Program } from "../_process.ts";

libc();
loadUsrsctp();

const CLI = new URL("../../cli/rspregistrar.ts", import.meta.url).pathname;
const LISTENER = new URL("./_announce_listener.ts", import.meta.url).pathname;
const raw = canUseRawSockets();

function registrar(args: string[], env: Record<string, string> = {}): Program {
  return new Program(Deno.execPath(), ["run", "-A", "--quiet", CLI, ...args], {
    env: { RSERPOOL_SCTP: raw ? "usrsctp-raw" : "usrsctp-udp", ...env },
  });
}

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return { code: o.code, out: d.decode(o.stdout), err: d.decode(o.stderr) };
}

Deno.test("rspregistrar --help lists RSPLIB's options with their defaults", async () => {
  for (const flag of ["--help", "-h"]) {
    const r = await run([flag]);
    assert.equal(r.code, 0);
    for (
      const text of [
        "-asap=",
        "-asapannounce=",
        "-endpointkeepalivetransmissioninterval=",
        "-maxbadpereports=",
        "-minaddressscope=",
        "-maxhrrate=",
        "-daemonpidfile=",
        "[default: 5000]",
        "-loglevel=",
      ]
    ) assert.ok(r.out.includes(text), `missing ${text}`);
  }
});

Deno.test("rspregistrar rejects bad options with a message naming them and exit code 1", async () => {
  for (
    const [arg, part] of [
      ["-bogus=1", "-bogus"],
      ["-loglevel=loud", "-loglevel"],
      ["-minaddressscope=site-local", "-minaddressscope"],
      ["-asap=not-an-address:3863", "ASAP"],
      ["-identifier=0x1g", "-identifier"],
    ]
  ) {
    const r = await run([arg]);
    assert.equal(r.code, 1, arg);
    assert.ok(r.err.includes(part), `${arg}: ${r.err}`);
  }
});

Deno.test("rspregistrar serves registrations and shuts down cleanly on SIGTERM", async () => {
  const port = 24101;
  const p = registrar([
    `-asap=127.0.0.1:${port}`,
    "-asapannounce=off",
    "-minaddressscope=loopback",
    "-identifier=0x1234abcd",
    "-loglevel=3",
    "-logcolor=off",
  ]);
  await p.waitFor(/Server ID:\s+\$1234abcd/);
  const transport = usrsctpTransport({ mode: raw ? "raw" : "udp" });
  const client = await AsapTestClient.connect(transport, ["127.0.0.1"], port, ["127.0.0.1"]);
  try {
    client.send({
      type: "registration",
      poolHandle: poolHandle("EchoPool"),
      poolElement: {
        identifier: 0x4242,
        homeRegistrarIdentifier: 0,
        registrationLife: 30000,
        userTransport: {
          protocol: "sctp",
          port: 7,
          addresses: ["127.0.0.1"],
          controlChannel: true,
        },
        policy: { type: "RoundRobin" },
      },
    });
    assert.equal((await client.next("registrationResponse")).reject, false);
    p.child.kill("SIGTERM");
    await client.ended(5000);
    const status = await p.status();
    assert.equal(status.code, 0);
    assert.match(p.stdout, /Terminated!/);
  } finally {
    await client.close(true);
  }
});

Deno.test("rspregistrar -quiet prints no banner", async () => {
  const p = registrar([
    "-asap=127.0.0.1:24102",
    "-asapannounce=off",
    "-quiet",
    "-loglevel=3",
    "-logcolor=off",
  ]);
  await p.waitFor(/Going into initialization phase/);
  p.child.kill("SIGINT");
  assert.equal((await p.status()).code, 0);
  assert.doesNotMatch(p.stdout, /Server ID/);
});

Deno.test("rspregistrar -daemonpidfile runs in the background and removes the pid file at exit", async () => {
  const dir = await Deno.makeTempDir();
  const pidFile = `${dir}/rspregistrar.pid`;
  try {
    const r = await run([
      "-asap=127.0.0.1:24103",
      "-asapannounce=off",
      `-daemonpidfile=${pidFile}`,
    ]);
    assert.equal(r.code, 0);
    const pid = Number((await Deno.readTextFile(pidFile)).trim());
    assert.ok(pid > 0);
    await new Promise((res) => setTimeout(res, 1500));
    assert.ok(await Deno.stat(`/proc/${pid}`).then(() => true, () => false), "daemon runs");
    Deno.kill(pid, "SIGTERM");
    const end = performance.now() + 10000;
    while (await Deno.stat(pidFile).then(() => true, () => false)) {
      assert.ok(performance.now() < end, "pid file removed");
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rspregistrar -uptime/-downtime stops and restarts the registrar", async () => {
  const p = registrar([
    "-asap=127.0.0.1:24104",
    "-asapannounce=off",
    "-uptime=0.3",
    "-downtime=0.2",
  ]);
  await p.waitFor(/Run #3:/, 30000);
  p.child.kill("SIGTERM");
  assert.equal((await p.status()).code, 0);
  assert.match(p.stdout, /Uptime\s+= 0\.300 \[s\]/);
  assert.match(p.stdout, /Shutdown by timer!/);
  assert.match(p.stdout, /Waiting for \d+\.\d+s/);
});

Deno.test({
  name: "rspregistrar sends ASAP Server Announces by multicast from its ASAP port",
  ignore: !netnsAvailable(),
  fn: async () => {
    await using bed = await createTestbed({ loopbackOnly: true });
    const inHost = (...args: string[]) => ["netns", "exec", bed.host(1).namespace, ...args];
    const listener = new Program(
      "ip",
      inHost(Deno.execPath(), "run", "-A", "--quiet", LISTENER, "239.0.0.50", "3863", "3", "8000"),
    );
    await listener.waitFor(/ready/);
    const p = new Program(
      "ip",
      inHost(
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        CLI,
        "-asap=127.0.0.1:24105",
        "-asapannounce=239.0.0.50:3863",
        "-identifier=0x0abcdef0",
        "-mentordiscoverytimeout=1000",
        "-serverannouncecycle=300",
      ),
      { env: { RSERPOOL_SCTP: raw ? "usrsctp-raw" : "usrsctp-udp" } },
    );
    try {
      await listener.waitFor(/received/, 12000);
      const received: { port: number; hex: string }[] = JSON.parse(
        listener.stdout.split("\n").find((l) => l.includes("received"))!,
      ).received;
      assert.equal(received.length, 3);
      for (const r of received) {
        assert.equal(r.port, 24105); // source port = ASAP port: how RSPLIB's PUs learn it
        const m = decodeMessage(11, Uint8Array.from(r.hex.match(/../g)!, (h) => parseInt(h, 16)));
        assert.deepEqual(m, { type: "serverAnnounce", registrarIdentifier: 0x0abcdef0 });
      }
    } finally {
      p.child.kill("SIGTERM");
      await p.status();
      await listener.status();
    }
  },
});

Deno.test("rspregistrar reports its status by CSP with -cspserver/-cspinterval", async () => {
  const monitor = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (monitor.addr as Deno.NetAddr).port;
  const p = registrar([
    "-asap=127.0.0.1:24106",
    "-asapannounce=off",
    "-identifier=0x00c5b001",
    `-cspserver=127.0.0.1:${port}`,
    "-cspinterval=300",
  ]);
  try {
    const [data] = await monitor.receive();
    const report = decodeComponentStatusReport(data);
    assert.equal(report.senderId, componentId(ComponentGroup.Registrar, 0x00c5b001));
    assert.equal(report.status, "0[0] PEs in 0 Pools, 0 Peers");
    assert.equal(report.reportInterval, 300_000);
    p.child.kill("SIGTERM");
    for (;;) {
      const [last] = await monitor.receive();
      if ((decodeComponentStatusReport(last).flags ?? 0) & 1) break; // final report
    }
    assert.equal((await p.status()).code, 0);
  } finally {
    monitor.close();
    try {
      p.child.kill("SIGKILL");
    } catch { /* already gone */ }
    await p.status();
  }
});
