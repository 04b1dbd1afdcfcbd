/**
 * A small ASAP client for registrar tests, built on the library's transport and codec: it sends
 * any message (or raw bytes) and waits for decoded replies and association events.
 */
import { decodeMessage, encodeMessage, Ppid, type RSerPoolMessage } from "../../mod.ts";
import type { SctpEndpoint, SctpEvent, SctpTransport } from "../../src/transport/types.ts";

type Waiter = { match: (e: SctpEvent | RSerPoolMessage) => boolean; resolve: (v: unknown) => void };

/** An association to a registrar with a queue of what arrived. */
export class AsapTestClient implements AsyncDisposable {
  readonly #endpoint: SctpEndpoint;
  readonly #assocId: number;
  readonly #messages: RSerPoolMessage[] = [];
  readonly #events: SctpEvent[] = [];
  readonly #waiters: Waiter[] = [];
  #lost = false;

  private constructor(endpoint: SctpEndpoint, assocId: number, early: SctpEvent[]) {
    this.#endpoint = endpoint;
    this.#assocId = assocId;
    for (const e of early) this.#push(e);
  }

  /** Connects to the registrar at `addresses`:`port`. */
  static async connect(
    transport: SctpTransport,
    addresses: string[],
    port: number,
    localAddresses?: string[],
  ): Promise<AsapTestClient> {
    let client: AsapTestClient | undefined;
    const early: SctpEvent[] = [];
    const endpoint = await transport.open({ addresses: localAddresses }, (e) => {
      const copy = e.type === "message" ? { ...e, data: e.data.slice() } : e;
      if (client) client.#push(copy);
      else early.push(copy);
    });
    try {
      const assocId = await endpoint.connect(addresses, port, { timeout: 5000 });
      client = new AsapTestClient(endpoint, assocId, early);
      return client;
    } catch (e) {
      await endpoint.close({ abort: true });
      throw e;
    }
  }

  #push(e: SctpEvent): void {
    let item: SctpEvent | RSerPoolMessage = e;
    if (e.type === "message") {
      if (e.ppid !== Ppid.ASAP) return;
      try {
        item = decodeMessage(Ppid.ASAP, e.data, { loopback: true });
      } catch (error) {
        throw new Error(`client cannot decode a registrar message: ${error}`);
      }
    } else if (e.type === "lost" || e.type === "closed" || e.type === "shutdown") {
      this.#lost = true;
    }
    const i = this.#waiters.findIndex((w) => w.match(item));
    if (i >= 0) {
      this.#waiters.splice(i, 1)[0].resolve(item);
      return;
    }
    if ("assocId" in item && e.type !== "message") this.#events.push(item as SctpEvent);
    else this.#messages.push(item as RSerPoolMessage);
  }

  /** The association id. */
  get assocId(): number {
    return this.#assocId;
  }

  /** The endpoint (for status queries). */
  get endpoint(): SctpEndpoint {
    return this.#endpoint;
  }

  /** Whether the association ended. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Sends a message, or raw bytes with a PPID. */
  send(message: RSerPoolMessage | Uint8Array, ppid: number = Ppid.ASAP): void {
    const bytes = message instanceof Uint8Array ? message : encodeMessage(message);
    this.#endpoint.send(this.#assocId, bytes, { ppid });
  }

  /** Waits for the next message of `type` (any type when absent). */
  next<T extends RSerPoolMessage["type"]>(
    type?: T,
    timeout = 5000,
  ): Promise<Extract<RSerPoolMessage, { type: T }>> {
    const match = (m: SctpEvent | RSerPoolMessage) =>
      !("assocId" in m && "ppid" in m) && (type === undefined || m.type === type) &&
      ![
        "up",
        "lost",
        "closed",
        "shutdown",
        "restart",
        "cantStart",
        "peerAddressChange",
        "sendFailed",
      ]
        .includes(m.type);
    const i = this.#messages.findIndex(match);
    if (i >= 0) return Promise.resolve(this.#messages.splice(i, 1)[0] as never);
    return this.#wait(match, timeout, `message ${type ?? "(any)"}`) as never;
  }

  /** Resolves with true when nothing of `type` arrives within `ms`. */
  async nothing(type: RSerPoolMessage["type"] | undefined, ms: number): Promise<boolean> {
    try {
      await this.next(type, ms);
      return false;
    } catch {
      return true;
    }
  }

  /** Waits until the association ends (lost, shutdown or closed). */
  ended(timeout = 5000): Promise<SctpEvent> {
    const ends = ["lost", "closed", "shutdown"];
    const i = this.#events.findIndex((e) => ends.includes(e.type));
    if (i >= 0) return Promise.resolve(this.#events[i]);
    return this.#wait(
      (e) => ends.includes(e.type) && "assocId" in e,
      timeout,
      "association end",
    ) as Promise<SctpEvent>;
  }

  #wait(match: Waiter["match"], timeout: number, what: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v);
        },
      };
      const timer = setTimeout(() => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(new Error(`timeout waiting for ${what}`));
      }, timeout);
      this.#waiters.push(waiter);
    });
  }

  /** Closes the association (ABORT with `abort`). */
  async close(abort = false): Promise<void> {
    await this.#endpoint.close({ abort });
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
