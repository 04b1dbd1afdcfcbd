/**
 * UDP multicast for announces: same host (several processes in a namespace with only `lo`),
 * across namespace hosts on a bridge (IPv4 and IPv6), loop-back off, and channel life cycle.
 * Datagrams never leave the test namespaces.
 */
import assert from "node:assert/strict";
import { openMulticastChannel } from "../../src/transport/multicast.ts";
import { createTestbed, netnsAvailable, type Testbed } from "../_netns.ts";

const PROGRAM = new URL("./_multicast_peer.ts", import.meta.url).pathname;
const noNetns = !netnsAvailable();

interface Received {
  address: string;
  port: number;
  text: string;
}

/** Starts `_multicast_peer.ts` in a testbed host. */
function start(bed: Testbed, host: number, args: string[]) {
  const child = bed.command(host, Deno.execPath(), {
    args: ["run", "-A", "--quiet", PROGRAM, ...args],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let readyResolve!: (v: { sendPort: number }) => void;
  const ready = new Promise<{ sendPort: number }>((r) => (readyResolve = r));
  const stderr = new Response(child.stderr).text();
  const result = (async () => {
    let text = "";
    let received: Received[] | undefined;
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      let nl: number;
      while ((nl = text.indexOf("\n")) >= 0) {
        const line = JSON.parse(text.slice(0, nl));
        text = text.slice(nl + 1);
        if (line.ready) readyResolve(line);
        if (line.received) received = line.received;
      }
    }
    const status = await child.status;
    const err = await stderr;
    if (!status.success || received === undefined) {
      throw new Error(`multicast peer failed (${status.code}): ${err}`);
    }
    return received;
  })();
  return { ready, result };
}

Deno.test({
  name: "openMulticastChannel() delivers to several processes on the same host",
  ignore: noNetns,
  fn: async () => {
    await using bed = await createTestbed({ loopbackOnly: true });
    const common = ["--group=239.0.0.50", "--port=3863", "--iface=127.0.0.1"];
    const r1 = start(bed, 1, [...common, "--expect=3", "--receive-ms=5000"]);
    const r2 = start(bed, 1, [...common, "--expect=3", "--receive-ms=5000"]);
    await Promise.all([r1.ready, r2.ready]);
    // A registrar sends its announces from its ASAP port (here 23863), not the group port.
    const sender = start(bed, 1, [
      ...common,
      "--send=3",
      "--send-port=23863",
      "--label=S",
      "--no-receive",
    ]);
    assert.equal((await sender.ready).sendPort, 23863);
    for (const r of [await r1.result, await r2.result]) {
      assert.deepEqual(r.map((m) => m.text), ["S:0", "S:1", "S:2"]);
      for (const m of r) {
        assert.equal(m.address, "127.0.0.1");
        assert.equal(m.port, 23863, "the source port tells the sender's port");
      }
    }
    assert.deepEqual(await sender.result, []);
  },
});

Deno.test({
  name: "openMulticastChannel() with loopback false is not heard on its own host",
  ignore: noNetns,
  fn: async () => {
    // On a real interface (not lo, which loops everything back anyway).
    await using bed = await createTestbed({ hosts: 2, links: 1 });
    const common = (h: number) => ["--group=239.0.0.50", "--port=3863", `--iface=198.18.0.${h}`];
    const local = start(bed, 1, [...common(1), "--receive-ms=1500"]);
    const remote = start(bed, 2, [...common(2), "--expect=2", "--receive-ms=3000"]);
    await Promise.all([local.ready, remote.ready]);
    const sender = start(bed, 1, [
      ...common(1),
      "--send=2",
      "--no-loopback",
      "--label=S",
      "--receive-ms=300",
    ]);
    assert.deepEqual(await sender.result, [], "not even the sending socket");
    assert.deepEqual(await local.result, []);
    assert.deepEqual((await remote.result).map((m) => m.text), ["S:0", "S:1"]);
  },
});

Deno.test({
  name: "openMulticastChannel() works across three namespace hosts on a bridge (IPv4)",
  ignore: noNetns,
  fn: async () => {
    await using bed = await createTestbed({ hosts: 3, links: 1 });
    const peers = [1, 2, 3].map((h) =>
      start(bed, h, [
        "--group=239.0.0.51",
        "--port=9901",
        `--iface=${bed.host(h).addresses[0]}`,
        "--send=2",
        "--delay=600",
        `--label=H${h}`,
        "--expect=6",
        "--receive-ms=6000",
      ])
    );
    await Promise.all(peers.map((p) => p.ready));
    for (const [i, p] of peers.entries()) {
      const got = await p.result;
      assert.equal(got.length, 6, `host ${i + 1} got ${JSON.stringify(got)}`);
      for (let h = 1; h <= 3; h++) {
        const from = got.filter((m) => m.address === `198.18.0.${h}`).map((m) => m.text).sort();
        assert.deepEqual(from, [`H${h}:0`, `H${h}:1`]);
      }
    }
  },
});

Deno.test({
  name: "openMulticastChannel() works across namespace hosts with IPv6",
  ignore: noNetns,
  fn: async () => {
    await using bed = await createTestbed({ hosts: 2, links: 1, ipv6: true });
    const args = (h: number) => [
      "--group=ff15::5c7:3863",
      "--port=3863",
      "--iface-name=eth0",
      "--send=2",
      "--delay=2500", // IPv6 addresses and MLD settle first
      `--label=H${h}`,
      "--expect=4",
      "--receive-ms=8000",
    ];
    const peers = [1, 2].map((h) => start(bed, h, args(h)));
    await Promise.all(peers.map((p) => p.ready));
    for (const p of peers) {
      const got = await p.result;
      assert.deepEqual(got.map((m) => m.text).sort(), ["H1:0", "H1:1", "H2:0", "H2:1"]);
    }
  },
});

Deno.test("MulticastChannel.close() ends async iteration and releases the sockets", async () => {
  // Joins on loopback only and sends nothing: no datagram leaves this host.
  const channel = await openMulticastChannel({
    group: "239.0.0.52",
    port: 0,
    interfaceAddress: "127.0.0.1",
  });
  const iteration = (async () => {
    const seen: number[] = [];
    for await (const m of channel) seen.push(m.data.length);
    return seen;
  })();
  await new Promise((r) => setTimeout(r, 20));
  await channel.close();
  assert.deepEqual(await iteration, []);
  await assert.rejects(channel.send(new Uint8Array(1)));
});

Deno.test("openMulticastChannel() with a callback cannot be iterated", async () => {
  await using channel = await openMulticastChannel(
    { group: "239.0.0.52", port: 0, interfaceAddress: "127.0.0.1" },
    () => {},
  );
  await assert.rejects(async () => {
    for await (const _ of channel) break;
  }, TypeError);
});
