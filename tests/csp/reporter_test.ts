import assert from "node:assert/strict";
import { Logger } from "../../src/common/mod.ts";
import {
  ComponentGroup,
  componentId,
  createCspReporter,
  CspPacket,
  CspPpid,
  CspReporter,
  decodeComponentStatusReport,
} from "../../src/csp/mod.ts";
import { delay, UdpSink, waitFor } from "./_helpers.ts";

const PE = componentId(ComponentGroup.PoolElement, 0x12345678);
const PR = componentId(ComponentGroup.Registrar, 0xabcdef01);

Deno.test("CspReporter sends a report at once and then every interval", async () => {
  await using sink = new UdpSink();
  const start = Date.now();
  let calls = 0;
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: sink.port },
    interval: 100,
    identifier: PE,
    status: () => ({
      statusText: `${++calls} Sessions`,
      workload: 0.5,
      associations: [{ receiverId: PR, duration: 5_000_000n, ppid: CspPpid.ASAP }],
    }),
  });
  try {
    assert.ok(await waitFor(() => sink.datagrams.length >= 1, 2000));
    assert.ok(Date.now() - start < 90, "first report before the first interval ends");
    assert.ok(await waitFor(() => sink.datagrams.length >= 4, 3000));
  } finally {
    await reporter.close();
  }
  const reports = sink.datagrams.map(decodeComponentStatusReport);
  const first = reports[0];
  assert.equal(first.senderId, PE);
  assert.equal(first.flags, 0);
  assert.equal(first.reportInterval, 100_000);
  assert.equal(first.status, "1 Sessions");
  assert.equal(first.workload, 0x7fff / 0xfffe);
  assert.ok(first.location.length > 0, "default location");
  assert.deepEqual(first.associations, [
    { receiverId: PR, duration: 5_000_000n, flags: 0, protocolId: 132, ppid: 11 },
  ]);
  assert.ok(first.senderTimestamp < 10_000n, "the uptime starts at the first report");
  for (let i = 1; i < 4; i++) {
    const gap = Number(reports[i].senderTimestamp - reports[i - 1].senderTimestamp) / 1000;
    assert.ok(gap >= 95 && gap < 1000, `interval ${gap} ms`);
  }
  assert.ok(reporter.reports >= 4);
});

Deno.test("CspReporter.close() sends a final report with the F flag and stops", async () => {
  await using sink = new UdpSink();
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: sink.port },
    interval: 50,
    identifier: PE,
    status: () => ({
      statusText: "busy",
      location: "here",
      workload: 1,
      associations: [{ receiverId: PR, ppid: CspPpid.ASAP }],
    }),
  });
  await waitFor(() => sink.datagrams.length >= 2, 2000);
  const closing = reporter.close();
  assert.equal(reporter.close(), closing, "close() is idempotent");
  assert.equal(reporter.closed, true);
  await closing;
  const count = await waitFor(() => {
    const last = sink.datagrams.at(-1);
    return last && decodeComponentStatusReport(last).flags === CspPacket.FLAG_FINAL;
  }, 2000);
  assert.ok(count, "final report received");
  const final = decodeComponentStatusReport(sink.datagrams.at(-1)!);
  assert.equal(final.senderId, PE);
  assert.equal(final.status, "");
  assert.equal(final.location, "");
  assert.equal(final.workload, 0);
  assert.deepEqual(final.associations, []);
  const before = sink.datagrams.length;
  await delay(150);
  assert.equal(sink.datagrams.length, before, "no report after close()");
  await reporter.reportNow(); // a no-op after close()
  assert.equal(sink.datagrams.length, before);
});

Deno.test("CspReporter works with await using", async () => {
  await using sink = new UdpSink();
  {
    await using reporter = new CspReporter({
      server: { hostname: "127.0.0.1", port: sink.port },
      interval: 1000,
      identifier: PE,
      status: () => ({ statusText: "x" }),
    });
    await waitFor(() => reporter.reports === 1, 2000);
  }
  await waitFor(() => sink.datagrams.length === 2, 2000);
  const flags = sink.datagrams.map((d) => decodeComponentStatusReport(d).flags);
  assert.deepEqual(flags, [0, CspPacket.FLAG_FINAL]);
});

Deno.test("CspReporter sends nothing while the id's object is 0 and takes a new id from the status", async () => {
  await using sink = new UdpSink();
  let known = false;
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: sink.port },
    interval: 50,
    identifier: componentId(ComponentGroup.PoolElement, 0),
    status: () => known ? { statusText: "1 Session", identifier: PE } : { statusText: "-" },
  });
  try {
    await delay(200);
    assert.equal(sink.datagrams.length, 0);
    assert.equal(reporter.reports, 0);
    known = true;
    assert.ok(await waitFor(() => sink.datagrams.length >= 1, 2000));
    assert.equal(reporter.identifier, PE);
  } finally {
    await reporter.close();
  }
  for (const d of sink.datagrams) assert.equal(decodeComponentStatusReport(d).senderId, PE);
});

Deno.test("CspReporter logs a failing status provider and keeps reporting", async () => {
  await using sink = new UdpSink();
  const log: string[] = [];
  let calls = 0;
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: sink.port },
    interval: 50,
    identifier: PE,
    status: () => {
      if (++calls === 1) throw new Error("boom");
      return { statusText: "ok" };
    },
    logger: new Logger({ level: 2, color: false, write: (t) => log.push(t) }),
  });
  try {
    assert.ok(await waitFor(() => sink.datagrams.length >= 1, 2000));
  } finally {
    await reporter.close();
  }
  assert.equal(decodeComponentStatusReport(sink.datagrams[0]).status, "ok");
  assert.match(log.join(""), /status provider failed.*boom/);
});

Deno.test("CspReporter logs send errors and keeps going", async () => {
  const log: string[] = [];
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: 0 }, // EINVAL on send
    interval: 50,
    identifier: PE,
    status: () => ({ statusText: "x" }),
    logger: new Logger({ level: 2, color: false, write: (t) => log.push(t) }),
  });
  await waitFor(() => log.length >= 2, 2000);
  await reporter.close();
  assert.match(log.join(""), /Cannot send CSP report to 127\.0\.0\.1:0/);
  assert.equal(reporter.reports, 0);
});

Deno.test("CspReporter.reportNow() sends at once and restarts the interval", async () => {
  await using sink = new UdpSink();
  const reporter = new CspReporter({
    server: { hostname: "127.0.0.1", port: sink.port },
    interval: 10_000,
    identifier: PE,
    status: () => ({ statusText: "x" }),
  });
  try {
    await waitFor(() => sink.datagrams.length === 1, 2000);
    await reporter.reportNow();
    await waitFor(() => sink.datagrams.length === 2, 2000);
    assert.equal(sink.datagrams.length, 2);
  } finally {
    await reporter.close();
  }
});

Deno.test("CspReporter rejects an interval that is not positive", () => {
  for (const interval of [0, -1, NaN, Infinity]) {
    assert.throws(
      () =>
        new CspReporter({
          server: { hostname: "127.0.0.1", port: 1 },
          interval,
          identifier: PE,
          status: () => ({ statusText: "" }),
        }),
      RangeError,
    );
  }
});

Deno.test("createCspReporter() starts a reporter only when configured, -cspidentifier wins", async () => {
  const off = createCspReporter({}, {
    env: new Map(),
    identifier: PE,
    status: () => ({ statusText: "" }),
  });
  assert.equal(off, undefined);

  await using sink = new UdpSink();
  const reporter = createCspReporter(
    { cspserver: `127.0.0.1:${sink.port}`, cspinterval: 1000, cspidentifier: "0x42" },
    {
      env: new Map(),
      identifier: componentId(ComponentGroup.PoolUser, 7),
      status: () => ({ statusText: "pu" }),
    },
  );
  assert.ok(reporter);
  try {
    assert.equal(reporter.interval, 1000);
    assert.deepEqual(reporter.server, { hostname: "127.0.0.1", port: sink.port });
    assert.ok(await waitFor(() => sink.datagrams.length >= 1, 2000));
  } finally {
    await reporter.close();
  }
  assert.equal(decodeComponentStatusReport(sink.datagrams[0]).senderId, 0x0200000000000042n);

  const fromEnv = createCspReporter({}, {
    env: new Map([["CSP_SERVER", `127.0.0.1:${sink.port}`], ["CSP_INTERVAL", "300"]]),
    identifier: PE,
    status: () => ({ statusText: "env" }),
  });
  assert.equal(fromEnv?.interval, 300);
  await fromEnv?.close();
});
