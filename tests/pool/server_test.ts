import assert from "node:assert/strict";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import {
  chargenService,
  daytimeService,
  discardService,
  findService,
  formatNotification,
  parsePolicySpec,
  type PoolUserSession,
  registerService,
  serve,
  serviceFlags,
} from "../../src/pool/mod.ts";
import { until } from "./_fake_registrar.ts";
import { poolElementFixture, startPoolUser } from "./_fixtures.ts";
import { silentLogger } from "../../src/common/mod.ts";

async function setup(net: MemoryNetwork, policy?: Parameters<typeof parsePolicySpec>[0]) {
  const f = await poolElementFixture({
    net,
    pe: { poolHandle: "TestPool", policy: policy ? parsePolicySpec(policy) : undefined },
  });
  const pu = await startPoolUser(net);
  return {
    reg: f.reg,
    pe: f.pe,
    pu,
    async [Symbol.asyncDispose]() {
      await pu.close();
      await f[Symbol.asyncDispose]();
    },
  };
}

async function collect(session: PoolUserSession, bytes: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let n = 0;
  while (n < bytes) {
    const e = await session.receive({ signal: AbortSignal.timeout(3000) });
    if (e === undefined) break;
    if (e.type === "message") {
      out.push(e.data);
      n += e.data.length;
    }
  }
  return out;
}

Deno.test("serve() rejects sessions beyond maxSessions and calls the reject hook", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net);
  const rejected: number[] = [];
  await using server = serve(t.pe, (s) => ({ start: () => void s.send("hello") }), {
    maxSessions: 1,
    reject: (s) => {
      rejected.push(s.id);
      s.send("busy");
    },
  });
  const a = await t.pu.connect("TestPool", { autoFailover: false });
  assert.equal(new TextDecoder().decode((await collect(a, 5))[0]), "hello");
  const b = await t.pu.connect("TestPool", { autoFailover: false });
  const got = await collect(b, 4);
  assert.equal(new TextDecoder().decode(got[0]), "busy");
  assert.deepEqual(rejected, [2]);
  assert.equal(server.rejectedSessions, 1);
  assert.equal(server.sessionCount, 1);
  await a.close();
  await b.close();
});

Deno.test("serve() handles events in order and ends sessions on 'shutdown' or 'abort'", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net);
  const seen: string[] = [];
  let ended = 0;
  await using _server = serve(t.pe, (s) => ({
    async message(data) {
      await new Promise((r) => setTimeout(r, 5));
      const text = new TextDecoder().decode(data);
      seen.push(text);
      s.send(text);
      return text === "bye" ? "shutdown" : undefined;
    },
    end: () => void ended++,
  }));
  const session = await t.pu.connect("TestPool", { autoFailover: false });
  for (const x of ["a", "b", "c", "bye"]) session.send(x);
  await collect(session, 6);
  const n = await session.receive({ signal: AbortSignal.timeout(2000) });
  assert.equal(n?.type === "notification" && n.notification.type, "failover");
  assert.deepEqual(seen, ["a", "b", "c", "bye"]);
  await until(() => ended === 1, 1000, "end()");
  await session.close();
});

Deno.test("serve() sums session loads into the pool element's load", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net, "LeastUsed");
  await using _server = serve(t.pe, (s) => ({ start: () => void s.setLoad(0.25) }));
  const a = await t.pu.connect("TestPool", { autoFailover: false });
  const b = await t.pu.connect("TestPool", { autoFailover: false });
  await until(() => t.pe.load === 0.5, 1000, "load 0.5");
  await t.reg.waitFor((r) =>
    r.message.type === "registration" &&
    r.message.poolElement.policy.load === Math.round(0.5 * 0xffffffff)
  );
  await a.close();
  await until(() => t.pe.load === 0.25, 1000, "load 0.25 after a session ended");
  await b.close();
});

Deno.test("daytimeService sends one line and shuts the session down", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net);
  const instance = await daytimeService.create({
    options: {},
    print: () => {},
    log: silentLogger,
    identifier: t.pe.identifier,
  });
  await using _server = serve(t.pe, instance.handler);
  const session = await t.pu.connect("TestPool", { autoFailover: false });
  const [line] = await collect(session, 1);
  assert.match(
    new TextDecoder().decode(line),
    /^(Sun|Mon|Tues|Wednes|Thurs|Fri|Satur)day, \d\d-[A-Z][a-z]+-\d{4} \d\d:\d\d:\d\d\.\d{6}\n$/,
  );
  const n = await session.receive({ signal: AbortSignal.timeout(2000) });
  assert.equal(n?.type === "notification" && n.notification.type, "failover");
  await session.close();
});

Deno.test("discardService prints and drops", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net);
  const lines: string[] = [];
  const instance = await discardService.create({
    options: {},
    print: (l) => lines.push(l),
    log: silentLogger,
    identifier: 1,
  });
  await using _server = serve(t.pe, instance.handler);
  const session = await t.pu.connect("TestPool", { autoFailover: false });
  session.send("12345");
  await until(() => lines.length === 1, 1000, "discard line");
  assert.match(lines[0], /Discard 5 bytes on session 1$/);
  await session.close();
});

Deno.test("chargenService streams printable 1024-byte blocks and limits sessions", async () => {
  const net = new MemoryNetwork();
  await using t = await setup(net);
  const instance = await chargenService.create({
    options: { chargenmaxthreads: 1, chargenblocks: 2, chargeninterval: 5 },
    print: () => {},
    log: silentLogger,
    identifier: 1,
  });
  assert.equal(instance.serveOptions?.maxSessions, 1);
  await using _server = serve(t.pe, instance.handler, instance.serveOptions);
  const session = await t.pu.connect("TestPool", { autoFailover: false });
  const blocks = await collect(session, 4096);
  assert.equal(blocks[0].length, 1024);
  assert.equal(blocks[0][0], 30);
  assert.equal(blocks[0][97], 127);
  assert.equal(blocks[0][98], 30);
  await session.close();
});

Deno.test("registerService() adds a service that findService() finds", () => {
  assert.deepEqual(serviceFlags().slice(0, 4), ["echo", "discard", "daytime", "chargen"]);
  registerService({
    flag: "test-hello",
    name: "Hello",
    title: "Hello Server - Version 1.0",
    defaultPoolHandle: "HelloPool",
    create: () => ({ handler: () => ({}) }),
  });
  assert.equal(findService("test-hello")?.defaultPoolHandle, "HelloPool");
  assert.equal(findService("nope"), undefined);
});

Deno.test("parsePolicySpec() accepts every rspserver policy and rejects others", () => {
  const M = 0xffffffff;
  assert.deepEqual(parsePolicySpec("RoundRobin"), { type: "RoundRobin" });
  assert.deepEqual(parsePolicySpec("Random"), { type: "Random" });
  assert.deepEqual(parsePolicySpec("LeastUsed"), { type: "LeastUsed", load: 0 });
  assert.deepEqual(parsePolicySpec("RandomizedLeastUsed"), {
    type: "RandomizedLeastUsed",
    load: 0,
  });
  assert.deepEqual(parsePolicySpec("RandomizedPriorityLeastUsed"), {
    type: "RandomizedPriorityLeastUsed",
    load: 0,
    loadDegradation: 0,
  });
  assert.equal(parsePolicySpec("LeastUsedDegradation:0.25").loadDegradation, Math.round(M / 4));
  assert.equal(parsePolicySpec("PriorityLeastUsed:1").loadDegradation, M);
  assert.equal(
    parsePolicySpec("PriorityLeastUsedDegradation:0").type,
    "PriorityLeastUsedDegradation",
  );
  assert.deepEqual(parsePolicySpec("LeastUsedDPF:0.5"), {
    type: "LeastUsedDPF",
    load: 0,
    loadDpf: Math.round(M / 2),
    distance: 0,
  });
  assert.equal(parsePolicySpec("LeastUsedDegradationDPF:0.1:0.2").loadDpf, Math.round(0.2 * M));
  assert.equal(
    parsePolicySpec("PriorityLeastUsedDegradationDPF:0.1:0.2").type,
    "PriorityLeastUsedDegradationDPF",
  );
  assert.deepEqual(parsePolicySpec("WeightedRoundRobin:3"), {
    type: "WeightedRoundRobin",
    weight: 3,
  });
  assert.deepEqual(parsePolicySpec("Priority:7"), { type: "Priority", priority: 7 });
  assert.deepEqual(parsePolicySpec("WeightedRandom:5"), { type: "WeightedRandom", weight: 5 });
  assert.equal(parsePolicySpec("WeightedRandomDPF:5:0.5").weightDpf, Math.round(M / 2));
  for (
    const bad of [
      "Nope",
      "LeastUsedDegradation",
      "LeastUsedDegradation:2",
      "LeastUsedDegradation:x",
      "WeightedRoundRobin:-1",
      "WeightedRoundRobin:1.5",
      "RoundRobin:1",
      "LeastUsedDPF:0.1:0.2",
    ]
  ) {
    assert.throws(() => parsePolicySpec(bad), RangeError, bad);
  }
});

Deno.test("formatNotification() prints RSPLIB's texts", () => {
  assert.equal(
    formatNotification({ type: "failover", state: "necessary", session: 1, hasCookie: false }),
    "RSERPOOL_FAILOVER for session 1, state=RSERPOOL_FAILOVER_NECESSARY, cookie=no",
  );
  assert.equal(
    formatNotification({ type: "sessionChange", state: "add", session: 3 }),
    "RSERPOOL_SESSION_CHANGE for session 3, state=RSERPOOL_SESSION_ADD",
  );
  assert.equal(
    formatNotification({ type: "shutdown", session: 2 }),
    "RSERPOOL_SHUTDOWN_EVENT for session 2",
  );
});
