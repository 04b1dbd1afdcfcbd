/**
 * RSPLIB's registrar is reachable from our kernel backend, inside the user-mode-linux guest:
 * we receive a real `rspregistrar`'s ASAP Server Announce by UDP multicast, open a kernel SCTP
 * association to the address and port it came from, and ask for the pool of an `rspserver`
 * echo pool element (ASAP Handle Resolution).
 *
 *   scripts/uml/run.sh -- .tools/bin/deno test -A tests/guest/transport/rsplib_registrar_test.ts
 */
import assert from "node:assert/strict";
import { libc } from "../../../ffi/libc.ts";
import { libsctp } from "../../../ffi/libsctp.ts";
import { decodeMessage, encodeMessage, poolHandle, Ppid } from "../../../src/codec/mod.ts";
import { kernelSctpAvailable, kernelTransport } from "../../../src/transport/kernel/mod.ts";
import type { SctpEvent } from "../../../src/transport/types.ts";

const ANNOUNCE_GROUP = "239.0.0.50";
const ANNOUNCE_PORT = 3863;

function hasExecutable(name: string): boolean {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch { /* next */ }
  }
  return false;
}

/** The guest's first IPv4 address: site-local (RSPLIB ignores loopback addresses). */
function guestAddress(): string | undefined {
  return (Deno.env.get("RSERPOOL_UML_GUEST_ADDRESSES") ?? "").split(/\s+/)
    .find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
}

const address = guestAddress();
const skip = !kernelSctpAvailable()
  ? "no kernel SCTP here (run it in the user-mode-linux guest)"
  : address === undefined
  ? "RSERPOOL_UML_GUEST_ADDRESSES has no IPv4 address (run it with scripts/uml/run.sh)"
  : !hasExecutable("rspregistrar") || !hasExecutable("rspserver")
  ? "RSPLIB missing (apt-get install rsplib-registrar rsplib-tools)"
  : undefined;
if (skip) console.warn(`rsplib_registrar_test.ts: SKIPPED: ${skip}`);
else {
  libc();
  libsctp();
}

function spawn(program: string, args: string[]): Deno.ChildProcess {
  return new Deno.Command(program, { args, stdin: "null", stdout: "null", stderr: "piped" })
    .spawn();
}

async function stop(child: Deno.ChildProcess): Promise<string> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  const [, err] = await Promise.all([child.status, new Response(child.stderr).text()]);
  return err;
}

Deno.test({
  name: "kernel endpoint reaches rspregistrar found by its multicast ASAP Server Announce",
  ignore: skip !== undefined,
  fn: async () => {
    const here = address!;
    const started = Date.now();
    const registrar = spawn("rspregistrar", [
      `-asap=${here}:3863`,
      `-enrp=${here}:9901`,
      `-asapannounce=${ANNOUNCE_GROUP}:${ANNOUNCE_PORT}`,
      "-enrpannounce=off",
      "-serverannouncecycle=500",
      "-identifier=0x7e57",
      "-loglevel=1",
      "-logcolor=off",
    ]);
    let server: Deno.ChildProcess | undefined;
    const socket = Deno.listenDatagram({
      transport: "udp",
      hostname: "0.0.0.0",
      port: ANNOUNCE_PORT,
      reuseAddress: true,
    });
    const events: SctpEvent[] = [];
    let answer: ReturnType<typeof decodeMessage> | undefined;
    const endpoint = await kernelTransport().open({ addresses: [here] }, (e) => {
      if (e.type === "message") {
        if (e.ppid === Ppid.ASAP) answer = decodeMessage(e.ppid, e.data);
      } else events.push(e);
    });
    try {
      const membership = await socket.joinMulticastV4(ANNOUNCE_GROUP, here);
      // 1. The announce.
      let from: Deno.NetAddr | undefined;
      let registrarId = 0;
      const timer = setTimeout(() => socket.close(), 20000);
      try {
        for await (const [data, addr] of socket) {
          const message = decodeMessage(Ppid.ASAP, data);
          if (message.type !== "serverAnnounce") continue;
          from = addr as Deno.NetAddr;
          registrarId = message.registrarIdentifier;
          break;
        }
      } finally {
        clearTimeout(timer);
      }
      assert.ok(from, "an ASAP Server Announce arrived within 20 s");
      assert.equal(registrarId, 0x7e57);
      assert.equal(from.hostname, here);
      console.log(`announce from ${from.hostname}:${from.port} after ${Date.now() - started} ms`);
      await membership.leave();

      // 2. An association to where the announce came from.
      const assocId = await endpoint.connect([from.hostname], from.port, { timeout: 5000 });
      const up = events.find((e) => e.type === "up") as Extract<SctpEvent, { type: "up" }>;
      assert.equal(up.assocId, assocId);
      assert.ok(up.peerAddresses.includes(here));
      assert.equal(up.peerPort, 3863);

      // 3. ASAP over it: resolve the pool of an rspserver echo PE.
      server = spawn("rspserver", [`-registrar=${here}:3863`, "-echo", "-loglevel=1"]);
      const deadline = Date.now() + 20000;
      let elements = 0;
      while (Date.now() < deadline) {
        answer = undefined;
        endpoint.send(
          assocId,
          encodeMessage({ type: "handleResolution", poolHandle: poolHandle("EchoPool") }),
          { ppid: Ppid.ASAP },
        );
        const asked = Date.now();
        while (answer === undefined && Date.now() - asked < 2000) {
          await new Promise((r) => setTimeout(r, 20));
        }
        const reply = answer as ReturnType<typeof decodeMessage> | undefined;
        if (reply?.type === "handleResolutionResponse" && reply.poolElements.length > 0) {
          elements = reply.poolElements.length;
          assert.ok(reply.poolElements[0].userTransport.addresses.includes(here));
          break;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.equal(elements, 1, "the registrar knows the echo pool element");
      console.log(`handle resolution answered after ${Date.now() - started} ms`);
    } finally {
      await endpoint.close();
      try {
        socket.close();
      } catch { /* closed by the timer */ }
      if (server) await stop(server);
      await stop(registrar);
    }
  },
});
