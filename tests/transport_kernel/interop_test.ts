/**
 * Kernel SCTP ↔ usrsctp across two kernels: our kernel backend runs in a user-mode-linux guest
 * (10.9.0.2), our usrsctp backend over raw IP in the guest's host-side network namespace
 * (10.9.0.1; the host kernel has no SCTP, so nothing answers for usrsctp there). Both are the
 * `tests/transport/_peer.ts` program; one guest serves all steps.
 *
 * Needs root, user-mode-linux and libusrsctp2; skipped otherwise.
 */
import assert from "node:assert/strict";
import { umlAvailable } from "../_uml.ts";
import { PeerProcess } from "../transport/_peer_client.ts";
import { GuestPeer } from "./_guest_peer.ts";

const FAST = {
  rtoInitial: 300,
  rtoMin: 200,
  rtoMax: 600,
  heartbeatInterval: 300,
  pathMaxRetransmissions: 2,
  associationMaxRetransmissions: 4,
};

function usrsctpUsable(): boolean {
  try {
    Deno.dlopen("libusrsctp.so.2", {}).close();
    return true;
  } catch {
    return false;
  }
}

const skip = !umlAvailable()
  ? "needs root and user-mode-linux (scripts/setup.sh --test)"
  : !usrsctpUsable()
  ? "needs libusrsctp2"
  : undefined;
if (skip) console.warn(`interop_test.ts: SKIPPED: ${skip}`);

Deno.test({
  name:
    "kernel SCTP (guest) and usrsctp (host side) interoperate both ways, see losses and restarts",
  ignore: skip !== undefined,
  fn: async (t) => {
    const started = Date.now();
    await using guest = await GuestPeer.start({ timeout: 240 });
    const guestAddress = guest.guest.guestAddresses[0]; // 10.9.0.2
    const hostAddress = guest.guest.hostAddresses[0]; // 10.9.0.1
    const bed = guest.hostSide();
    const usrsctp = () => PeerProcess.start({ backend: "usrsctp-raw", testbed: bed, host: 1 });
    console.log(`guest ready after ${guest.guest.bootMilliseconds} ms`);

    await guest.request("open", {
      ep: "s",
      echo: true,
      options: { addresses: [guestAddress], port: 5001, listen: true, ...FAST },
    });

    await t.step("usrsctp client -> kernel server: 2000 echoes on 3 streams", async () => {
      await using client = await usrsctp();
      await client.request("open", { ep: "c", options: { addresses: [hostAddress], ...FAST } });
      const { assocId } = await client.request("connect", {
        ep: "c",
        addresses: [guestAddress],
        port: 5001,
        timeout: 5000,
      });
      for (let stream = 0; stream < 3; stream++) {
        await client.request("send", { ep: "c", assocId, count: 667, size: 100, stream, ppid: 11 });
      }
      const deadline = Date.now() + 30000;
      let counts = await client.request("counts", { ep: "c" });
      while (counts.received < 2001 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        counts = await client.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, 2001);
      assert.ok(counts.inOrder, "in order on every stream");
      await client.exit();
      await guest.waitFor((e) => e.ep === "s" && e.event.type === "closed", 5000);
    });

    await t.step("kernel client -> usrsctp server: 2000 echoes", async () => {
      await using server = await usrsctp();
      await server.request("open", {
        ep: "s",
        echo: true,
        options: { addresses: [hostAddress], port: 5002, listen: true, ...FAST },
      });
      await guest.request("open", { ep: "c", options: { addresses: [guestAddress], ...FAST } });
      const { assocId } = await guest.request("connect", {
        ep: "c",
        addresses: [hostAddress],
        port: 5002,
        timeout: 5000,
      });
      await guest.request("send", {
        ep: "c",
        assocId,
        count: 2000,
        size: 100,
        stream: 1,
        ppid: 12,
      });
      const counts = await guest.waitForCount("c", 2000);
      assert.equal(counts.received, 2000);
      assert.ok(counts.inOrder);
      await guest.request("close", { ep: "c" });
      await server.exit();
    });

    await t.step("kernel server reports lost when the usrsctp peer is killed", async () => {
      const peer = await usrsctp();
      await peer.request("open", { ep: "c", options: { addresses: [hostAddress], ...FAST } });
      const before = guest.events.length;
      await peer.request("connect", { ep: "c", addresses: [guestAddress], port: 5001 });
      const up = await guest.waitFor(
        (e) => guest.events.indexOf(e) >= before && e.ep === "s" && e.event.type === "up",
        5000,
      );
      const t0 = Date.now();
      await peer.kill(); // usrsctp's state dies with the process: no SHUTDOWN, no ABORT
      await guest.waitFor(
        (e) => e.ep === "s" && e.event.type === "lost" && e.event.assocId === up.event.assocId,
        15000,
      );
      console.log(`loss detected after ${Date.now() - t0} ms`);
    });

    await t.step("kernel server reports a restart when the usrsctp peer comes back", async () => {
      const open = { ep: "c", options: { addresses: [hostAddress], port: 5003, ...FAST } };
      const first = await usrsctp();
      await first.request("open", open);
      await first.request("connect", { ep: "c", addresses: [guestAddress], port: 5001 });
      const up = await guest.waitFor(
        (e) => e.ep === "s" && e.event.type === "up" && e.event.peerPort === 5003,
        5000,
      );
      await first.kill();
      await using second = await usrsctp();
      await second.request("open", open);
      const { assocId } = await second.request("connect", {
        ep: "c",
        addresses: [guestAddress],
        port: 5001,
        timeout: 5000,
      });
      await guest.waitFor(
        (e) => e.ep === "s" && e.event.type === "restart" && e.event.assocId === up.event.assocId,
        8000,
      );
      await second.request("send", { ep: "c", assocId, count: 5, size: 40, ppid: 11 });
      const deadline = Date.now() + 5000;
      let counts = await second.request("counts", { ep: "c" });
      while (counts.received < 5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        counts = await second.request("counts", { ep: "c" });
      }
      assert.equal(counts.received, 5, "echoes over the restarted association");
      await second.exit();
    });
    console.log(`interop test: ${Date.now() - started} ms`);
  },
});
