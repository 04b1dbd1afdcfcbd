/**
 * `rspserver` and `rspterminal` as processes (with the project's `rspregistrar`), over usrsctp
 * with UDP encapsulation on loopback: the setup of the README demo, on a host without kernel
 * SCTP.
 */
import assert from "node:assert/strict";
import { Program, runToEnd } from "./_process.ts";

const ENV = { RSERPOOL_SCTP: "usrsctp-udp", NO_COLOR: "1" };
const REGISTRAR_PORT = 24800;
const CLIENT = [
  `-registrar=127.0.0.1:${REGISTRAR_PORT}`,
  "-asapannounce=off",
  "-minaddressscope=loopback",
];

function startRegistrar(): Program {
  return new Program("rspregistrar", [
    `-asap=127.0.0.1:${REGISTRAR_PORT}`,
    "-asapannounce=off",
    "-enrpannounce=off",
    "-minaddressscope=loopback",
    "-quiet",
  ], ENV);
}

function startServer(id: number, extra: string[] = []): Program {
  return new Program("rspserver", [
    "-echo",
    ...CLIENT,
    `-identifier=0x${id.toString(16)}`,
    "-rereginterval=2000",
    ...extra,
  ], ENV);
}

Deno.test("rspserver and rspterminal echo lines and show a failover when the PE stops", async () => {
  await using _registrar = startRegistrar();
  await new Promise((r) => setTimeout(r, 700));
  const servers = [0xe001, 0xe002, 0xe003].map((id) => startServer(id));
  try {
    for (const s of servers) await s.waitFor(/Identifier {14}= \$0000e00\d/, 15000);
    await using terminal = new Program("rspterminal", CLIENT, ENV, true);
    await terminal.waitFor(/Pool Handle = EchoPool/);
    await terminal.write("line 1\n");
    const first = await terminal.waitFor(/from PE \$(0000e00\d)> line 1/, 10000);
    const serving = servers.find((s) =>
      s.stdout.includes(`Identifier              = $${first[1]}`)
    )!;
    assert.match(serving.stdout, /Echo 7 bytes on session 1/);
    // Graceful stop: the PE deregisters and shuts the session down.
    serving.kill("SIGTERM");
    await terminal.waitFor(
      /Notification: RSERPOOL_FAILOVER for session 1, state=RSERPOOL_FAILOVER_NECESSARY, cookie=no\nFAILOVER #1 \.\.\.\nNotification: RSERPOOL_FAILOVER for session 1, state=RSERPOOL_FAILOVER_COMPLETE, cookie=no/,
      10000,
    );
    await terminal.write("line 2\n");
    const second = await terminal.waitFor(/from PE \$(0000e00\d)> line 2/, 10000);
    assert.notEqual(second[1], first[1]);
    assert.equal((await serving.exited).code, 0);
    assert.match(serving.stderr, /Terminated!/);
    // The raw output keeps RSPLIB's colours.
    assert.ok(terminal.rawStdout.includes(`\x1b[34mfrom PE $${second[1]}> line 2\x1b[0m\n`));
    await terminal.closeInput();
    assert.equal((await terminal.exited).code, 0);
    await terminal.waitFor(/Terminated!/);
  } finally {
    for (const s of servers) await s.stop();
  }
});

Deno.test("rspterminal fails over after the serving rspserver is killed", async () => {
  await using _registrar = startRegistrar();
  await new Promise((r) => setTimeout(r, 700));
  const servers = [0xe001, 0xe002].map((id) => startServer(id));
  try {
    for (const s of servers) await s.waitFor(/Identifier {14}= \$0000e00\d/, 15000);
    await using terminal = new Program("rspterminal", CLIENT, ENV, true);
    await terminal.write("before\n");
    const first = await terminal.waitFor(/from PE \$(0000e00\d)> before/, 10000);
    const serving = servers.find((s) => s.stdout.includes(`= $${first[1]}`))!;
    serving.kill("SIGKILL");
    // usrsctp notices the dead peer by retransmission timeouts (RSPLIB's session timers).
    const ticker = setInterval(() => void terminal.write("tick\n").catch(() => {}), 500);
    try {
      await terminal.waitFor(/FAILOVER #1 \.\.\./, 30000);
      const after = await terminal.waitFor(
        /from PE \$(0000e00\d)> tick\n(?![\s\S]*FAILOVER #2)/,
        10000,
      );
      const last = [...terminal.stdout.matchAll(/from PE \$(0000e00\d)> tick/g)].at(-1)!;
      assert.notEqual(last[1], first[1]);
      void after;
    } finally {
      clearInterval(ticker);
    }
  } finally {
    for (const s of servers) await s.stop();
  }
});

Deno.test("rspserver exits 1 with a clear message when no registrar answers", async () => {
  const r = await runToEnd("rspserver", [
    "-echo",
    "-registrar=127.0.0.1:24899",
    "-asapannounce=off",
    "-minaddressscope=loopback",
    "-registrarconnecttimeout=500",
    "-quiet",
  ], ENV);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /ERROR: Failed to register PE to pool EchoPool: .*no registrar/);
});

Deno.test("rspserver rejects bad options and ignores unknown general ones with a warning", async () => {
  const bad = await runToEnd("rspserver", ["-policy=Nonsense"], ENV);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /Cannot use policy "Nonsense": unknown policy/);
  const badCharGen = await runToEnd("rspserver", ["-chargen", "-chargenfoo=1"], ENV);
  assert.equal(badCharGen.code, 1);
  assert.match(badCharGen.stderr, /Unknown option -chargenfoo=1/);
  const unknown = await runToEnd("rspserver", [
    "-whatever=1",
    "-registrar=127.0.0.1:24899",
    "-asapannounce=off",
    "-registrarconnecttimeout=100",
    "-quiet",
  ], ENV);
  assert.match(unknown.stderr, /Ignoring unknown option -whatever=1/);
  const help = await runToEnd("rspserver", ["--help"], ENV);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /-chargenmaxthreads=<value>/);
});

Deno.test("rspterminal rejects unknown options", async () => {
  const r = await runToEnd("rspterminal", ["-echo"], ENV);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /Bad argument/);
});
