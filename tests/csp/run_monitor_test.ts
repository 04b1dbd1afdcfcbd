import assert from "node:assert/strict";
import { Logger } from "../../src/common/mod.ts";
import {
  ComponentGroup,
  componentId,
  CspPpid,
  CspReporter,
  runCspMonitor,
} from "../../src/csp/mod.ts";
import { terminalScreen, UdpSender, waitFor } from "./_helpers.ts";

function startMonitor(options: Parameters<typeof runCspMonitor>[0] = {}) {
  const controller = new AbortController();
  let output = "";
  let port = 0;
  const log: string[] = [];
  const done = runCspMonitor({
    hostname: "127.0.0.1",
    port: 0,
    updateInterval: 100,
    signal: controller.signal,
    write: (text) => output += text,
    onListen: (address) => port = address.port,
    logger: new Logger({ level: 5, color: false, write: (t) => log.push(t) }),
    ...options,
  });
  return {
    done,
    log,
    get port() {
      return port;
    },
    get output() {
      return output;
    },
    screen: () => terminalScreen(output),
    stop: () => controller.abort(),
  };
}

Deno.test("runCspMonitor() shows reporters, drops bad datagrams and purges on final reports", async () => {
  const monitor = startMonitor({ purgeInterval: 1000 });
  try {
    const server = { hostname: "127.0.0.1", port: monitor.port };
    const registrar = new CspReporter({
      server,
      interval: 100,
      identifier: componentId(ComponentGroup.Registrar, 0x1111),
      status: () => ({ statusText: "1[1] PEs in 1 Pool, 0 Peers", location: "pr-host: 10.0.0.1" }),
    });
    const element = new CspReporter({
      server,
      interval: 100,
      identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
      status: () => ({
        statusText: "2 Sessions",
        location: "pe-host: 10.0.0.2",
        workload: 0.25,
        associations: [{
          receiverId: componentId(ComponentGroup.Registrar, 0x1111),
          duration: 61_000_000n,
          ppid: CspPpid.ASAP,
        }],
      }),
    });
    try {
      using sender = new UdpSender();
      await sender.send(new Uint8Array(7), monitor.port);
      const shown = await waitFor(() => monitor.screen().length >= 5, 4000);
      assert.ok(shown, monitor.screen().join("\n"));
      const lines = monitor.screen();
      assert.match(lines[0], /Current Component Status -- 1 PRs, 1 PEs, 0 PUs$/);
      assert.match(
        lines[2],
        /^PR \$00001111 \[pr-host: 10\.0\.0\.1\] U=00:00:0\d l=0\.\ds A=0 "1\[1\] PEs in 1 Pool, 0 Peers"$/,
      );
      assert.match(
        lines[3],
        /^PE \$12345678 \[pe-host: 10\.0\.0\.2\] U=00:00:0\d l=0\.\ds A=1 L= 25% "2 Sessions"$/,
      );
      assert.equal(lines[4], "   -> PR $00001111 ASAP/SCTP         duration=0:01:01");
      assert.match(
        monitor.log.join(""),
        /Dropped 7-byte datagram from 127\.0\.0\.1:\d+: Cannot decode/,
      );
    } finally {
      await element.close();
    }
    const purged = await waitFor(() => monitor.screen()[0]?.endsWith("1 PRs, 0 PEs, 0 PUs"), 3000);
    assert.ok(purged, "the final report removes the PE at the next update");
    assert.equal(monitor.screen().length, 3);
    await registrar.close();
    assert.ok(await waitFor(() => monitor.screen()[0]?.endsWith("0 PRs, 0 PEs, 0 PUs"), 3000));
  } finally {
    monitor.stop();
  }
  const stats = await monitor.done;
  assert.ok(monitor.output.startsWith("Component Status Monitor - Version 1.0\n"));
  assert.ok(monitor.output.endsWith("\nTerminated!\n"));
  assert.ok(stats.accepted >= 4 && stats.dropped === 1, JSON.stringify(stats));
});

Deno.test("runCspMonitor() purges a silent component after the purge interval", async () => {
  const monitor = startMonitor({ purgeInterval: 1000 });
  try {
    const reporter = new CspReporter({
      server: { hostname: "127.0.0.1", port: monitor.port },
      interval: 5000, // 10 intervals are longer than the purge interval
      identifier: componentId(ComponentGroup.PoolUser, 0xabc),
      status: () => ({ statusText: "0 Sessions", location: "pu" }),
    });
    assert.ok(await waitFor(() => reporter.reports === 1, 2000));
    const sent = Date.now();
    assert.ok(await waitFor(() => monitor.screen()[0]?.endsWith("0 PRs, 0 PEs, 1 PUs"), 3000));
    // No further report for 5 s: the purge interval (1 s) removes the PU.
    assert.ok(await waitFor(() => monitor.screen()[0]?.endsWith("0 PRs, 0 PEs, 0 PUs"), 3000));
    const elapsed = Date.now() - sent;
    assert.ok(elapsed >= 950 && elapsed < 2500, `purged after ${elapsed} ms`);
    await reporter.close();
  } finally {
    monitor.stop();
  }
  await monitor.done;
});

Deno.test("runCspMonitor() throws when the port is taken", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      runCspMonitor({ hostname: "127.0.0.1", port: (taken.addr as Deno.NetAddr).port }),
      Deno.errors.AddrInUse,
    );
  } finally {
    taken.close();
  }
});

Deno.test("runCspMonitor() returns at once when the signal is already aborted", async () => {
  let output = "";
  const stats = await runCspMonitor({
    hostname: "127.0.0.1",
    port: 0,
    signal: AbortSignal.abort(),
    write: (t) => output += t,
  });
  assert.equal(stats.datagrams, 0);
  assert.ok(output.endsWith("\nTerminated!\n"));
});
