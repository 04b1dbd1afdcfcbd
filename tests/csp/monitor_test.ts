import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  CspDecodeError,
  CspMonitor,
  CspPacket,
  CspPpid,
  encodeComponentStatusReport,
  IpProtocol,
  renderCspMonitor,
} from "../../src/csp/mod.ts";
import type { ComponentStatusReport } from "../../src/csp/mod.ts";
import { terminalScreen } from "./_helpers.ts";

const PR = (n: number) => componentId(ComponentGroup.Registrar, n);
const PE = (n: number) => componentId(ComponentGroup.PoolElement, n);
const PU = (n: number) => componentId(ComponentGroup.PoolUser, n);

function report(
  senderId: bigint,
  more: Partial<ComponentStatusReport> = {},
): ComponentStatusReport {
  return {
    senderId,
    senderTimestamp: 3_723_000_000n,
    reportInterval: 1_000_000,
    location: "host: 192.0.2.1",
    status: "ok",
    associations: [],
    ...more,
  };
}

/** The frame as a person sees it on a terminal. */
function screen(monitor: CspMonitor, options: Parameters<typeof renderCspMonitor>[1] = {}) {
  return terminalScreen(renderCspMonitor(monitor, { now: 1600, time: 0, ...options }));
}

Deno.test("CspMonitor.receive() takes valid reports and counts the groups", () => {
  const monitor = new CspMonitor();
  for (const id of [PR(1), PE(2), PE(3), PU(4), componentId(9, 5)]) {
    const result = monitor.receive(encodeComponentStatusReport(report(id)), 0);
    assert.equal(result.accepted, true);
    assert.equal(result.component?.id, id);
  }
  assert.deepEqual(monitor.counts(), { registrars: 1, poolElements: 2, poolUsers: 1 });
  assert.equal(monitor.size, 5);
  assert.deepEqual(monitor.stats, { datagrams: 5, accepted: 5, dropped: 0, purged: 0 });
});

Deno.test("CspMonitor.receive() drops invalid datagrams with the reason and never throws", () => {
  const monitor = new CspMonitor();
  const good = encodeComponentStatusReport(report(PE(1)));
  for (
    const bad of [new Uint8Array(0), good.subarray(0, 287), new Uint8Array([...good, 1])]
  ) {
    const result = monitor.receive(bad, 0);
    assert.equal(result.accepted, false);
    assert.ok(result.error instanceof CspDecodeError);
  }
  assert.equal(monitor.size, 0);
  assert.deepEqual(monitor.stats, { datagrams: 3, accepted: 0, dropped: 3, purged: 0 });
});

Deno.test("CspMonitor.update() replaces a component's data with the newest report", () => {
  const monitor = new CspMonitor();
  monitor.update(
    report(PE(1), { workload: 0.5, associations: [{ receiverId: PR(1), ppid: 11 }] }),
    0,
  );
  monitor.update(report(PE(1), { status: "new", location: "elsewhere", workload: -1 }), 10);
  const c = monitor.get(PE(1))!;
  assert.equal(c.status, "new");
  assert.equal(c.location, "elsewhere");
  assert.equal(c.workload, undefined);
  assert.deepEqual(c.associations, []);
  assert.equal(c.lastReport, 10);
  assert.equal(monitor.size, 1);
});

Deno.test("CspMonitor.purge() drops silent components after min(purge interval, 10 intervals)", () => {
  const monitor = new CspMonitor({ purgeInterval: 5000 });
  monitor.update(report(PE(1), { reportInterval: 100_000 }), 0); // 10 intervals = 1 s
  monitor.update(report(PE(2), { reportInterval: 1_000_000 }), 0); // purge interval wins: 5 s
  assert.deepEqual(monitor.purge(1000).map((c) => c.id), []);
  assert.deepEqual(monitor.purge(1001).map((c) => c.id), [PE(1)]);
  assert.deepEqual(monitor.purge(5000).map((c) => c.id), []);
  assert.deepEqual(monitor.purge(5001).map((c) => c.id), [PE(2)]);
  assert.equal(monitor.stats.purged, 2);
});

Deno.test("CspMonitor purges a component at the next cycle after its final report", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PE(1)), 0);
  monitor.update(report(PE(2)), 0);
  const result = monitor.update(report(PE(1), { flags: CspPacket.FLAG_FINAL, status: "" }), 1);
  assert.equal(result.accepted, true);
  assert.equal(result.component?.final, true);
  assert.equal(monitor.size, 2, "still there until the next purge");
  assert.deepEqual(monitor.purge(2).map((c) => c.id), [PE(1)]);
  assert.equal(monitor.size, 1);
  const unknown = monitor.update(report(PE(9), { flags: 1 }), 3);
  assert.equal(unknown.accepted, true);
  assert.equal(unknown.component, undefined, "a final report of an unknown id is ignored");
  assert.equal(monitor.size, 1);
});

Deno.test("CspMonitor keeps at most maxComponents components", () => {
  const monitor = new CspMonitor({ maxComponents: 2 });
  monitor.update(report(PE(1)), 0);
  monitor.update(report(PE(2)), 0);
  const third = monitor.update(report(PE(3)), 0);
  assert.equal(third.accepted, false);
  assert.ok(third.error instanceof RangeError);
  assert.equal(
    monitor.update(report(PE(1), { status: "known ids still update" }), 0).accepted,
    true,
  );
  assert.equal(monitor.size, 2);
});

Deno.test("CspMonitor.components() sorts by group, then location, then id", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PU(1), { location: "a" }), 0);
  monitor.update(report(PE(3), { location: "b" }), 0);
  monitor.update(report(PE(2), { location: "b" }), 0);
  monitor.update(report(PE(9), { location: "a" }), 0);
  monitor.update(report(PR(5), { location: "z" }), 0);
  assert.deepEqual(monitor.components().map((c) => c.id), [PR(5), PE(9), PE(2), PE(3), PU(1)]);
});

Deno.test("renderCspMonitor() shows the header, component and association lines like RSPLIB", () => {
  const monitor = new CspMonitor();
  monitor.update(
    report(PE(0x12345678), {
      location: "oracle-test [192.0.2.1]",
      status: "TS-PE test status",
      workload: 0.5,
      associations: [{ receiverId: componentId(1, 0xabcdef01), duration: 5_000_000n, ppid: 11 }],
    }),
    0,
  );
  const lines = screen(monitor);
  assert.match(lines[0], /^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d\.\d{4}: /);
  assert.ok(lines[0].endsWith("Current Component Status -- 0 PRs, 1 PEs, 0 PUs"), lines[0]);
  assert.equal(lines[1], "");
  assert.equal(
    lines[2],
    'PE $12345678 [oracle-test [192.0.2.1]] U=01:02:03 l=1.6s A=1 L= 50% "TS-PE test status"',
  );
  assert.equal(lines[3], "   -> PR $abcdef01 ASAP/SCTP         duration=0:00:05");
  assert.equal(lines.length, 4);
});

Deno.test("renderCspMonitor() draws in place with RSPLIB's control sequences", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PR(1), { associations: [{ receiverId: PR(2), ppid: 12 }] }), 0);
  const frame = renderCspMonitor(monitor, { now: 0, time: 0 });
  assert.ok(frame.startsWith("\x1b[;H"), "cursor home first");
  assert.ok(
    frame.includes("\x1b[31;1m1 PRs\x1b[0m, \x1b[34;1m0 PEs\x1b[0m, \x1b[32;1m0 PUs\x1b[0m"),
  );
  assert.ok(frame.includes("\x1b[31;1m\nPR $00000001 [host: 192.0.2.1]\x1b[0m\x1b[31m "));
  assert.ok(frame.includes('"ok"\x1b[0K'), "each line is cleared to its end");
  assert.ok(frame.endsWith("\x1b[0m\x1b[0K\x1b[0J"), "the rest of the screen is cleared");
});

Deno.test("renderCspMonitor() aligns the U= column and leaves out associations in compact mode", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PR(1), { location: "a" }), 0);
  monitor.update(
    report(PE(2), {
      location: "a much longer location",
      associations: [{ receiverId: PR(1), ppid: 11 }],
    }),
    0,
  );
  const lines = screen(monitor, { compact: true });
  assert.equal(lines.length, 4);
  assert.equal(lines[2].indexOf("U="), lines[3].indexOf("U="));
  assert.ok(lines[2].startsWith("PR $00000001 [a]"));
});

Deno.test("renderCspMonitor() formats uptime, load, durations and protocols", () => {
  const monitor = new CspMonitor();
  const day = 86_400_000_000n;
  monitor.update(report(PE(1), { location: "1", senderTimestamp: 100n * 3_600_000_000n }), 0);
  monitor.update(report(PE(2), { location: "2", senderTimestamp: 14999n * day, workload: 0.9 }), 0);
  monitor.update(report(PE(3), { location: "3", senderTimestamp: 15000n * day, workload: 1 }), 0);
  monitor.update(
    report(PE(4), {
      location: "4",
      senderTimestamp: 59n,
      workload: 0.004,
      associations: [
        { receiverId: PE(5), duration: 3_600_000_000n * 123n + 61_000_000n, ppid: 0x29097602 },
        { receiverId: PU(6), ppid: CspPpid.PingPong, protocolId: IpProtocol.TCP },
        { receiverId: PE(7), ppid: CspPpid.Data, protocolId: 99 },
        { receiverId: PE(8), ppid: CspPpid.FractalGenerator, protocolId: IpProtocol.UDP },
        { receiverId: PE(9), ppid: CspPpid.CalcApp },
        { receiverId: PE(10), ppid: CspPpid.Scripting },
      ],
    }),
    0,
  );
  const lines = screen(monitor);
  assert.match(lines[2], /U= {2}4d 04h l=1\.6s A=0 "ok"$/);
  assert.match(lines[3], /U=14999d 00h l=1\.6s A=0 L= 90% "ok"$/);
  assert.match(lines[4], /U=\?\?:\?\?:\?\? l=1\.6s A=0 L=100% "ok"$/);
  assert.match(lines[5], /U=00:00:00 l=1\.6s A=6 L= {2}0% "ok"$/);
  assert.equal(lines[6], "   -> PE $00000005 $29097602/SCTP    duration=123:01:01");
  assert.equal(lines[7], "   -> PU $00000000000006 PingPong/TCP");
  assert.equal(lines[8], "   -> PE $00000007 Data/$0063");
  assert.equal(lines[9], "   -> PE $00000008 FractGen/UDP");
  assert.equal(lines[10], "   -> PE $00000009 CalcApp/SCTP");
  assert.equal(lines[11], "   -> PE $0000000a Scripting/SCTP");
  const frame = renderCspMonitor(monitor, { now: 0, time: 0 });
  assert.ok(frame.includes(" L=\x1b[7m 90%\x1b[27m"), "high load in reverse video");
});

Deno.test("renderCspMonitor() hides components beyond the limits and says how many", () => {
  const monitor = new CspMonitor();
  for (let i = 1; i <= 4; i++) monitor.update(report(PR(i)), 0);
  for (let i = 1; i <= 3; i++) monitor.update(report(PE(i)), 0);
  monitor.update(report(PU(1)), 0);
  const lines = screen(monitor, { maxRegistrars: 2, maxPoolElements: 0, maxPoolUsers: 1 });
  assert.ok(lines[0].endsWith("4 PRs, 3 PEs, 1 PUs"));
  assert.deepEqual(lines.slice(2).map((l) => l.slice(0, 12)), [
    "PR $00000001",
    "PR $00000002",
    "(2 further P",
    "(3 further P",
    "PU $00000000",
  ]);
  assert.equal(lines[4], "(2 further PRs have been hidden)");
  assert.equal(lines[5], "(3 further PEs have been hidden)");
});

Deno.test("renderCspMonitor() cuts long locations with ... and hides control characters", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PE(1), { location: "x".repeat(100), status: "a\x1b[2Jb\nc\x9bd" }), 0);
  let lines = screen(monitor, { maxLocationSize: 10 });
  assert.ok(lines[2].startsWith(`PE $00000001 [xxxxxxx...] U=`), lines[2]);
  assert.ok(lines[2].endsWith(`"a?[2Jb?c?d"`), lines[2]);
  lines = screen(monitor, { maxLocationSize: 2 });
  assert.ok(lines[2].startsWith(`PE $00000001 [xx] U=`), lines[2]);
  lines = screen(monitor, { maxLocationSize: 500 });
  assert.ok(lines[2].startsWith(`PE $00000001 [${"x".repeat(100)}] U=`), "at most 127");
  // Three line feeds in the header, one per component: none from the status text.
  assert.equal(renderCspMonitor(monitor).split("\n").length, 5, "no injected line breaks");
});

Deno.test("renderCspMonitor() shows the time since the last report", () => {
  const monitor = new CspMonitor();
  monitor.update(report(PE(1)), 1000);
  assert.match(screen(monitor, { now: 1000 })[2], / l=0\.0s /);
  assert.match(screen(monitor, { now: 13_449.9 })[2], / l=12\.4s /);
});

Deno.test("CspMonitor and renderCspMonitor() survive 50 000 random and mutated datagrams", () => {
  let seed = 12345;
  const random = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
  const int = (n: number) => Math.floor(random() * n);
  const monitor = new CspMonitor({ purgeInterval: 1000, maxComponents: 5000 });
  const valid = encodeComponentStatusReport(
    report(PE(1), { associations: [{ receiverId: PR(1), ppid: 11 }] }),
  );
  let accepted = 0;
  for (let i = 0; i < 50_000; i++) {
    let bytes: Uint8Array;
    switch (i % 5) {
      case 0: // random bytes, random length
        bytes = crypto.getRandomValues(new Uint8Array(int(700)));
        break;
      case 1: { // mutated valid report
        bytes = valid.slice();
        for (let k = 0, n = 1 + int(8); k < n; k++) bytes[int(bytes.length)] = int(256);
        break;
      }
      case 2: // truncated or extended
        bytes = int(2)
          ? valid.slice(0, int(valid.length))
          : new Uint8Array([...valid, ...new Uint8Array(1 + int(50))]);
        break;
      case 3: { // right length for a random association count, random content
        const n = int(20);
        bytes = crypto.getRandomValues(new Uint8Array(288 + 24 * n));
        bytes[0] = 1;
        bytes.set([0, 0, 2, 0], 4);
        bytes[286] = 0;
        bytes[287] = n;
        break;
      }
      default: { // valid header, wrong version or type
        bytes = valid.slice();
        if (int(2)) bytes[0] = int(256);
        else bytes[4 + int(4)] = int(256);
      }
    }
    if (monitor.receive(bytes, i / 10).accepted) accepted++;
    if (i % 1000 === 0) {
      monitor.purge(i / 10);
      renderCspMonitor(monitor, { now: i / 10 });
    }
  }
  assert.ok(accepted > 5000, `${accepted} forged but well-formed reports taken`);
  const frame = renderCspMonitor(monitor);
  // deno-lint-ignore no-control-regex
  assert.equal(/[\x00-\x09\x0b-\x1a\x1c-\x1f]/.test(frame), false, "only ESC and LF as controls");
});
