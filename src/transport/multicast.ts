/**
 * UDP multicast for ASAP Server Announces and ENRP Presences (RFC 5352 §3.3, RFC 5353 §3.3):
 * join a group, receive datagrams with their source address and port, send to the group.
 *
 * Built on `Deno.listenDatagram` (needs `--unstable-net`; deno.json enables it). Notes:
 * - Deno turns multicast loop-back off by default; `loopback` defaults to `true` here, so that
 *   registrars, pool elements and pool users on one host hear each other.
 * - The receiving socket binds the group port with `reuseAddress`, so several processes on one
 *   host can listen to the same group.
 * - `sendPort` sends from a separate socket bound to that port (a registrar sends its announces
 *   from its ASAP port so that receivers learn the port from the source port); when it equals
 *   the group port, the receiving socket sends.
 * - The outgoing interface follows the route to the group (Deno has no `IP_MULTICAST_IF`).
 *
 * @example Receive ASAP announces and send one
 * ```ts ignore
 * import { openMulticastChannel } from "./multicast.ts";
 * const channel = await openMulticastChannel(
 *   { group: "239.0.0.50", port: 3863, interfaceAddress: "127.0.0.1", ttl: 1 },
 *   (m) => console.log(`${m.data.length} bytes from ${m.address}:${m.port}`),
 * );
 * await channel.send(new Uint8Array([0x0b, 0, 0, 8, 0, 0, 0, 1]));
 * await channel.close();
 * ```
 *
 * @module
 */

/**
 * Options of {@linkcode openMulticastChannel}.
 *
 * @example
 * ```ts
 * import type { MulticastOptions } from "./multicast.ts";
 * const asapAnnounces: MulticastOptions = { group: "239.0.0.50", port: 3863, ttl: 1 };
 * ```
 */
export interface MulticastOptions {
  /** Group address, IPv4 (e.g. "239.0.0.50") or IPv6 (e.g. "ff05::1:3863"). */
  group: string;
  /** UDP port of the group. */
  port: number;
  /**
   * IPv4: address of the interface to join on ("0.0.0.0": the kernel's choice).
   *
   * @default {"0.0.0.0"}
   */
  interfaceAddress?: string;
  /**
   * IPv6: index of the interface to join on (0: the kernel's choice).
   *
   * @default {0}
   */
  interfaceIndex?: number;
  /**
   * IPv4 multicast TTL of sent datagrams (IPv6 uses the system's hop limit, 1).
   *
   * @default {1}
   */
  ttl?: number;
  /**
   * Deliver sent datagrams to receivers on this host too (`IP_MULTICAST_LOOP`).
   *
   * @default {true}
   */
  loopback?: boolean;
  /**
   * Join the group and receive. `false`: send only.
   *
   * @default {true}
   */
  receive?: boolean;
  /**
   * Local UDP port to send from (0: an ephemeral port). Default: the receiving socket (source
   * port = group port), or an ephemeral port when not receiving.
   */
  sendPort?: number;
  /**
   * Messages kept for the async iterator when nobody reads (older ones are dropped).
   *
   * @default {1024}
   */
  queueLimit?: number;
}

/**
 * A received datagram.
 *
 * @example
 * ```ts
 * import type { MulticastMessage } from "./multicast.ts";
 * const describe = (m: MulticastMessage) => `${m.data.length} B from ${m.address}:${m.port}`;
 * ```
 */
export interface MulticastMessage {
  /** Payload (owned by the receiver). */
  data: Uint8Array;
  /** Source address. */
  address: string;
  /** Source UDP port. */
  port: number;
}

type Membership = Deno.MulticastV4Membership | Deno.MulticastV6Membership;

function isIPv6(address: string): boolean {
  return address.includes(":");
}

function listen(hostname: string, port: number, loopback: boolean): Deno.DatagramConn {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError("Cannot use UDP multicast: Deno.listenDatagram needs --unstable-net");
  }
  return Deno.listenDatagram({
    transport: "udp",
    hostname,
    port,
    reuseAddress: true,
    loopback,
  });
}

async function join(conn: Deno.DatagramConn, o: Required<ResolvedOptions>): Promise<Membership> {
  if (isIPv6(o.group)) {
    const membership = await conn.joinMulticastV6(o.group, o.interfaceIndex);
    await membership.setLoopback(o.loopback);
    return membership;
  }
  const membership = await conn.joinMulticastV4(o.group, o.interfaceAddress);
  await membership.setLoopback(o.loopback);
  await membership.setTTL(o.ttl);
  return membership;
}

interface ResolvedOptions {
  group: string;
  port: number;
  interfaceAddress: string;
  interfaceIndex: number;
  ttl: number;
  loopback: boolean;
}

/**
 * A joined multicast group: send to it, receive from it (callback or async iteration).
 * Close it with {@linkcode MulticastChannel.close} (or `await using`).
 *
 * @example
 * ```ts ignore
 * import { openMulticastChannel } from "./multicast.ts";
 * await using channel = await openMulticastChannel({ group: "239.0.0.50", port: 3863 });
 * for await (const m of channel) console.log(m.address, m.port);
 * ```
 */
export class MulticastChannel implements AsyncIterable<MulticastMessage>, AsyncDisposable {
  #options: Required<ResolvedOptions>;
  #receiver: Deno.DatagramConn | undefined;
  #sender: Deno.DatagramConn;
  #memberships: Membership[];
  #target: Deno.NetAddr;
  #onMessage: ((message: MulticastMessage) => void) | undefined;
  #queue: MulticastMessage[] = [];
  #queueLimit: number;
  #wakeup: (() => void) | undefined;
  #reader: Promise<void> | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  /** @internal Use {@linkcode openMulticastChannel}. */
  constructor(
    options: Required<ResolvedOptions>,
    receiver: Deno.DatagramConn | undefined,
    sender: Deno.DatagramConn,
    memberships: Membership[],
    onMessage: ((message: MulticastMessage) => void) | undefined,
    queueLimit: number,
  ) {
    this.#options = options;
    this.#receiver = receiver;
    this.#sender = sender;
    this.#memberships = memberships;
    this.#onMessage = onMessage;
    this.#queueLimit = queueLimit;
    this.#target = { transport: "udp", hostname: options.group, port: options.port };
    if (receiver !== undefined) this.#reader = this.#read(receiver);
  }

  /** The group address. */
  get group(): string {
    return this.#options.group;
  }

  /** The group port. */
  get port(): number {
    return this.#options.port;
  }

  /** Local UDP port datagrams are sent from. */
  get sendPort(): number {
    return (this.#sender.addr as Deno.NetAddr).port;
  }

  /**
   * Sends one datagram to the group.
   *
   * @param data The payload.
   * @returns Resolves when it was handed to the kernel.
   */
  async send(data: Uint8Array): Promise<void> {
    if (this.#closed) throw new Deno.errors.BadResource("Cannot send: the channel is closed");
    await this.#sender.send(data, this.#target);
  }

  /**
   * Iterates over received datagrams (only without an `onMessage` callback). Ends when the
   * channel closes.
   *
   * @returns The iterator.
   */
  async *[Symbol.asyncIterator](): AsyncIterator<MulticastMessage> {
    if (this.#onMessage !== undefined) {
      throw new TypeError("Cannot iterate a channel that delivers to a callback");
    }
    while (true) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wakeup = resolve));
    }
  }

  /**
   * Leaves the group and closes the sockets; pending iterations end.
   *
   * @returns Resolves when everything is released.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** Same as {@linkcode MulticastChannel.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #close(): Promise<void> {
    this.#closed = true;
    for (const m of this.#memberships) {
      try {
        await m.leave();
      } catch {
        // the socket may be gone already
      }
    }
    this.#receiver?.close();
    if (this.#sender !== this.#receiver) this.#sender.close();
    await this.#reader;
    this.#wakeup?.();
  }

  async #read(conn: Deno.DatagramConn): Promise<void> {
    try {
      for await (const [data, addr] of conn) {
        const from = addr as Deno.NetAddr;
        const message = { data, address: from.hostname, port: from.port };
        if (this.#onMessage !== undefined) {
          try {
            this.#onMessage(message);
          } catch (error) {
            reportError(error);
          }
        } else {
          if (this.#queue.length >= this.#queueLimit) this.#queue.shift();
          this.#queue.push(message);
          const wake = this.#wakeup;
          this.#wakeup = undefined;
          wake?.();
        }
      }
    } catch (error) {
      if (!this.#closed) reportError(error);
    }
  }
}

/**
 * Opens a multicast channel: binds the group port (with `reuseAddress`), joins the group,
 * and prepares the sending socket.
 *
 * @example
 * ```ts ignore
 * import { openMulticastChannel } from "./multicast.ts";
 * await using channel = await openMulticastChannel({ group: "239.0.0.51", port: 9901 });
 * for await (const m of channel) {
 *   console.log(m.address, m.port, m.data.length);
 *   break;
 * }
 * ```
 *
 * @param options Group, port, interface, TTL, loop-back, send port.
 * @param onMessage Receives every datagram; without it, iterate the channel.
 * @returns The channel.
 * @throws {TypeError} without `--unstable-net`; Deno's errors when binding or joining fails.
 */
export async function openMulticastChannel(
  options: MulticastOptions,
  onMessage?: (message: MulticastMessage) => void,
): Promise<MulticastChannel> {
  const v6 = isIPv6(options.group);
  const resolved: Required<ResolvedOptions> = {
    group: options.group,
    port: options.port,
    interfaceAddress: options.interfaceAddress ?? "0.0.0.0",
    interfaceIndex: options.interfaceIndex ?? 0,
    ttl: options.ttl ?? 1,
    loopback: options.loopback ?? true,
  };
  const any = v6 ? "::" : "0.0.0.0";
  const receive = options.receive ?? true;
  const opened: Deno.DatagramConn[] = [];
  const memberships: Membership[] = [];
  try {
    let receiver: Deno.DatagramConn | undefined;
    if (receive) {
      receiver = listen(any, resolved.port, resolved.loopback);
      opened.push(receiver);
      memberships.push(await join(receiver, resolved));
    }
    let sender: Deno.DatagramConn;
    if (
      receiver !== undefined &&
      (options.sendPort === undefined || options.sendPort === resolved.port)
    ) {
      sender = receiver;
    } else {
      sender = listen(any, options.sendPort ?? 0, resolved.loopback);
      opened.push(sender);
      // Joining gives the socket its TTL and loop-back settings; it receives only datagrams to
      // its own port.
      memberships.push(await join(sender, resolved));
    }
    return new MulticastChannel(
      resolved,
      receiver,
      sender,
      memberships,
      onMessage,
      options.queueLimit ?? 1024,
    );
  } catch (error) {
    for (const conn of opened) conn.close();
    throw error;
  }
}
