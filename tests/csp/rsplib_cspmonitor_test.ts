/**
 * RSPLIB's own `cspmonitor` (Debian rsplib-tools, UDP only, runs on the host) as the oracle: it
 * must show our reporters' registrar, pool element and pool user with the values we sent, and
 * drop them when their final reports arrive.
 */
import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  createCspReporter,
  CspPpid,
  CspReporter,
} from "../../src/csp/mod.ts";
import { Child, delay, freeUdpPort, hasExecutable, terminalScreen, waitFor } from "./_helpers.ts";

const CSPMONITOR = "/usr/bin/cspmonitor";
const HAVE_CSPMONITOR = hasExecutable(CSPMONITOR);
if (!HAVE_CSPMONITOR) {
  console.warn(
    "rsplib_cspmonitor_test.ts: SKIPPED: /usr/bin/cspmonitor not installed (apt-get install rsplib-tools)",
  );
}

Deno.test({
  name: "RSPLIB's cspmonitor shows our registrar, pool element and pool user reports",
  ignore: !HAVE_CSPMONITOR,
  fn: async () => {
    const port = freeUdpPort();
    await using monitor = new Child(CSPMONITOR, [
      `-localaddress=127.0.0.1:${port}`,
      "-updateinterval=200",
      "-full",
    ]);
    const server = { hostname: "127.0.0.1", port };
    const reporters: CspReporter[] = [];
    try {
      reporters.push(
        new CspReporter({
          server,
          interval: 250,
          identifier: componentId(ComponentGroup.Registrar, 0x1111),
          status: () => ({
            statusText: "1[1] PEs in 1 Pool, 1 Peer",
            location: "pr-host: 10.0.0.1:3863",
            associations: [{
              receiverId: componentId(ComponentGroup.Registrar, 0x2222),
              ppid: CspPpid.ENRP,
            }],
          }),
        }),
        new CspReporter({
          server,
          interval: 250,
          identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
          status: () => ({
            statusText: "1 Session",
            location: "pe-host: 10.0.0.2:41234",
            workload: 0.5,
            associations: [{
              receiverId: componentId(ComponentGroup.Registrar, 0x1111),
              duration: 3_723_000_000n,
              ppid: CspPpid.ASAP,
            }],
          }),
        }),
        new CspReporter({
          server,
          interval: 250,
          identifier: componentId(ComponentGroup.PoolUser, 0xabcdef),
          status: () => ({
            statusText: "Ünïcødé session",
            location: "pu-host " + "x".repeat(100),
            workload: 0.95,
            associations: [{
              receiverId: componentId(ComponentGroup.PoolElement, 0x12345678),
              duration: 61_000_000n,
              ppid: CspPpid.PingPong,
            }],
          }),
        }),
      );
      // -cspidentifier forces the pool element group, as in RSPLIB.
      const fixed = createCspReporter(
        { cspserver: `127.0.0.1:${port}`, cspinterval: 250, cspidentifier: "0xfeed" },
        {
          env: new Map(),
          identifier: componentId(ComponentGroup.PoolUser, 1),
          status: () => ({ statusText: "fixed id", location: "pe-host: 10.0.0.3" }),
        },
      );
      assert.ok(fixed);
      reporters.push(fixed);

      const screen = () => terminalScreen(monitor.stdout);
      const shown = await waitFor(
        () => screen().some((l) => l.endsWith("1 PRs, 2 PEs, 1 PUs")) && screen().length >= 9,
        5000,
      );
      assert.ok(shown, `RSPLIB's cspmonitor output:\n${screen().join("\n")}\n${monitor.stderr}`);
      // RSPLIB aligns the U= column with the widest label of the previous frame: take a later one.
      await delay(450);
      const lines = screen();
      console.log(`RSPLIB cspmonitor shows:\n${lines.join("\n")}`);
      assert.match(
        lines[0],
        /^\d\d-\w{3}-\d{4} [\d:.]+: Current Component Status -- 1 PRs, 2 PEs, 1 PUs$/,
      );
      assert.match(
        lines[2],
        /^PR \$00001111 \[pr-host: 10\.0\.0\.1:3863\] +U=00:00:0\d l=0\.\ds A=1 "1\[1\] PEs in 1 Pool, 1 Peer"$/,
      );
      assert.equal(lines[3], "   -> PR $00002222 ENRP/SCTP");
      assert.match(
        lines[4],
        /^PE \$12345678 \[pe-host: 10\.0\.0\.2:41234\] +U=00:00:0\d l=0\.\ds A=1 L= 50% "1 Session"$/,
      );
      assert.equal(lines[5], "   -> PR $00001111 ASAP/SCTP         duration=1:02:03");
      assert.match(
        lines[6],
        /^PE \$0000feed \[pe-host: 10\.0\.0\.3\] +U=00:00:0\d l=0\.\ds A=0 "fixed id"$/,
      );
      assert.match(
        lines[7],
        new RegExp(
          String
            .raw`^PU \$00000000abcdef \[pu-host x{61}\.\.\.\] +U=00:00:0\d l=0\.\ds A=1 L= 95% "Ünïcødé session"$`,
        ),
      );
      assert.equal(lines[8], "   -> PE $12345678 PingPong/SCTP     duration=0:01:01");
      const uColumn = lines[2].indexOf("U=");
      for (const i of [4, 6, 7]) assert.equal(lines[i].indexOf("U="), uColumn, "aligned");
    } finally {
      await Promise.all(reporters.map((r) => r.close()));
    }
    const purged = await waitFor(
      () => terminalScreen(monitor.stdout)[0]?.endsWith("0 PRs, 0 PEs, 0 PUs"),
      3000,
    );
    assert.ok(purged, "final reports remove all components");
    assert.equal(terminalScreen(monitor.stdout).length, 1);
    await monitor.stop("SIGINT");
    assert.ok(monitor.stdout.endsWith("\nTerminated!\n"));
  },
});
