import assert from "node:assert/strict";
import { type AsapMessage, ErrorCause, poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import { AsapClient, RSerPoolError } from "../../src/pool/mod.ts";
import { MAX_ANNOUNCED_REGISTRARS, RegistrarTable } from "../../src/pool/_registrar_table.ts";
import { sleep } from "../../src/common/program.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";
import { asapFixture, pe, PE_HOST, registrarOptions } from "./_fixtures.ts";

const PH = poolHandle("EchoPool");

/**
 * Makes the registrar answer in order, each response `delay` ms after the previous one (like a
 * slow registrar); `drain()` waits for the responses still to be sent.
 */
function answerSlowly(
  reg: FakeRegistrar,
  delay: number,
  build: (m: AsapMessage) => AsapMessage | undefined = (m) => reg.defaultResponse(m),
): { drain: () => Promise<void> } {
  let last: Promise<void> = Promise.resolve();
  reg.respond = (m, assocId) => {
    const reply = build(m);
    if (reply === undefined) return undefined;
    last = last.then(() => sleep(delay)).then(() => {
      try {
        reg.send(assocId, reply);
      } catch {
        // association gone
      }
    });
    return undefined;
  };
  return { drain: () => last };
}

/** Handle resolutions answered with PE 1 for pool "X" and PE 2 for pool "Y". */
function perPool(m: AsapMessage): AsapMessage | undefined {
  if (m.type !== "handleResolution") return undefined;
  const name = new TextDecoder().decode(m.poolHandle);
  return {
    type: "handleResolutionResponse",
    poolHandle: m.poolHandle,
    poolElements: [pe(name === "X" ? 1 : 2)],
  };
}

Deno.test("AsapClient.register() sends a registration and resolves on the response", async () => {
  await using t = await asapFixture();
  const { reg, asap } = t;
  await asap.register("EchoPool", pe(0x1234));
  const r = await reg.waitFor((r) => r.message.type === "registration");
  assert.equal(r.message.type, "registration");
  if (r.message.type === "registration") {
    assert.equal(r.message.poolElement.identifier, 0x1234);
    assert.equal(r.message.poolElement.registrationLife, 90000);
  }
  assert.equal(asap.registrar?.assocId, r.assocId);
});

Deno.test("AsapClient.register() throws the registrar's cause when rejected", async () => {
  await using t = await asapFixture();
  const { reg, asap } = t;
  reg.respond = (m) =>
    m.type === "registration"
      ? {
        type: "registrationResponse",
        poolHandle: m.poolHandle,
        identifier: m.poolElement.identifier,
        reject: true,
        error: { cause: ErrorCause.PoolingPolicyInconsistent },
      }
      : undefined;
  await assert.rejects(
    () => asap.register("EchoPool", pe(1)),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.PoolingPolicyInconsistent,
  );
});

Deno.test("AsapClient.register() reports a timeout and drops the registrar when it does not answer", async () => {
  await using t = await asapFixture({ asap: { responseTimeout: 100 } });
  const { reg, asap } = t;
  reg.respond = () => undefined;
  await assert.rejects(
    () => asap.register("EchoPool", pe(1)),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.Timeout,
  );
  assert.equal(asap.registrar, undefined);
  await until(() => reg.assocs.size === 0, 1000, "association aborted");
});

Deno.test("AsapClient.register() retries on a new registrar association up to requestMaxTrials", async () => {
  await using t = await asapFixture({ asap: { responseTimeout: 100, requestMaxTrials: 2 } });
  const { reg, asap } = t;
  let silent = 1;
  reg.respond = (m) => (silent-- > 0 ? undefined : reg.defaultResponse(m));
  await asap.register("EchoPool", pe(7));
  assert.equal(reg.count("registration"), 2);
  const assocs = new Set(reg.received.map((r) => r.assocId));
  assert.equal(assocs.size, 2, "second trial on a new association");
});

Deno.test("AsapClient reports 'no registrar' clearly when none answers", async () => {
  const net = new MemoryNetwork();
  await using asap = await AsapClient.open({
    transport: net.host([PE_HOST]),
    ...registrarOptions,
    connectTimeout: 300,
  });
  const t0 = performance.now();
  await assert.rejects(
    () => asap.handleResolution("EchoPool"),
    (e) =>
      e instanceof RSerPoolError && e.code === ErrorCause.NoRegistrar &&
      /no registrar/.test(e.message),
  );
  const took = performance.now() - t0;
  assert.ok(took >= 250 && took < 1500, `hunt took ${took} ms`);
});

Deno.test("AsapClient hunt tries registrars in parallel and takes one that answers", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.3"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host([PE_HOST]),
    registrars: ["10.0.0.1:3863", "10.0.0.2:3863", "10.0.0.3:3863"],
    announce: "off",
    connectTimeout: 1000,
  });
  await asap.register(PH, pe(9));
  assert.equal(reg.count("registration"), 1);
});

Deno.test("AsapClient finds a registrar learned from an announce", async () => {
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 4000, 0xabcdef01);
  await using asap = await AsapClient.open({
    transport: net.host([PE_HOST]),
    announce: "off",
    connectTimeout: 2000,
  });
  setTimeout(() => asap.addAnnouncedRegistrar(0xabcdef01, ["10.0.0.1"], 4000), 100);
  await asap.register(PH, pe(9));
  assert.equal(asap.registrarIdentifier, 0xabcdef01);
});

Deno.test("AsapClient answers Keep Alives for its pool elements", async () => {
  await using t = await asapFixture({ registrarIdentifier: 0x55 });
  const { reg, asap } = t;
  await asap.register(PH, pe(1));
  await asap.register(PH, pe(2));
  const assoc = asap.registrar!.assocId;
  const regAssoc = reg.received[0].assocId;
  reg.sendKeepAlive(regAssoc, PH, 2);
  const ack = await reg.waitFor((r) => r.message.type === "endpointKeepAliveAck");
  assert.deepEqual(ack.message.type === "endpointKeepAliveAck" && ack.message.identifier, 2);
  // Without identifier: one Ack per own PE.
  reg.sendKeepAlive(regAssoc, PH);
  await until(() => reg.count("endpointKeepAliveAck") === 3);
  assert.equal(asap.registrar!.assocId, assoc);
  assert.equal(asap.registrarIdentifier, 0x55, "identifier learned from the Keep Alive");
});

Deno.test("AsapClient follows a Keep Alive with the H flag to a new home registrar", async () => {
  const net = new MemoryNetwork();
  await using reg2 = await FakeRegistrar.start(net.host(["10.0.0.2"]), 3863, 0x2);
  await using t = await asapFixture({ net, registrarIdentifier: 0x1 });
  const { reg: reg1, asap } = t;
  await asap.register(PH, pe(0x42));
  // Registrar 2 takes over: connects to the PE's ASAP endpoint and sends a Keep Alive (H).
  const assoc = await reg2.endpoint.connect(["10.0.0.5"], asap.localPort);
  reg2.sendKeepAlive(assoc, PH, 0x42, true);
  const ack = await reg2.waitFor((r) => r.message.type === "endpointKeepAliveAck");
  assert.equal(ack.assocId, assoc);
  assert.equal(asap.registrarIdentifier, 0x2);
  await until(() => reg1.assocs.size === 0, 1000, "old registrar association aborted");
  // Requests go to the new home registrar.
  await asap.deregister(PH, 0x42);
  assert.equal(reg2.count("deregistration"), 1);
  assert.equal(reg1.count("deregistration"), 0);
});

Deno.test("AsapClient ignores a Keep Alive without the H flag from another registrar", async () => {
  const net = new MemoryNetwork();
  await using reg2 = await FakeRegistrar.start(net.host(["10.0.0.2"]), 3863, 0x2);
  await using t = await asapFixture({ net, registrarIdentifier: 0x1 });
  const { asap } = t;
  await asap.register(PH, pe(0x42));
  const assoc = await reg2.endpoint.connect(["10.0.0.5"], asap.localPort);
  reg2.sendKeepAlive(assoc, PH, 0x42);
  await net.settle();
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(reg2.count("endpointKeepAliveAck"), 0);
  assert.notEqual(asap.registrarIdentifier, 0x2);
});

Deno.test("AsapClient re-registers its pool elements at another registrar after losing one", async () => {
  const net = new MemoryNetwork();
  const host1 = net.host(["10.0.0.1"]);
  const reg1 = await FakeRegistrar.start(host1, 3863, 0x1);
  await using reg2 = await FakeRegistrar.start(net.host(["10.0.0.2"]), 3863, 0x2);
  await using asap = await AsapClient.open({
    transport: net.host([PE_HOST]),
    ...registrarOptions,
    connectTimeout: 500,
  });
  await asap.register(PH, pe(0x77));
  asap.addAnnouncedRegistrar(0x2, ["10.0.0.2"], 3863);
  host1.crash();
  const r = await reg2.waitFor((r) => r.message.type === "registration", 3000);
  assert.equal(r.message.type === "registration" && r.message.poolElement.identifier, 0x77);
  await reg1.close();
});

Deno.test("AsapClient.handleResolution() asks for one PE without a stale-cache value and caches with one", async () => {
  await using t = await asapFixture();
  const { reg, asap } = t;
  reg.registered.set(1, pe(1, 7001));
  reg.registered.set(2, pe(2, 7002));
  const [a] = await asap.handleResolution(PH);
  assert.equal(a.identifier, 1);
  const first = reg.received.at(-1)!.message;
  assert.equal(first.type === "handleResolution" && first.items, 1);
  await asap.handleResolution(PH);
  assert.equal(reg.count("handleResolution"), 2, "stale-cache value 0: always asks");
  // With a stale-cache value: the registrar's default count, then the cache answers.
  const x = await asap.handleResolution(PH, { staleCacheValue: 10000 });
  const third = reg.received.at(-1)!.message;
  assert.equal(third.type === "handleResolution" && third.items, undefined);
  const y = await asap.handleResolution(PH, { staleCacheValue: 10000 });
  assert.equal(reg.count("handleResolution"), 3, "answered from the cache");
  assert.notEqual(x[0].identifier, y[0].identifier, "the cache rotates");
  // A failure report removes the PE from the cache and tells the registrar.
  await asap.reportUnreachable(PH, y[0].identifier);
  await reg.waitFor((r) => r.message.type === "endpointUnreachable");
  const z = await asap.handleResolution(PH, { staleCacheValue: 10000 });
  assert.notEqual(z[0].identifier, y[0].identifier);
});

Deno.test("AsapClient.handleResolution() throws 0x9 for an unknown pool", async () => {
  await using t = await asapFixture();
  const { asap } = t;
  await assert.rejects(
    () => asap.handleResolution("NoSuchPool"),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.UnknownPoolHandle,
  );
});

Deno.test("AsapClient drops the registrar after an unexpected message", async () => {
  await using t = await asapFixture({ asap: { responseTimeout: 300 } });
  const { reg, asap } = t;
  reg.respond = (m) =>
    m.type === "handleResolution"
      ? { type: "deregistrationResponse", poolHandle: m.poolHandle, identifier: 1 }
      : undefined;
  await assert.rejects(() => asap.handleResolution(PH), RSerPoolError);
  assert.equal(asap.registrar, undefined);
});

Deno.test("AsapClient does not take the late answer of an aborted request for the next one's", async () => {
  await using t = await asapFixture();
  const { net, reg, asap } = t;
  await asap.handleResolution("Y").catch(() => {}); // association up (answered at once)
  const slow = answerSlowly(reg, 80, perPool);
  const assoc = asap.registrar!.assocId;
  await assert.rejects(() => asap.handleResolution("X", { signal: AbortSignal.timeout(20) }));
  // Sent while the registrar still owes the answer for pool X, which comes first.
  const [found] = await asap.handleResolution("Y");
  assert.equal(found.identifier, 2, "pool Y's pool element, not pool X's");
  await slow.drain();
  await net.settle();
  assert.equal(asap.registrar?.assocId, assoc, "registrar association kept");
  assert.equal(reg.assocs.size, 1);
});

Deno.test("AsapClient keeps its registrar when the answer of an aborted request comes late", async () => {
  await using t = await asapFixture();
  const { net, reg, asap } = t;
  await asap.register(PH, pe(1));
  const assoc = asap.registrar!.assocId;
  const slow = answerSlowly(reg, 50);
  await assert.rejects(() => asap.register(PH, pe(2), { signal: AbortSignal.timeout(10) }));
  await assert.rejects(() => asap.deregister(PH, 1, { signal: AbortSignal.timeout(10) }));
  await slow.drain();
  await net.settle();
  assert.equal(asap.registrar?.assocId, assoc, "stray responses discarded, association kept");
  assert.equal(reg.assocs.size, 1);
  // Requests still work on the association.
  reg.respond = (m) => reg.defaultResponse(m);
  await asap.register(PH, pe(3));
  assert.equal(asap.registrar?.assocId, assoc);
});

Deno.test("AsapClient drops the registrar when a response is for another pool or PE", async () => {
  await using t = await asapFixture();
  const { reg, asap } = t;
  reg.respond = (m) => {
    if (m.type === "handleResolution") {
      return {
        type: "handleResolutionResponse",
        poolHandle: poolHandle("Other"),
        poolElements: [pe(1)],
      };
    }
    if (m.type === "registration") {
      return {
        type: "registrationResponse",
        poolHandle: m.poolHandle,
        identifier: 99,
        reject: false,
      };
    }
    return undefined;
  };
  await assert.rejects(() => asap.handleResolution(PH), RSerPoolError);
  assert.equal(asap.registrar, undefined);
  await assert.rejects(() => asap.register(PH, pe(1)), RSerPoolError);
  assert.equal(asap.registrar, undefined);
  await until(() => reg.assocs.size === 0, 1000, "associations aborted");
});

Deno.test("AsapClient does not answer for a PE deregistered while its registration waited", async () => {
  await using t = await asapFixture({ registrarIdentifier: 0x55 });
  const { net, reg, asap } = t;
  await asap.register(PH, pe(2));
  const slow = answerSlowly(reg, 30);
  const registering = asap.register(PH, pe(1)); // like a maintenance re-registration
  const deregistering = asap.deregister(PH, 1);
  await registering;
  await deregistering;
  await slow.drain();
  reg.respond = (m) => reg.defaultResponse(m);
  const regAssoc = reg.received[0].assocId;
  reg.sendKeepAlive(regAssoc, PH);
  reg.sendKeepAlive(regAssoc, PH, 1);
  await until(() => reg.count("endpointKeepAliveAck") >= 1);
  await net.settle();
  await net.settle();
  assert.deepEqual(reg.ackedIdentifiers(), [2], "only PE 2 is answered for");
});

Deno.test("AsapClient.forget() stops answering Keep Alives without telling the registrar", async () => {
  await using t = await asapFixture({ registrarIdentifier: 0x55 });
  const { net, reg, asap } = t;
  await asap.register(PH, pe(1));
  await asap.register("EchoPool", pe(2));
  asap.forget("EchoPool", 1);
  const regAssoc = reg.received[0].assocId;
  reg.sendKeepAlive(regAssoc, PH);
  await until(() => reg.count("endpointKeepAliveAck") >= 1);
  await net.settle();
  await net.settle();
  const acks = reg.received.filter((r) => r.message.type === "endpointKeepAliveAck");
  assert.equal(acks.length, 1);
  const ack = acks[0].message;
  assert.ok(ack.type === "endpointKeepAliveAck");
  assert.equal(ack.identifier, 2);
  assert.deepEqual(ack.poolHandle, PH);
  assert.equal(reg.count("deregistration"), 0);
});

Deno.test("AsapClient.handleResolution() without a stale-cache value skips entries cached before", async () => {
  await using t = await asapFixture();
  const { reg, asap } = t;
  reg.registered.set(1, pe(1, 7001));
  await asap.handleResolution(PH, { staleCacheValue: 10000 });
  await asap.handleResolution(PH, { staleCacheValue: 10000 });
  assert.equal(reg.count("handleResolution"), 1, "cached");
  await asap.handleResolution(PH);
  assert.equal(reg.count("handleResolution"), 2, "stale-cache value 0: asks the registrar");
});

Deno.test("AsapClient keeps a healthy association after an aborted handle resolution with nothing pending", async () => {
  await using t = await asapFixture({ asap: { responseTimeout: 1000 } });
  const { net, reg, asap } = t;
  await asap.handleResolution("Y").catch(() => {});
  const slow = answerSlowly(reg, 40, perPool);
  const controller = new AbortController();
  const p = asap.handleResolution("X", { signal: controller.signal });
  await reg.waitFor((r) =>
    r.message.type === "handleResolution" && new TextDecoder().decode(r.message.poolHandle) === "X"
  );
  controller.abort();
  await assert.rejects(p);
  await slow.drain();
  await net.settle();
  assert.notEqual(asap.registrar, undefined);
  assert.equal(reg.assocs.size, 1);
  const [found] = await asap.handleResolution("X");
  assert.equal(found.identifier, 1);
  await slow.drain();
});

Deno.test("RegistrarTable prunes expired announced registrars on announce and keeps at most 64", () => {
  let now = 0;
  const table = new RegistrarTable([{ addresses: ["10.0.0.1"], port: 3863 }], 5000, () => now);
  for (let i = 1; i <= 100; i++) {
    now = i;
    assert.equal(table.announce(i, [`10.1.${i >> 8}.${i & 0xff}`], 3863), true);
  }
  assert.equal(MAX_ANNOUNCED_REGISTRARS, 64);
  assert.equal(table.announcedCount, 64);
  const entries = table.entries();
  assert.equal(entries.length, 65, "static entry kept");
  assert.ok(entries[0].static);
  // The ones heard longest ago were dropped.
  assert.deepEqual(
    entries.slice(1).map((e) => e.identifier),
    Array.from({ length: 64 }, (_, i) => 37 + i),
  );
  // Refreshing one keeps it over older ones.
  now = 200;
  assert.equal(table.announce(37, ["10.1.0.37"], 3863), false);
  now = 201;
  table.announce(1000, ["10.2.0.1"], 3863);
  assert.ok(table.entries().some((e) => e.identifier === 37));
  assert.ok(!table.entries().some((e) => e.identifier === 38));
  // Expired ones go at the next announce, without a hunt.
  now = 5150;
  table.announce(2000, ["10.3.0.1"], 3863);
  assert.equal(table.announcedCount, 3, "37, 1000 and 2000 are left");
});
