/**
 * The pool library over real SCTP (usrsctp: raw IP when privileged, else UDP encapsulation),
 * with the project's registrar, pool elements and a pool user in this process on loopback.
 */
import assert from "node:assert/strict";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";
import { canUseRawSockets, usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
import { AddressScope } from "../../src/net/ip_address.ts";
import { Registrar } from "../../src/registrar/mod.ts";
import {
  AsapClient,
  PoolElement,
  PoolUser,
  type PoolUserSession,
  type PoolUserSessionEvent,
  serve,
} from "../../src/pool/mod.ts";
import { decoder, FakeRegistrar, until } from "./_fake_registrar.ts";
import { poolHandle } from "../../src/codec/mod.ts";

// Load the libraries for the whole file (the resource sanitizer would blame the first test).
libc();
loadUsrsctp();

const wanted = Deno.env.get("RSERPOOL_SCTP");
const transport = usrsctpTransport({
  mode: wanted === "usrsctp-udp"
    ? "udp"
    : wanted === "usrsctp-raw" || canUseRawSockets()
    ? "raw"
    : "udp",
});
const LOOPBACK = "127.0.0.1";
let nextPort = 24100;

/** Short SCTP timers so that a lost association is noticed within about a second. */
const FAST_SCTP = {
  rtoInitial: 200,
  rtoMin: 100,
  rtoMax: 200,
  associationMaxRetransmissions: 3,
  pathMaxRetransmissions: 3,
  heartbeatInterval: 200,
};

async function startRegistrar(port: number): Promise<Registrar> {
  // After a close, usrsctp may hold the port for a moment.
  for (let attempt = 1;; attempt++) {
    try {
      return await startRegistrarOnce(port);
    } catch (e) {
      if (attempt >= 30) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

async function startRegistrarOnce(port: number): Promise<Registrar> {
  return await Registrar.start({
    asap: { addresses: [LOOPBACK], port },
    asapAnnounce: undefined,
    enrpAnnounce: undefined,
    minAddressScope: AddressScope.Loopback,
    mentorDiscoveryTimeout: 100,
    endpointKeepAliveTransmissionInterval: 500,
    endpointKeepAliveTimeoutInterval: 500,
  }, { transport });
}

function clientOptions(registrarPort: number) {
  return {
    transport,
    registrars: [`${LOOPBACK}:${registrarPort}`],
    announce: "off",
    minAddressScope: "loopback" as const,
    // usrsctp retransmits an unanswered INIT after 3 s (its initial RTO).
    connectTimeout: 5000,
  };
}

async function startPe(registrarPort: number, identifier: number, cookies = false) {
  const pe = await PoolElement.create({
    ...clientOptions(registrarPort),
    poolHandle: "EchoPool",
    identifier,
    localAddresses: [LOOPBACK],
    port: nextPort++,
    reregistrationInterval: 1000,
    sctp: FAST_SCTP,
  });
  const cookieEchoes: Uint8Array[] = [];
  const server = serve(pe, (session) => {
    let count = 0;
    return {
      cookieEcho(cookie) {
        cookieEchoes.push(cookie);
        count = new DataView(cookie.buffer, cookie.byteOffset).getUint32(0);
      },
      message(data, info) {
        count++;
        session.send(data, info);
        if (cookies) {
          const c = new Uint8Array(4);
          new DataView(c.buffer).setUint32(0, count);
          session.sendCookie(c);
        }
      },
    };
  });
  return {
    pe,
    cookieEchoes,
    async close(options: { crash?: boolean } = {}) {
      await pe.close(options.crash ? { abort: true, deregister: false } : {});
      await server.close();
    },
  };
}

function isNecessary(e: PoolUserSessionEvent | undefined): boolean {
  return e?.type === "notification" && e.notification.type === "failover" &&
    e.notification.state === "necessary";
}

async function reply(session: PoolUserSession, log?: PoolUserSessionEvent[]) {
  for (;;) {
    const e = await session.receive({ signal: AbortSignal.timeout(5000) });
    assert.ok(e !== undefined, "session ended");
    log?.push(e);
    if (e.type === "message") return e;
  }
}

Deno.test(`PoolElement and PoolUser exchange messages over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe = await startPe(port, 0xe001);
  const pu = await PoolUser.create({ ...clientOptions(port), sctp: FAST_SCTP });
  try {
    assert.equal(registrar.handlespace.size, 1);
    const session = await pu.connect("EchoPool");
    session.send("hello", { ppid: 33, stream: 1 });
    const m = await reply(session);
    assert.equal(decoder.decode(m.data), "hello");
    assert.equal(m.ppid, 33);
    assert.equal(m.stream, 1);
    assert.equal(m.poolElementIdentifier, 0xe001);
    await session.close();
  } finally {
    await pu.close();
    await pe.close();
    await registrar.close();
  }
});

Deno.test(`PoolElement answers the registrar's Keep Alives over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe = await startPe(port, 0xe001);
  try {
    // Keep Alive every 500 ms, timeout 500 ms: still registered after several rounds.
    await new Promise((r) => setTimeout(r, 1800));
    assert.equal(registrar.handlespace.size, 1);
    assert.ok(
      registrar.statistics().endpointKeepAlives >= 2,
      JSON.stringify(registrar.statistics()),
    );
  } finally {
    await pe.close();
    await registrar.close();
  }
});

Deno.test(`PoolUserSession fails over with the cookie after a crash over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe1 = await startPe(port, 0xe001, true);
  const pu = await PoolUser.create({ ...clientOptions(port), sctp: FAST_SCTP });
  let pe2: Awaited<ReturnType<typeof startPe>> | undefined;
  try {
    const session = await pu.connect("EchoPool");
    pe2 = await startPe(port, 0xe002, true);
    for (const x of ["a", "b", "c"]) {
      session.send(x);
      await reply(session);
    }
    await until(() => session.cookie?.[3] === 3, 2000, "cookie 3");
    const t0 = performance.now();
    await pe1.close({ crash: true });
    const log: PoolUserSessionEvent[] = [];
    const n = await session.receive({ signal: AbortSignal.timeout(5000) });
    assert.ok(isNecessary(n), JSON.stringify(n));
    session.send("d");
    const m = await reply(session, log);
    const took = performance.now() - t0;
    assert.equal(m.poolElementIdentifier, 0xe002);
    assert.equal(decoder.decode(m.data), "d");
    assert.deepEqual(pe2.cookieEchoes, [new Uint8Array([0, 0, 0, 3])]);
    await until(() => session.cookie?.[3] === 4, 2000, "cookie 4 from the new PE");
    assert.ok(took < 3000, `failover took ${took} ms`);
    await session.close();
  } finally {
    await pu.close();
    await pe2?.close();
    await pe1.close();
    await registrar.close();
  }
});

Deno.test(`PoolUserSession.failover() with queued messages makes one attempt over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe1 = await startPe(port, 0xe001);
  const pe2 = await startPe(port, 0xe002);
  const pu = await PoolUser.create({ ...clientOptions(port), sctp: FAST_SCTP });
  try {
    const session = await pu.connect("EchoPool");
    // More than the socket takes at once: the rest waits in the endpoint's queue, and the
    // abort of the failover reports each of those as failed (synchronously).
    const block = new Uint8Array(8192);
    for (let i = 0; i < 1000; i++) assert.equal(session.send(block), true);
    assert.equal(await session.failover(), true);
    const log: PoolUserSessionEvent[] = [];
    for (;;) {
      const e = await session.receive({ signal: AbortSignal.timeout(5000) });
      assert.ok(e !== undefined, "session ended");
      if (e.type === "notification") log.push(e);
      if (e.type === "notification" && e.notification.type === "failover") break;
    }
    assert.deepEqual(log.map((e) => e.type === "notification" && e.notification), [
      { type: "failover", state: "complete", session: session.id, hasCookie: false },
    ]);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(session.failovers, 1);
    assert.equal(session.connected, true);
    assert.equal(pu.endpoint.associations().length, 1, "one session association");
    session.send("after");
    for (;;) {
      const m = await reply(session);
      if (m.data.length !== block.length) {
        assert.equal(decoder.decode(m.data), "after");
        break;
      }
    }
    await session.close();
  } finally {
    await pu.close();
    await pe1.close();
    await pe2.close();
    await registrar.close();
  }
});

Deno.test(`PoolUserSession survives a registrar restart over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  let registrar = await startRegistrar(port);
  const pe1 = await startPe(port, 0xe001);
  const pe2 = await startPe(port, 0xe002);
  const pu = await PoolUser.create({ ...clientOptions(port), sctp: FAST_SCTP });
  try {
    const session = await pu.connect("EchoPool");
    await registrar.close();
    session.send("while no registrar");
    assert.equal(decoder.decode((await reply(session)).data), "while no registrar");
    registrar = await startRegistrar(port);
    // Both PEs find the restarted registrar and register again. An INIT sent while no
    // registrar listened is dropped (raw mode: no ABORT) and retransmitted after usrsctp's
    // initial RTO (3 s, then 6 s), or a new hunt round starts after connectTimeout (5 s).
    await until(() => registrar.handlespace.size === 2, 15000, "re-registrations");
    const serving = session.poolElementIdentifier === 0xe001 ? pe1 : pe2;
    await serving.close({ crash: true });
    const n = await session.receive({ signal: AbortSignal.timeout(5000) });
    assert.ok(isNecessary(n), JSON.stringify(n));
    session.send("after restart");
    const m = await reply(session);
    assert.notEqual(m.poolElementIdentifier, serving.pe.identifier);
    await session.close();
  } finally {
    await pu.close();
    await pe1.close();
    await pe2.close();
    await registrar.close();
  }
});

Deno.test(`AsapClient resolves, reports and deregisters over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe = await startPe(port, 0xe001);
  const asap = await AsapClient.open(clientOptions(port));
  try {
    const [found] = await asap.handleResolution("EchoPool");
    assert.equal(found.identifier, 0xe001);
    assert.deepEqual(found.userTransport.addresses, [LOOPBACK]);
    for (let i = 0; i < 3; i++) await asap.reportUnreachable("EchoPool", 0xe001);
    // The registrar drops the PE after 3 reports (MaxBadPEReports).
    await until(() => registrar.handlespace.size === 0, 2000, "removal after 3 reports");
  } finally {
    await asap.close();
    await pe.close();
    await registrar.close();
  }
});

Deno.test(`PoolElement reports load and deregisters over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe = await PoolElement.create({
    ...clientOptions(port),
    poolHandle: "LoadPool",
    policy: { type: "LeastUsed" },
    localAddresses: [LOOPBACK],
    port: nextPort++,
  });
  try {
    const entry = () => registrar.handlespace.findPoolElement("LoadPool", pe.identifier);
    assert.equal(entry()?.policy.load, 0);
    pe.setLoad(0.75);
    await until(() => entry()?.policy.load === Math.round(0.75 * 0xffffffff), 2000, "new load");
    await pe.close();
    assert.equal(entry(), undefined, "deregistered before close() returned");
  } finally {
    await pe.close();
    await registrar.close();
  }
});

Deno.test(`PoolElement follows a new home registrar (Keep Alive with H flag) over usrsctp (${transport.mode})`, async () => {
  const port = nextPort++;
  const registrar = await startRegistrar(port);
  const pe = await startPe(port, 0xe001);
  const takeover = await FakeRegistrar.start(transport, nextPort++, 0x7777, [LOOPBACK]);
  try {
    const asapPort = pe.pe.asap.localPort;
    const assoc = await takeover.endpoint.connect([LOOPBACK], asapPort);
    takeover.send(assoc, {
      type: "endpointKeepAlive",
      registrarIdentifier: 0x7777,
      poolHandle: poolHandle("EchoPool"),
      identifier: 0xe001,
      home: true,
    });
    const ack = await takeover.waitFor((r) => r.message.type === "endpointKeepAliveAck", 3000);
    assert.equal(ack.message.type === "endpointKeepAliveAck" && ack.message.identifier, 0xe001);
    assert.equal(pe.pe.asap.registrarIdentifier, 0x7777);
    // The next re-registration goes to the new home registrar.
    await takeover.waitFor((r) => r.message.type === "registration", 3000);
  } finally {
    await pe.close();
    await takeover.close();
    await registrar.close();
  }
});
