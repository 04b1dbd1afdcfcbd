/**
 * A controllable SCTP peer process for the transport tests: reads JSON commands from stdin (one
 * per line), answers on stdout (one JSON object per line), and reports endpoint events.
 *
 *   deno run -A tests/transport/_peer.ts [--backend=auto|kernel|usrsctp|usrsctp-raw|usrsctp-udp]
 *
 * Output: first `{"ready":true,"description":...}`; then replies `{"seq":N,"ok":true,...}` or
 * `{"seq":N,"ok":false,"error":...,"code":...}`, and events `{"ep":NAME,"event":{...}}` (message
 * events are counted, not printed, unless the endpoint was opened with `report: true`).
 *
 * Commands (`{"seq":N,"cmd":...}`):
 * - `open {ep, options, echo?, report?}` → `{localPort, localAddresses, description}`
 * - `connect {ep, addresses, port, timeout?}` → `{assocId}`
 * - `send {ep, assocId, count, size?, stream?, ppid?, intervalMs?}` → when all are handed over
 * - `sendTo {ep, addresses, port, size?, stream?, ppid?}` → `{assocId}`
 * - `shutdown|abort {ep, assocId}`, `status {ep, assocId}` → `{status}`
 * - `counts {ep}` → `{received, bytes, inOrder}`; `close {ep, abort?}`; `exit`
 *
 * @module
 */

import { openSctpTransport } from "../../src/transport/select.ts";
import type {
  SctpBackendChoice,
  SctpEndpoint,
  SctpEndpointOptions,
  SctpEvent,
} from "../../src/transport/types.ts";

interface PeerEndpoint {
  endpoint: SctpEndpoint;
  echo: boolean;
  report: boolean;
  received: number;
  bytes: number;
  /** Next expected sequence number per association and stream (payload starts with u32 seq). */
  expected: Map<string, number>;
  inOrder: boolean;
}

const encoder = new TextEncoder();
function write(value: unknown): void {
  Deno.stdout.writeSync(encoder.encode(JSON.stringify(value) + "\n"));
}

const backendArg = Deno.args.find((a) => a.startsWith("--backend="));
const backend = backendArg?.slice("--backend=".length) as SctpBackendChoice | undefined;
const transport = await openSctpTransport(backend);
const endpoints = new Map<string, PeerEndpoint>();

function summarize(event: SctpEvent): unknown {
  if (event.type === "message") {
    return { ...event, data: Array.from(event.data.subarray(0, 64)), length: event.data.length };
  }
  if (event.type === "accept") return { type: "accept" };
  return event;
}

function handler(name: string): (event: SctpEvent) => void {
  return (event) => {
    const p = endpoints.get(name);
    if (p === undefined) return;
    if (event.type === "message") {
      p.received++;
      p.bytes += event.data.length;
      if (event.data.length >= 4) {
        const seq = new DataView(event.data.buffer, event.data.byteOffset).getUint32(0, false);
        const key = `${event.assocId}/${event.stream}`;
        const want = p.expected.get(key) ?? seq;
        if (seq !== want) p.inOrder = false;
        p.expected.set(key, seq + 1);
      }
      if (p.echo) {
        p.endpoint.send(event.assocId, event.data, { stream: event.stream, ppid: event.ppid });
      }
      if (!p.report) return;
    }
    write({ ep: name, event: summarize(event) });
  };
}

function payload(seq: number, size: number): Uint8Array {
  const data = new Uint8Array(Math.max(4, size));
  new DataView(data.buffer).setUint32(0, seq, false);
  return data;
}

function get(name: unknown): PeerEndpoint {
  const p = endpoints.get(String(name));
  if (p === undefined) throw new Error(`Cannot find endpoint '${name}'`);
  return p;
}

// deno-lint-ignore no-explicit-any
type Command = Record<string, any>;

async function execute(c: Command): Promise<Record<string, unknown>> {
  switch (c.cmd) {
    case "open": {
      const name = String(c.ep);
      const endpoint = await transport.open(c.options as SctpEndpointOptions, handler(name));
      endpoints.set(name, {
        endpoint,
        echo: c.echo === true,
        report: c.report === true,
        received: 0,
        bytes: 0,
        expected: new Map(),
        inOrder: true,
      });
      return {
        localPort: endpoint.localPort,
        localAddresses: endpoint.localAddresses(),
        description: transport.description,
      };
    }
    case "connect":
      return {
        assocId: await get(c.ep).endpoint.connect(c.addresses, c.port, { timeout: c.timeout }),
      };
    case "send": {
      const p = get(c.ep);
      const count = Number(c.count ?? 1);
      for (let i = 0; i < count; i++) {
        p.endpoint.send(c.assocId, payload(i, c.size ?? 100), {
          stream: c.stream ?? 0,
          ppid: c.ppid ?? 0,
        });
        if (c.intervalMs) await new Promise((r) => setTimeout(r, c.intervalMs));
      }
      return { sent: count };
    }
    case "sendTo":
      return {
        assocId: await get(c.ep).endpoint.sendTo(c.addresses, c.port, payload(0, c.size ?? 100), {
          stream: c.stream ?? 0,
          ppid: c.ppid ?? 0,
        }),
      };
    case "shutdown":
      get(c.ep).endpoint.shutdown(c.assocId);
      return {};
    case "abort":
      get(c.ep).endpoint.abort(c.assocId);
      return {};
    case "status":
      return { status: get(c.ep).endpoint.status(c.assocId) ?? null };
    case "associations":
      return { associations: get(c.ep).endpoint.associations() };
    case "counts": {
      const p = get(c.ep);
      return { received: p.received, bytes: p.bytes, inOrder: p.inOrder };
    }
    case "close": {
      const p = get(c.ep);
      await p.endpoint.close({ abort: c.abort === true });
      endpoints.delete(String(c.ep));
      return {};
    }
    case "exit":
      for (const p of endpoints.values()) await p.endpoint.close();
      endpoints.clear();
      return {};
    default:
      throw new Error(`Cannot execute unknown command '${c.cmd}'`);
  }
}

write({ ready: true, description: transport.description });

const decoder = new TextDecoder();
let pending = "";
let exiting = false;
const running = new Set<Promise<void>>();
for await (const chunk of Deno.stdin.readable) {
  pending += decoder.decode(chunk, { stream: true });
  let newline: number;
  while ((newline = pending.indexOf("\n")) >= 0) {
    const line = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (line === "") continue;
    const command = JSON.parse(line) as Command;
    const task = execute(command).then(
      (result) => write({ seq: command.seq, ok: true, ...result }),
      (error) =>
        write({
          seq: command.seq,
          ok: false,
          error: error instanceof Error ? error.message : String(error),
          code: (error as { code?: string }).code,
        }),
    );
    if (command.cmd === "exit") {
      exiting = true;
      await Promise.all(running);
      await task;
      break;
    }
    running.add(task);
    task.finally(() => running.delete(task));
  }
  if (exiting) break;
}
if (!exiting) {
  for (const p of endpoints.values()) await p.endpoint.close();
}
