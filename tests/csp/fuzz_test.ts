/**
 * A bounded burst of 20 000 hostile datagrams against a running `cli/cspmonitor.ts` process: it
 * must stay up and still show a valid report afterwards.
 */
import assert from "node:assert/strict";
import { ComponentGroup, componentId, CspReporter } from "../../src/csp/mod.ts";
import { FUZZ_KINDS, fuzzDatagram, Random } from "./_fuzz.ts";
import { Child, DENO, freeUdpPort, terminalScreen, UdpSender, waitFor } from "./_helpers.ts";

const BURST = 20_000;

Deno.test("cspmonitor survives 20 000 random, short, long and malformed datagrams", async () => {
  const port = freeUdpPort();
  await using monitor = new Child(DENO, [
    "run",
    "-A",
    "cli/cspmonitor.ts",
    `-localaddress=127.0.0.1:${port}`,
    "-updateinterval=100",
    "-purgeinterval=1000",
    "-maxpe=5",
    "-loglevel=3",
    "-logcolor=off",
  ], { limit: 200_000 });
  const screen = () => terminalScreen(monitor.stdout);
  assert.ok(await waitFor(() => screen()[0]?.includes("Current Component Status"), 8000));

  const random = new Random(0x5eed);
  const sizes = new Map<string, number>();
  {
    using sender = new UdpSender();
    for (let i = 0; i < BURST; i++) {
      const datagram = fuzzDatagram(random, i);
      const kind = FUZZ_KINDS[i % FUZZ_KINDS.length];
      sizes.set(kind, Math.max(sizes.get(kind) ?? 0, datagram.length));
      await sender.send(datagram, port);
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 6)); // pace the burst
    }
  }
  assert.equal(sizes.get("huge"), 65507, "the burst includes maximum-size datagrams");
  assert.ok(monitor.running, `the monitor died:\n${monitor.stderr}`);

  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port },
    interval: 100,
    identifier: componentId(ComponentGroup.Registrar, 0x600d),
    status: () => ({ statusText: "still here", location: "after-fuzz" }),
  });
  try {
    // Forged components report a 0.1 s interval: purged within a second; ours stays.
    const clean = await waitFor(() => {
      const lines = screen();
      return lines.length === 3 && lines[0].endsWith("1 PRs, 0 PEs, 0 PUs") &&
        /^PR \$0000600d \[after-fuzz\] U=\d\d:\d\d:\d\d l=\d\.\ds A=0 "still here"$/.test(lines[2]);
    }, 6000);
    assert.ok(clean, `screen after the burst:\n${screen().join("\n")}\n${monitor.stderr}`);
  } finally {
    await reporter.close();
  }
  assert.ok(monitor.running);
  const status = await monitor.stop("SIGINT");
  assert.equal(status.code, 0, monitor.stderr);
  // The exit note counts what reached the monitor (the socket may drop some of the burst).
  const stats = /stopped: (\d+) datagrams, (\d+) reports, (\d+) dropped/.exec(monitor.stderr);
  assert.ok(stats, monitor.stderr);
  const [datagrams, reports, dropped] = stats.slice(1).map(Number);
  console.log(`monitor: ${datagrams} datagrams, ${reports} reports, ${dropped} dropped`);
  assert.ok(datagrams >= BURST / 4, `${datagrams} datagrams reached the monitor`);
  assert.ok(dropped >= datagrams * 0.6, `${dropped} of ${datagrams} dropped as invalid`);
  assert.ok(reports > 0);
  assert.doesNotMatch(monitor.stderr, /Error:|Warning:/);
});
