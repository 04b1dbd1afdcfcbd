/**
 * An in-memory implementation of the SCTP transport interface, for unit tests of protocol logic
 * (registrar, pool elements, pool users) without sockets. Real SCTP (usrsctp, kernel) is tested
 * separately; this only models associations, ordered delivery and the association events.
 *
 * @module
 */

import {
  type SctpAssociationStatus,
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpSendOptions,
  type SctpTransport,
} from "../types.ts";

interface Association {
  id: number;
  endpoint: MemoryEndpoint;
  peer?: Association;
  up: boolean;
}

/**
 * A simulated network of hosts. Each host gets a transport with its own addresses; endpoints
 * find each other by address and port. Deliveries are asynchronous (macrotasks), in order.
 *
 * @example
 * ```ts
 * import { MemoryNetwork } from "./memory_transport.ts";
 * const net = new MemoryNetwork();
 * const server = await net.host(["10.0.0.1"]).open({ port: 5000, listen: true }, (e) => {
 *   if (e.type === "message") console.log(new TextDecoder().decode(e.data));
 * });
 * const client = await net.host(["10.0.0.2"]).open({}, () => {});
 * const id = await client.connect(["10.0.0.1"], 5000);
 * client.send(id, new TextEncoder().encode("hello"), { ppid: 11 });
 * await net.settle();
 * await client.close();
 * await server.close();
 * ```
 */
export class MemoryNetwork {
  /** Listening endpoints by "address port". */
  readonly #listeners = new Map<string, MemoryEndpoint>();
  readonly #bound = new Set<string>();
  #nextPort = 49152;
  #pending = 0;
  #idle: (() => void)[] = [];
  /** Smoothed RTT reported by `status()`, in ms. */
  srtt = 1;

  /** A transport for a host with these addresses. */
  host(addresses: string[]): MemoryTransport {
    return new MemoryTransport(this, addresses);
  }

  /** Resolves when every scheduled delivery has happened. */
  settle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Schedules `fn` as a delivery. */
  deliver(fn: () => void): void {
    this.#pending++;
    setTimeout(() => {
      try {
        fn();
      } finally {
        if (--this.#pending === 0) {
          const idle = this.#idle;
          this.#idle = [];
          for (const r of idle) r();
        }
      }
    }, 0);
  }

  /** Reserves a port on addresses (0 = ephemeral). */
  bind(addresses: string[], port: number, endpoint: MemoryEndpoint, listen: boolean): number {
    if (port === 0) {
      do port = this.#nextPort++; while (addresses.some((a) => this.#bound.has(`${a} ${port}`)));
    }
    for (const a of addresses) {
      if (this.#bound.has(`${a} ${port}`)) {
        throw new SctpError("address-in-use", `Cannot bind ${a}:${port}: address in use`);
      }
    }
    for (const a of addresses) {
      this.#bound.add(`${a} ${port}`);
      if (listen) this.#listeners.set(`${a} ${port}`, endpoint);
    }
    return port;
  }

  /** Releases a binding. */
  unbind(addresses: string[], port: number): void {
    for (const a of addresses) {
      this.#bound.delete(`${a} ${port}`);
      this.#listeners.delete(`${a} ${port}`);
    }
  }

  /** The listening endpoint at any of these addresses and the port. */
  listener(addresses: string[], port: number): MemoryEndpoint | undefined {
    for (const a of addresses) {
      const e = this.#listeners.get(`${a} ${port}`);
      if (e !== undefined) return e;
    }
    return undefined;
  }
}

/** A host's transport on a {@linkcode MemoryNetwork}. */
export class MemoryTransport implements SctpTransport {
  /** Reported as "usrsctp" so code paths behave as with a real backend. */
  readonly name = "usrsctp" as const;
  /** Human-readable description. */
  readonly description = "in-memory test transport";
  readonly #network: MemoryNetwork;
  readonly #addresses: string[];
  readonly #endpoints = new Set<MemoryEndpoint>();

  /**
   * @param network The network.
   * @param addresses The host's addresses.
   */
  constructor(network: MemoryNetwork, addresses: string[]) {
    this.#network = network;
    this.#addresses = addresses;
  }

  /** Opens an endpoint. */
  open(options: SctpEndpointOptions, onEvent: (event: SctpEvent) => void): Promise<SctpEndpoint> {
    const addresses = options.addresses?.length ? options.addresses : this.#addresses;
    const endpoint = new MemoryEndpoint(this.#network, addresses, onEvent, this);
    endpoint.bindPort(options.port ?? 0, options.listen ?? false);
    this.#endpoints.add(endpoint);
    return Promise.resolve(endpoint);
  }

  /** Simulates a crash of the host: every association is lost for the peers, silently here. */
  crash(): void {
    for (const e of this.#endpoints) e.crash();
    this.#endpoints.clear();
  }

  /** Forgets a closed endpoint. */
  forget(endpoint: MemoryEndpoint): void {
    this.#endpoints.delete(endpoint);
  }
}

/** An endpoint on a {@linkcode MemoryNetwork}. */
export class MemoryEndpoint implements SctpEndpoint {
  /** Reported backend name. */
  readonly backend = "usrsctp" as const;
  #port = 0;
  readonly #network: MemoryNetwork;
  readonly #addresses: string[];
  readonly #onEvent: (event: SctpEvent) => void;
  readonly #owner: MemoryTransport;
  readonly #associations = new Map<number, Association>();
  #nextId = 1;
  #closed = false;

  /** @internal */
  constructor(
    network: MemoryNetwork,
    addresses: string[],
    onEvent: (event: SctpEvent) => void,
    owner: MemoryTransport,
  ) {
    this.#network = network;
    this.#addresses = addresses;
    this.#onEvent = onEvent;
    this.#owner = owner;
  }

  /** @internal */
  bindPort(port: number, listen: boolean): void {
    this.#port = this.#network.bind(this.#addresses, port, this, listen);
  }

  /** Bound local port. */
  get localPort(): number {
    return this.#port;
  }

  /** Bound addresses. */
  localAddresses(): string[] {
    return [...this.#addresses];
  }

  #emit(event: SctpEvent): void {
    if (this.#closed) return;
    try {
      this.#onEvent(event);
    } catch (e) {
      console.error("event handler threw", e);
    }
  }

  /** @internal Accepts an incoming association. */
  accept(peer: Association): Association {
    const a: Association = { id: this.#nextId++, endpoint: this, peer, up: true };
    this.#associations.set(a.id, a);
    this.#emit({
      type: "up",
      assocId: a.id,
      peerAddresses: peer.endpoint.localAddresses(),
      peerPort: peer.endpoint.localPort,
      inboundStreams: 16,
      outboundStreams: 16,
    });
    return a;
  }

  /** Sets up an association. */
  connect(addresses: string[], port: number): Promise<number> {
    if (this.#closed) return Promise.reject(new SctpError("closed", "Cannot connect: closed"));
    return new Promise((resolve, reject) => {
      this.#network.deliver(() => {
        const listener = this.#network.listener(addresses, port);
        if (listener === undefined || listener.#closed) {
          reject(new SctpError("connect-failed", `Cannot connect to ${addresses}:${port}`));
          return;
        }
        const a: Association = { id: this.#nextId++, endpoint: this, up: true };
        this.#associations.set(a.id, a);
        a.peer = listener.accept(a);
        this.#emit({
          type: "up",
          assocId: a.id,
          peerAddresses: listener.localAddresses(),
          peerPort: port,
          inboundStreams: 16,
          outboundStreams: 16,
        });
        resolve(a.id);
      });
    });
  }

  /** Sends one message (delivered asynchronously, in order). */
  send(assocId: number, data: Uint8Array, options: SctpSendOptions = {}): void {
    const a = this.#associations.get(assocId);
    if (a === undefined || !a.up || this.#closed) {
      throw new SctpError("no-association", `Cannot send on association ${assocId}`);
    }
    const copy = data.slice();
    const peer = a.peer;
    this.#network.deliver(() => {
      if (peer === undefined || !peer.up) return;
      peer.endpoint.#emit({
        type: "message",
        assocId: peer.id,
        stream: options.stream ?? 0,
        ppid: options.ppid ?? 0,
        data: copy,
      });
    });
    if (options.eof) this.shutdown(assocId);
  }

  /** Sends to a peer, setting up an association when needed. */
  async sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options?: SctpSendOptions,
  ): Promise<number> {
    for (const a of this.#associations.values()) {
      const p = a.peer?.endpoint;
      if (
        a.up && p && p.localPort === port && p.localAddresses().some((x) => addresses.includes(x))
      ) {
        this.send(a.id, data, options);
        return a.id;
      }
    }
    const id = await this.connect(addresses, port);
    this.send(id, data, options);
    return id;
  }

  #end(a: Association, local: SctpEvent["type"], remote: SctpEvent["type"]): void {
    if (!a.up) return;
    a.up = false;
    this.#associations.delete(a.id);
    const peer = a.peer;
    this.#network.deliver(() => {
      this.#emit({ type: local as "closed", assocId: a.id });
      if (peer !== undefined && peer.up) {
        peer.up = false;
        peer.endpoint.#associations.delete(peer.id);
        if (remote === "shutdown") {
          peer.endpoint.#emit({ type: "shutdown", assocId: peer.id });
          peer.endpoint.#emit({ type: "closed", assocId: peer.id });
        } else {
          peer.endpoint.#emit({ type: remote as "lost", assocId: peer.id });
        }
      }
    });
  }

  /** Graceful shutdown. */
  shutdown(assocId: number): void {
    const a = this.#associations.get(assocId);
    if (a !== undefined) this.#end(a, "closed", "shutdown");
  }

  /** Abort. */
  abort(assocId: number): void {
    const a = this.#associations.get(assocId);
    if (a !== undefined) this.#end(a, "lost", "lost");
  }

  /** Status. */
  status(assocId: number): SctpAssociationStatus | undefined {
    const a = this.#associations.get(assocId);
    if (a === undefined || a.peer === undefined) return undefined;
    const peer = a.peer.endpoint;
    return {
      assocId,
      peerAddresses: peer.localAddresses(),
      peerPort: peer.localPort,
      primaryAddress: peer.localAddresses()[0],
      srtt: this.#network.srtt,
      inboundStreams: 16,
      outboundStreams: 16,
    };
  }

  /** Association ids. */
  associations(): number[] {
    return [...this.#associations.keys()];
  }

  /** @internal The host crashed: peers lose their associations, nothing is reported here. */
  crash(): void {
    for (const a of this.#associations.values()) {
      a.up = false;
      const peer = a.peer;
      this.#network.deliver(() => {
        if (peer !== undefined && peer.up) {
          peer.up = false;
          peer.endpoint.#associations.delete(peer.id);
          peer.endpoint.#emit({ type: "lost", assocId: peer.id });
        }
      });
    }
    this.#associations.clear();
    this.#closed = true;
    this.#network.unbind(this.#addresses, this.#port);
  }

  /** Closes the endpoint. */
  async close(options: { abort?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    for (const a of [...this.#associations.values()]) {
      if (options.abort) this.abort(a.id);
      else this.shutdown(a.id);
    }
    await this.#network.settle();
    this.#closed = true;
    this.#network.unbind(this.#addresses, this.#port);
    this.#owner.forget(this);
  }

  /** Same as close(). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
