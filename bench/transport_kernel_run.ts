/**
 * The kernel backend's side of `bench/transport_kernel.sh` (run inside the user-mode-linux
 * guest): the echo/count protocol and measurements of `bench/transport_kernel_echo.c`, with
 * our kernel transport.
 *
 *   deno run -A bench/transport_kernel_run.ts server ADDRESS PORT
 *   deno run -A bench/transport_kernel_run.ts client ADDRESS PORT RTT_COUNT BULK_COUNT SIZE
 *
 * PPID 1 = echo, 3 = count, 2 = reply with the count (4 bytes, big-endian) and reset it. The
 * client prints one JSON line (RTT percentiles of a ping-pong, rate of one-way messages).
 *
 * @module
 */

import { fdPoller } from "../src/transport/kernel/_poller.ts";
import { kernelTransport } from "../src/transport/kernel/mod.ts";
import type { SctpEndpoint } from "../src/transport/types.ts";

async function server(address: string, port: number): Promise<void> {
  let count = 0;
  const reply = new Uint8Array(4);
  const endpoint: SctpEndpoint = await kernelTransport().open(
    { addresses: [address], port, listen: true },
    (e) => {
      if (e.type !== "message") return;
      if (e.ppid === 1) endpoint.send(e.assocId, e.data, { stream: e.stream, ppid: 1 });
      else if (e.ppid === 3) count++;
      else if (e.ppid === 2) {
        new DataView(reply.buffer).setUint32(0, count, false);
        count = 0;
        endpoint.send(e.assocId, reply, { ppid: 2 });
      }
    },
  );
  console.log(`listening ${address}:${port}`);
  await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
  await endpoint.close({ abort: true });
}

async function client(
  address: string,
  port: number,
  rttCount: number,
  bulkCount: number,
  size: number,
): Promise<void> {
  let waiting: ((data: Uint8Array) => void) | undefined;
  const endpoint = await kernelTransport().open({}, (e) => {
    if (e.type === "message" && waiting) {
      const w = waiting;
      waiting = undefined;
      w(e.data.slice());
    }
  });
  const answer = () => new Promise<Uint8Array>((resolve) => (waiting = resolve));
  const payload = new Uint8Array(size);
  const t0 = performance.now();
  const id = await endpoint.connect([address], port, { timeout: 10000 });
  let reply = answer();
  endpoint.send(id, payload, { ppid: 1 });
  await reply;
  const setupMs = performance.now() - t0;
  const rtt: number[] = [];
  for (let i = 0; i < rttCount; i++) {
    const start = performance.now();
    reply = answer();
    endpoint.send(id, payload, { stream: i % 3, ppid: 1 });
    await reply;
    rtt.push((performance.now() - start) * 1000);
  }
  rtt.sort((a, b) => a - b);
  const pollsBefore = fdPoller().polls;
  const start = performance.now();
  for (let i = 0; i < bulkCount; i++) endpoint.send(id, payload, { ppid: 3 });
  reply = answer();
  endpoint.send(id, new Uint8Array(4), { ppid: 2 });
  const counted = new DataView((await reply).buffer).getUint32(0, false);
  const elapsed = performance.now() - start;
  const polls = fdPoller().polls - pollsBefore;
  await endpoint.close();
  console.log(JSON.stringify({
    impl: "deno",
    setupMs: Number(setupMs.toFixed(1)),
    rttCount,
    rttAvgUs: Math.round(rtt.reduce((a, b) => a + b, 0) / rtt.length),
    rttP50Us: Math.round(rtt[Math.floor(rtt.length / 2)]),
    rttP99Us: Math.round(rtt[Math.floor(rtt.length * 0.99)]),
    bulkCount,
    bulkCounted: counted,
    bulkMs: Number(elapsed.toFixed(1)),
    messagesPerSecond: Math.round(bulkCount / (elapsed / 1000)),
    pollsDuringBulk: polls,
    size,
  }));
  if (counted !== bulkCount) Deno.exit(2);
}

const [mode, address, port, ...rest] = Deno.args;
if (mode === "server" && address && port) {
  await server(address, Number(port));
} else if (mode === "client" && address && port && rest.length === 3) {
  await client(address, Number(port), Number(rest[0]), Number(rest[1]), Number(rest[2]));
} else {
  console.error(
    "usage: transport_kernel_run.ts server ADDRESS PORT | client ADDRESS PORT RTT BULK SIZE",
  );
  Deno.exit(1);
}
