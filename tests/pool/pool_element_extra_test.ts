import assert from "node:assert/strict";
import { poolHandle } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import type { SctpEvent, SctpTransport } from "../../src/transport/types.ts";
import { AsapClient, PoolElement } from "../../src/pool/mod.ts";
import { FakeRegistrar, until } from "./_fake_registrar.ts";

const registrarOptions = { registrars: ["10.0.0.1:3863"], announce: "off" };

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

Deno.test("PoolElement numbers sessions with the smallest free number", async () => {
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
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
  const net = new MemoryNetwork();
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  await using pe = await PoolElement.create({
    transport: net.host(["10.0.0.5"]),
    poolHandle: "LUPool",
    policy: { type: "LeastUsed" },
    ...registrarOptions,
  });
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
  await using _reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863);
  const { transport, handlers } = tapped(net.host(["10.0.0.5"]));
  await using pe = await PoolElement.create({
    transport,
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
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
  const net = new MemoryNetwork();
  await using reg = await FakeRegistrar.start(net.host(["10.0.0.1"]), 3863, 0x55);
  const host = net.host(["10.0.0.5"]);
  await using asap = await AsapClient.open({ transport: host, ...registrarOptions });
  const pe1 = await PoolElement.create({
    transport: host,
    poolHandle: "EchoPool",
    identifier: 1,
    asap,
    ...registrarOptions,
  });
  await using _pe2 = await PoolElement.create({
    transport: host,
    poolHandle: "EchoPool",
    identifier: 2,
    asap,
    ...registrarOptions,
  });
  await pe1.close({ deregister: false });
  assert.equal(reg.count("deregistration"), 0);
  const regAssoc = reg.received[0].assocId;
  const PH = poolHandle("EchoPool");
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    identifier: 1,
    home: false,
  });
  reg.send(regAssoc, {
    type: "endpointKeepAlive",
    registrarIdentifier: 0x55,
    poolHandle: PH,
    home: false,
  });
  await until(() => reg.count("endpointKeepAliveAck") >= 1);
  await net.settle();
  await net.settle();
  const acked = reg.received.flatMap((r) =>
    r.message.type === "endpointKeepAliveAck" ? [r.message.identifier] : []
  );
  assert.deepEqual(acked, [2]);
});
