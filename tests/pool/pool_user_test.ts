import assert from "node:assert/strict";
import { ErrorCause } from "../../src/codec/mod.ts";
import { MemoryNetwork } from "../../src/transport/memory/memory_transport.ts";
import {
  echoService,
  PoolElement,
  type PoolUserSessionEvent,
  RSerPoolError,
  serve,
} from "../../src/pool/mod.ts";
import { decoder, until } from "./_fake_registrar.ts";
import {
  nextMessage,
  REGISTRAR,
  registrarOptions,
  startEchoPe,
  startPoolUser,
  startRegistrar,
} from "./_fixtures.ts";

Deno.test("PoolUser.connect() reaches a pool element; messages carry PPID, stream and PE id", async () => {
  const net = new MemoryNetwork();
  await using registrar = await startRegistrar(net);
  const pe = await startEchoPe(net, "10.0.0.11", 0xe001);
  await using pu = await startPoolUser(net);
  const session = await pu.connect("EchoPool");
  assert.equal(session.connected, true);
  assert.equal(session.poolElementIdentifier, 0xe001);
  session.send("Hello", { ppid: 33, stream: 1 });
  const m = await nextMessage(session);
  assert.equal(decoder.decode(m.data), "Hello");
  assert.equal(m.ppid, 33);
  assert.equal(m.stream, 1);
  assert.equal(m.poolElementIdentifier, 0xe001);
  await session.close();
  await pe.close();
  void registrar;
});

Deno.test("PoolUser.connect() throws 0x9 for an empty pool unless throwIfUnreachable is false", async () => {
  const net = new MemoryNetwork();
  await using _registrar = await startRegistrar(net);
  await using pu = await startPoolUser(net);
  await assert.rejects(
    () => pu.connect("EchoPool", { retryDelay: 10 }),
    (e) => e instanceof RSerPoolError && e.code === ErrorCause.UnknownPoolHandle,
  );
  // Unconnected session: it connects (failover complete) once a PE registers; queued
  // messages go out then.
  const session = await pu.connect("EchoPool", { throwIfUnreachable: false, retryDelay: 20 });
  assert.equal(session.connected, false);
  assert.equal(session.send("queued"), true);
  const pe = await startEchoPe(net, "10.0.0.11", 0xe001);
  const events: PoolUserSessionEvent[] = [];
  const m = await nextMessage(session, events);
  assert.equal(decoder.decode(m.data), "queued");
  assert.ok(events.some((e) => e.type === "notification" && e.notification.type === "failover"));
  await session.close();
  await pe.close();
});

Deno.test("PoolUserSession fails over when its pool element crashes and hands over the cookie", async () => {
  const net = new MemoryNetwork();
  await using _registrar = await startRegistrar(net);
  const pe1 = await startEchoPe(net, "10.0.0.11", 0xe001);
  await using pu = await startPoolUser(net);
  const session = await pu.connect("EchoPool");
  assert.equal(session.poolElementIdentifier, 0xe001);
  const pe2 = await startEchoPe(net, "10.0.0.12", 0xe002);
  session.send("abc");
  await nextMessage(session);
  await until(() => session.cookie !== undefined, 1000, "cookie");
  assert.deepEqual(session.cookie, new Uint8Array([0, 0, 0, 3]));
  // Cookie Echo check on the new PE.
  const echoes: Uint8Array[] = [];
  pe2.server.close();
  const server2 = serve(pe2.pe, (s) => ({
    cookieEcho(cookie) {
      echoes.push(cookie);
    },
    message(data, info) {
      s.send(data, info);
    },
  }));
  const t0 = performance.now();
  pe1.host.crash();
  const events: PoolUserSessionEvent[] = [];
  const necessary = await session.receive({ signal: AbortSignal.timeout(3000) });
  assert.deepEqual(necessary, {
    type: "notification",
    notification: { type: "failover", state: "necessary", session: session.id, hasCookie: true },
  });
  assert.equal(session.send("after"), true);
  const m = await nextMessage(session, events);
  const took = performance.now() - t0;
  assert.equal(m.poolElementIdentifier, 0xe002);
  assert.equal(decoder.decode(m.data), "after");
  assert.deepEqual(events[0], {
    type: "notification",
    notification: { type: "failover", state: "complete", session: session.id, hasCookie: true },
  });
  assert.deepEqual(echoes, [new Uint8Array([0, 0, 0, 3])], "new PE got the newest cookie first");
  assert.equal(session.failovers, 1);
  assert.ok(took < 2000, `failover took ${took} ms`);
  await session.close();
  await server2.close();
  await pe2.pe.close();
  await pe1.pe.close().catch(() => {});
});

Deno.test("PoolUserSession reports failover necessary and complete in order", async () => {
  const net = new MemoryNetwork();
  await using _registrar = await startRegistrar(net);
  const pe1 = await startEchoPe(net, "10.0.0.11", 0xe001);
  await using pu = await startPoolUser(net);
  const session = await pu.connect("EchoPool");
  const pe2 = await startEchoPe(net, "10.0.0.12", 0xe002);
  // Graceful stop of PE 1: deregisters, shuts the session down.
  await pe1.close();
  const n1 = await session.receive({ signal: AbortSignal.timeout(3000) });
  const n2 = await session.receive({ signal: AbortSignal.timeout(3000) });
  assert.deepEqual(n1, {
    type: "notification",
    notification: { type: "failover", state: "necessary", session: 1, hasCookie: false },
  });
  assert.deepEqual(n2, {
    type: "notification",
    notification: { type: "failover", state: "complete", session: 1, hasCookie: false },
  });
  assert.equal(session.poolElementIdentifier, 0xe002);
  await session.close();
  await pe2.close();
});

Deno.test("PoolUserSession.failover() switches on demand and can report the old pool element", async () => {
  const net = new MemoryNetwork();
  await using registrar = await startRegistrar(net);
  const pe1 = await startEchoPe(net, "10.0.0.11", 0xe001);
  const pe2 = await startEchoPe(net, "10.0.0.12", 0xe002);
  await using pu = await startPoolUser(net);
  const session = await pu.connect("EchoPool", { autoFailover: false });
  const first = session.poolElementIdentifier;
  assert.equal(await session.failover({ reportUnreachable: true }), true);
  assert.notEqual(session.poolElementIdentifier, first);
  const complete = await session.receive();
  assert.equal(complete?.type === "notification" && complete.notification.type, "failover");
  await until(() => registrar.statistics().endpointUnreachables >= 1, 1000, "report");
  // Without auto failover the application decides: a crash yields "necessary" only.
  const serving = session.poolElementIdentifier === 0xe001 ? pe1 : pe2;
  serving.host.crash();
  const n = await session.receive({ signal: AbortSignal.timeout(3000) });
  assert.deepEqual(n?.type === "notification" && n.notification, {
    type: "failover",
    state: "necessary",
    session: 1,
    hasCookie: false,
  });
  assert.equal(session.connected, false);
  assert.equal(session.send("x"), false);
  await session.close();
  for (const p of [pe1, pe2]) await p.pe.close().catch(() => {});
  for (const p of [pe1, pe2]) await p.server.close();
});

Deno.test("PoolUserSession keeps working across a registrar restart", async () => {
  const net = new MemoryNetwork();
  const regHost = net.host([REGISTRAR]);
  let registrar = await startRegistrar(net, regHost);
  const pe1 = await startEchoPe(net, "10.0.0.11", 0xe001);
  await using pu = await startPoolUser(net, { connectTimeout: 2000 });
  const session = await pu.connect("EchoPool");
  await registrar.close();
  session.send("during");
  assert.equal(decoder.decode((await nextMessage(session)).data), "during");
  registrar = await startRegistrar(net, regHost);
  // The PE registers again at the new registrar without waiting for its interval.
  await until(() => registrar.handlespace.size === 1, 3000, "re-registration");
  const pe2 = await startEchoPe(net, "10.0.0.12", 0xe002);
  pe1.host.crash();
  const n = await session.receive({ signal: AbortSignal.timeout(3000) });
  assert.equal(n?.type === "notification" && n.notification.type, "failover");
  session.send("after"); // (a message sent before the loss is noticed is lost, as with RSPLIB)
  const m = await nextMessage(session);
  assert.equal(m.poolElementIdentifier, 0xe002);
  await session.close();
  await pe2.close();
  await pe1.pe.close().catch(() => {});
  await pe1.server.close();
  await registrar.close();
});

Deno.test("echoService and serve() echo through a pool element to a pool user", async () => {
  const net = new MemoryNetwork();
  await using _registrar = await startRegistrar(net);
  const host = net.host(["10.0.0.11"]);
  await using pe = await PoolElement.create({
    transport: host,
    poolHandle: "EchoPool",
    ...registrarOptions,
  });
  const lines: string[] = [];
  const instance = await echoService.create({
    options: {},
    print: (l) => lines.push(l),
    log: pe.log,
    identifier: pe.identifier,
  });
  await using _server = serve(pe, instance.handler, instance.serveOptions);
  await using pu = await startPoolUser(net);
  await using session = await pu.connect("EchoPool");
  session.send("ping\n");
  assert.equal(decoder.decode((await nextMessage(session)).data), "ping\n");
  assert.match(lines[0], /^\d\d-\w{3}-\d{4} \d\d:\d\d:\d\d\.\d{4}: Echo 5 bytes on session 1$/);
});
