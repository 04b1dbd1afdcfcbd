/** `cli/cspmonitor.ts` as a program: options, exit codes, signals, output. */
import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  CspPpid,
  encodeComponentStatusReport,
} from "../../src/csp/mod.ts";
import {
  Child,
  DENO,
  freeUdpPort,
  run,
  stripAnsi,
  terminalScreen,
  UdpSender,
  waitFor,
} from "./_helpers.ts";

const CLI = ["run", "-A", "cli/cspmonitor.ts"];

const REPORT = encodeComponentStatusReport({
  senderId: componentId(ComponentGroup.PoolElement, 0x12345678),
  senderTimestamp: 3_723_000_000n,
  reportInterval: 1_000_000,
  location: "pe-host: 10.0.0.2",
  status: "1 Session",
  workload: 0.5,
  associations: [{
    receiverId: componentId(ComponentGroup.Registrar, 0xabcdef01),
    duration: 5_000_000n,
    ppid: CspPpid.ASAP,
  }],
});

Deno.test("cspmonitor --help lists RSPLIB's options and exits 0", async () => {
  const { code, stdout } = await run(DENO, [...CLI, "--help"]);
  assert.equal(code, 0);
  for (
    const option of [
      "-localaddress=<address:port>",
      "-updateinterval=<ms>",
      "-purgeinterval=<ms>",
      "-compact",
      "-full",
      "-maxpr=<PRs>",
      "-maxpe=<PEs>",
      "-maxpu=<PUs>",
      "-maxlocationsize=<characters>",
      "-loglevel=<0..9>",
      "-logfile=<file>",
    ]
  ) {
    assert.ok(stdout.includes(option), option);
  }
  assert.match(stdout, /\[default: \[::\]:2960\]/);
  assert.match(stdout, /\[default: 1000\]/);
  assert.match(stdout, /\[default: 30000\]/);
});

Deno.test("cspmonitor exits 1 with a message for bad options", async () => {
  const cases: [string, RegExp][] = [
    ["-bogus", /Unknown option -bogus/],
    ["-updateinterval=soon", /Invalid value "soon" for option -updateinterval/],
    ["-localaddress=300.1.1.1:2960", /Invalid value "300\.1\.1\.1:2960" for option -localaddress/],
    ["-localaddress=127.0.0.1:99999", /for option -localaddress/],
    ["-compact=yes", /Option -compact takes no value/],
    ["extra", /Unexpected argument "extra"/],
  ];
  for (const [arg, message] of cases) {
    const { code, stderr, stdout } = await run(DENO, [...CLI, arg]);
    assert.equal(code, 1, arg);
    assert.match(stderr, message, arg);
    assert.equal(stdout, "", arg);
  }
});

Deno.test("cspmonitor exits 1 when it cannot bind its address", async () => {
  const taken = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  try {
    const port = (taken.addr as Deno.NetAddr).port;
    const { code, stderr } = await run(DENO, [...CLI, `-localaddress=127.0.0.1:${port}`]);
    assert.equal(code, 1);
    assert.match(stderr, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port}`));
  } finally {
    taken.close();
  }
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  Deno.test(`cspmonitor shows reports and exits 0 on ${signal}`, async () => {
    const port = freeUdpPort();
    await using child = new Child(DENO, [
      ...CLI,
      `-localaddress=127.0.0.1:${port}`,
      "-updateinterval=100",
      "-compact",
      "-full", // the last of -compact/-full wins
    ]);
    using sender = new UdpSender();
    const shown = await waitFor(async () => {
      await sender.send(REPORT, port);
      return terminalScreen(child.stdout).length >= 4;
    }, 8000);
    const lines = terminalScreen(child.stdout);
    assert.ok(shown, `${lines.join("\n")}\n${child.stderr}`);
    assert.match(lines[0], /Current Component Status -- 0 PRs, 1 PEs, 0 PUs$/);
    assert.match(
      lines[2],
      /^PE \$12345678 \[pe-host: 10\.0\.0\.2\] U=01:02:03 l=0\.\ds A=1 L= 50% "1 Session"$/,
    );
    assert.equal(lines[3], "   -> PR $abcdef01 ASAP/SCTP         duration=0:00:05");
    const status = await child.stop(signal);
    assert.equal(status.code, 0);
    assert.ok(stripAnsi(child.stdout).endsWith("\nTerminated!\n"));
  });
}

Deno.test("cspmonitor -compact leaves out association lines and honours -maxpe", async () => {
  const port = freeUdpPort();
  await using child = new Child(DENO, [
    ...CLI,
    `-localaddress=127.0.0.1:${port}`,
    "-updateinterval=100",
    "-full",
    "-compact",
    "-maxpe=0",
    "-loglevel=0",
  ]);
  using sender = new UdpSender();
  const shown = await waitFor(async () => {
    await sender.send(REPORT, port);
    return terminalScreen(child.stdout).length >= 3;
  }, 8000);
  const lines = terminalScreen(child.stdout);
  assert.ok(shown, lines.join("\n"));
  assert.deepEqual(lines.slice(1), ["", "(1 further PEs have been hidden)"]);
});
