import assert from "node:assert/strict";
import { ErrorCause, poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import type { SctpEvent, SctpTransport } from "../../src/transport/types.ts";
import { PoolElement, RSerPoolError } from "../../src/pool/mod.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";
import { asapFixture, PE_HOST, poolElementFixture, registrarOptions } from "./_fixtures.ts";

/** A transport whose endpoints' event callbacks the test can call (to inject events). */
function tapped(
  inner: SctpTransport,
): { transport: SctpTransport; handlers: ((e: SctpEvent) => void)[] } {
  const handlers: ((e: SctpEvent) => void)[] = [];
  const transport: SctpTransport = {
    name: inner.name,
    description: inner.description,
    open: (options, onEvent) => {
      handlers.push(onEvent);
      return inner.open(options, onEvent);
    },
  };
  return { transport, handlers };
}

Deno.test("PoolElement.create() registers with policy, life 3 x interval and its user transport", async () => {
  const net = new MemoryNetwork();
  await using t = await poolElementFixture({
    net,
    pe: {
      transport: net.host([PE_HOST, "127.0.0.1"]),
      identifier: 0x12345678,
      policy: { type: "LeastUsedDegradation", loadDegradation: 100 },
      reregistrationInterval: 1000,
    },
  });
  const { reg, pe } = t;
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
  await using t = await poolElementFixture({ pe: { reregistrationInterval: 50 } });
  const { reg } = t;
  await until(() => reg.count("registration") >= 4, 2000, "re-registrations");
});

Deno.test("PoolElement.close() deregisters", async () => {
  await using t = await poolElementFixture();
  const { reg, pe } = t;
  await pe.close();
  const r = await reg.waitFor((r) => r.message.type === "deregistration");
  assert.equal(r.message.type === "deregistration" && r.message.identifier, pe.identifier);
  assert.equal(reg.registered.size, 0);
});

Deno.test("PoolElement.setLoad() re-registers an adaptive policy on a change of 1 % or more", async () => {
  await using t = await poolElementFixture({
    pe: { poolHandle: "LUPool", policy: { type: "LeastUsed" } },
  });
  const { reg, pe } = t;
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
  await using t = await poolElementFixture();
  const { reg, pe } = t;
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
  await using t = await poolElementFixture();
  const { net, pe } = t;
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

Deno.test("PoolElement numbers sessions with the smallest free number", async () => {
  await using t = await poolElementFixture();
  const { net, pe } = t;
  const client = await net.host(["10.0.0.9"]).open({}, () => {});
  const open = async () => {
    const assoc = await client.connect(["10.0.0.5"], pe.port);
    const session = (await pe.accept())!;
    assert.equal(session.assocId, pe.sessions.get(session.id)!.assocId);
    return { assoc, session };
  };
  const a = await open();
  const b = await open();
  const c = await open();
  assert.deepEqual([a.session.id, b.session.id, c.session.id], [1, 2, 3]);
  client.abort(b.assoc);
  await until(() => b.session.ended);
  const d = await open();
  assert.equal(d.session.id, 2, "number 2 is free again");
  const e = await open();
  assert.equal(e.session.id, 4);
  client.abort(a.assoc);
  client.abort(d.assoc);
  await until(() => pe.sessions.size === 2);
  const f = await open();
  const g = await open();
  const h = await open();
  assert.deepEqual([f.session.id, g.session.id, h.session.id], [1, 2, 5]);
  for (const x of [c, e, f, g, h]) client.abort(x.assoc);
  await until(() => pe.sessions.size === 0);
  assert.equal((await open()).session.id, 1, "numbering starts again when none is up");
  await client.close();
});

Deno.test("PoolElement sums session loads with a running sum, exactly 0 when all ended", async () => {
  await using t = await poolElementFixture({
    pe: { poolHandle: "LUPool", policy: { type: "LeastUsed" } },
  });
  const { net, pe } = t;
  const client = await net.host(["10.0.0.9"]).open({}, () => {});
  const a1 = await client.connect(["10.0.0.5"], pe.port);
  const s1 = (await pe.accept())!;
  const a2 = await client.connect(["10.0.0.5"], pe.port);
  const s2 = (await pe.accept())!;
  const near = (x: number) => Math.abs(pe.load - x) < 1e-12;
  s1.setLoad(0.1);
  s2.setLoad(0.7);
  assert.ok(near(0.8), `${pe.load}`);
  s2.setLoad(0.5);
  assert.ok(near(0.6), `${pe.load}`);
  s1.setLoad(0.9);
  assert.equal(pe.load, 1, "at most 1");
  client.abort(a1);
  await until(() => s1.ended);
  assert.ok(near(0.5), `${pe.load}`);
  s1.setLoad(0.3); // ended: no effect on the pool element
  assert.ok(near(0.5), `${pe.load}`);
  client.abort(a2);
  await until(() => s2.ended);
  assert.equal(pe.load, 0);
  await client.close();
});

Deno.test("PoolElement aborts a session's association when the pool user's side restarts", async () => {
  const net = new MemoryNetwork();
  const { transport, handlers } = tapped(net.host([PE_HOST]));
  await using t = await poolElementFixture({ net, pe: { transport } });
  const { pe } = t;
  const clientEvents: SctpEvent[] = [];
  const client = await net.host(["10.0.0.9"]).open({}, (e) => void clientEvents.push(e));
  const assoc = await client.connect(["10.0.0.5"], pe.port);
  const session = (await pe.accept())!;
  // The data endpoint is opened first.
  handlers[0]({ type: "restart", assocId: session.assocId });
  assert.equal(session.ended, true);
  assert.equal(pe.sessions.size, 0);
  await until(
    () => clientEvents.some((e) => e.type === "lost" && e.assocId === assoc),
    1000,
    "association aborted",
  );
  assert.ok(!pe.endpoint.associations().includes(session.assocId));
  // The pool user starts a new session.
  await client.connect(["10.0.0.5"], pe.port);
  const next = (await pe.accept())!;
  assert.equal(next.id, 1);
  await client.close();
});

Deno.test("PoolElement.close({ deregister: false }) on a shared client stops its Keep Alive Acks", async () => {
  await using t = await asapFixture({ registrarIdentifier: 0x55 });
  const { net, reg, host, asap } = t;
  const create = (identifier: number) =>
    PoolElement.create({
      transport: host,
      poolHandle: "EchoPool",
      identifier,
      asap,
      ...registrarOptions,
    });
  const pe1 = await create(1);
  await using _pe2 = await create(2);
  await pe1.close({ deregister: false });
  assert.equal(reg.count("deregistration"), 0);
  const regAssoc = reg.received[0].assocId;
  const PH = poolHandle("EchoPool");
  reg.sendKeepAlive(regAssoc, PH, 1);
  reg.sendKeepAlive(regAssoc, PH);
  await until(() => reg.count("endpointKeepAliveAck") >= 1);
  await net.settle();
  await net.settle();
  assert.deepEqual(reg.ackedIdentifiers(), [2]);
});
