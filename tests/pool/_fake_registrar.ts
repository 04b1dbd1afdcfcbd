/**
 * A scripted registrar on the memory transport for the pool library's unit tests: records
 * every ASAP message, answers with configurable responses, and can send Keep Alives.
 *
 * @module
 */

import {
  type AsapMessage,
  decodeMessage,
  encodeMessage,
  type PoolElementParameter,
  type PoolHandle,
  Ppid,
} from "../../src/codec/mod.ts";
import type { SctpEndpoint, SctpTransport } from "../../src/transport/types.ts";

/** A received message with the association it came on. */
export interface Received {
  assocId: number;
  message: AsapMessage;
}

/** What the fake registrar answers; return `undefined` to stay silent. */
export type Responder = (m: AsapMessage, assocId: number) => AsapMessage | undefined;

export class FakeRegistrar implements AsyncDisposable {
  readonly identifier: number;
  readonly received: Received[] = [];
  readonly registered = new Map<number, PoolElementParameter>();
  endpoint!: SctpEndpoint;
  respond: Responder;
  #waiters: { pred: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  assocs = new Set<number>();

  private constructor(identifier: number) {
    this.identifier = identifier;
    this.respond = (m) => this.defaultResponse(m);
  }

  static async start(
    host: SctpTransport,
    port: number,
    identifier = 0x11111111,
    addresses?: string[],
  ): Promise<FakeRegistrar> {
    const r = new FakeRegistrar(identifier);
    r.endpoint = await host.open({ addresses, port, listen: true }, (e) => {
      if (e.type === "up") r.assocs.add(e.assocId);
      if (e.type === "lost" || e.type === "closed") r.assocs.delete(e.assocId);
      if (e.type !== "message") return;
      const message = decodeMessage(e.ppid, e.data, { loopback: true }) as AsapMessage;
      const rec = { assocId: e.assocId, message };
      r.received.push(rec);
      for (const w of [...r.#waiters]) {
        if (w.pred(rec)) {
          r.#waiters.splice(r.#waiters.indexOf(w), 1);
          w.resolve(rec);
        }
      }
      const reply = r.respond(message, e.assocId);
      if (reply !== undefined) r.send(e.assocId, reply);
    });
    return r;
  }

  defaultResponse(m: AsapMessage): AsapMessage | undefined {
    switch (m.type) {
      case "registration":
        this.registered.set(m.poolElement.identifier, m.poolElement);
        return {
          type: "registrationResponse",
          poolHandle: m.poolHandle,
          identifier: m.poolElement.identifier,
          reject: false,
        };
      case "deregistration":
        this.registered.delete(m.identifier);
        return {
          type: "deregistrationResponse",
          poolHandle: m.poolHandle,
          identifier: m.identifier,
        };
      case "handleResolution": {
        const pes = [...this.registered.values()];
        if (pes.length === 0) {
          return {
            type: "handleResolutionResponse",
            poolHandle: m.poolHandle,
            error: { cause: 0x9 },
            poolElements: [],
          };
        }
        return {
          type: "handleResolutionResponse",
          poolHandle: m.poolHandle,
          policy: pes[0].policy,
          poolElements: pes.slice(0, m.items === undefined ? 3 : Math.min(m.items, 128)),
        };
      }
      default:
        return undefined;
    }
  }

  send(assocId: number, message: AsapMessage): void {
    this.endpoint.send(assocId, encodeMessage(message), { ppid: Ppid.ASAP });
  }

  /**
   * Sends an Endpoint Keep Alive from this registrar: for one pool element, or without
   * `identifier` for all of the pool's on that association; `home` sets the H flag.
   */
  sendKeepAlive(
    assocId: number,
    poolHandle: PoolHandle,
    identifier?: number,
    home = false,
  ): void {
    this.send(assocId, {
      type: "endpointKeepAlive",
      registrarIdentifier: this.identifier,
      poolHandle,
      ...(identifier === undefined ? {} : { identifier }),
      home,
    });
  }

  /** The pool element identifiers of the Keep Alive Acks received so far, in order. */
  ackedIdentifiers(): number[] {
    return this.received.flatMap((r) =>
      r.message.type === "endpointKeepAliveAck" ? [r.message.identifier] : []
    );
  }

  /** Resolves with the next received message that matches (or one received already). */
  waitFor(pred: (r: Received) => boolean, timeout = 3000): Promise<Received> {
    const found = this.received.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error("FakeRegistrar.waitFor timed out"));
      }, timeout);
      const waiter = {
        pred,
        resolve: (r: Received) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  count(type: AsapMessage["type"]): number {
    return this.received.filter((r) => r.message.type === type).length;
  }

  async close(): Promise<void> {
    await this.endpoint.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Waits until `cond()` holds (polling), or fails after `timeout` ms. */
export async function until(
  cond: () => boolean,
  timeout = 3000,
  what = "condition",
): Promise<void> {
  const end = performance.now() + timeout;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export const decoder = new TextDecoder();
