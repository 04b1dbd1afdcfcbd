/**
 * The real programs as processes report to a Component Status Protocol monitor: `rspregistrar`,
 * `rspserver -echo` and `rspterminal` (usrsctp with UDP encapsulation on loopback) send their
 * reports, and both our `cli/cspmonitor.ts` and RSPLIB's `/usr/bin/cspmonitor` (Debian
 * rsplib-tools, when installed) show the registrar, the pool element and the pool user with
 * their component ids, status texts and associations; the final reports remove them again.
 */
import assert from "node:assert/strict";
import { Program } from "../pool/_process.ts";
import { Child, DENO, freeUdpPort, hasExecutable, terminalScreen, waitFor } from "./_helpers.ts";

const CSPMONITOR = "/usr/bin/cspmonitor";
const HAVE_CSPMONITOR = hasExecutable(CSPMONITOR);
if (!HAVE_CSPMONITOR) {
  console.warn(
    "programs_csp_test.ts: RSPLIB step SKIPPED: /usr/bin/cspmonitor not installed (apt-get install rsplib-tools)",
  );
}

const ENV = { RSERPOOL_SCTP: "usrsctp-udp", NO_COLOR: "1" };
/**
 * SIGKILL only after this long: a program's usrsctp endpoints wait up to 3 s for graceful
 * shutdowns, and the last one retries `usrsctp_finish` for up to 5 s while an association lingers
 * (seen under load: rspterminal then exits 0 after about 5 s).
 */
const STOP_GRACE = 12000;

/**
 * A free SCTP port for a listening usrsctp endpoint in UDP mode: its UDP encapsulation port
 * (port XOR 0x8000, see docs/transport.md) must be free.
 */
function freeSctpPort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    try {
      Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: port ^ 0x8000 }).close();
      return port;
    } catch {
      // taken: try another one
    }
  }
}

/**
 * The visible screen of a monitor with the changing parts replaced: the time stamp goes, the
 * locations become `*` (collected in `locations`), uptime, time since the last report, column
 * padding and association durations are left out.
 */
function normalized(
  output: string,
  locations: Map<string, string> = new Map(),
): string[] {
  return terminalScreen(output).map((line) => {
    const header = line.match(/^\d\d-\w{3}-\d{4} [\d:.]+: (Current Component Status -- .*)$/);
    if (header) return header[1];
    const component = line.match(
      /^((?:PR|PE|PU) \$[0-9a-f]+) \[(.*)\] +U=\d\d:\d\d:\d\d l=\d+\.\ds (.*)$/,
    );
    if (component) {
      locations.set(component[1], component[2]);
      return `${component[1]} [*] ${component[3]}`;
    }
    const association = line.match(/^( {3}-> \S+ \$[0-9a-f]+ \S+?) +duration=\d+:\d\d:\d\d$/);
    if (association) return `${association[1]} duration=*`;
    return line;
  });
}

/** The PU's component id (`PU $` and 14 hex digits) on a screen. */
function poolUserId(lines: string[]): string | undefined {
  return lines.map((l) => l.match(/^PU \$[0-9a-f]{14}\b/)?.[0]).find((id) => id !== undefined);
}

/**
 * What both monitors must show for the registrar `pr` and the pool element `pe` (8 hex digits)
 * and the pool user `pu` (`PU $...`). The PU learns no registrar identifier from a static
 * registrar (`-registrar=`, no announces): ASAP tells it only to PEs, in Endpoint Keep Alives.
 * Like RSPLIB's PU (`UNDEFINED_REGISTRAR_IDENTIFIER`), it reports the association with `$00000000`.
 */
function expectedView(pr: string, pe: string, pu: string): string[] {
  return [
    "Current Component Status -- 1 PRs, 1 PEs, 1 PUs",
    "",
    `PR $${pr} [*] A=0 "1[1] PEs in 1 Pool, 0 Peers"`,
    `PE $${pe} [*] A=1 "1 Session"`,
    `   -> PR $${pr} ASAP/SCTP duration=*`,
    `${pu} [*] A=2 "1 Session"`,
    `   -> PR $00000000 ASAP/SCTP duration=*`,
    `   -> PE $${pe} Data/SCTP duration=*`,
  ];
}

/**
 * Polls (up to 10 s) until the monitor's screen shows the expected view; asserts it, and that
 * every component has a location. Returns the PU's component id.
 */
async function assertView(
  monitor: Child,
  what: string,
  pr: string,
  pe: string,
): Promise<string> {
  const matches = () => {
    const lines = normalized(monitor.stdout);
    const pu = poolUserId(lines);
    return pu !== undefined &&
      JSON.stringify(lines) === JSON.stringify(expectedView(pr, pe, pu));
  };
  await waitFor(matches, 10000);
  const locations = new Map<string, string>();
  const lines = normalized(monitor.stdout, locations);
  const screen = terminalScreen(monitor.stdout).join("\n");
  const pu = poolUserId(lines);
  assert.ok(pu, `${what} shows no pool user:\n${screen}\n${monitor.stderr}`);
  assert.deepEqual(
    lines,
    expectedView(pr, pe, pu),
    `${what} shows:\n${screen}\n${monitor.stderr}`,
  );
  assert.equal(locations.size, 3);
  for (const [id, location] of locations) assert.notEqual(location.trim(), "", `${id} location`);
  console.log(`${what} shows:\n${screen}`);
  return pu;
}

Deno.test("the programs' CSP reports show in our cspmonitor and in RSPLIB's", async (t) => {
  const cspPort = freeUdpPort();
  const asapPort = freeSctpPort();
  const csp = [`-cspserver=127.0.0.1:${cspPort}`, "-cspinterval=200"];
  const client = [
    `-registrar=127.0.0.1:${asapPort}`,
    "-asapannounce=off",
    "-minaddressscope=loopback",
    ...csp,
  ];
  const peId = (0x10000000 + Math.floor(Math.random() * 0xe0000000)).toString(16);
  // Any 32-bit value from 0x10000000: identifiers from 0x80000000 on once showed "1[0] PEs".
  const prGiven = (0x10000000 + Math.floor(Math.random() * 0xe0000000)).toString(16);

  await using ourMonitor = new Child(DENO, [
    "run",
    "-A",
    "cli/cspmonitor.ts",
    `-localaddress=127.0.0.1:${cspPort}`,
    "-updateinterval=200",
    "-full",
  ]);
  await using registrar = new Program("rspregistrar", [
    `-identifier=0x${prGiven}`,
    `-asap=127.0.0.1:${asapPort}`,
    "-minaddressscope=loopback",
    "-asapannounce=off",
    "-enrpannounce=off",
    ...csp,
  ], ENV);
  const prId = (await registrar.waitFor(/Server ID: +\$([0-9a-f]{8})/, 15000))[1];
  assert.equal(prId, prGiven.padStart(8, "0"));
  await registrar.waitFor(
    new RegExp(
      String.raw`CSP Report Address: +127\.0\.0\.1:${cspPort}\nCSP Report Interval: +200ms`,
    ),
  );
  await using server = new Program("rspserver", [
    "-echo",
    ...client,
    `-identifier=0x${peId}`,
  ], ENV);
  const printed = (await server.waitFor(/Identifier {14}= \$([0-9a-f]{8})/, 15000))[1];
  assert.equal(printed, peId.padStart(8, "0"));
  await using terminal = new Program("rspterminal", client, ENV, true);
  await terminal.waitFor(/Pool Handle = EchoPool/);
  await terminal.write("hello\n");
  await terminal.waitFor(new RegExp(String.raw`from PE \$${printed}> hello`), 10000);

  let pu = "";
  await t.step("our cspmonitor shows registrar, pool element and pool user", async () => {
    try {
      pu = await assertView(ourMonitor, "our cspmonitor", prId, printed);
    } finally {
      // Frees the port for RSPLIB's monitor.
      assert.equal((await ourMonitor.stop("SIGTERM")).code, 0);
      assert.ok(ourMonitor.stdout.endsWith("\nTerminated!\n"));
    }
  });

  await t.step({
    name: "RSPLIB's cspmonitor shows them too and drops them after their final reports",
    ignore: !HAVE_CSPMONITOR,
    fn: async () => {
      await using monitor = new Child(CSPMONITOR, [
        `-localaddress=127.0.0.1:${cspPort}`,
        "-updateinterval=200",
        "-full",
      ]);
      const shown = await assertView(monitor, "RSPLIB's cspmonitor", prId, printed);
      assert.equal(shown, pu, "the same pool user id in both monitors");
      // Graceful stops: each program sends its final report, RSPLIB's monitor drops it at once.
      for (const program of [terminal, server, registrar]) {
        assert.equal(
          (await program.stop(STOP_GRACE)).code,
          0,
          `${program.name}: ${program.stderr}`,
        );
      }
      const purged = await waitFor(
        () => normalized(monitor.stdout)[0] === "Current Component Status -- 0 PRs, 0 PEs, 0 PUs",
        10000,
      );
      assert.ok(purged, `final reports remove all:\n${terminalScreen(monitor.stdout).join("\n")}`);
      await monitor.stop("SIGINT");
      assert.ok(monitor.stdout.endsWith("\nTerminated!\n"));
    },
  });

  for (const program of [terminal, server, registrar]) {
    assert.equal((await program.stop(STOP_GRACE)).code, 0, `${program.name}: ${program.stderr}`);
  }
});
