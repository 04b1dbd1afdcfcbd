import assert from "node:assert/strict";
import { ErrorCause, poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import { PoolElement, RSerPoolError } from "../../src/pool/mod.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";

const registrarOptions = { registrars: ["10.0.0.1:3863"], announce: "off" };

Deno.test("PoolElement.create() registers with policy, life 3 x interval and its user transport", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5", "127.0.0.1"]),
    poolHandle: "EchoPool",
    identifier: 0x12345678,
    policy: { type: "LeastUsedDegradation", loadDegradation: 100 },
    reregistrationInterval: 1000,
    ...registrarOptions,
  });
  const r = await reg.waitFor((r) => r.message.type === "registration");
  assert.ok(r.message.type === "registration");
  const p = r.message.poolElement;
  assert.equal(p.identifier, 0x12345678);
  assert.equal(p.registrationLife, 3000);
  assert.deepEqual(p.userTransport, {
    protocol: "sctp",
    port: pe.port,
    addresses: ["10.0.0.5"], // loopback dropped: below site-local scope
    controlChannel: true,
  });
  assert.deepEqual(p.policy, { type: "LeastUsedDegradation", load: 0, loadDegradation: 100 });
  assert.equal(pe.registered, true);
});

Deno.test("PoolElement re-registers every interval", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using _pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "EchoPool",
    reregistrationInterval: 50,
    ...registrarOptions,
  });
  await until(() => reg.count("registration") >= 4, 2000, "re-registrations");
});

Deno.test("PoolElement.close() deregisters", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  const pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
  await pe.close();
  const r = await reg.waitFor((r) => r.message.type === "deregistration");
  assert.equal(r.message.type === "deregistration" && r.message.identifier, pe.identifier);
  assert.equal(reg.registered.size, 0);
});

Deno.test("PoolElement.setLoad() re-registers an adaptive policy on a change of 1 % or more", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "LUPool",
    policy: { type: "LeastUsed" },
    ...registrarOptions,
  });
  pe.setLoad(0.005);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reg.count("registration"), 1, "below 1 %: no re-registration");
  pe.setLoad(0.5);
  const r = await reg.waitFor((r) =>
    r.message.type === "registration" && r.message.poolElement.policy.load !== 0
  );
  assert.ok(r.message.type === "registration");
  assert.equal(r.message.poolElement.policy.load, Math.round(0.5 * 0xffffffff));
  assert.throws(() => pe.setLoad(2), RangeError);
});

Deno.test("PoolElement.setLoad() does not re-register a non-adaptive policy", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
  pe.setLoad(0.9);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(reg.count("registration"), 1);
});

Deno.test("PoolElement.create() fails with 0xf008 when only loopback addresses exist", async () => {
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["127.0.0.1"]), 3863);
  await assert.rejects(
    () =>
      PoolElement.create({
        transport: net.host(["127.0.0.1"]),
        poolHandle: "EchoPool",
        registrars: ["127.0.0.1:3863"],
        announce: "off",
      }),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.NoUsableUserAddresses,
  );
});

Deno.test("PoolElement.create() registers loopback addresses with minAddressScope loopback", async () => {
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["127.0.0.1"]), 3863);
  await using _pe = await PoolElement.create({
    transport: net.host(["127.0.0.1"]),
    poolHandle: "EchoPool",
    registrars: ["127.0.0.1:3863"],
    announce: "off",
    minAddressScope: "loopback",
  });
  const r = await reg.waitFor((r) => r.message.type === "registration");
  assert.deepEqual(
    r.message.type === "registration" && r.message.poolElement.userTransport.addresses,
    ["127.0.0.1"],
  );
});

Deno.test("PoolElement.create() throws 'no registrar' unless in daemon mode", async () => {
  const net = new MemoryNetwork();
  await assert.rejects(
    () =>
      PoolElement.create({
        transport: net.host(["10.0.0.5"]),
        poolHandle: "EchoPool",
        ...registrarOptions,
        connectTimeout: 100,
      }),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.NoRegistrar,
  );
  // Daemon mode: starts anyway and registers once a registrar shows up.
  const pe = await PoolElement.create({
    transport: net.host(["10.0.0.6"]),
    poolHandle: "EchoPool",
    ...registrarOptions,
    connectTimeout: 100,
    reregistrationInterval: 100,
    daemonMode: true,
  });
  assert.equal(pe.registered, false);
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await until(() => pe.registered, 3000, "registration in daemon mode");
  assert.ok(reg.registered.has(pe.identifier));
  await pe.close();
});

Deno.test("PoolElement sessions deliver messages and Cookie Echo and end with the association", async () => {
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
  const client = await net.host(["10.0.0.9"]).open({}, () => {});
  const assoc = await client.connect(["10.0.0.5"], pe.port);
  const { encodeMessage, Ppid } = await import("../../src/codec/mod.ts");
  client.send(assoc, encodeMessage({ type: "cookieEcho", cookie: new Uint8Array([1, 2, 3, 4]) }), {
    ppid: Ppid.ASAP,
  });
  client.send(assoc, new TextEncoder().encode("hi"), { ppid: 33, stream: 2 });
  const session = (await pe.accept())!;
  assert.equal(session.id, 1);
  assert.deepEqual(await session.receive(), {
    type: "cookieEcho",
    cookie: new Uint8Array([1, 2, 3, 4]),
  });
  const m = await session.receive();
  assert.ok(m?.type === "message");
  assert.equal(new TextDecoder().decode(m.data), "hi");
  assert.equal(m.ppid, 33);
  assert.equal(m.stream, 2);
  client.shutdown(assoc);
  const n = await session.receive();
  assert.deepEqual(n, { type: "notification", notification: { type: "shutdown", session: 1 } });
  assert.equal(await session.receive(), undefined);
  assert.equal(pe.sessions.size, 0);
  await client.close();
  void poolHandle;
});
