/**
 * One Linux kernel SCTP socket as an {@linkcode SctpEndpoint}.
 *
 * The socket is non-blocking. The process's {@linkcode FdPoller} reports readiness; the
 * endpoint then drains it with `recvmsg(MSG_DONTWAIT)` (SCTP_RCVINFO cmsg: stream, PPID,
 * association) and sends queued messages on POLLOUT. Sends use `sendmsg` with an SCTP_SNDINFO
 * cmsg; the PPID is written in network byte order, as the kernel copies it to the wire as is.
 *
 * @module
 */

import { errno, libc } from "../../../ffi/libc.ts";
import { Errno, errnoError } from "../../../ffi/errno.ts";
import { KSCTP as K, KSCTP_LAYOUT as L, libsctp } from "../../../ffi/libsctp.ts";
import {
  type SctpAssociationStatus,
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpPeerAddressEvent,
  type SctpSendOptions,
} from "../types.ts";
import { type FdPoller, fdPoller, type PollHandler } from "./_poller.ts";
import {
  type DecodedSockaddr,
  decodeSockaddr,
  decodeSockaddrList,
  encodeSockaddr,
  encodeSockaddrs,
} from "./_sockaddr.ts";

const RECEIVE_BUFFER_SIZE = 64 * 1024;
const CONTROL_BUFFER_SIZE = 64; // CMSG_SPACE(sizeof(struct sctp_rcvinfo)) = 48
/** How long `close()` waits for graceful shutdowns before aborting the rest. */
const CLOSE_TIMEOUT_MS = 3000;
const SEND_FLAGS = K.MSG_DONTWAIT | K.MSG_NOSIGNAL;
/**
 * Socket buffer size asked for (the kernel doubles it). Linux refuses messages larger than the
 * send buffer (EMSGSIZE), and the default (net.core.wmem_default, ~208 KiB) is too small for
 * big messages and slows bulk transfers.
 */
const SOCKET_BUFFER_SIZE = 1024 * 1024;

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
  /**
   * Set while the kernel has not given the association an id yet: Linux assigns it when the
   * INIT ACK arrives, so `sctp_connectx` returns 0 unless the peer answered within the call.
   * Such an association is tracked under a negative key and addressed by the peer address
   * (`msg_name`) until a notification tells its id.
   */
  pending?: { addresses: string[]; port: number; sockaddr: Uint8Array };
  /** `connect()` / `sendTo()` calls waiting for it to come up. */
  waiters: Waiter[];
}

interface Waiter {
  resolve: (id: number) => void;
  reject: (error: SctpError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** Address of a buffer's first byte, for C structs that point at it. */
function addressOf(buffer: Uint8Array): bigint {
  if (buffer.byteLength === 0) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>)));
}

function setOption(fd: number, level: number, name: number, value: Uint8Array, what: string): void {
  if (libc().setsockopt(fd, level, name, value as Uint8Array<ArrayBuffer>, value.length) < 0) {
    throw errnoError(`set ${what}`, errno());
  }
}

function setInt(fd: number, level: number, name: number, value: number, what: string): void {
  setOption(fd, level, name, new Uint8Array(new Int32Array([value]).buffer), what);
}

/**
 * Reads the addresses of an association (`sctp_getpaddrs`) or the bound ones
 * (`sctp_getladdrs`, association 0).
 */
function readAddresses(fd: number, assocId: number, local: boolean): DecodedSockaddr[] {
  const lib = libsctp();
  const out = new BigUint64Array(1);
  const bytes = new Uint8Array(out.buffer);
  const n = local ? lib.sctp_getladdrs(fd, assocId, bytes) : lib.sctp_getpaddrs(fd, assocId, bytes);
  if (n <= 0) return [];
  const pointer = Deno.UnsafePointer.create(out[0]);
  if (pointer === null) return [];
  try {
    return decodeSockaddrList(pointer, n);
  } finally {
    if (local) lib.sctp_freeladdrs(pointer);
    else lib.sctp_freepaddrs(pointer);
  }
}

/**
 * Creates, configures, binds (and for listeners: listens on) a kernel SCTP socket.
 *
 * @param options Endpoint options.
 * @returns The descriptor and its bound port.
 * @throws {SctpError} `unsupported` without kernel SCTP, else what the failing call says.
 */
export function createSocket(options: SctpEndpointOptions): { fd: number; localPort: number } {
  const c = libc();
  const addresses = options.addresses ?? [];
  const port = options.port ?? 0;
  const style = options.style ?? "one-to-many";
  const packed = addresses.length > 0 ? encodeSockaddrs(addresses, port) : undefined;
  const type = (style === "one-to-one" ? K.SOCK_STREAM : K.SOCK_SEQPACKET) | K.SOCK_NONBLOCK |
    K.SOCK_CLOEXEC;
  // IPv4-only address lists get an IPv4 socket; everything else a dual-stack IPv6 socket.
  let family = packed === undefined || packed.hasIPv6 ? K.AF_INET6 : K.AF_INET;
  let fd = c.socket(family, type, K.IPPROTO_SCTP);
  if (fd < 0 && packed === undefined && errno() === Errno.EAFNOSUPPORT) {
    family = K.AF_INET; // a kernel without IPv6
    fd = c.socket(family, type, K.IPPROTO_SCTP);
  }
  if (fd < 0) throw errnoError("create a kernel SCTP socket", errno());
  try {
    if (family === K.AF_INET6) {
      // IPv4 peers as AF_INET addresses, not ::ffff:a.b.c.d.
      setInt(fd, K.SOL_SCTP, K.SCTP_I_WANT_MAPPED_V4_ADDR, 0, "SCTP_I_WANT_MAPPED_V4_ADDR");
    }
    setInt(fd, K.SOL_SCTP, K.SCTP_RECVRCVINFO, 1, "SCTP_RECVRCVINFO");
    setInt(fd, K.SOL_SCTP, K.SCTP_NODELAY, 1, "SCTP_NODELAY");
    for (
      const event of [
        K.SCTP_ASSOC_CHANGE,
        K.SCTP_PEER_ADDR_CHANGE,
        K.SCTP_SHUTDOWN_EVENT,
        K.SCTP_SEND_FAILED_EVENT,
      ]
    ) {
      const b = new Uint8Array(L.event.size);
      new DataView(b.buffer).setUint16(L.event.type, event, true);
      b[L.event.on] = 1;
      setOption(fd, K.SOL_SCTP, K.SCTP_EVENT, b, `SCTP_EVENT 0x${event.toString(16)}`);
    }
    setBufferSizes(fd);
    applyTuning(fd, options);
    if (options.autoClose && style === "one-to-many") {
      setInt(fd, K.SOL_SCTP, K.SCTP_AUTOCLOSE, options.autoClose, "SCTP_AUTOCLOSE");
    }
    if (packed === undefined) {
      const any = encodeSockaddr(family === K.AF_INET6 ? "::" : "0.0.0.0", port);
      if (c.bind(fd, any, any.length) < 0) throw errnoError(`bind port ${port}`, errno());
    } else if (libsctp().sctp_bindx(fd, packed.bytes, packed.count, K.SCTP_BINDX_ADD_ADDR) < 0) {
      throw errnoError(`bind ${addresses.join(", ")} port ${port}`, errno());
    }
    if (options.listen && c.listen(fd, 128) < 0) {
      const code = errno();
      const error = errnoError("listen", code);
      if (code === Errno.ENOSYS) {
        // The kernel could not load hmac(sha1)/md5 for cookies.
        error.message += "; load the hmac kernel module (modprobe hmac)";
      }
      throw error;
    }
    const bound = readAddresses(fd, 0, true);
    return { fd, localPort: bound[0]?.port ?? port };
  } catch (error) {
    c.close(fd);
    throw error;
  }
}

/** SO_SNDBUF/SO_RCVBUF; as root the *FORCE variants pass net.core.[wr]mem_max. */
function setBufferSizes(fd: number): void {
  const c = libc();
  const value = new Uint8Array(new Int32Array([SOCKET_BUFFER_SIZE]).buffer);
  for (const [force, plain] of [[K.SO_SNDBUFFORCE, K.SO_SNDBUF], [K.SO_RCVBUFFORCE, K.SO_RCVBUF]]) {
    if (c.setsockopt(fd, K.SOL_SOCKET, force, value, 4) < 0) {
      c.setsockopt(fd, K.SOL_SOCKET, plain, value, 4); // capped by the sysctl: best effort
    }
  }
}

function applyTuning(fd: number, o: SctpEndpointOptions): void {
  if (o.rtoInitial || o.rtoMax || o.rtoMin) {
    const b = new Uint8Array(L.rtoInfo.size);
    const v = new DataView(b.buffer);
    v.setUint32(L.rtoInfo.initial, o.rtoInitial ?? 0, true);
    v.setUint32(L.rtoInfo.max, o.rtoMax ?? 0, true);
    v.setUint32(L.rtoInfo.min, o.rtoMin ?? 0, true);
    setOption(fd, K.SOL_SCTP, K.SCTP_RTOINFO, b, "SCTP_RTOINFO");
  }
  if (o.associationMaxRetransmissions) {
    const b = new Uint8Array(L.assocParams.size);
    new DataView(b.buffer).setUint16(
      L.assocParams.asocMaxRxt,
      o.associationMaxRetransmissions,
      true,
    );
    setOption(fd, K.SOL_SCTP, K.SCTP_ASSOCINFO, b, "SCTP_ASSOCINFO");
  }
  if (o.heartbeatInterval || o.pathMaxRetransmissions) {
    const P = L.paddrParams;
    const b = new Uint8Array(P.size);
    const v = new DataView(b.buffer);
    if (o.heartbeatInterval) {
      v.setUint32(P.hbInterval, o.heartbeatInterval, true);
      v.setUint32(P.flags, K.SPP_HB_ENABLE, true);
    }
    v.setUint16(P.pathMaxRxt, o.pathMaxRetransmissions ?? 0, true);
    setOption(fd, K.SOL_SCTP, K.SCTP_PEER_ADDR_PARAMS, b, "SCTP_PEER_ADDR_PARAMS");
  }
  if (o.outboundStreams || o.inboundStreams) {
    const b = new Uint8Array(L.initMsg.size);
    const v = new DataView(b.buffer);
    v.setUint16(L.initMsg.outStreams, o.outboundStreams ?? 0, true);
    v.setUint16(L.initMsg.maxInStreams, o.inboundStreams ?? 0, true);
    setOption(fd, K.SOL_SCTP, K.SCTP_INITMSG, b, "SCTP_INITMSG");
  }
}

/** An address in the text form the kernel's address lists decode to. */
function canonical(address: string): string {
  return decodeSockaddr(encodeSockaddr(address, 0))?.address ?? address;
}

const PADDR_STATES: Record<number, SctpPeerAddressEvent["state"]> = {
  [K.SCTP_ADDR_AVAILABLE]: "available",
  [K.SCTP_ADDR_UNREACHABLE]: "unreachable",
  [K.SCTP_ADDR_REMOVED]: "removed",
  [K.SCTP_ADDR_ADDED]: "added",
  [K.SCTP_ADDR_MADE_PRIM]: "primary",
  [K.SCTP_ADDR_CONFIRMED]: "confirmed",
};

/** Construction parameters of {@linkcode KernelEndpoint}. */
export interface KernelEndpointInit {
  fd: number;
  style: "one-to-many" | "one-to-one";
  listening: boolean;
  localPort: number;
  onEvent: (event: SctpEvent) => void;
  poller?: FdPoller;
}

/** A kernel SCTP socket implementing {@linkcode SctpEndpoint}. */
export class KernelEndpoint implements SctpEndpoint, PollHandler {
  /** Backend that carries this endpoint. */
  readonly backend = "kernel" as const;
  /** Bound local port. */
  readonly localPort: number;
  #fd: number;
  #fdOpen = true;
  #polling = false;
  #pollEvents = 0;
  #poller: FdPoller;
  #style: "one-to-many" | "one-to-one";
  #listening: boolean;
  #onEvent: (event: SctpEvent) => void;
  #associations = new Map<number, Association>();
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #closeWaiter: (() => void) | undefined;
  #draining = false;
  #queued = 0;
  // Receive state, allocated once: msghdr -> iovec -> buffer, control, name.
  #buffer = new Uint8Array(RECEIVE_BUFFER_SIZE);
  #control = new Uint8Array(CONTROL_BUFFER_SIZE);
  #controlView = new DataView(this.#control.buffer);
  #name = new Uint8Array(L.sockaddrStorage.size);
  #rxIov = new Uint8Array(L.iovec.size);
  #rxMsg = new Uint8Array(L.msghdr.size);
  #rxMsgView = new DataView(this.#rxMsg.buffer);
  #partial: Uint8Array | undefined;
  #partialLength = 0;
  // Send state, allocated once: msghdr -> iovec (updated per message), cmsg with sctp_sndinfo.
  #txIov = new Uint8Array(L.iovec.size);
  #txIovView = new DataView(this.#txIov.buffer);
  #txCmsg = new Uint8Array(L.sndinfo.cmsgSpace);
  #txCmsgView = new DataView(this.#txCmsg.buffer);
  #txMsg = new Uint8Array(L.msghdr.size);
  #txMsgView = new DataView(this.#txMsg.buffer);
  #provisional = 0;
  #assocIdOut = new Int32Array(1);

  constructor(init: KernelEndpointInit) {
    this.#fd = init.fd;
    this.#style = init.style;
    this.#listening = init.listening;
    this.localPort = init.localPort;
    this.#onEvent = init.onEvent;
    this.#poller = init.poller ?? fdPoller();
    this.#prepareBuffers();
    this.#watch(K.POLLIN);
  }

  #prepareBuffers(): void {
    const M = L.msghdr;
    const rx = this.#rxMsgView;
    const rxIov = new DataView(this.#rxIov.buffer);
    rxIov.setBigUint64(0, addressOf(this.#buffer), true);
    rxIov.setBigUint64(8, BigInt(this.#buffer.length), true);
    rx.setBigUint64(M.name, addressOf(this.#name), true);
    rx.setBigUint64(M.iov, addressOf(this.#rxIov), true);
    rx.setBigUint64(M.iovLength, 1n, true);
    rx.setBigUint64(M.control, addressOf(this.#control), true);
    const tx = new DataView(this.#txMsg.buffer);
    tx.setBigUint64(M.iov, addressOf(this.#txIov), true);
    tx.setBigUint64(M.iovLength, 1n, true);
    tx.setBigUint64(M.control, addressOf(this.#txCmsg), true);
    tx.setBigUint64(M.controlLength, BigInt(L.sndinfo.cmsgSpace), true);
    const cm = this.#txCmsgView;
    cm.setBigUint64(L.cmsghdr.length, BigInt(L.cmsghdr.data + L.sndinfo.size), true);
    cm.setInt32(L.cmsghdr.level, K.IPPROTO_SCTP, true);
    cm.setInt32(L.cmsghdr.type, K.SCTP_SNDINFO, true);
  }

  /**
   * Replaces the event handler (e.g. for an endpoint delivered by an `accept` event).
   *
   * @param onEvent The new handler.
   */
  setEventHandler(onEvent: (event: SctpEvent) => void): void {
    this.#onEvent = onEvent;
  }

  /** Called by the poller on the JavaScript thread. */
  onReady(revents: number): void {
    if (this.#closed || !this.#fdOpen) return;
    if (revents & K.POLLNVAL) {
      this.#unwatch();
      return;
    }
    if (this.#listening && this.#style === "one-to-one") {
      this.#acceptAll();
      return;
    }
    if (revents & (K.POLLIN | K.POLLERR | K.POLLHUP)) this.#drain();
    if (this.#queued > 0 && this.#fdOpen) this.#flush();
    this.#updateEvents();
  }

  localAddresses(): string[] {
    if (this.#closed || !this.#fdOpen) return [];
    return readAddresses(this.#fd, 0, true).map((a) => a.address);
  }

  connect(addresses: string[], port: number, options: { timeout?: number } = {}): Promise<number> {
    try {
      this.#checkOpen("connect");
      if (this.#listening && this.#style === "one-to-one") {
        throw new SctpError("invalid-argument", "Cannot connect a listening one-to-one endpoint");
      }
      const pending = this.#pendingTo(addresses, port);
      if (pending !== undefined) return this.#waitUp(pending[0], pending[1], options.timeout);
      const assocId = this.#connectx(addresses, port);
      if (assocId === 0 && this.#style === "one-to-many") {
        const [key, a] = this.#trackPending(addresses, port);
        return this.#waitUp(key, a, options.timeout);
      }
      const a = this.#associations.get(assocId);
      if (a?.state === "up") return Promise.resolve(assocId);
      return this.#waitUp(assocId, this.#track(assocId, "connecting"), options.timeout);
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
    const flags = options.unordered ? K.SCTP_UNORDERED : 0;
    if (a.head < a.queue.length) {
      this.#enqueue(a, data.slice(), stream, ppid, flags);
    } else {
      const code = this.#sendNow(assocId, data, stream, ppid, flags);
      if (code === Errno.EAGAIN) this.#enqueue(a, data.slice(), stream, ppid, flags);
      else if (code !== 0) throw errnoError(`send on association ${assocId}`, code);
    }
    if (options.eof) this.shutdown(assocId);
  }

  sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions = {},
  ): Promise<number> {
    try {
      this.#checkOpen("send");
      if (this.#style !== "one-to-many") {
        throw new SctpError("invalid-argument", "Cannot use sendTo on a one-to-one endpoint");
      }
      // The kernel queues data for an association that is still being set up.
      let pending = this.#pendingTo(addresses, port);
      if (pending === undefined) {
        const assocId = this.#connectx(addresses, port);
        if (assocId !== 0) {
          if (!this.#associations.has(assocId)) this.#track(assocId, "connecting");
          this.send(assocId, data, options);
          return Promise.resolve(assocId);
        }
        pending = this.#trackPending(addresses, port);
      }
      // No id yet: send by address, answer with the id once the association is up.
      const [key, a] = pending;
      this.send(key, data, options);
      return a.state === "connecting" ? this.#waitUp(key, a) : Promise.resolve(key);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  shutdown(assocId: number): void {
    this.#checkOpen("shut down an association");
    const a = this.#associations.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot shut down association ${assocId}: unknown`);
    }
    if (a.state === "closing") return;
    a.state = "closing";
    if (a.head < a.queue.length) {
      this.#enqueue(a, new Uint8Array(0), 0, 0, K.SCTP_EOF);
    } else {
      this.#shutdownNow(assocId);
    }
  }

  abort(assocId: number): void {
    this.#checkOpen("abort an association");
    const a = this.#associations.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot abort association ${assocId}: unknown`);
    }
    this.#dropQueue(assocId, a);
    if (this.#style === "one-to-many") {
      // The kernel reports COMM_LOST for it (drained on the next turn).
      this.#sendNow(assocId, new Uint8Array(0), 0, 0, K.SCTP_ABORT);
      return;
    }
    // One-to-one sockets cannot send SCTP_ABORT: close with SO_LINGER {1, 0} sends the ABORT.
    this.#abortOneToOne();
    this.#emit({ type: "lost", assocId });
    this.#forget(assocId);
  }

  status(assocId: number): SctpAssociationStatus | undefined {
    if (this.#closed || !this.#fdOpen || !this.#associations.has(assocId)) return undefined;
    const S = L.status;
    const buffer = new Uint8Array(S.size);
    const view = new DataView(buffer.buffer);
    view.setInt32(S.assocId, assocId, true);
    const length = new Uint32Array([S.size]);
    const r = libc().getsockopt(
      this.#fd,
      K.SOL_SCTP,
      K.SCTP_STATUS,
      buffer,
      new Uint8Array(length.buffer),
    );
    if (r < 0) return undefined;
    const peers = readAddresses(this.#fd, assocId, false);
    const primary = decodeSockaddr(buffer, S.primaryAddress);
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
    if (this.#closing || this.#closed || !this.#fdOpen) {
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

  #watch(events: number): void {
    this.#pollEvents = events;
    this.#polling = true;
    this.#poller.register(this.#fd, this, events);
  }

  /** Stops polling (the descriptor stays open until close). */
  #unwatch(): Promise<void> {
    if (!this.#polling) return Promise.resolve();
    this.#polling = false;
    return this.#poller.unregister(this.#fd);
  }

  #updateEvents(): void {
    if (!this.#polling) return;
    const wanted = this.#queued > 0 ? K.POLLIN | K.POLLOUT : K.POLLIN;
    if (wanted !== this.#pollEvents) {
      this.#pollEvents = wanted;
      this.#poller.setEvents(this.#fd, wanted);
    }
  }

  /**
   * `sctp_connectx`; returns the association id (existing or new), or 0 when the kernel has not
   * numbered the new association yet (it does when the INIT ACK arrives).
   */
  #connectx(addresses: readonly string[], port: number): number {
    const packed = encodeSockaddrs(addresses, port);
    const id = this.#assocIdOut;
    id[0] = 0;
    const r = libsctp().sctp_connectx(
      this.#fd,
      packed.bytes,
      packed.count,
      new Uint8Array(id.buffer),
    );
    if (r < 0) {
      const code = errno();
      if (code === Errno.EALREADY || code === Errno.EISCONN) {
        const existing = this.#existingAssociation(addresses, port);
        if (existing !== undefined) return existing;
      }
      if (code !== Errno.EINPROGRESS) {
        throw errnoError(`connect to ${addresses.join(", ")} port ${port}`, code);
      }
    }
    let assocId = id[0];
    if (this.#style === "one-to-one") return assocId; // may be 0: one association per socket
    // 0: the kernel has not numbered it yet (the caller tracks it as pending).
    if (assocId === 0) assocId = this.#existingAssociation(addresses, port) ?? 0;
    return assocId;
  }

  /** The association to a peer address, by SCTP_GET_PEER_ADDR_INFO (one-to-many sockets). */
  #existingAssociation(addresses: readonly string[], port: number): number | undefined {
    if (this.#style === "one-to-one") {
      for (const [id] of this.#associations) return id;
      return undefined;
    }
    const P = L.paddrInfo;
    for (const address of addresses) {
      const buffer = new Uint8Array(P.size);
      buffer.set(encodeSockaddr(address, port), P.address);
      const length = new Uint32Array([P.size]);
      const r = libc().getsockopt(
        this.#fd,
        K.SOL_SCTP,
        K.SCTP_GET_PEER_ADDR_INFO,
        buffer,
        new Uint8Array(length.buffer),
      );
      if (r === 0) {
        const id = new DataView(buffer.buffer).getInt32(P.assocId, true);
        if (id !== 0) return id;
      }
    }
    return undefined;
  }

  #track(assocId: number, state: Association["state"]): Association {
    let a = this.#associations.get(assocId);
    if (a === undefined) {
      a = { state, queue: [], head: 0, waiters: [] };
      this.#associations.set(assocId, a);
    }
    return a;
  }

  #forget(assocId: number): void {
    const a = this.#associations.get(assocId);
    if (a === undefined) return;
    this.#settle(
      a,
      assocId,
      new SctpError("connect-failed", `Cannot set up association ${assocId}: it ended`),
    );
    this.#dropQueue(assocId, a);
    this.#associations.delete(assocId);
    if (this.#associations.size === 0) this.#closeWaiter?.();
  }

  /** The id-less association being set up to one of these addresses and this port, if any. */
  #pendingTo(addresses: readonly string[], port: number): [number, Association] | undefined {
    const wanted = new Set(addresses.map(canonical));
    for (const [key, a] of this.#associations) {
      if (a.pending?.port === port && a.pending.addresses.some((x) => wanted.has(x))) {
        return [key, a];
      }
    }
    return undefined;
  }

  #trackPending(addresses: readonly string[], port: number): [number, Association] {
    const key = -++this.#provisional;
    const a = this.#track(key, "connecting");
    a.pending = {
      addresses: addresses.map(canonical),
      port,
      sockaddr: encodeSockaddr(addresses[0], port),
    };
    return [key, a];
  }

  /**
   * A notification names association `assocId`, unknown so far: if it is one of ours that had
   * no id yet, track it under its id from now on. COMM_UP and RESTART are matched by peer
   * address and port; failures (which may carry id 0) go to the oldest id-less association.
   */
  #adoptPending(assocId: number, state: number): number {
    if (assocId !== 0 && this.#associations.has(assocId)) return assocId;
    let match: number | undefined;
    if (state === K.SCTP_COMM_UP || state === K.SCTP_RESTART) {
      const peers = readAddresses(this.#fd, assocId, false);
      const found = peers.length > 0
        ? this.#pendingTo(peers.map((p) => p.address), peers[0].port)
        : undefined;
      match = found?.[0];
    } else {
      for (const [key, a] of this.#associations) {
        if (a.pending !== undefined) {
          match = key;
          break;
        }
      }
    }
    if (match === undefined) return assocId;
    if (assocId === 0) return match; // still no id: handle it under its key
    const a = this.#associations.get(match)!;
    a.pending = undefined;
    this.#associations.delete(match);
    this.#associations.set(assocId, a);
    return assocId;
  }

  /**
   * One-to-one sockets: `sctp_connectx` gives no association id (0); the first notification
   * tells the real one, under which the association is tracked from then on.
   */
  #adoptId(assocId: number): void {
    if (assocId === 0 || this.#associations.has(assocId) || this.#associations.size !== 1) return;
    const [[oldId, a]] = this.#associations;
    this.#associations.delete(oldId);
    this.#associations.set(assocId, a);
  }

  #waitUp(assocId: number, a: Association, timeout?: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (timeout !== undefined && timeout > 0) {
        waiter.timer = setTimeout(() => {
          const index = a.waiters.indexOf(waiter);
          if (index < 0) return;
          a.waiters.splice(index, 1);
          let id = assocId;
          for (const [key, value] of this.#associations) if (value === a) id = key;
          const what = a.pending
            ? `the association to ${a.pending.addresses.join(", ")} port ${a.pending.port}`
            : `association ${id}`;
          const error = new SctpError(
            "timeout",
            `Cannot set up ${what}: no answer in ${timeout} ms`,
          );
          if (this.#associations.get(id) === a) {
            if (this.#style === "one-to-many") {
              this.#sendNow(id, new Uint8Array(0), 0, 0, K.SCTP_ABORT);
            } else {
              this.#abortOneToOne();
            }
            this.#settle(a, id, error); // the others waiting for it
            this.#forget(id);
          }
          reject(error);
        }, timeout);
      }
      a.waiters.push(waiter);
    });
  }

  #settle(a: Association, assocId: number, error?: SctpError): void {
    const waiters = a.waiters;
    if (waiters.length === 0) return;
    a.waiters = [];
    for (const waiter of waiters) {
      if (waiter.timer !== undefined) clearTimeout(waiter.timer);
      if (error === undefined) waiter.resolve(assocId);
      else waiter.reject(error);
    }
  }

  /** Sends one message now; returns 0 or the errno value. */
  #sendNow(assocId: number, data: Uint8Array, stream: number, ppid: number, flags: number): number {
    const to = assocId < 0 ? this.#associations.get(assocId)?.pending?.sockaddr : undefined;
    if (assocId < 0 && to === undefined) return Errno.EINVAL;
    const msg = this.#txMsgView;
    if (to !== undefined) {
      msg.setBigUint64(L.msghdr.name, addressOf(to), true);
      msg.setUint32(L.msghdr.nameLength, to.length, true);
    }
    const iov = this.#txIovView;
    iov.setBigUint64(0, addressOf(data), true);
    iov.setBigUint64(8, BigInt(data.byteLength), true);
    const cm = this.#txCmsgView;
    const D = L.cmsghdr.data;
    cm.setUint16(D + L.sndinfo.sid, stream, true);
    cm.setUint16(D + L.sndinfo.flags, flags, true);
    cm.setUint32(D + L.sndinfo.ppid, ppid, false); // opaque to SCTP: network byte order
    cm.setInt32(D + L.sndinfo.assocId, to === undefined ? assocId : 0, true);
    const n = libc().sendmsg(this.#fd, this.#txMsg, SEND_FLAGS);
    const code = n < 0 ? errno() : 0;
    if (to !== undefined) {
      msg.setBigUint64(L.msghdr.name, 0n, true);
      msg.setUint32(L.msghdr.nameLength, 0, true);
    }
    return code;
  }

  #shutdownNow(assocId: number): void {
    if (this.#style === "one-to-one") {
      libc().shutdown(this.#fd, K.SHUT_WR);
    } else {
      this.#sendNow(assocId, new Uint8Array(0), 0, 0, K.SCTP_EOF);
    }
  }

  /** ABORT of a one-to-one socket's association: close with SO_LINGER {1, 0}. */
  #abortOneToOne(): void {
    if (!this.#fdOpen) return;
    const linger = new Uint8Array(new Int32Array([1, 0]).buffer);
    libc().setsockopt(this.#fd, K.SOL_SOCKET, K.SO_LINGER, linger, linger.length);
    this.#fdOpen = false;
    const fd = this.#fd;
    this.#unwatch().then(() => libc().close(fd));
  }

  #enqueue(a: Association, data: Uint8Array, stream: number, ppid: number, flags: number): void {
    a.queue.push({ data, stream, ppid, flags });
    this.#queued++;
    this.#updateEvents();
  }

  #dropQueue(assocId: number, a: Association): void {
    const pending = a.queue.length - a.head;
    if (pending <= 0) return;
    const dropped = a.queue.slice(a.head);
    a.queue = [];
    a.head = 0;
    this.#queued -= pending;
    for (const m of dropped) {
      if (m.flags & (K.SCTP_EOF | K.SCTP_ABORT)) continue;
      this.#emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
    }
  }

  /** Sends queued messages while the socket takes them. */
  #flush(): void {
    for (const [assocId, a] of this.#associations) {
      while (a.head < a.queue.length) {
        const m = a.queue[a.head];
        let code: number;
        if (m.flags & K.SCTP_EOF && m.data.length === 0) {
          this.#shutdownNow(assocId);
          code = 0;
        } else {
          code = this.#sendNow(assocId, m.data, m.stream, m.ppid, m.flags);
        }
        if (code === Errno.EAGAIN) return;
        a.head++;
        this.#queued--;
        if (code !== 0) {
          this.#emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
        }
      }
      if (a.queue.length > 0) {
        a.queue = [];
        a.head = 0;
      }
    }
  }

  #acceptAll(): void {
    const c = libc();
    for (;;) {
      const fd = c.accept4(this.#fd, null, null, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (fd < 0) return; // EAGAIN (or an aborted connection)
      const endpoint = new KernelEndpoint({
        fd,
        style: "one-to-one",
        listening: false,
        localPort: this.localPort,
        onEvent: this.#onEvent,
        poller: this.#poller,
      });
      this.#emit({ type: "accept", endpoint });
    }
  }

  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const c = libc();
    const M = L.msghdr;
    const msg = this.#rxMsgView;
    try {
      while (!this.#closed && this.#fdOpen) {
        msg.setUint32(M.nameLength, this.#name.length, true);
        msg.setBigUint64(M.controlLength, BigInt(CONTROL_BUFFER_SIZE), true);
        msg.setInt32(M.flags, 0, true);
        const n = Number(c.recvmsg(this.#fd, this.#rxMsg, K.MSG_DONTWAIT));
        if (n < 0) {
          const code = errno();
          if (code === Errno.EAGAIN || code === Errno.EINTR) return;
          if (this.#style === "one-to-one") this.#endOfAssociation();
          return;
        }
        const flags = msg.getInt32(M.flags, true);
        const notification = (flags & K.MSG_NOTIFICATION) !== 0;
        if (n === 0 && !notification) {
          if (this.#style === "one-to-one") this.#endOfAssociation();
          return;
        }
        if ((flags & K.MSG_EOR) === 0) {
          this.#appendPartial(this.#buffer.subarray(0, n));
          continue;
        }
        let data: Uint8Array = this.#buffer.subarray(0, n);
        if (this.#partialLength > 0) {
          this.#appendPartial(data);
          data = this.#partial!.subarray(0, this.#partialLength);
          this.#partialLength = 0;
        }
        if (notification) {
          this.#notification(data);
        } else {
          this.#message(data, Number(msg.getBigUint64(M.controlLength, true)));
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  #message(data: Uint8Array, controlLength: number): void {
    const cm = this.#controlView;
    const D = L.cmsghdr.data;
    let stream = 0;
    let ppid = 0;
    let assocId = 0;
    // Walk the cmsgs (only SCTP_RCVINFO is enabled, so normally exactly one at offset 0).
    for (let offset = 0; offset + D <= controlLength;) {
      const length = Number(cm.getBigUint64(offset + L.cmsghdr.length, true));
      if (length < D) break;
      if (
        cm.getInt32(offset + L.cmsghdr.level, true) === K.IPPROTO_SCTP &&
        cm.getInt32(offset + L.cmsghdr.type, true) === K.SCTP_RCVINFO &&
        length >= D + L.rcvinfo.size
      ) {
        stream = cm.getUint16(offset + D + L.rcvinfo.sid, true);
        ppid = cm.getUint32(offset + D + L.rcvinfo.ppid, false);
        assocId = cm.getInt32(offset + D + L.rcvinfo.assocId, true);
        break;
      }
      offset += (length + 7) & ~7;
    }
    if (assocId === 0 && this.#style === "one-to-one") {
      for (const [id] of this.#associations) assocId = id;
    }
    this.#emit({ type: "message", assocId, stream, ppid, data });
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

  /** A one-to-one socket has no association any more: report it once, stop polling. */
  #endOfAssociation(): void {
    for (const assocId of [...this.#associations.keys()]) {
      this.#emit({ type: "lost", assocId });
      this.#forget(assocId);
    }
    this.#unwatch();
  }

  #notification(data: Uint8Array): void {
    if (data.length < 8) return;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (v.getUint16(0, true)) {
      case K.SCTP_ASSOC_CHANGE: {
        const A = L.assocChange;
        if (data.length < A.size) return;
        this.#assocChange(
          v.getInt32(A.assocId, true),
          v.getUint16(A.state, true),
          v.getUint16(A.inboundStreams, true),
          v.getUint16(A.outboundStreams, true),
        );
        return;
      }
      case K.SCTP_PEER_ADDR_CHANGE: {
        const P = L.paddrChange;
        if (data.length < P.size) return;
        const address = decodeSockaddr(data, P.address);
        const state = PADDR_STATES[v.getInt32(P.state, true)];
        if (address === undefined || state === undefined) return;
        this.#emit({
          type: "peerAddressChange",
          assocId: v.getInt32(P.assocId, true),
          address: address.address,
          state,
        });
        return;
      }
      case K.SCTP_SHUTDOWN_EVENT: {
        if (data.length < L.shutdownEvent.size) return;
        const assocId = v.getInt32(L.shutdownEvent.assocId, true);
        const a = this.#associations.get(assocId);
        if (a !== undefined) a.state = "closing";
        this.#emit({ type: "shutdown", assocId });
        return;
      }
      case K.SCTP_SEND_FAILED_EVENT: {
        const F = L.sendFailedEvent;
        if (data.length < F.size) return;
        this.#emit({
          type: "sendFailed",
          assocId: v.getInt32(F.assocId, true),
          stream: v.getUint16(F.info + L.sndinfo.sid, true),
          ppid: v.getUint32(F.info + L.sndinfo.ppid, false),
        });
        return;
      }
    }
  }

  #assocChange(id: number, state: number, inbound: number, outbound: number): void {
    let assocId = id;
    if (this.#style === "one-to-one") this.#adoptId(assocId);
    else if (this.#provisional > 0) {
      assocId = this.#adoptPending(assocId, state);
      // The end of an association we gave up (timeout) before the kernel numbered it.
      if (assocId === 0) return;
    }
    switch (state) {
      case K.SCTP_COMM_UP: {
        const a = this.#track(assocId, "up");
        a.state = "up";
        const peers = readAddresses(this.#fd, assocId, false);
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
      case K.SCTP_RESTART:
        this.#track(assocId, "up").state = "up";
        this.#emit({ type: "restart", assocId });
        return;
      case K.SCTP_COMM_LOST:
      case K.SCTP_SHUTDOWN_COMP:
      case K.SCTP_CANT_STR_ASSOC: {
        const a = this.#associations.get(assocId);
        const type = state === K.SCTP_COMM_LOST
          ? "lost"
          : state === K.SCTP_SHUTDOWN_COMP
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
        if (this.#style === "one-to-one") this.#unwatch();
        return;
      }
    }
  }

  async #close(abort: boolean): Promise<void> {
    this.#closing = true;
    if (this.#associations.size > 0 && this.#fdOpen) {
      const done = new Promise<void>((resolve) => (this.#closeWaiter = resolve));
      for (const [assocId, a] of this.#associations) {
        if (abort || a.state === "connecting") {
          this.#dropQueue(assocId, a);
          this.#settle(
            a,
            assocId,
            new SctpError("closed", `Cannot set up association ${assocId}: endpoint closed`),
          );
          if (this.#style === "one-to-many") {
            this.#sendNow(assocId, new Uint8Array(0), 0, 0, K.SCTP_ABORT);
          }
        } else if (a.state === "up") {
          if (a.head < a.queue.length) this.#enqueue(a, new Uint8Array(0), 0, 0, K.SCTP_EOF);
          else this.#shutdownNow(assocId);
          a.state = "closing";
        }
      }
      if (abort) {
        if (this.#style === "one-to-one") this.#abortOneToOne();
        this.#associations.clear();
      }
      if (this.#associations.size > 0) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          done,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        for (const [assocId, a] of this.#associations) {
          this.#dropQueue(assocId, a);
          if (this.#style === "one-to-many" && this.#fdOpen) {
            this.#sendNow(assocId, new Uint8Array(0), 0, 0, K.SCTP_ABORT);
          } else {
            this.#abortOneToOne();
          }
        }
      }
      this.#closeWaiter = undefined;
    }
    this.#closed = true;
    this.#associations.clear();
    await this.#unwatch();
    if (this.#fdOpen) {
      this.#fdOpen = false;
      libc().close(this.#fd);
    }
    if (this.#poller.size === 0) await this.#poller.idle();
  }
}
