/**
 * Failover corner cases of PoolUserSession on the memory transport, with a wrapper endpoint that
 * reproduces what real SCTP backends do and the memory transport does not: `sendFailed` events
 * emitted synchronously by `abort()` (queued messages dropped), an association that ends in the
 * same event batch as its COMM_UP (before `connect()` returns to its caller), failing sends and
 * slow association setups.
 */
import assert from "node:assert/strict";
import { Ppid } from "../../src/codec/mod.ts";
import { sleep } from "../../src/common/program.ts";
import {
  MemoryNetwork,
  type MemoryTransport,
} from "../../src/transport/memory/memory_transport.ts";
import {
  type SctpAssociationStatus,
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpSendOptions,
  type SctpTransport,
} from "../../src/transport/types.ts";
import type { PoolUser, PoolUserSession, PoolUserSessionEvent } from "../../src/pool/mod.ts";
import { decoder, until } from "./_fake_registrar.ts";
import { nextMessage, PU_HOST, startEchoPe, startPoolUser, startRegistrar } from "./_fixtures.ts";

/** A memory endpoint with scriptable misbehaviour. */
class TestEndpoint implements SctpEndpoint {
  readonly backend = "usrsctp" as const;
  inner!: SctpEndpoint;
  readonly onEvent: (event: SctpEvent) => void;
  /** Associations with a queued message: `abort()` reports it failed first (endpoint core). */
  readonly queued = new Set<number>();
  /** Associations that ended (their events went out): `send()` throws. */
  readonly dead = new Set<number>();
  /** Makes a send throw when it returns true. */
  failSend?: (assocId: number, data: Uint8Array, options?: SctpSendOptions) => boolean;
  /** Runs once when an association came up, before `connect()` resolves. */
  afterConnect?: (assocId: number) => void;
  /** Extra time an association setup takes, ms. */
  connectDelay = 0;
  /** This many association setups fail. */
  failConnects = 0;
  connects = 0;
  lastAssoc?: number;
  readonly #closing = new AbortController();

  constructor(onEvent: (event: SctpEvent) => void) {
    this.onEvent = onEvent;
  }

  /** Makes the next send for which `match` holds throw (once). */
  failOnce(match: (options?: SctpSendOptions) => boolean): void {
    let armed = true;
    this.failSend = (_id, _data, options) => {
      if (!armed || !match(options)) return false;
      armed = false;
      return true;
    };
  }

  get localPort(): number {
    return this.inner.localPort;
  }

  localAddresses(): string[] {
    return this.inner.localAddresses();
  }

  async connect(addresses: string[], port: number, options?: { timeout?: number }) {
    this.connects++;
    if (this.connectDelay > 0) {
      await sleep(this.connectDelay, this.#closing.signal);
      if (this.#closing.signal.aborted) throw new SctpError("closed", "Cannot connect: closed");
    }
    if (this.failConnects > 0) {
      this.failConnects--;
      throw new SctpError("connect-failed", "Cannot connect: scripted failure");
    }
    const id = await this.inner.connect(addresses, port, options);
    this.lastAssoc = id;
    const hook = this.afterConnect;
    this.afterConnect = undefined;
    hook?.(id);
    return id;
  }

  send(assocId: number, data: Uint8Array, options?: SctpSendOptions): void {
    if (this.dead.has(assocId) || this.failSend?.(assocId, data, options)) {
      throw new SctpError("no-association", `Cannot send on association ${assocId}`);
    }
    this.inner.send(assocId, data, options);
  }

  sendTo(addresses: string[], port: number, data: Uint8Array, options?: SctpSendOptions) {
    return this.inner.sendTo(addresses, port, data, options);
  }

  shutdown(assocId: number): void {
    this.inner.shutdown(assocId);
  }

  abort(assocId: number): void {
    if (this.queued.delete(assocId)) {
      this.onEvent({ type: "sendFailed", assocId, ppid: 0, stream: 0 });
    }
    this.inner.abort(assocId);
  }

  status(assocId: number): SctpAssociationStatus | undefined {
    return this.inner.status(assocId);
  }

  associations(): number[] {
    return this.inner.associations();
  }

  close(options?: { abort?: boolean }): Promise<void> {
    this.#closing.abort();
    return this.inner.close(options);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

class TestTransport implements SctpTransport {
  readonly name = "usrsctp" as const;
  readonly description = "memory transport with scripted faults";
  readonly #inner: MemoryTransport;

  constructor(inner: MemoryTransport) {
    this.#inner = inner;
  }

  async open(
    options: SctpEndpointOptions,
    onEvent: (event: SctpEvent) => void,
  ): Promise<SctpEndpoint> {
    const endpoint = new TestEndpoint(onEvent);
    endpoint.inner = await this.#inner.open(options, (e) => endpoint.onEvent(e));
    return endpoint;
  }
}

interface Setup extends AsyncDisposable {
  net: MemoryNetwork;
  pu: PoolUser;
  endpoint: TestEndpoint;
}

/** A registrar, two echo pool elements and a pool user whose session endpoint is scriptable. */
async function setup(): Promise<Setup> {
  const net = new MemoryNetwork();
  const registrar = await startRegistrar(net);
  const pes = [
    await startEchoPe(net, "10.0.0.11", 0xe001),
    await startEchoPe(net, "10.0.0.12", 0xe002),
  ];
  const pu = await startPoolUser(net, { transport: new TestTransport(net.host([PU_HOST])) });
  return {
    net,
    pu,
    endpoint: pu.endpoint as TestEndpoint,
    async [Symbol.asyncDispose]() {
      await pu.close();
      for (const pe of pes) await pe.close();
      await registrar.close();
    },
  };
}

/** The failover notifications queued now (and within `ms`), as "state" strings. */
async function notifications(session: PoolUserSession, ms = 50): Promise<string[]> {
  const states: string[] = [];
  for (;;) {
    let e: PoolUserSessionEvent | undefined;
    try {
      e = await session.receive({ signal: AbortSignal.timeout(ms) });
    } catch {
      return states;
    }
    if (e?.type === "notification" && e.notification.type === "failover") {
      states.push(e.notification.state);
    }
  }
}

Deno.test("PoolUserSession.failover(): sendFailed events of the aborted association start no second attempt", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool");
  assert.equal(session.connected, true);
  // The old association has a queued message: abort() reports it failed, synchronously.
  s.endpoint.queued.add(s.endpoint.lastAssoc!);
  const connects = s.endpoint.connects;
  assert.equal(await session.failover(), true);
  await s.net.settle();
  assert.equal(s.endpoint.connects, connects + 1, "one association setup");
  assert.deepEqual(await notifications(session), ["complete"]);
  assert.equal(session.failovers, 1);
  assert.equal(session.connected, true);
  assert.equal(s.endpoint.associations().length, 1, "no second association");
  session.send("still there");
  assert.equal(decoder.decode((await nextMessage(session)).data), "still there");
});

Deno.test("PoolUserSession keeps failing over when the new pool element is lost while the queued messages go out", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool");
  s.endpoint.failOnce((options) => options?.ppid !== Ppid.ASAP);
  const attempt = session.failover();
  assert.equal(session.send("queued"), true);
  assert.equal(await attempt, false, "lost while sending the queued messages");
  const m = await nextMessage(session);
  assert.equal(decoder.decode(m.data), "queued");
  assert.equal(session.connected, true);
});

Deno.test("PoolUserSession.send() restarts the automatic failover after a failed manual one", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool", { retryDelay: 20 });
  s.endpoint.failConnects = 1;
  assert.equal(await session.failover(), false);
  assert.equal(session.connected, false);
  assert.equal(session.send("later"), true);
  const m = await nextMessage(session);
  assert.equal(decoder.decode(m.data), "later");
});

Deno.test("PoolUserSession treats an association that ended before connect() returned as lost", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool", { autoFailover: false });
  // COMM_UP and COMM_LOST in the same batch: "lost" comes before the session binds it.
  s.endpoint.afterConnect = (id) => {
    s.endpoint.dead.add(id);
    s.endpoint.onEvent({ type: "lost", assocId: id });
  };
  assert.equal(await session.failover(), false);
  assert.equal(session.connected, false);
  assert.deepEqual(await notifications(session), ["complete", "necessary"]);
  assert.equal(await session.failover(), true);
  session.send("again");
  assert.equal(decoder.decode((await nextMessage(session)).data), "again");
});

Deno.test("PoolUserSession treats a graceful end before connect() returned as lost", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool", { autoFailover: false });
  s.endpoint.afterConnect = (id) => {
    s.endpoint.dead.add(id);
    s.endpoint.onEvent({ type: "shutdown", assocId: id });
    s.endpoint.onEvent({ type: "closed", assocId: id });
  };
  assert.equal(await session.failover(), false);
  assert.equal(session.connected, false);
  assert.deepEqual(await notifications(session), ["complete", "necessary"]);
  assert.equal(await session.failover(), true);
});

Deno.test("PoolUserSession treats a failed Cookie Echo as a lost pool element", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool", { autoFailover: false });
  session.send("abc");
  await nextMessage(session);
  await until(() => session.cookie !== undefined, 1000, "cookie");
  s.endpoint.failOnce((options) => options?.ppid === Ppid.ASAP);
  assert.equal(await session.failover(), false);
  assert.equal(session.connected, false);
  assert.deepEqual(await notifications(session), ["complete", "necessary"]);
  assert.equal(await session.failover(), true);
});

Deno.test("PoolUserSession queues a copy of the caller's buffer when a send fails", async () => {
  await using s = await setup();
  const session = await s.pu.connect("EchoPool");
  s.endpoint.failOnce((options) => options?.ppid !== Ppid.ASAP);
  const buffer = new TextEncoder().encode("original");
  assert.equal(session.send(buffer), true);
  buffer.fill(0x78);
  const m = await nextMessage(session);
  assert.equal(decoder.decode(m.data), "original");
});

Deno.test("PoolUser.connect() ends a running attempt when its signal aborts", async () => {
  await using s = await setup();
  s.endpoint.connectDelay = 2000;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("stop")), 100);
  const t0 = performance.now();
  try {
    await assert.rejects(
      () => s.pu.connect("EchoPool", { signal: controller.signal }),
      /stop/,
    );
  } finally {
    clearTimeout(timer);
  }
  const took = performance.now() - t0;
  assert.ok(took < 1000, `connect() took ${took.toFixed(0)} ms after the abort`);
});

Deno.test("PoolUser.close() does not wait for association setups of its sessions", async () => {
  await using s = await setup();
  s.endpoint.connectDelay = 1500;
  const connecting = [
    s.pu.connect("EchoPool", { throwIfUnreachable: false }),
    s.pu.connect("EchoPool", { throwIfUnreachable: false }),
  ];
  await until(() => s.endpoint.connects === 2, 1000, "association setups");
  const t0 = performance.now();
  await s.pu.close();
  const took = performance.now() - t0;
  const sessions = await Promise.all(connecting);
  assert.ok(took < 1000, `close() took ${took.toFixed(0)} ms`);
  for (const session of sessions) {
    assert.equal(session.closed, true);
    assert.equal(session.connected, false);
  }
});
