/**
 * usrsctp-specific behaviour: the UDP port convention and its overrides, one stack per
 * process, error reporting.
 */
import assert from "node:assert/strict";
import { libc } from "../../ffi/libc.ts";
import { loadUsrsctp } from "../../ffi/usrsctp.ts";
import { SctpError } from "../../src/transport/types.ts";
import {
  canUseRawSockets,
  udpEncapsulationPort,
  usrsctpTransport,
} from "../../src/transport/usrsctp/mod.ts";
import { PeerProcess } from "./_peer_client.ts";

libc();
loadUsrsctp();

const BASE = 24000;

Deno.test("udpEncapsulationPort() flips the highest port bit", () => {
  assert.equal(udpEncapsulationPort(3863), 36631);
  assert.equal(udpEncapsulationPort(9901), 42669);
  assert.equal(udpEncapsulationPort(36631), 3863);
  assert.equal(udpEncapsulationPort(65535), 32767);
});

Deno.test("usrsctpTransport() takes the UDP port from the first endpoint's SCTP port", async () => {
  const port = BASE;
  const transport = usrsctpTransport({ mode: "udp" });
  assert.match(transport.description, /UDP port chosen at first endpoint/);
  const server = await transport.open({ addresses: ["127.0.0.1"], port, listen: true }, () => {});
  try {
    assert.equal(
      transport.description,
      `usrsctp (UDP encapsulation, UDP port ${udpEncapsulationPort(port)})`,
    );
  } finally {
    await server.close();
  }
});

Deno.test("usrsctpTransport() reports a UDP port in use as address-in-use", async () => {
  const udpPort = BASE + 1;
  const blocker = Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port: udpPort });
  try {
    await assert.rejects(
      usrsctpTransport({ mode: "udp", udpPort }).open({ addresses: ["127.0.0.1"] }, () => {}),
      (e: unknown) => e instanceof SctpError && e.code === "address-in-use",
    );
  } finally {
    blocker.close();
  }
});

Deno.test("usrsctpTransport() runs one stack per process: a second mode is refused", async () => {
  const udp = await usrsctpTransport({ mode: "udp" }).open({ addresses: ["127.0.0.1"] }, () => {});
  try {
    await assert.rejects(
      usrsctpTransport({ mode: "raw" }).open({ addresses: ["127.0.0.1"] }, () => {}),
      (e: unknown) =>
        e instanceof SctpError && e.code === "invalid-argument" &&
        /one stack per process/.test(e.message),
    );
  } finally {
    await udp.close();
  }
  // After the last endpoint closed, the stack stopped: raw works now (when privileged).
  if (canUseRawSockets()) {
    const raw = await usrsctpTransport({ mode: "raw" }).open(
      { addresses: ["127.0.0.1"] },
      () => {},
    );
    await raw.close();
  }
});

Deno.test({
  name: "usrsctpTransport() refuses raw IP without privileges",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const world = Deno.makeTempDirSync();
    Deno.chmodSync(world, 0o777);
    const out = await new Deno.Command("setpriv", {
      args: [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        Deno.execPath(),
        "eval",
        `import { openSctpTransport } from "${
          new URL("../../src/transport/select.ts", import.meta.url).href
        }";
         const t = await openSctpTransport();
         console.log(t.description);
         try { await openSctpTransport("usrsctp-raw"); } catch (e) { console.log(e.code, e.message); }`,
      ],
      env: { DENO_DIR: world, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    assert.match(text, /usrsctp \(UDP encapsulation.*no raw sockets \(not privileged\)/);
    assert.match(text, /unsupported Cannot use usrsctp with raw IP: raw sockets need root/);
    Deno.removeSync(world, { recursive: true });
  },
});

Deno.test({
  name: "usrsctp UDP encapsulation connects unprivileged processes on one host",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    const port = BASE + 4;
    const cache = Deno.makeTempDirSync();
    Deno.chmodSync(cache, 0o777);
    const env = { DENO_DIR: cache, NO_COLOR: "1" };
    try {
      await using server = await PeerProcess.start({ backend: "usrsctp", uid: 65534, env });
      await using client = await PeerProcess.start({ backend: "usrsctp", uid: 65534, env });
      assert.match(server.description, /^usrsctp \(UDP encapsulation/);
      const opened = await server.request("open", {
        ep: "s",
        echo: true,
        options: { addresses: ["127.0.0.1"], port, listen: true },
      });
      assert.match(opened.description, new RegExp(`UDP port ${udpEncapsulationPort(port)}\\)`));
      await client.request("open", { ep: "c", options: { addresses: ["127.0.0.1"] } });
      const { assocId } = await client.request("connect", {
        ep: "c",
        addresses: ["127.0.0.1"],
        port,
        timeout: 5000,
      });
      await client.request("send", { ep: "c", assocId, count: 200, size: 100, ppid: 11 });
      const deadline = Date.now() + 5000;
      let counts = await client.request("counts", { ep: "c" });
      while (counts.received < 200 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        counts = await client.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, 200);
      assert.ok(counts.inOrder);
      await client.exit();
      await server.exit();
    } finally {
      Deno.removeSync(cache, { recursive: true });
    }
  },
});

Deno.test({
  name: "usrsctp in UDP mode ignores raw SCTP traffic of other stacks on the host",
  ignore: !canUseRawSockets(),
  fn: async () => {
    const port = BASE + 5;
    // Privileged, so usrsctp opens raw sockets here too, and runs with blackhole 0 in UDP
    // mode: unfiltered, it would ABORT the raw peers' INIT ("No listener").
    const udp = await usrsctpTransport({ mode: "udp" }).open(
      { addresses: ["127.0.0.1"] },
      () => {},
    );
    try {
      await using server = await PeerProcess.start({ backend: "usrsctp-raw" });
      await using client = await PeerProcess.start({ backend: "usrsctp-raw" });
      await server.request("open", {
        ep: "s",
        echo: true,
        options: { addresses: ["127.0.0.1"], port, listen: true },
      });
      await client.request("open", { ep: "c", options: { addresses: ["127.0.0.1"] } });
      const { assocId } = await client.request("connect", {
        ep: "c",
        addresses: ["127.0.0.1"],
        port,
        timeout: 3000,
      });
      await client.request("send", { ep: "c", assocId, count: 20, size: 100 });
      const deadline = Date.now() + 3000;
      let counts = await client.request("counts", { ep: "c" });
      while (counts.received < 20 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        counts = await client.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, 20);
      await client.exit();
      await server.exit();
    } finally {
      await udp.close();
    }
  },
});

Deno.test("RSERPOOL_SCTP_UDP_PEERS tells the UDP port of a peer off the convention", async () => {
  const port = BASE + 2;
  const peerUdp = BASE + 3; // not udpEncapsulationPort(port)
  await using peer = await PeerProcess.start({
    backend: "usrsctp-udp",
    env: { RSERPOOL_SCTP_UDP_PORT: String(peerUdp) },
  });
  const opened = await peer.request("open", {
    ep: "s",
    echo: true,
    options: { addresses: ["127.0.0.1"], port, listen: true },
  });
  assert.match(opened.description, new RegExp(`UDP port ${peerUdp}\\)`));
  // Without the hint the INIT goes to udpEncapsulationPort(port): nobody answers.
  const plain = await usrsctpTransport({ mode: "udp" }).open(
    { addresses: ["127.0.0.1"] },
    () => {},
  );
  try {
    await assert.rejects(plain.connect(["127.0.0.1"], port, { timeout: 600 }), SctpError);
  } finally {
    await plain.close();
  }
  Deno.env.set("RSERPOOL_SCTP_UDP_PEERS", `127.0.0.1:${port}=${peerUdp}`);
  let transport;
  try {
    transport = usrsctpTransport({ mode: "udp" });
  } finally {
    Deno.env.delete("RSERPOOL_SCTP_UDP_PEERS");
  }
  let echoed = 0;
  const client = await transport.open({ addresses: ["127.0.0.1"] }, (e) => {
    if (e.type === "message") echoed++;
  });
  try {
    const id = await client.connect(["127.0.0.1"], port, { timeout: 3000 });
    client.send(id, new Uint8Array(8), { ppid: 1 });
    const deadline = Date.now() + 3000;
    while (echoed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.equal(echoed, 1);
  } finally {
    await client.close();
  }
  await peer.exit();
});

Deno.test("usrsctpTransport() rejects a malformed RSERPOOL_SCTP_UDP_PEERS", () => {
  Deno.env.set("RSERPOOL_SCTP_UDP_PEERS", "9901:36631");
  try {
    assert.throws(() => usrsctpTransport({ mode: "udp" }), /Cannot parse RSERPOOL_SCTP_UDP_PEERS/);
  } finally {
    Deno.env.delete("RSERPOOL_SCTP_UDP_PEERS");
  }
});

Deno.test("UsrsctpEndpoint methods throw SctpError after close()", async () => {
  const endpoint = await usrsctpTransport({ mode: "udp" }).open(
    { addresses: ["127.0.0.1"] },
    () => {},
  );
  await endpoint.close();
  await endpoint.close(); // idempotent
  assert.throws(
    () => endpoint.send(1, new Uint8Array(1)),
    (e: unknown) => e instanceof SctpError && e.code === "closed",
  );
  await assert.rejects(endpoint.connect(["127.0.0.1"], 1), SctpError);
  assert.equal(endpoint.status(1), undefined);
  assert.deepEqual(endpoint.associations(), []);
  assert.deepEqual(endpoint.localAddresses(), []);
});

Deno.test("UsrsctpEndpoint.send() throws no-association for an unknown association", async () => {
  await using endpoint = await usrsctpTransport({ mode: "udp" }).open(
    { addresses: ["127.0.0.1"] },
    () => {},
  );
  assert.throws(
    () => endpoint.send(4242, new Uint8Array(1)),
    (e: unknown) => e instanceof SctpError && e.code === "no-association",
  );
});
