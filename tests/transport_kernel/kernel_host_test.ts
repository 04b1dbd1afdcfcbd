/**
 * Host-side tests of the kernel backend's parts that need no kernel SCTP: the availability
 * probe and its failure mode, the FdPoller (over pipes). Socket address packing and the errno
 * table are shared by both backends: `tests/transport/sockaddr_test.ts`, `errno_test.ts`.
 * The backend itself is tested in the user-mode-linux guest (tests/guest/transport/).
 */
import assert from "node:assert/strict";
import { libc } from "../../ffi/libc.ts";
import { KSCTP } from "../../ffi/libsctp.ts";
import {
  KERNEL_SCTP_MISSING_ERRNOS,
  kernelTransport,
  probeKernelSctp,
} from "../../src/transport/kernel/mod.ts";
import { FdPoller } from "../../src/transport/kernel/_poller.ts";
import { SctpError } from "../../src/transport/types.ts";

// Load libc for the whole file (the resource sanitizer would blame the first test).
libc();

function pipe(): [number, number] {
  const fds = new Int32Array(2);
  assert.equal(libc().pipe2(new Uint8Array(fds.buffer), KSCTP.O_NONBLOCK | KSCTP.O_CLOEXEC), 0);
  return [fds[0], fds[1]];
}

Deno.test("probeKernelSctp() explains why kernel SCTP is missing, or finds it", () => {
  const probe = probeKernelSctp();
  if (probe.available) {
    assert.equal(probe.reason, "");
  } else {
    assert.match(probe.reason, /SOCK_SEQPACKET|SCTP/);
    if (probe.errno !== undefined) assert.ok(KERNEL_SCTP_MISSING_ERRNOS.includes(probe.errno));
  }
  assert.equal(probeKernelSctp(), probe, "cached");
});

Deno.test({
  name: "kernelTransport().open() rejects with code unsupported without kernel SCTP",
  ignore: probeKernelSctp().available,
  fn: async () => {
    const transport = kernelTransport({ reason: "test" });
    assert.equal(transport.name, "kernel");
    assert.equal(transport.description, "kernel SCTP; test");
    await assert.rejects(
      transport.open({ port: 0 }, () => {}),
      (e: unknown) => e instanceof SctpError && e.code === "unsupported" && /SCTP/.test(e.message),
    );
  },
});

Deno.test("FdPoller reports readiness of a pipe and ends its loop when the last fd leaves", async () => {
  const c = libc();
  const [r, w] = pipe();
  const poller = new FdPoller();
  const seen: number[] = [];
  let wake!: () => void;
  const ready = new Promise<void>((resolve) => (wake = resolve));
  const buffer = new Uint8Array(16);
  poller.register(r, {
    onReady: (revents) => {
      seen.push(revents);
      while (Number(c.read(r, buffer, 16n)) > 0) { /* drain */ }
      wake();
    },
  });
  c.write(w, new Uint8Array([1, 2, 3]), 3n);
  await ready;
  assert.ok(seen.length >= 1 && (seen[0] & KSCTP.POLLIN) !== 0);
  await poller.unregister(r);
  await poller.idle();
  assert.equal(poller.size, 0);
  c.close(r);
  c.close(w);
});

Deno.test("FdPoller picks up new descriptors and POLLOUT while a poll() is in flight", async () => {
  const c = libc();
  const [r1, w1] = pipe();
  const [r2, w2] = pipe();
  const poller = new FdPoller();
  const events: string[] = [];
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const buffer = new Uint8Array(16);
  poller.register(r1, { onReady: () => events.push("r1") });
  await new Promise((resolve) => setTimeout(resolve, 20)); // the poll() now waits
  poller.register(r2, {
    onReady: () => {
      while (Number(c.read(r2, buffer, 16n)) > 0) { /* drain */ }
      events.push("r2");
      poller.register(w1, {
        onReady: (revents) => {
          if (revents & KSCTP.POLLOUT) events.push("w1 writable");
          poller.setEvents(w1, 0);
          done();
        },
      }, KSCTP.POLLOUT);
    },
  });
  c.write(w2, new Uint8Array([9]), 1n);
  await finished;
  assert.deepEqual(events, ["r2", "w1 writable"]);
  const polls = poller.polls;
  assert.ok(polls >= 3 && polls < 20, `${polls} poll() calls`);
  await Promise.all([poller.unregister(r1), poller.unregister(r2), poller.unregister(w1)]);
  await poller.idle();
  for (const fd of [r1, w1, r2, w2]) c.close(fd);
});
