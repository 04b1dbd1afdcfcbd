/**
 * Backend-neutral conformance suite for {@linkcode SctpTransport}: every backend (usrsctp raw,
 * usrsctp UDP, kernel SCTP in the user-mode-linux guest) registers the same `Deno.test` cases
 * with {@linkcode runTransportConformance}.
 *
 * Endpoints of the transport under test run in the test process; cases that need a second
 * process (a peer that is killed or restarted) start `_peer.ts` with `backend`; the
 * multi-homing case runs two peers in network-namespace hosts (`hosts: true`).
 *
 * @example
 * ```ts ignore
 * import { usrsctpTransport } from "../../src/transport/usrsctp/mod.ts";
 * import { runTransportConformance } from "./_conformance.ts";
 * runTransportConformance({
 *   name: "usrsctp-udp",
 *   transport: () => usrsctpTransport({ mode: "udp" }),
 *   backend: "usrsctp-udp",
 *   hosts: true,
 *   basePort: 21000,
 * });
 * ```
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type SctpBackendChoice,
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpTransport,
  type SctpTuning,
} from "../../src/transport/types.ts";
import { createTestbed, netnsAvailable } from "../_netns.ts";
import { EventLog } from "./_event_log.ts";
import { type PeerEvent, PeerProcess } from "./_peer_client.ts";

/** Names of the cases, in the order they run. */
export const CONFORMANCE_CASES = [
  "echo",
  "concurrent",
  "multihoming",
  "peer-killed",
  "peer-restarted",
  "restart-event",
  "shutdown",
  "abort",
  "sendTo",
  "status",
  "connect-fails",
  "one-to-one",
  "autoclose",
  "queueing",
  "large-message",
  "bindx",
] as const;

/** Name of a case (for `skip`). */
export type ConformanceCase = typeof CONFORMANCE_CASES[number];

/**
 * Skips every case for one reason (e.g. where the backend cannot run).
 *
 * @param reason Why.
 * @returns The `skip` option.
 */
export function skipAll(reason: string): Record<ConformanceCase, string> {
  return Object.fromEntries(CONFORMANCE_CASES.map((c) => [c, reason])) as Record<
    ConformanceCase,
    string
  >;
}

/** Options of {@linkcode runTransportConformance}. */
export interface ConformanceOptions {
  /** Prefix of the test names, e.g. "usrsctp-udp". */
  name: string;
  /** The transport under test, or a factory called once per test. */
  transport: SctpTransport | (() => SctpTransport);
  /** Backend of peer processes (`_peer.ts --backend=`). */
  backend: SctpBackendChoice;
  /** Run the multi-homing case across network-namespace hosts (needs root). */
  hosts?: boolean;
  /** Environment of peer processes. */
  peerEnv?: Record<string, string>;
  /** Address of the test process and local peers (default "127.0.0.1"). */
  address?: string;
  /** Second local address of another family for the bindx case (default "::1"; false: skip). */
  secondAddress?: string | false;
  /**
   * First SCTP port; cases use basePort .. basePort+49. Suites that run at the same time on one
   * host (raw IP) need distinct ranges.
   */
  basePort: number;
  /** Cases to skip, with the reason. */
  skip?: Partial<Record<ConformanceCase, string>>;
  /**
   * Cases that do not apply to this backend and are not registered at all, with the test that
   * covers the same behaviour instead.
   */
  notApplicable?: Partial<Record<ConformanceCase, string>>;
}

/** Fast failure detection for the loss and multi-homing cases (and the guest's loss tests). */
export const FAST: SctpTuning = {
  rtoInitial: 200,
  rtoMin: 100,
  rtoMax: 400,
  heartbeatInterval: 200,
  pathMaxRetransmissions: 2,
  associationMaxRetransmissions: 4,
};

/**
 * Records an endpoint's events (`handler`) and lets a test wait for them. Messages go to
 * `onMessage` and are not recorded; a waiter gets a copy of one.
 */
export class Recorder extends EventLog<SctpEvent> {
  /** Called with every message. */
  onMessage: ((e: Extract<SctpEvent, { type: "message" }>) => void) | undefined;

  /** The endpoint's event handler. */
  readonly handler = (event: SctpEvent): void => {
    if (event.type === "message") {
      this.onMessage?.(event);
      if (this.waiting) this.offer({ ...event, data: event.data.slice() });
    } else {
      this.add(event);
    }
  };
}

function ofType(type: SctpEvent["type"], assocId?: number): (e: SctpEvent) => boolean {
  return (e) =>
    e.type === type && (assocId === undefined || ("assocId" in e && e.assocId === assocId));
}

/** Resolves when `condition()` holds, checking every 10 ms; rejects after `timeout`. */
async function until(condition: () => boolean, timeout: number, what: string): Promise<void> {
  const deadline = Date.now() + timeout;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function seqPayload(seq: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  new DataView(data.buffer).setUint32(0, seq, false);
  return data;
}

/** Closes endpoints even when the test failed (abort: no waiting for a dead peer). */
class Closer {
  #endpoints: SctpEndpoint[] = [];
  #peers: PeerProcess[] = [];
  add<T extends SctpEndpoint>(e: T): T {
    this.#endpoints.push(e);
    return e;
  }
  peer(p: PeerProcess): PeerProcess {
    this.#peers.push(p);
    return p;
  }
  async close(abort = false): Promise<void> {
    for (const e of this.#endpoints.reverse()) await e.close({ abort });
    for (const p of this.#peers) await p.kill();
  }
}

/**
 * Registers the conformance cases as `Deno.test`s.
 *
 * @param options Transport, peer backend, ports, what to skip.
 */
export function runTransportConformance(options: ConformanceOptions): void {
  const addr = options.address ?? "127.0.0.1";
  const second = options.secondAddress === undefined ? "::1" : options.secondAddress;
  const transport = (): SctpTransport =>
    typeof options.transport === "function" ? options.transport() : options.transport;
  let portOffset = 0;
  const nextPort = (): number => options.basePort + portOffset++;
  const hostsWanted = options.hosts === true && netnsAvailable();

  const test = (
    name: ConformanceCase,
    title: string,
    fn: (closer: Closer, port: number) => Promise<void>,
    ignore = false,
  ): void => {
    const port = nextPort();
    portOffset += 3; // room for a few ports per case
    if (options.notApplicable?.[name] !== undefined) return;
    Deno.test({
      name: `${options.name}: ${title}`,
      ignore: ignore || options.skip?.[name] !== undefined,
      fn: async () => {
        const closer = new Closer();
        let failed = true;
        try {
          await fn(closer, port);
          failed = false;
        } finally {
          await closer.close(failed);
        }
      },
    });
  };

  const peer = (
    closer: Closer,
    extra: { testbed?: Parameters<typeof PeerProcess.start>[0] } = {},
  ) =>
    PeerProcess.start({ backend: options.backend, env: options.peerEnv, ...extra.testbed })
      .then((p) => closer.peer(p));

  /** An in-process echo server; returns it and its recorder. */
  const echoServer = async (
    closer: Closer,
    port: number,
    extra: SctpEndpointOptions = {},
  ): Promise<{ server: SctpEndpoint; events: Recorder }> => {
    const events = new Recorder();
    const server = closer.add(
      await transport().open({ addresses: [addr], port, listen: true, ...extra }, events.handler),
    );
    events.onMessage = (e) => server.send(e.assocId, e.data, { stream: e.stream, ppid: e.ppid });
    return { server, events };
  };

  test(
    "echo",
    "echoes 10000 messages over 3 streams with distinct PPIDs, in order",
    async (c, port) => {
      await echoServer(c, port);
      const N = 10000;
      const ppids = [101, 102, 103];
      let received = 0;
      let problems = 0;
      const expected = [0, 0, 0];
      const events = new Recorder();
      events.onMessage = (e) => {
        received++;
        const seq = new DataView(e.data.buffer, e.data.byteOffset).getUint32(0, false);
        if (e.ppid !== ppids[e.stream] || seq !== expected[e.stream]++ || e.data.length !== 64) {
          problems++;
        }
      };
      const client = c.add(await transport().open({ addresses: [addr] }, events.handler));
      const id = await client.connect([addr], port, { timeout: 5000 });
      const next = [0, 0, 0];
      for (let i = 0; i < N; i++) {
        const stream = i % 3;
        client.send(id, seqPayload(next[stream]++, 64), { stream, ppid: ppids[stream] });
      }
      await until(() => received === N, 30000, `${N} echoes (got ${received})`);
      assert.equal(problems, 0, "every echo on its stream, with its PPID, in order");
    },
  );

  test("concurrent", "carries 20 concurrent associations on one endpoint", async (c, port) => {
    const { server, events: serverEvents } = await echoServer(c, port);
    const clients: { endpoint: SctpEndpoint; received: number }[] = [];
    for (let i = 0; i < 20; i++) {
      const entry = { endpoint: undefined as unknown as SctpEndpoint, received: 0 };
      const r = new Recorder();
      r.onMessage = () => entry.received++;
      entry.endpoint = c.add(await transport().open({ addresses: [addr] }, r.handler));
      clients.push(entry);
    }
    const ids = await Promise.all(
      clients.map((x) => x.endpoint.connect([addr], port, { timeout: 5000 })),
    );
    await until(() => server.associations().length === 20, 5000, "20 associations at the server");
    for (let round = 0; round < 50; round++) {
      clients.forEach((x, i) => x.endpoint.send(ids[i], seqPayload(round, 200), { ppid: 11 }));
    }
    await until(() => clients.every((x) => x.received === 50), 20000, "50 echoes on each");
    for (const x of clients) await x.endpoint.close();
    await until(
      () => serverEvents.events.filter((e) => e.type === "closed").length === 20,
      5000,
      "20 closed events at the server",
    );
    assert.equal(server.associations().length, 0);
  });

  test(
    "multihoming",
    "keeps an association when one of two paths fails (multi-homing, netns)",
    async (c, port) => {
      await using bed = await createTestbed({ hosts: 2, links: 2 });
      const a = await peer(c, { testbed: { testbed: bed, host: 1 } });
      const b = await peer(c, { testbed: { testbed: bed, host: 2 } });
      const [a0, a1] = bed.host(1).addresses;
      const [b0, b1] = bed.host(2).addresses;
      await b.request("open", {
        ep: "s",
        echo: true,
        options: { addresses: [b0, b1], port, listen: true, ...FAST },
      });
      await a.request("open", { ep: "c", options: { addresses: [a0, a1], ...FAST } });
      const { assocId } = await a.request("connect", {
        ep: "c",
        addresses: [b0, b1],
        port,
        timeout: 5000,
      });
      const up = await a.waitFor((e) => e.event.type === "up");
      assert.deepEqual([...up.event.peerAddresses].sort(), [b0, b1].sort());
      const N = 150;
      const sending = a.request("send", { ep: "c", assocId, count: N, size: 100, intervalMs: 15 });
      await sleep(500);
      await bed.cut(2, 0); // the primary path
      await a.waitFor(
        (e: PeerEvent) =>
          e.event.type === "peerAddressChange" && e.event.address === b0 &&
          e.event.state === "unreachable",
        8000,
      );
      await sending;
      const deadline = Date.now() + 10000;
      let counts = await a.request("counts", { ep: "c" });
      while (counts.received < N && Date.now() < deadline) {
        await sleep(100);
        counts = await a.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, N, "every echo arrived over the second path");
      assert.ok(counts.inOrder);
      await bed.restore(2, 0);
      await a.exit();
      await b.exit();
    },
    !hostsWanted,
  );

  test(
    "peer-killed",
    "detects the loss of an association when the peer process is killed (and sendFailed)",
    async (c, port) => {
      const p = await peer(c);
      await p.request("open", {
        ep: "s",
        echo: true,
        options: { addresses: [addr], port, listen: true, ...FAST },
      });
      const events = new Recorder();
      let echoes = 0;
      events.onMessage = () => echoes++;
      const client = c.add(await transport().open({ addresses: [addr], ...FAST }, events.handler));
      const id = await client.connect([addr], port, { timeout: 5000 });
      client.send(id, seqPayload(0, 32), { ppid: 11 });
      await until(() => echoes === 1, 5000, "the echo");
      await p.kill();
      const t0 = Date.now();
      client.send(id, seqPayload(1, 32), { ppid: 99, stream: 1 }); // never acknowledged
      await events.waitFor(ofType("lost", id), 10000, "the lost event");
      assert.ok(Date.now() - t0 < 10000);
      assert.ok(!client.associations().includes(id));
      const failed = await events.waitFor(
        (e) => e.type === "sendFailed" && e.assocId === id,
        2000,
        "a sendFailed event for the unacknowledged message",
      );
      assert.deepEqual(failed, { type: "sendFailed", assocId: id, ppid: 99, stream: 1 });
    },
  );

  test("peer-restarted", "sets up a new association to a restarted peer", async (c, port) => {
    const open = {
      ep: "s",
      echo: true,
      options: { addresses: [addr], port, listen: true, ...FAST },
    };
    const first = await peer(c);
    await first.request("open", open);
    const events = new Recorder();
    let echoes = 0;
    events.onMessage = () => echoes++;
    const client = c.add(await transport().open({ addresses: [addr], ...FAST }, events.handler));
    const id1 = await client.connect([addr], port, { timeout: 5000 });
    client.send(id1, seqPayload(0, 32), { ppid: 11 });
    await until(() => echoes === 1, 5000, "the first echo");
    await first.kill();
    const second = await peer(c);
    await second.request("open", open);
    // The old association ends: by an ABORT of the new peer's stack or by timeouts.
    await events.waitFor(ofType("lost", id1), 10000, "the loss of the old association");
    const id2 = await client.connect([addr], port, { timeout: 5000 });
    client.send(id2, seqPayload(1, 32), { ppid: 11 });
    await until(() => echoes === 2, 5000, "the echo over the new association");
    await second.exit();
  });

  test(
    "restart-event",
    "reports a restart when the peer comes back on the same port",
    async (c, port) => {
      const { server, events } = await echoServer(c, port);
      const clientPort = port + 1;
      const first = await peer(c);
      await first.request("open", { ep: "c", options: { addresses: [addr], port: clientPort } });
      await first.request("connect", { ep: "c", addresses: [addr], port, timeout: 5000 });
      const up = await events.waitFor(ofType("up"), 5000, "the up event");
      const id = (up as { assocId: number }).assocId;
      await first.kill();
      const second = await peer(c);
      await second.request("open", { ep: "c", options: { addresses: [addr], port: clientPort } });
      const { assocId } = await second.request("connect", {
        ep: "c",
        addresses: [addr],
        port,
        timeout: 5000,
      });
      await events.waitFor(ofType("restart", id), 8000, "the restart event");
      assert.ok(server.associations().includes(id));
      await second.request("send", { ep: "c", assocId, count: 5, size: 40, ppid: 11 });
      let counts = await second.request("counts", { ep: "c" });
      const deadline = Date.now() + 5000;
      while (counts.received < 5 && Date.now() < deadline) {
        await sleep(50);
        counts = await second.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, 5, "echoes over the restarted association");
      await second.exit();
    },
  );

  test("shutdown", "reports shutdown and closed events on a graceful shutdown", async (c, port) => {
    const { events: serverEvents } = await echoServer(c, port);
    const events = new Recorder();
    const client = c.add(await transport().open({ addresses: [addr] }, events.handler));
    const id = await client.connect([addr], port, { timeout: 5000 });
    const serverId = (await serverEvents.waitFor(ofType("up"), 5000, "up at the server") as {
      assocId: number;
    }).assocId;
    client.shutdown(id);
    await serverEvents.waitFor(ofType("shutdown", serverId), 5000, "shutdown at the server");
    await serverEvents.waitFor(ofType("closed", serverId), 5000, "closed at the server");
    await events.waitFor(ofType("closed", id), 5000, "closed at the client");
    const order = serverEvents.events.map((e) => e.type).filter((t) => t !== "peerAddressChange");
    assert.deepEqual(order, ["up", "shutdown", "closed"]);
    assert.deepEqual(client.associations(), []);
    assert.throws(() => client.send(id, new Uint8Array(4)), SctpError);
  });

  test("abort", "reports lost to the peer when an association is aborted", async (c, port) => {
    const { events: serverEvents } = await echoServer(c, port);
    const client = c.add(await transport().open({ addresses: [addr] }, new Recorder().handler));
    const id = await client.connect([addr], port, { timeout: 5000 });
    const up = await serverEvents.waitFor(ofType("up"), 5000, "up at the server");
    client.abort(id);
    await serverEvents.waitFor(
      ofType("lost", (up as { assocId: number }).assocId),
      5000,
      "lost at the server",
    );
    await until(() => !client.associations().includes(id), 2000, "the client to forget it");
  });

  test("sendTo", "sendTo() sets up an association implicitly and reuses it", async (c, port) => {
    await echoServer(c, port);
    const events = new Recorder();
    const client = c.add(await transport().open({ addresses: [addr] }, events.handler));
    const id = await client.sendTo([addr], port, seqPayload(7, 20), { stream: 1, ppid: 77 });
    const echo = await events.waitFor(
      (e) => e.type === "message" && e.assocId === id,
      5000,
      "the echo",
    ) as Extract<SctpEvent, { type: "message" }>;
    assert.equal(echo.ppid, 77);
    assert.equal(echo.stream, 1);
    assert.equal(new DataView(echo.data.buffer, echo.data.byteOffset).getUint32(0), 7);
    assert.equal(await client.sendTo([addr], port, seqPayload(8, 20), { ppid: 77 }), id);
    assert.deepEqual(client.associations(), [id]);
  });

  test("status", "status() reports peer addresses, streams and SRTT", async (c, port) => {
    const { server, events: serverEvents } = await echoServer(c, port, {
      outboundStreams: 7,
      inboundStreams: 9,
    });
    const events = new Recorder();
    let echoes = 0;
    events.onMessage = () => echoes++;
    const client = c.add(
      await transport().open(
        { addresses: [addr], outboundStreams: 5, inboundStreams: 12 },
        events.handler,
      ),
    );
    const id = await client.connect([addr], port, { timeout: 5000 });
    for (let i = 0; i < 20; i++) {
      client.send(id, seqPayload(i, 100), { ppid: 11 });
      await until(() => echoes === i + 1, 5000, "an echo");
    }
    const s = client.status(id);
    assert.ok(s !== undefined);
    assert.equal(s.assocId, id);
    assert.ok(s.peerAddresses.includes(addr), `peer addresses ${s.peerAddresses}`);
    assert.equal(s.peerPort, port);
    assert.equal(s.primaryAddress, addr);
    assert.equal(typeof s.srtt, "number");
    assert.ok(s.srtt >= 0 && s.srtt < 1000, `SRTT ${s.srtt} ms`);
    assert.equal(s.outboundStreams, 5, "min(our 5 outbound, peer's 9 inbound)");
    assert.equal(s.inboundStreams, 7, "min(peer's 7 outbound, our 12 inbound)");
    const up = await serverEvents.waitFor(ofType("up"), 1000, "up at the server");
    const ss = server.status((up as { assocId: number }).assocId);
    assert.ok(ss !== undefined && ss.peerPort === client.localPort);
    assert.equal(client.status(0x7ffffff0), undefined);
  });

  test("connect-fails", "connect() rejects when nobody answers", async (c, port) => {
    const client = c.add(await transport().open({ addresses: [addr], ...FAST }, () => {}));
    const t0 = Date.now();
    await assert.rejects(
      client.connect([addr], port, { timeout: 1500 }),
      (e: unknown) =>
        e instanceof SctpError && (e.code === "timeout" || e.code === "connect-failed"),
    );
    assert.ok(Date.now() - t0 < 5000);
    assert.deepEqual(client.associations(), []);
  });

  test(
    "one-to-one",
    "one-to-one endpoints: listen, accept a new endpoint, connect",
    async (c, port) => {
      const accepted: SctpEndpoint[] = [];
      const acceptedEvents = new Recorder();
      const listenerEvents = new Recorder();
      acceptedEvents.onMessage = (e) =>
        accepted[0].send(e.assocId, e.data, { stream: e.stream, ppid: e.ppid + 1 });
      const listener = c.add(
        await transport().open(
          { addresses: [addr], port, listen: true, style: "one-to-one" },
          (e) => {
            if (e.type === "accept") {
              accepted.push(c.add(e.endpoint));
              e.endpoint.setEventHandler?.(acceptedEvents.handler);
            }
            listenerEvents.handler(e);
          },
        ),
      );
      assert.equal(listener.localPort, port);
      const events = new Recorder();
      const client = c.add(
        await transport().open({ addresses: [addr], style: "one-to-one" }, events.handler),
      );
      const id = await client.connect([addr], port, { timeout: 5000 });
      await acceptedEvents.waitFor(ofType("up"), 5000, "up on the accepted endpoint");
      assert.equal(accepted.length, 1);
      assert.deepEqual(listener.associations(), []);
      client.send(id, seqPayload(3, 10), { stream: 2, ppid: 40 });
      const echo = await events.waitFor(ofType("message"), 5000, "the reply") as Extract<
        SctpEvent,
        { type: "message" }
      >;
      assert.equal(echo.ppid, 41);
      assert.equal(echo.stream, 2);
      client.shutdown(id);
      await acceptedEvents.waitFor(ofType("closed"), 5000, "closed on the accepted endpoint");
    },
    false,
  );

  test("autoclose", "autoClose closes idle associations", async (c, port) => {
    const { server, events } = await echoServer(c, port, { autoClose: 1 });
    const client = c.add(await transport().open({ addresses: [addr] }, new Recorder().handler));
    await client.connect([addr], port, { timeout: 5000 });
    const up = await events.waitFor(ofType("up"), 2000, "up at the server");
    await events.waitFor(
      ofType("closed", (up as { assocId: number }).assocId),
      6000,
      "the automatic close",
    );
    assert.deepEqual(server.associations(), []);
  });

  test(
    "queueing",
    "queues sends while the socket buffer is full and delivers all in order",
    async (c, port) => {
      let received = 0;
      let bytes = 0;
      let ordered = true;
      const serverEvents = new Recorder();
      serverEvents.onMessage = (e) => {
        if (new DataView(e.data.buffer, e.data.byteOffset).getUint32(0, false) !== received) {
          ordered = false;
        }
        received++;
        bytes += e.data.length;
      };
      c.add(
        await transport().open({ addresses: [addr], port, listen: true }, serverEvents.handler),
      );
      const client = c.add(await transport().open({ addresses: [addr] }, () => {}));
      const id = await client.connect([addr], port, { timeout: 5000 });
      const N = 400, SIZE = 32 * 1024;
      for (let i = 0; i < N; i++) client.send(id, seqPayload(i, SIZE), { ppid: 1 });
      await until(() => received === N, 30000, `${N} messages (got ${received})`);
      assert.equal(bytes, N * SIZE);
      assert.ok(ordered);
    },
  );

  test("large-message", "delivers a 300 000-byte message in one piece", async (c, port) => {
    await echoServer(c, port);
    const events = new Recorder();
    const client = c.add(await transport().open({ addresses: [addr] }, events.handler));
    const id = await client.connect([addr], port, { timeout: 5000 });
    const big = new Uint8Array(300000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 8)) & 0xff;
    client.send(id, big, { ppid: 5 });
    const echo = await events.waitFor(ofType("message"), 10000, "the echo") as Extract<
      SctpEvent,
      { type: "message" }
    >;
    assert.equal(echo.data.length, big.length);
    assert.deepEqual(echo.data, big);
  });

  test(
    "bindx",
    `binds two local addresses (${addr} and ${second}) and connects to both`,
    async (c, port) => {
      const both = [addr, second as string];
      const { events: serverEvents } = await echoServer(c, port, { addresses: both });
      const client = c.add(await transport().open({ addresses: both }, new Recorder().handler));
      assert.deepEqual([...client.localAddresses()].sort(), [...both].sort());
      const id = await client.connect(both, port, { timeout: 5000 });
      const s = client.status(id);
      assert.ok(s !== undefined);
      assert.deepEqual([...s.peerAddresses].sort(), [...both].sort());
      const up = await serverEvents.waitFor(ofType("up"), 5000, "up at the server");
      assert.deepEqual(
        [...(up as { peerAddresses: string[] }).peerAddresses].sort(),
        [...both].sort(),
      );
    },
    second === false,
  );
}
