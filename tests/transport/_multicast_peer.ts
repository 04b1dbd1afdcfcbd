/**
 * Multicast test program (runs inside a test namespace): joins a group, prints
 * `{"ready":true,"sendPort":N}`, sends `--send` datagrams (100 ms apart, after `--delay` ms),
 * receives for `--receive-ms` ms (or until `--expect` datagrams arrived), then prints
 * `{"received":[{"address","port","text"}...]}` and exits.
 *
 *   deno run -A _multicast_peer.ts --group=239.0.0.50 --port=3863 [--iface=127.0.0.1]
 *     [--iface-name=eth0] [--send=3] [--send-port=N] [--no-loopback] [--no-receive]
 *     [--receive-ms=3000] [--expect=N] [--delay=MS] [--label=TEXT]
 *
 * @module
 */

import { openMulticastChannel } from "../../src/transport/multicast.ts";

const args = new Map<string, string>();
for (const a of Deno.args) {
  const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
  if (m) args.set(m[1], m[2] ?? "true");
}
const num = (name: string, fallback: number): number =>
  args.has(name) ? Number(args.get(name)) : fallback;

let interfaceIndex = 0;
if (args.has("iface-name")) {
  interfaceIndex = Number(
    Deno.readTextFileSync(`/sys/class/net/${args.get("iface-name")}/ifindex`),
  );
}
const received: { address: string; port: number; text: string }[] = [];
const expect = num("expect", Infinity);
let done!: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
const receive = !args.has("no-receive");
const channel = await openMulticastChannel(
  {
    group: args.get("group") ?? "239.0.0.50",
    port: num("port", 3863),
    interfaceAddress: args.get("iface"),
    interfaceIndex,
    ttl: num("ttl", 1),
    loopback: !args.has("no-loopback"),
    receive,
    sendPort: args.has("send-port") ? num("send-port", 0) : undefined,
  },
  receive
    ? (m) => {
      received.push({ address: m.address, port: m.port, text: new TextDecoder().decode(m.data) });
      if (received.length >= expect) done();
    }
    : undefined,
);
console.log(JSON.stringify({ ready: true, sendPort: channel.sendPort }));
await new Promise((r) => setTimeout(r, num("delay", 0)));
const label = args.get("label") ?? "peer";
for (let i = 0; i < num("send", 0); i++) {
  await channel.send(new TextEncoder().encode(`${label}:${i}`));
  await new Promise((r) => setTimeout(r, 100));
}
const timer = setTimeout(done, num("receive-ms", receive ? 3000 : 0));
await finished;
clearTimeout(timer);
await channel.close();
console.log(JSON.stringify({ received }));
