/**
 * Kernel SCTP endpoints seeing a peer host die and come back, inside the user-mode-linux guest.
 * A killed kernel-SCTP process still ends its associations (its kernel sends SHUTDOWN), so the
 * peer here is a whole "host": a small kernel-SCTP peer (`_sctp_peer.py`; Python starts much
 * faster than Deno under UML) in its own network namespace behind a veth pair. Crashing it = cutting the link, killing the process and deleting the namespace
 * (all its SCTP state with it); restarting it = a new namespace with the same address and port.
 *
 *   scripts/uml/run.sh -- .tools/bin/deno test -A tests/guest/transport/kernel_loss_test.ts
 */
import assert from "node:assert/strict";
import { libc } from "../../../ffi/libc.ts";
import { libsctp } from "../../../ffi/libsctp.ts";
import { kernelSctpAvailable, kernelTransport } from "../../../src/transport/kernel/mod.ts";
import type { SctpEvent } from "../../../src/transport/types.ts";
import { FAST, Recorder } from "../../transport/_conformance.ts";

const skip = !kernelSctpAvailable()
  ? "no kernel SCTP here (run it in the user-mode-linux guest)"
  : Deno.uid() !== 0
  ? "needs root (network namespaces)"
  : undefined;
if (skip) console.warn(`kernel_loss_test.ts: SKIPPED: ${skip}`);
else {
  libc();
  libsctp();
}

async function ip(...args: string[]): Promise<void> {
  await ipBatch([], [args.join(" ")]);
}

/** Runs several `ip` commands in one process (every process costs under UML). */
async function ipBatch(options: string[], lines: string[]): Promise<void> {
  const child = new Deno.Command("ip", {
    args: [...options, "-batch", "-"],
    stdin: "piped",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(lines.join("\n") + "\n"));
  await writer.close();
  const r = await child.output();
  if (!r.success) {
    throw new Error(`Cannot run ip ${lines.join("; ")}: ${new TextDecoder().decode(r.stderr)}`);
  }
}

const PEER_SCRIPT = new URL("./_sctp_peer.py", import.meta.url).pathname;
/** The system Python (a version-manager shim on PATH may want a writable home). */
const PYTHON = (() => {
  try {
    return Deno.statSync("/usr/bin/python3").isFile ? "/usr/bin/python3" : "python3";
  } catch {
    return "python3";
  }
})();

/** A running `_sctp_peer.py` (a small kernel-SCTP peer; starts fast under UML). */
class PythonPeer {
  readonly #child: Deno.ChildProcess;
  #output = "";
  #reader: Promise<void>;

  constructor(namespace: string, args: string[]) {
    this.#child = new Deno.Command("ip", {
      args: ["netns", "exec", namespace, PYTHON, PEER_SCRIPT, ...args],
      stdin: "null",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const stdout = this.#child.stdout;
    this.#reader = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of stdout) this.#output += decoder.decode(chunk);
    })();
  }

  /** Waits until the output contains `text`. */
  async waitFor(text: string, timeout = 30000): Promise<void> {
    const deadline = Date.now() + timeout;
    while (!this.#output.includes(text)) {
      if (Date.now() > deadline) {
        throw new Error(`Peer did not print '${text}' in ${timeout} ms: ${this.#output}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** SIGKILL, and wait for the process. */
  async kill(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch { /* gone */ }
    await this.#child.status;
    await this.#reader;
  }
}

/** A peer "host": namespace + veth pair to the test's namespace (10.77.N.1 here, .2 there). */
class PeerHost implements AsyncDisposable {
  readonly name: string;
  readonly localAddress: string;
  readonly peerAddress: string;
  /** Our end of the veth pair. */
  readonly link: string;
  #peer: PythonPeer | undefined;

  constructor(index: number) {
    this.name = `rspk${Deno.pid}h${index}`;
    this.link = `rspk${index}`;
    this.localAddress = `10.77.${index}.1`;
    this.peerAddress = `10.77.${index}.2`;
  }

  /** Creates the namespace and link and starts `_sctp_peer.py ARGS...` in it. */
  async boot(...args: string[]): Promise<PythonPeer> {
    await ipBatch([], [
      `netns add ${this.name}`,
      `link add ${this.link} type veth peer name eth0 netns ${this.name}`,
      `addr add ${this.localAddress}/24 dev ${this.link}`,
      `link set ${this.link} up`,
    ]);
    await ipBatch(["-n", this.name], [
      "link set lo up",
      `addr add ${this.peerAddress}/24 dev eth0`,
      "link set eth0 up",
    ]);
    this.#peer = new PythonPeer(this.name, args);
    await this.#peer.waitFor("ready");
    return this.#peer;
  }

  /** The host dies: link down, peer killed, namespace (with all SCTP state) deleted. */
  async crash(): Promise<void> {
    await ip("link", "set", this.link, "down");
    await this.#peer?.kill();
    this.#peer = undefined;
    await ip("netns", "del", this.name);
    await ip("link", "del", this.link).catch(() => {}); // gone with the namespace
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#peer?.kill();
    await ip("netns", "del", this.name).catch(() => {});
    await ip("link", "del", this.link).catch(() => {});
  }
}

Deno.test({
  name: "kernel endpoint reports lost when the peer host dies, and fails its queued sends",
  ignore: skip !== undefined,
  fn: async () => {
    await using host = new PeerHost(1);
    await host.boot("server", host.peerAddress, "7001");
    const r = new Recorder();
    let echoes = 0;
    await using client = await kernelTransport().open(
      { addresses: [host.localAddress], ...FAST },
      (e) => e.type === "message" ? echoes++ : r.handler(e),
    );
    const id = await client.connect([host.peerAddress], 7001, { timeout: 5000 });
    client.send(id, new Uint8Array(100), { ppid: 11 });
    const deadline = Date.now() + 5000;
    while (echoes < 1 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 10));
    assert.equal(echoes, 1);
    await host.crash();
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) client.send(id, new Uint8Array(100), { ppid: 11, stream: 1 });
    await r.waitFor((e) => e.type === "lost" && e.assocId === id, 15000, "the lost event");
    const elapsed = Date.now() - t0;
    console.log(`loss detected after ${elapsed} ms`);
    assert.ok(!client.associations().includes(id));
    assert.ok(
      r.events.some((e) => e.type === "sendFailed" && e.assocId === id),
      "unacknowledged messages are reported as sendFailed",
    );
    assert.throws(() => client.send(id, new Uint8Array(4)));
  },
});

Deno.test({
  name: "kernel endpoint reports a restart when the peer host comes back on the same port",
  ignore: skip !== undefined,
  fn: async () => {
    const r = new Recorder();
    let received = 0;
    // Slow heartbeats here: the association must outlive the peer's crash.
    await using server = await kernelTransport().open(
      { port: 7002, listen: true, heartbeatInterval: 30000 },
      (e) => {
        if (e.type === "message") {
          received++;
          server.send(e.assocId, e.data, { stream: e.stream, ppid: e.ppid });
        } else r.handler(e);
      },
    );
    await using host = new PeerHost(2);
    const client = [host.peerAddress, "7102", host.localAddress, "7002"];
    const first = await host.boot("client", ...client, "1");
    await first.waitFor("echoes 1");
    const up = await r.waitFor((e) => e.type === "up", 5000, "up") as Extract<
      SctpEvent,
      { type: "up" }
    >;
    assert.equal(up.peerPort, 7102);
    await host.crash();
    const second = await host.boot("client", ...client, "5");
    await r.waitFor((e) => e.type === "restart" && e.assocId === up.assocId, 8000, "restart");
    assert.ok(server.associations().includes(up.assocId), "the same association id goes on");
    await second.waitFor("echoes 5", 10000);
    assert.equal(received, 6, "1 message before the restart, 5 after");
  },
});

Deno.test({
  name: "kernel endpoint sets up associations whose id comes late (slow INIT ACK, timeouts)",
  ignore: skip !== undefined,
  fn: async () => {
    await using host = new PeerHost(3);
    await host.boot("server", host.peerAddress, "7003");
    // 150 ms more on the way out: sctp_connectx returns before the INIT ACK, i.e. without an id.
    await ip("link", "set", host.link, "txqueuelen", "1000"); // netem wants a queue
    const tc = await new Deno.Command("tc", {
      args: ["qdisc", "add", "dev", host.link, "root", "netem", "delay", "150ms"],
      stderr: "piped",
    }).output();
    assert.ok(tc.success, new TextDecoder().decode(tc.stderr));
    const r = new Recorder();
    const echoes: number[] = [];
    await using client = await kernelTransport().open(
      { addresses: [host.localAddress], ...FAST },
      (e) => e.type === "message" ? echoes.push(e.assocId) : r.handler(e),
    );
    const t0 = Date.now();
    const id = await client.connect([host.peerAddress], 7003, { timeout: 5000 });
    assert.ok(id > 0, `a real association id (${id})`);
    assert.ok(Date.now() - t0 >= 250, "the handshake took the delay");
    assert.deepEqual(client.associations(), [id]);
    client.send(id, new Uint8Array(10), { ppid: 11 });
    // sendTo() on another endpoint: no association yet, no id from the kernel either.
    await using other = await kernelTransport().open(
      { addresses: [host.localAddress], ...FAST },
      (e) => e.type === "message" ? echoes.push(-e.assocId) : r.handler(e),
    );
    const id2 = await other.sendTo([host.peerAddress], 7003, new Uint8Array(20), { ppid: 11 });
    assert.ok(id2 > 0, `sendTo() answers with the real id (${id2})`);
    assert.equal(await other.sendTo([host.peerAddress], 7003, new Uint8Array(20)), id2);
    const deadline = Date.now() + 5000;
    while (echoes.length < 3 && Date.now() < deadline) await new Promise((x) => setTimeout(x, 20));
    assert.deepEqual(echoes.sort(), [-id2, -id2, id].sort());
    // Nobody answers: the timeout aborts an association that never got an id.
    const loss = await new Deno.Command("tc", {
      args: ["qdisc", "change", "dev", host.link, "root", "netem", "loss", "100%"],
    }).output();
    assert.ok(loss.success);
    await using third = await kernelTransport().open({ addresses: [host.localAddress] }, r.handler);
    await assert.rejects(
      third.connect([host.peerAddress], 7003, { timeout: 1000 }),
      (e: unknown) => e instanceof Error && /no answer in 1000 ms/.test(e.message),
    );
    assert.deepEqual(third.associations(), []);
  },
});
