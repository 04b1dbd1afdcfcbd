/**
 * One usrsctp socket as an {@linkcode SctpEndpoint}.
 *
 * All usrsctp calls made here are non-blocking (the socket is non-blocking, `recvv` also gets
 * MSG_DONTWAIT): a blocking call on the JavaScript thread would deadlock against usrsctp's
 * receive thread, which waits for the JavaScript thread while it runs the upcall.
 *
 * @module
 */

import { errno } from "../../../ffi/libc.ts";
import { lastError, sctpErrnoError, USRSCTP, USRSCTP_LAYOUT } from "../../../ffi/usrsctp.ts";
import {
  type SctpAssociationStatus,
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpPeerAddressEvent,
  type SctpSendOptions,
} from "../types.ts";
import {
  type DecodedSockaddr,
  decodeSockaddr,
  decodeSockaddrList,
  encodeSockaddr,
  encodeSockaddrs,
} from "./_sockaddr.ts";
import type { UpcallTarget, UsrsctpStack } from "./_stack.ts";

const L = USRSCTP;
const RECEIVE_BUFFER_SIZE = 128 * 1024;
/** A buffer for zero-length sends (Deno passes an empty buffer as NULL). */
const NOT_NULL = new Uint8Array(1);
/**
 * Interval of the safety check for notifications that usrsctp queues from its timer thread
 * without an upcall (association lost by timeouts, path unreachable, INIT given up): usrsctp
 * 0.9.5 calls the upcall from `sctp_timeout_handler` only when `so_error` is set, which it does
 * for one-to-one sockets only. Runs only while the endpoint has associations.
 */
const BACKSTOP_INTERVAL_MS = 100;
/** How long `close()` waits for graceful shutdowns before aborting the rest. */
const CLOSE_TIMEOUT_MS = 3000;

/** How the endpoint resolves the remote UDP encapsulation port of a peer (UDP mode). */
export type RemoteUdpPortResolver = (addresses: readonly string[], port: number) => number;

/** Internal construction parameters. */
export interface EndpointInit {
  stack: UsrsctpStack;
  so: Deno.PointerObject;
  style: "one-to-many" | "one-to-one";
  listening: boolean;
  localPort: number;
  onEvent: (event: SctpEvent) => void;
  remoteUdpPort: RemoteUdpPortResolver;
  /** Called once the endpoint released its socket (the transport then releases the stack). */
  onClosed: () => Promise<void>;
}

interface QueuedMessage {
  data: Uint8Array;
  stream: number;
  ppid: number;
  flags: number;
}

interface Association {
  state: "connecting" | "up" | "closing";
  queue: QueuedMessage[];
  head: number;
  waiter?: {
    resolve: (id: number) => void;
    reject: (error: SctpError) => void;
    timer?: ReturnType<typeof setTimeout>;
  };
}

function setInt(stack: UsrsctpStack, so: Deno.PointerObject, name: number, value: number): void {
  if (stack.lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, name, new Int32Array([value]), 4) < 0) {
    throw lastError(`set SCTP socket option 0x${name.toString(16)}`);
  }
}

/**
 * Creates, configures and binds a usrsctp socket for `options`.
 *
 * @param stack The stack.
 * @param options Endpoint options.
 * @returns The socket and its bound port.
 */
export function createSocket(
  stack: UsrsctpStack,
  options: SctpEndpointOptions,
): { so: Deno.PointerObject; localPort: number } {
  const lib = stack.lib;
  const addresses = options.addresses ?? [];
  const port = options.port ?? 0;
  const style = options.style ?? "one-to-many";
  const packed = addresses.length > 0 ? encodeSockaddrs(addresses, port) : undefined;
  // Wildcard and IPv6 endpoints use an IPv6 socket: it carries IPv4 associations too.
  const family = packed === undefined || packed.hasIPv6 ? L.AF_INET6 : L.AF_INET;
  const type = style === "one-to-one" ? L.SOCK_STREAM : L.SOCK_SEQPACKET;
  const so = lib.usrsctp_socket(family, type, L.IPPROTO_SCTP, null, null, 0, null);
  if (so === null) throw lastError("create a usrsctp socket");
  try {
    if (lib.usrsctp_set_non_blocking(so, 1) < 0) throw lastError("make the socket non-blocking");
    setInt(stack, so, L.SCTP_RECVRCVINFO, 1);
    setInt(stack, so, L.SCTP_NODELAY, 1);
    for (
      const type of [
        L.SCTP_ASSOC_CHANGE,
        L.SCTP_PEER_ADDR_CHANGE,
        L.SCTP_SHUTDOWN_EVENT,
        L.SCTP_SEND_FAILED_EVENT,
      ]
    ) {
      const event = new Uint8Array(USRSCTP_LAYOUT.event.size);
      new DataView(event.buffer).setUint16(4, type, true);
      event[6] = 1;
      if (lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, L.SCTP_EVENT, event, event.length) < 0) {
        throw lastError(`subscribe to SCTP notification ${type}`);
      }
    }
    applyTuning(stack, so, options);
    if (options.autoClose && style === "one-to-many") {
      setInt(stack, so, L.SCTP_AUTOCLOSE, options.autoClose);
    }
    // Bind.
    if (packed === undefined) {
      const any = encodeSockaddr("::", port);
      if (lib.usrsctp_bind(so, any, any.length) < 0) throw lastError(`bind port ${port}`);
    } else {
      const first = encodeSockaddr(addresses[0], port);
      if (lib.usrsctp_bind(so, first, first.length) < 0) {
        throw lastError(`bind ${addresses[0]} port ${port}`);
      }
      if (addresses.length > 1) {
        const rest = encodeSockaddrs(addresses.slice(1), boundPort(stack, so) ?? port);
        if (lib.usrsctp_bindx(so, rest.bytes, rest.count, L.SCTP_BINDX_ADD_ADDR) < 0) {
          throw lastError(`bind ${addresses.slice(1).join(", ")}`);
        }
      }
    }
    if (options.listen) {
      if (lib.usrsctp_listen(so, 128) < 0) throw lastError("listen");
    }
    const localPort = boundPort(stack, so) ?? port;
    return { so, localPort };
  } catch (error) {
    lib.usrsctp_close(so);
    throw error;
  }
}

function applyTuning(stack: UsrsctpStack, so: Deno.PointerObject, o: SctpEndpointOptions): void {
  const lib = stack.lib;
  if (o.rtoInitial || o.rtoMax || o.rtoMin) {
    const b = new Uint8Array(USRSCTP_LAYOUT.rtoInfo.size);
    const v = new DataView(b.buffer);
    v.setUint32(USRSCTP_LAYOUT.rtoInfo.initial, o.rtoInitial ?? 0, true);
    v.setUint32(USRSCTP_LAYOUT.rtoInfo.max, o.rtoMax ?? 0, true);
    v.setUint32(USRSCTP_LAYOUT.rtoInfo.min, o.rtoMin ?? 0, true);
    if (lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, L.SCTP_RTOINFO, b, b.length) < 0) {
      throw lastError("set the RTO parameters");
    }
  }
  if (o.associationMaxRetransmissions) {
    const b = new Uint8Array(USRSCTP_LAYOUT.assocParams.size);
    new DataView(b.buffer).setUint16(
      USRSCTP_LAYOUT.assocParams.asocMaxRxt,
      o.associationMaxRetransmissions,
      true,
    );
    if (lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, L.SCTP_ASSOCINFO, b, b.length) < 0) {
      throw lastError("set the association retransmission limit");
    }
  }
  if (o.heartbeatInterval || o.pathMaxRetransmissions) {
    const P = USRSCTP_LAYOUT.paddrParams;
    const b = new Uint8Array(P.size);
    const v = new DataView(b.buffer);
    if (o.heartbeatInterval) {
      v.setUint32(P.hbInterval, o.heartbeatInterval, true);
      v.setUint32(P.flags, L.SPP_HB_ENABLE, true);
    }
    v.setUint16(P.pathMaxRxt, o.pathMaxRetransmissions ?? 0, true);
    if (lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, L.SCTP_PEER_ADDR_PARAMS, b, b.length) < 0) {
      throw lastError("set the heartbeat and path parameters");
    }
  }
  if (o.outboundStreams || o.inboundStreams) {
    const b = new Uint8Array(USRSCTP_LAYOUT.initMsg.size);
    const v = new DataView(b.buffer);
    v.setUint16(0, o.outboundStreams ?? 0, true);
    v.setUint16(2, o.inboundStreams ?? 0, true);
    if (lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, L.SCTP_INITMSG, b, b.length) < 0) {
      throw lastError("set the stream counts");
    }
  }
}

/** Reads the addresses `getpaddrs`/`getladdrs` return for an association (0: the endpoint). */
function readAddresses(
  stack: UsrsctpStack,
  so: Deno.PointerObject,
  assocId: number,
  local: boolean,
): DecodedSockaddr[] {
  const lib = stack.lib;
  const out = new BigUint64Array(1);
  const bytes = new Uint8Array(out.buffer);
  const n = local
    ? lib.usrsctp_getladdrs(so, assocId, bytes)
    : lib.usrsctp_getpaddrs(so, assocId, bytes);
  if (n <= 0) return [];
  const pointer = Deno.UnsafePointer.create(out[0]);
  if (pointer === null) return [];
  try {
    return decodeSockaddrList(pointer, n);
  } finally {
    if (local) lib.usrsctp_freeladdrs(pointer);
    else lib.usrsctp_freepaddrs(pointer);
  }
}

function boundPort(stack: UsrsctpStack, so: Deno.PointerObject): number | undefined {
  const addresses = readAddresses(stack, so, 0, true);
  return addresses.length > 0 ? addresses[0].port : undefined;
}

const PADDR_STATES: Record<number, SctpPeerAddressEvent["state"]> = {
  [L.SCTP_ADDR_AVAILABLE]: "available",
  [L.SCTP_ADDR_UNREACHABLE]: "unreachable",
  [L.SCTP_ADDR_REMOVED]: "removed",
  [L.SCTP_ADDR_ADDED]: "added",
  [L.SCTP_ADDR_MADE_PRIM]: "primary",
  [L.SCTP_ADDR_CONFIRMED]: "confirmed",
};

/** A usrsctp socket implementing {@linkcode SctpEndpoint}. */
export class UsrsctpEndpoint implements SctpEndpoint, UpcallTarget {
  /** Backend that carries this endpoint. */
  readonly backend = "usrsctp" as const;
  /** Bound local port. */
  readonly localPort: number;
  #stack: UsrsctpStack;
  #so: Deno.PointerObject;
  #style: "one-to-many" | "one-to-one";
  #listening: boolean;
  #onEvent: (event: SctpEvent) => void;
  #remoteUdpPort: RemoteUdpPortResolver;
  #onClosed: () => Promise<void>;
  #associations = new Map<number, Association>();
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #closeWaiter: (() => void) | undefined;
  #draining = false;
  #backstop: ReturnType<typeof setInterval> | undefined;
  // Receive state, allocated once.
  #buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
  #bufferLength = BigInt(RECEIVE_BUFFER_SIZE);
  #info = new Uint8Array(USRSCTP_LAYOUT.rcvinfo.size);
  #infoView = new DataView(this.#info.buffer);
  #infoLength = new Uint32Array(1);
  #infoType = new Uint32Array(1);
  #flags = new Int32Array(1);
  #partial: Uint8Array | undefined;
  #partialLength = 0;
  // Send state.
  #sndinfo = new Uint8Array(USRSCTP_LAYOUT.sndinfo.size);
  #sndinfoView = new DataView(this.#sndinfo.buffer);
  #queued = 0;
  #assocIdOut = new Uint32Array(1);

  constructor(init: EndpointInit) {
    this.#stack = init.stack;
    this.#so = init.so;
    this.#style = init.style;
    this.#listening = init.listening;
    this.localPort = init.localPort;
    this.#onEvent = init.onEvent;
    this.#remoteUdpPort = init.remoteUdpPort;
    this.#onClosed = init.onClosed;
    if (this.#listening) this.#stack.noteListening(this.localPort, 1);
    this.#stack.register(this.#so, this);
    // Anything that arrived before the upcall was installed.
    queueMicrotask(() => this.upcall());
  }

  /**
   * Replaces the event handler (e.g. for an endpoint delivered by an `accept` event).
   *
   * @param onEvent The new handler.
   */
  setEventHandler(onEvent: (event: SctpEvent) => void): void {
    this.#onEvent = onEvent;
  }

  /** Called by the stack's upcall (JavaScript thread). */
  upcall(): void {
    if (this.#closed) return;
    if (this.#listening && this.#style === "one-to-one") {
      this.#acceptAll();
      return;
    }
    this.#drain();
    if (this.#queued > 0) this.#flush();
  }

  localAddresses(): string[] {
    if (this.#closed) return [];
    return readAddresses(this.#stack, this.#so, 0, true).map((a) => a.address);
  }

  connect(addresses: string[], port: number, options: { timeout?: number } = {}): Promise<number> {
    try {
      this.#checkOpen("connect");
      const packed = encodeSockaddrs(addresses, port);
      this.#setRemoteUdpPort(addresses, port);
      const id = this.#assocIdOut;
      id[0] = 0;
      const result = this.#stack.lib.usrsctp_connectx(
        this.#so,
        packed.bytes,
        packed.count,
        new Uint8Array(id.buffer),
      );
      if (result < 0) {
        const code = errno();
        if (code === L.EALREADY || code === L.EISCONN) {
          const existing = this.#existingAssociation(addresses, port);
          if (existing !== undefined) {
            const a = this.#associations.get(existing);
            if (a?.state === "up") return Promise.resolve(existing);
            if (a !== undefined) return this.#waitUp(existing, a, options.timeout);
          }
        }
        if (code !== L.EINPROGRESS) {
          throw sctpErrnoError(`connect to ${addresses.join(", ")} port ${port}`, code);
        }
      }
      const assocId = id[0] !== 0 ? id[0] : this.#existingAssociation(addresses, port);
      if (assocId === undefined) {
        throw new SctpError(
          "connect-failed",
          `Cannot set up an association to ${addresses.join(", ")} port ${port}`,
        );
      }
      const association = this.#track(assocId, "connecting");
      return this.#waitUp(assocId, association, options.timeout);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  send(assocId: number, data: Uint8Array, options: SctpSendOptions = {}): void {
    this.#checkOpen("send");
    const a = this.#associations.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot send on association ${assocId}: unknown`);
    }
    const stream = options.stream ?? 0;
    const ppid = options.ppid ?? 0;
    let flags = options.unordered ? L.SCTP_UNORDERED : 0;
    if (options.eof) flags |= L.SCTP_EOF;
    if (a.head < a.queue.length) {
      // Behind queued messages (order); copied, the caller may reuse its buffer.
      this.#enqueue(a, data.slice(), stream, ppid, flags);
    } else {
      const code = this.#sendNow(assocId, data, stream, ppid, flags);
      if (code === L.EAGAIN) {
        this.#enqueue(a, data.slice(), stream, ppid, flags);
      } else if (code !== 0) {
        throw sctpErrnoError(`send on association ${assocId}`, code);
      }
    }
    if (options.eof) a.state = "closing";
  }

  sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions = {},
  ): Promise<number> {
    try {
      return Promise.resolve(this.#sendTo(addresses, port, data, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions,
  ): number {
    this.#checkOpen("send");
    if (this.#style !== "one-to-many") {
      throw new SctpError("invalid-argument", "Cannot use sendTo on a one-to-one endpoint");
    }
    const existing = this.#existingAssociation(addresses, port);
    if (existing !== undefined && this.#associations.has(existing)) {
      this.send(existing, data, options);
      return existing;
    }
    const packed = encodeSockaddrs(addresses, port);
    this.#setRemoteUdpPort(addresses, port);
    let flags = options.unordered ? L.SCTP_UNORDERED : 0;
    if (options.eof) flags |= L.SCTP_EOF;
    const info = this.#fillSndinfo(0, options.stream ?? 0, options.ppid ?? 0, flags);
    const n = this.#stack.lib.usrsctp_sendv(
      this.#so,
      data.length > 0 ? data : NOT_NULL,
      BigInt(data.length),
      packed.bytes,
      packed.count,
      info,
      info.length,
      L.SCTP_SENDV_SNDINFO,
      0,
    );
    if (n < 0n) {
      const code = errno();
      if (code !== L.EAGAIN && code !== L.EINPROGRESS) {
        throw sctpErrnoError(`send to ${addresses.join(", ")} port ${port}`, code);
      }
    }
    const assocId = this.#existingAssociation(addresses, port);
    if (assocId === undefined) {
      throw new SctpError(
        "connect-failed",
        `Cannot set up an association to ${addresses.join(", ")} port ${port}`,
      );
    }
    const a = this.#track(assocId, "connecting");
    if (n < 0n) this.#enqueue(a, data.slice(), options.stream ?? 0, options.ppid ?? 0, flags);
    return assocId;
  }

  shutdown(assocId: number): void {
    this.#checkOpen("shut down an association");
    const a = this.#associations.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot shut down association ${assocId}: unknown`);
    }
    if (a.head < a.queue.length) {
      this.#enqueue(a, new Uint8Array(0), 0, 0, L.SCTP_EOF);
      a.state = "closing";
      return;
    }
    this.#shutdownNow(assocId);
    a.state = "closing";
  }

  abort(assocId: number): void {
    this.#checkOpen("abort an association");
    const a = this.#associations.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot abort association ${assocId}: unknown`);
    }
    this.#dropQueue(assocId, a);
    this.#sendNow(assocId, new Uint8Array(0), 0, 0, L.SCTP_ABORT);
    // The local COMM_LOST notification is queued without an upcall: fetch it soon.
    queueMicrotask(() => this.upcall());
  }

  status(assocId: number): SctpAssociationStatus | undefined {
    if (this.#closed || !this.#associations.has(assocId)) return undefined;
    const S = USRSCTP_LAYOUT.status;
    const buffer = new Uint8Array(S.size);
    const view = new DataView(buffer.buffer);
    view.setUint32(0, assocId, true);
    const length = new Uint32Array([S.size]);
    const r = this.#stack.lib.usrsctp_getsockopt(
      this.#so,
      L.IPPROTO_SCTP,
      L.SCTP_STATUS,
      buffer,
      new Uint8Array(length.buffer),
    );
    if (r < 0) return undefined;
    const peers = readAddresses(this.#stack, this.#so, assocId, false);
    const primary = decodeSockaddr(buffer, S.primary);
    return {
      assocId,
      peerAddresses: peers.map((p) => p.address),
      peerPort: primary?.port ?? peers[0]?.port ?? 0,
      primaryAddress: primary?.address ?? peers[0]?.address ?? "",
      srtt: view.getUint32(S.primarySrtt, true),
      inboundStreams: view.getUint16(S.inboundStreams, true),
      outboundStreams: view.getUint16(S.outboundStreams, true),
    };
  }

  associations(): number[] {
    const ids: number[] = [];
    for (const [id, a] of this.#associations) if (a.state !== "connecting") ids.push(id);
    return ids;
  }

  close(options: { abort?: boolean } = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.abort ?? false);
    return this.#closePromise;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- internals --------------------------------------------------------------------------

  #checkOpen(action: string): void {
    if (this.#closing || this.#closed) {
      throw new SctpError("closed", `Cannot ${action}: the endpoint is closed`);
    }
  }

  #emit(event: SctpEvent): void {
    try {
      this.#onEvent(event);
    } catch (error) {
      reportError(error);
    }
  }

  #setRemoteUdpPort(addresses: readonly string[], port: number): void {
    const stack = this.#stack;
    if (stack.mode !== "udp") return;
    const udpPort = stack.listensOn(port) && addresses.every(isLocalHint)
      ? stack.udpPort
      : this.#remoteUdpPort(addresses, port);
    const E = USRSCTP_LAYOUT.udpEncaps;
    const b = new Uint8Array(E.size);
    const v = new DataView(b.buffer);
    v.setUint32(E.assocId, L.SCTP_FUTURE_ASSOC, true);
    v.setUint16(E.port, udpPort, false);
    if (
      stack.lib.usrsctp_setsockopt(
        this.#so,
        L.IPPROTO_SCTP,
        L.SCTP_REMOTE_UDP_ENCAPS_PORT,
        b,
        E.size,
      ) <
        0
    ) {
      throw lastError(`set the remote UDP encapsulation port ${udpPort}`);
    }
  }

  #existingAssociation(addresses: readonly string[], port: number): number | undefined {
    for (const address of addresses) {
      const id = this.#stack.lib.usrsctp_getassocid(this.#so, encodeSockaddr(address, port));
      if (id !== 0) return id;
    }
    return undefined;
  }

  #track(assocId: number, state: Association["state"]): Association {
    let a = this.#associations.get(assocId);
    if (a === undefined) {
      a = { state, queue: [], head: 0 };
      this.#associations.set(assocId, a);
      this.#updateBackstop();
    }
    return a;
  }

  #forget(assocId: number): void {
    const a = this.#associations.get(assocId);
    if (a === undefined) return;
    this.#dropQueue(assocId, a);
    this.#associations.delete(assocId);
    this.#updateBackstop();
    if (this.#associations.size === 0) this.#closeWaiter?.();
  }

  #waitUp(assocId: number, a: Association, timeout?: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: NonNullable<Association["waiter"]> = { resolve, reject };
      if (timeout !== undefined && timeout > 0) {
        waiter.timer = setTimeout(() => {
          if (a.waiter !== waiter) return;
          a.waiter = undefined;
          this.#sendNow(assocId, new Uint8Array(0), 0, 0, L.SCTP_ABORT);
          this.#forget(assocId);
          reject(
            new SctpError(
              "timeout",
              `Cannot set up association ${assocId}: no answer in ${timeout} ms`,
            ),
          );
        }, timeout);
      }
      a.waiter = waiter;
    });
  }

  #settle(a: Association, assocId: number, error?: SctpError): void {
    const waiter = a.waiter;
    if (waiter === undefined) return;
    a.waiter = undefined;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    if (error === undefined) waiter.resolve(assocId);
    else waiter.reject(error);
  }

  #updateBackstop(): void {
    const wanted = this.#associations.size > 0 && !this.#closed;
    if (wanted && this.#backstop === undefined) {
      this.#backstop = setInterval(() => this.upcall(), BACKSTOP_INTERVAL_MS);
      Deno.unrefTimer(this.#backstop);
    } else if (!wanted && this.#backstop !== undefined) {
      clearInterval(this.#backstop);
      this.#backstop = undefined;
    }
  }

  #fillSndinfo(assocId: number, stream: number, ppid: number, flags: number): Uint8Array {
    const v = this.#sndinfoView;
    v.setUint16(0, stream, true);
    v.setUint16(2, flags, true);
    v.setUint32(4, ppid, false); // opaque to SCTP: network byte order on the wire
    v.setUint32(8, 0, true);
    v.setUint32(12, assocId, true);
    return this.#sndinfo;
  }

  /** Sends one message now; returns 0 or the errno value. */
  #sendNow(assocId: number, data: Uint8Array, stream: number, ppid: number, flags: number): number {
    const info = this.#fillSndinfo(assocId, stream, ppid, flags);
    const n = this.#stack.lib.usrsctp_sendv(
      this.#so,
      data.length > 0 ? data : NOT_NULL, // usrsctp rejects a NULL buffer (EFAULT), even for 0 bytes
      BigInt(data.length),
      null,
      0,
      info,
      info.length,
      L.SCTP_SENDV_SNDINFO,
      0,
    );
    return n < 0n ? errno() : 0;
  }

  #shutdownNow(assocId: number): void {
    if (this.#style === "one-to-one") {
      this.#stack.lib.usrsctp_shutdown(this.#so, L.SHUT_WR);
    } else {
      this.#sendNow(assocId, new Uint8Array(0), 0, 0, L.SCTP_EOF);
    }
  }

  #enqueue(a: Association, data: Uint8Array, stream: number, ppid: number, flags: number): void {
    a.queue.push({ data, stream, ppid, flags });
    this.#queued++;
  }

  #dropQueue(assocId: number, a: Association): void {
    const pending = a.queue.length - a.head;
    if (pending <= 0) return;
    const dropped = a.queue.slice(a.head);
    a.queue = [];
    a.head = 0;
    this.#queued -= pending;
    for (const m of dropped) {
      if (m.data.length === 0 && m.flags & (L.SCTP_EOF | L.SCTP_ABORT)) continue; // control
      this.#emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
    }
  }

  /** Sends queued messages while the socket takes them. */
  #flush(): void {
    for (const [assocId, a] of this.#associations) {
      while (a.head < a.queue.length) {
        const m = a.queue[a.head];
        let code: number;
        if (m.flags & L.SCTP_EOF && m.data.length === 0) {
          this.#shutdownNow(assocId);
          code = 0;
        } else {
          code = this.#sendNow(assocId, m.data, m.stream, m.ppid, m.flags);
        }
        if (code === L.EAGAIN) break; // this association's share is full; try the others
        a.head++;
        this.#queued--;
        if (code !== 0) {
          this.#emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
        }
      }
      if (a.head >= a.queue.length) {
        a.queue = [];
        a.head = 0;
      } else if (a.head > 1024 && a.head * 2 > a.queue.length) {
        a.queue = a.queue.slice(a.head); // release sent messages
        a.head = 0;
      }
    }
  }

  #acceptAll(): void {
    for (;;) {
      const so = this.#stack.lib.usrsctp_accept(this.#so, null, null);
      if (so === null) return;
      this.#stack.retain();
      const endpoint = new UsrsctpEndpoint({
        stack: this.#stack,
        so,
        style: "one-to-one",
        listening: false,
        localPort: this.localPort,
        onEvent: this.#onEvent,
        remoteUdpPort: this.#remoteUdpPort,
        onClosed: this.#onClosed,
      });
      this.#emit({ type: "accept", endpoint });
    }
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const lib = this.#stack.lib;
    const info = this.#info;
    const infoLength = new Uint8Array(this.#infoLength.buffer);
    const infoType = new Uint8Array(this.#infoType.buffer);
    const flags = new Uint8Array(this.#flags.buffer);
    try {
      while (!this.#closed) {
        this.#infoLength[0] = info.length;
        this.#infoType[0] = 0;
        this.#flags[0] = L.MSG_DONTWAIT;
        const r = lib.usrsctp_recvv(
          this.#so,
          this.#buffer,
          this.#bufferLength,
          null,
          null,
          info,
          infoLength,
          infoType,
          flags,
        );
        if (r < 0n) return; // EAGAIN (or the association of a one-to-one socket is gone)
        const n = Number(r);
        const f = this.#flags[0];
        const notification = (f & L.MSG_NOTIFICATION) !== 0;
        if (n === 0 && !notification) return; // one-to-one: end of the association
        if ((f & L.MSG_EOR) === 0) {
          this.#appendPartial(this.#buffer.subarray(0, n));
          continue;
        }
        let data: Uint8Array = this.#buffer.subarray(0, n);
        if (this.#partialLength > 0) {
          this.#appendPartial(data);
          data = this.#partial!.subarray(0, this.#partialLength);
          this.#partialLength = 0;
        }
        if (notification) this.#notification(data);
        else {
          const v = this.#infoView;
          this.#emit({
            type: "message",
            assocId: v.getUint32(USRSCTP_LAYOUT.rcvinfo.assocId, true),
            stream: v.getUint16(USRSCTP_LAYOUT.rcvinfo.sid, true),
            ppid: v.getUint32(USRSCTP_LAYOUT.rcvinfo.ppid, false),
            data,
          });
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #appendPartial(piece: Uint8Array): void {
    const needed = this.#partialLength + piece.length;
    if (this.#partial === undefined || this.#partial.length < needed) {
      const grown = new Uint8Array(Math.max(needed, 2 * (this.#partial?.length ?? 0)));
      if (this.#partial !== undefined) grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(piece, this.#partialLength);
    this.#partialLength = needed;
  }

  #notification(data: Uint8Array): void {
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (data.length < 8) return;
    switch (v.getUint16(0, true)) {
      case L.SCTP_ASSOC_CHANGE: {
        const A = USRSCTP_LAYOUT.assocChange;
        if (data.length < 20) return;
        const state = v.getUint16(A.state, true);
        const assocId = v.getUint32(A.assocId, true);
        this.#assocChange(
          assocId,
          state,
          v.getUint16(A.inboundStreams, true),
          v.getUint16(A.outboundStreams, true),
        );
        return;
      }
      case L.SCTP_PEER_ADDR_CHANGE: {
        const P = USRSCTP_LAYOUT.paddrChange;
        if (data.length < P.assocId + 4) return;
        const address = decodeSockaddr(data, P.address);
        const state = PADDR_STATES[v.getUint32(P.state, true)];
        if (address === undefined || state === undefined) return;
        this.#emit({
          type: "peerAddressChange",
          assocId: v.getUint32(P.assocId, true),
          address: address.address,
          state,
        });
        return;
      }
      case L.SCTP_SHUTDOWN_EVENT: {
        const assocId = v.getUint32(USRSCTP_LAYOUT.shutdownEvent.assocId, true);
        const a = this.#associations.get(assocId);
        if (a !== undefined) a.state = "closing";
        this.#emit({ type: "shutdown", assocId });
        return;
      }
      case L.SCTP_SEND_FAILED_EVENT: {
        const F = USRSCTP_LAYOUT.sendFailedEvent;
        if (data.length < F.data) return;
        this.#emit({
          type: "sendFailed",
          assocId: v.getUint32(F.assocId, true),
          stream: v.getUint16(F.info, true),
          ppid: v.getUint32(F.info + 4, false),
        });
        return;
      }
    }
  }

  #assocChange(assocId: number, state: number, inbound: number, outbound: number): void {
    switch (state) {
      case L.SCTP_COMM_UP: {
        const a = this.#track(assocId, "up");
        a.state = "up";
        const peers = readAddresses(this.#stack, this.#so, assocId, false);
        this.#emit({
          type: "up",
          assocId,
          peerAddresses: peers.map((p) => p.address),
          peerPort: peers[0]?.port ?? 0,
          inboundStreams: inbound,
          outboundStreams: outbound,
        });
        this.#settle(a, assocId);
        if (this.#closing) this.#shutdownNow(assocId);
        return;
      }
      case L.SCTP_RESTART:
        this.#track(assocId, "up").state = "up";
        this.#emit({ type: "restart", assocId });
        return;
      case L.SCTP_COMM_LOST:
      case L.SCTP_SHUTDOWN_COMP:
      case L.SCTP_CANT_STR_ASSOC: {
        const a = this.#associations.get(assocId);
        const type = state === L.SCTP_COMM_LOST
          ? "lost"
          : state === L.SCTP_SHUTDOWN_COMP
          ? "closed"
          : "cantStart";
        this.#emit({ type, assocId });
        if (a !== undefined) {
          this.#settle(
            a,
            assocId,
            new SctpError(
              "connect-failed",
              `Cannot set up association ${assocId}: ${
                type === "cantStart" ? "the peer did not answer" : `association ${type}`
              }`,
            ),
          );
        }
        this.#forget(assocId);
        return;
      }
    }
  }

  async #close(abort: boolean): Promise<void> {
    this.#closing = true;
    if (this.#associations.size > 0) {
      const done = new Promise<void>((resolve) => (this.#closeWaiter = resolve));
      for (const [assocId, a] of this.#associations) {
        if (abort || a.state === "connecting") {
          this.#dropQueue(assocId, a);
          this.#sendNow(assocId, new Uint8Array(0), 0, 0, L.SCTP_ABORT);
          this.#settle(
            a,
            assocId,
            new SctpError("closed", `Cannot set up association ${assocId}: endpoint closed`),
          );
        } else if (a.state === "up") {
          if (a.head < a.queue.length) this.#enqueue(a, new Uint8Array(0), 0, 0, L.SCTP_EOF);
          else this.#shutdownNow(assocId);
          a.state = "closing";
        }
      }
      if (abort) {
        for (const assocId of [...this.#associations.keys()]) this.#forget(assocId);
      }
      if (this.#associations.size > 0) {
        this.upcall();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          done,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        for (const [assocId, a] of this.#associations) {
          this.#dropQueue(assocId, a);
          this.#sendNow(assocId, new Uint8Array(0), 0, 0, L.SCTP_ABORT);
        }
      }
      this.#closeWaiter = undefined;
    }
    this.#closed = true;
    this.#associations.clear();
    this.#updateBackstop();
    this.#stack.unregister(this.#so);
    if (this.#listening) this.#stack.noteListening(this.localPort, -1);
    this.#stack.lib.usrsctp_close(this.#so);
    await this.#onClosed();
  }
}

/** Whether an address hints at this host (loopback or wildcard). */
function isLocalHint(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address === "0.0.0.0" ||
    address === "::";
}
