import assert from "node:assert/strict";
import { ErrorCause, poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import { AsapClient, RSerPoolError } from "../../src/pool/mod.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";

const PH = poolHandle("EchoPool");

function pe(identifier: number, port = 7000, address = "10.0.0.5") {
  return {
    identifier,
    homeRegistrarIdentifier: 0,
    registrationLife: 90000,
    userTransport: { protocol: "sctp" as const, port, addresses: [address], controlChannel: true },
    policy: { type: "RoundRobin" as const },
  };
}

Deno.test("AsapClient.register() sends a registration and resolves on the response", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
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
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await assert.rejects(
    () => asap.register("EchoPool", pe(1)),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.PoolingPolicyInconsistent,
  );
});

Deno.test("AsapClient.register() reports a timeout and drops the registrar when it does not answer", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  reg.respond = () => undefined;
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
    responseTimeout: 100,
  });
  await assert.rejects(
    () => asap.register("EchoPool", pe(1)),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.Timeout,
  );
  assert.equal(asap.registrar, undefined);
  await until(() => reg.assocs.size === 0, 1000, "association aborted");
});

Deno.test("AsapClient.register() retries on a new registrar association up to requestMaxTrials", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  let silent = 1;
  reg.respond = (m) => (silent-- > 0 ? undefined : reg.defaultResponse(m));
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
    responseTimeout: 100,
    requestMaxTrials: 2,
  });
  await asap.register("EchoPool", pe(7));
  assert.equal(reg.count("registration"), 2);
  const assocs = new Set(reg.received.map((r) => r.assocId));
  assert.equal(assocs.size, 2, "second trial on a new association");
});

Deno.test("AsapClient reports 'no registrar' clearly when none answers", async () => {
  const net = new MemoryNetwork();
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
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
    transport: net.host(["10.0.0.5"]),
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
    transport: net.host(["10.0.0.5"]),
    announce: "off",
    connectTimeout: 2000,
  });
  setTimeout(() => asap.addAnnouncedRegistrar(0xabcdef01, ["10.0.0.1"], 4000), 100);
  await asap.register(PH, pe(9));
  assert.equal(asap.registrarIdentifier, 0xabcdef01);
});

Deno.test("AsapClient answers Keep Alives for its pool elements", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x55);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.register(PH, pe(1));
  await asap.register(PH, pe(2));
  const assoc = asap.registrar!.assocId;
  const regAssoc = reg.received[0].assocId;
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    identifier: 2,
    home: false,
  });
  const ack = await reg.waitFor((r) => r.message.type === "endpointKeepAliveAck");
  assert.deepEqual(ack.message.type === "endpointKeepAliveAck" && ack.message.identifier, 2);
  // Without identifier: one Ack per own PE.
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    home: false,
  });
  await until(() => reg.count("endpointKeepAliveAck") === 3);
  assert.equal(asap.registrar!.assocId, assoc);
  assert.equal(asap.registrarIdentifier, 0x55, "identifier learned from the Keep Alive");
});

Deno.test("AsapClient follows a Keep Alive with the H flag to a new home registrar", async () => {
  const net = new MemoryNetwork();
  await using reg1 = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x1);
  await using reg2 = await FakeRegistrar.start(net.host(["10.0.0.2"]), 3863, 0x2);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.register(PH, pe(0x42));
  // Registrar 2 takes over: connects to the PE's ASAP endpoint and sends a Keep Alive (H).
  const assoc = await reg2.endpoint.connect(["10.0.0.5"], asap.localPort);
  reg2.send(assoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x2,
    poolHandle: PH,
    identifier: 0x42,
    home: true,
  });
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
  await using _reg1 = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x1);
  await using reg2 = await FakeRegistrar.start(net.host(["10.0.0.2"]), 3863, 0x2);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await asap.register(PH, pe(0x42));
  const assoc = await reg2.endpoint.connect(["10.0.0.5"], asap.localPort);
  reg2.send(assoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x2,
    poolHandle: PH,
    identifier: 0x42,
    home: false,
  });
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
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  reg.registered.set(1, pe(1, 7001));
  reg.registered.set(2, pe(2, 7002));
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
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
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
  });
  await assert.rejects(
    () => asap.handleResolution("NoSuchPool"),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.UnknownPoolHandle,
  );
});

Deno.test("AsapClient drops the registrar after an unexpected message", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  reg.respond = (m) =>
    m.type === "handleResolution"
      ? { type: "deregistrationResponse", poolHandle: m.poolHandle, identifier: 1 }
      : undefined;
  await using asap = await AsapClient.open({
    transport: net.host(["10.0.0.5"]),
    registrars: ["10.0.0.1:3863"],
    announce: "off",
    responseTimeout: 300,
  });
  await assert.rejects(() => asap.handleResolution(PH), RSerPoolError);
  assert.equal(asap.registrar, undefined);
});
