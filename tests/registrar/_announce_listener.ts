/**
 * Test program: joins a multicast group, prints `ready`, collects `count` datagrams (or waits
 * `ms`), then prints `{"received":[{"address","port","hex"}...]}`.
 *
 *   deno run -A _announce_listener.ts <group> <port> <count> <ms>
 */
import { openMulticastChannel } from "../../src/transport/multicast.ts";

const [group, port, count, ms] = Deno.args;
const channel = await openMulticastChannel({
  group,
  port: Number(port),
  interfaceAddress: "127.0.0.1",
});
console.log("ready");
const received: { address: string; port: number; hex: string }[] = [];
const timer = setTimeout(() => channel.close(), Number(ms));
for await (const m of channel) {
  received.push({
    address: m.address,
    port: m.port,
    hex: Array.from(m.data, (b) => b.toString(16).padStart(2, "0")).join(""),
  });
  if (received.length >= Number(count)) break;
}
clearTimeout(timer);
await channel.close();
console.log(JSON.stringify({ received }));
