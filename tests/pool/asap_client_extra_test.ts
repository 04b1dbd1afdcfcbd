import assert from "node:assert/strict";
import { type AsapMessage, type PoolElementParameter, poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import { AsapClient, RSerPoolError } from "../../src/pool/mod.ts";
import { MAX_ANNOUNCED_REGISTRARS, RegistrarTable } from "../../src/pool/_registrar_table.ts";
import { sleep } from "../../src/common/program.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";

const PH = poolHandle("EchoPool");

function pe(identifier: number, port = 7000, address = "10.0.0.5"): PoolElementParameter {
  return {
    identifier,
    homeRegistrarIdentifier: 0,
    registrationLife: 90000,
    userTransport: { protocol: "sctp" as const, port, addresses: [address], controlChannel: true },
    policy: { type: "RoundRobin" as const },
  };
}

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

Deno.test("AsapClient does not take the late answer of an aborted request for the next one's", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
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
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await assert.rejects(() => asap.handleResolution(PH), RSerPoolError);
  assert.equal(asap.registrar, undefined);
  await assert.rejects(() => asap.register(PH, pe(1)), RSerPoolError);
  assert.equal(asap.registrar, undefined);
  await until(() => reg.assocs.size === 0, 1000, "associations aborted");
});

Deno.test("AsapClient does not answer for a PE deregistered while its registration waited", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x55);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.register(PH, pe(2));
  const slow = answerSlowly(reg, 30);
  const registering = asap.register(PH, pe(1)); // like a maintenance re-registration
  const deregistering = asap.deregister(PH, 1);
  await registering;
  await deregistering;
  await slow.drain();
  reg.respond = (m) => reg.defaultResponse(m);
  const regAssoc = reg.received[0].assocId;
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    home: false,
  });
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    identifier: 1,
    home: false,
  });
  await until(() => reg.count("endpointKeepAliveAck") >= 1);
  await net.settle();
  await net.settle();
  const acked = reg.received.flatMap((r) =>
    r.message.type === "endpointKeepAliveAck" ? [r.message.identifier] : []
  );
  assert.deepEqual(acked, [2], "only PE 2 is answered for");
});

Deno.test("AsapClient.forget() stops answering Keep Alives without telling the registrar", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x55);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.register(PH, pe(1));
  await asap.register("EchoPool", pe(2));
  asap.forget("EchoPool", 1);
  const regAssoc = reg.received[0].assocId;
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    home: false,
  });
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  reg.registered.set(1, pe(1, 7001));
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.handleResolution(PH, { staleCacheValue: 10000 });
  await asap.handleResolution(PH, { staleCacheValue: 10000 });
  assert.equal(reg.count("handleResolution"), 1, "cached");
  await asap.handleResolution(PH);
  assert.equal(reg.count("handleResolution"), 2, "stale-cache value 0: asks the registrar");
});

Deno.test("AsapClient keeps a healthy association after an aborted handle resolution with nothing pending", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
    responseTimeout: 1000,
  });
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
