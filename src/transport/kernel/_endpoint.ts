/**
 * One Linux kernel SCTP socket as an {@linkcode SctpEndpoint}: the socket operations under the
 * shared {@linkcode SctpEndpointCore}, driven by the process's {@linkcode FdPoller}.
 *
 * The socket is non-blocking. The poller reports readiness; the endpoint then drains it with
 * `recvmsg(MSG_DONTWAIT)` (SCTP_RCVINFO cmsg: stream, PPID, association) and sends queued
 * messages on POLLOUT. Sends use `sendmsg` with an SCTP_SNDINFO cmsg; the PPID is written in
 * network byte order, as the kernel copies it to the wire as is.
 *
 * @module
 */

import { errno, libc } from "../../../ffi/libc.ts";
import { Errno, errnoError } from "../../../ffi/errno.ts";
import { KSCTP as K, KSCTP_LAYOUT as L, libsctp } from "../../../ffi/libsctp.ts";
import type { SctpEndpointOptions, SctpSendOptions } from "../types.ts";
import { SctpError } from "../types.ts";
import {
  type Association,
  RECEIVE_AGAIN,
  RECEIVE_END,
  SctpEndpointCore,
  type SctpEndpointCoreInit,
} from "../_endpoint_core.ts";
import {
  applySctpTuning,
  enableSctpEvents,
  intOption,
  type SctpOptionSetter,
  type SctpSocketApi,
} from "../_socket_api.ts";
import {
  type DecodedSockaddr,
  decodeSockaddr,
  encodeSockaddr,
  encodeSockaddrs,
  readSockaddrList,
} from "../_sockaddr.ts";
import { type FdPoller, fdPoller, type PollHandler } from "./_poller.ts";

const RECEIVE_BUFFER_SIZE = 64 * 1024;
const CONTROL_BUFFER_SIZE = 64; // CMSG_SPACE(sizeof(struct sctp_rcvinfo)) = 48
const SEND_FLAGS = K.MSG_DONTWAIT | K.MSG_NOSIGNAL;
/**
 * Socket buffer size asked for (the kernel doubles it). Linux refuses messages larger than the
 * send buffer (EMSGSIZE), and the default (net.core.wmem_default, ~208 KiB) is too small for
 * big messages and slows bulk transfers.
 */
const SOCKET_BUFFER_SIZE = 1024 * 1024;
const NO_DATA = new Uint8Array(0);

/** The Linux SCTP socket API for the shared endpoint logic. */
const KERNEL_API: SctpSocketApi = {
  constants: K,
  layout: L,
  signedAssocIds: true,
  eofWithData: false,
  sharedSendBuffer: true,
};

/** Address of a buffer's first byte, for C structs that point at it. */
function addressOf(buffer: Uint8Array): bigint {
  if (buffer.byteLength === 0) return 0n;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer as Uint8Array<ArrayBuffer>)));
}

function optionSetter(fd: number): SctpOptionSetter {
  return (name, value, what) => {
    if (libc().setsockopt(fd, K.SOL_SCTP, name, value, value.length) < 0) {
      throw errnoError(`set ${what}`, errno());
    }
  };
}

/**
 * Reads the addresses of an association (`sctp_getpaddrs`) or the bound ones
 * (`sctp_getladdrs`, association 0).
 */
function readAddresses(fd: number, assocId: number, local: boolean): DecodedSockaddr[] {
  const lib = libsctp();
  return local
    ? readSockaddrList((out) => lib.sctp_getladdrs(fd, assocId, out), lib.sctp_freeladdrs)
    : readSockaddrList((out) => lib.sctp_getpaddrs(fd, assocId, out), lib.sctp_freepaddrs);
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
    const set = optionSetter(fd);
    if (family === K.AF_INET6) {
      // IPv4 peers as AF_INET addresses, not ::ffff:a.b.c.d.
      set(K.SCTP_I_WANT_MAPPED_V4_ADDR, intOption(0), "SCTP_I_WANT_MAPPED_V4_ADDR");
    }
    enableSctpEvents(KERNEL_API, set);
    setBufferSizes(fd);
    applySctpTuning(KERNEL_API, options, set);
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
  const value = intOption(SOCKET_BUFFER_SIZE);
  for (const [force, plain] of [[K.SO_SNDBUFFORCE, K.SO_SNDBUF], [K.SO_RCVBUFFORCE, K.SO_RCVBUF]]) {
    if (c.setsockopt(fd, K.SOL_SOCKET, force, value, 4) < 0) {
      c.setsockopt(fd, K.SOL_SOCKET, plain, value, 4); // capped by the sysctl: best effort
    }
  }
}

/** An address in the text form the kernel's address lists decode to. */
function canonical(address: string): string {
  return decodeSockaddr(encodeSockaddr(address, 0))?.address ?? address;
}

/** Construction parameters of {@linkcode KernelEndpoint}. */
export interface KernelEndpointInit extends Omit<SctpEndpointCoreInit, "receiveBufferSize"> {
  fd: number;
  poller?: FdPoller;
}

/** A kernel SCTP socket implementing {@linkcode SctpEndpoint}. */
export class KernelEndpoint extends SctpEndpointCore implements PollHandler {
  /** Backend that carries this endpoint. */
  readonly backend = "kernel" as const;
  #fd: number;
  #fdOpen = true;
  #polling = false;
  #pollEvents = 0;
  #poller: FdPoller;
  // Receive state, allocated once: msghdr -> iovec -> buffer, control, name.
  #control = new Uint8Array(CONTROL_BUFFER_SIZE);
  #controlView = new DataView(this.#control.buffer);
  #name = new Uint8Array(L.sockaddrStorage.size);
  #rxIov = new Uint8Array(L.iovec.size);
  #rxMsg = new Uint8Array(L.msghdr.size);
  #rxMsgView = new DataView(this.#rxMsg.buffer);
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
    super(KERNEL_API, { ...init, receiveBufferSize: RECEIVE_BUFFER_SIZE });
    this.#fd = init.fd;
    this.#poller = init.poller ?? fdPoller();
    this.#prepareBuffers();
    this.#watch(K.POLLIN);
  }

  #prepareBuffers(): void {
    const M = L.msghdr;
    const rx = this.#rxMsgView;
    const rxIov = new DataView(this.#rxIov.buffer);
    rxIov.setBigUint64(0, addressOf(this.receiveBuffer), true);
    rxIov.setBigUint64(8, BigInt(this.receiveBuffer.length), true);
    rx.setBigUint64(M.name, addressOf(this.#name), true);
    rx.setBigUint64(M.iov, addressOf(this.#rxIov), true);
    rx.setBigUint64(M.iovLength, 1n, true);
    rx.setBigUint64(M.control, addressOf(this.#control), true);
    const tx = this.#txMsgView;
    tx.setBigUint64(M.iov, addressOf(this.#txIov), true);
    tx.setBigUint64(M.iovLength, 1n, true);
    tx.setBigUint64(M.control, addressOf(this.#txCmsg), true);
    tx.setBigUint64(M.controlLength, BigInt(L.sndinfo.cmsgSpace), true);
    const cm = this.#txCmsgView;
    cm.setBigUint64(L.cmsghdr.length, BigInt(L.cmsghdr.data + L.sndinfo.size), true);
    cm.setInt32(L.cmsghdr.level, K.IPPROTO_SCTP, true);
    cm.setInt32(L.cmsghdr.type, K.SCTP_SNDINFO, true);
  }

  /** Called by the poller on the JavaScript thread. */
  onReady(revents: number): void {
    if (this.isClosed || !this.#fdOpen) return;
    if (revents & K.POLLNVAL) {
      this.#unwatch();
      return;
    }
    this.ready((revents & (K.POLLIN | K.POLLERR | K.POLLHUP)) !== 0);
    this.#updateEvents();
  }

  // ---- socket operations for SctpEndpointCore ----------------------------------------------

  protected connectTo(
    addresses: string[],
    port: number,
    timeout: number | undefined,
  ): Promise<number> {
    if (this.listening && this.style === "one-to-one") {
      throw new SctpError("invalid-argument", "Cannot connect a listening one-to-one endpoint");
    }
    const pending = this.#pendingTo(addresses, port);
    if (pending !== undefined) return this.waitUp(pending[0], pending[1], timeout);
    const assocId = this.#connectx(addresses, port);
    if (assocId === 0 && this.style === "one-to-many") {
      const [key, a] = this.#trackPending(addresses, port);
      return this.waitUp(key, a, timeout);
    }
    const a = this.assocs.get(assocId);
    if (a?.state === "up") return Promise.resolve(assocId);
    return this.waitUp(assocId, this.track(assocId, "connecting"), timeout);
  }

  /** The kernel queues data for an association that is still being set up. */
  protected sendByAddress(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions,
  ): number | Promise<number> {
    let pending = this.#pendingTo(addresses, port);
    if (pending === undefined) {
      const assocId = this.#connectx(addresses, port);
      if (assocId !== 0) {
        if (!this.assocs.has(assocId)) this.track(assocId, "connecting");
        this.send(assocId, data, options);
        return assocId;
      }
      pending = this.#trackPending(addresses, port);
    }
    // No id yet: send by address, answer with the id once the association is up.
    const [key, a] = pending;
    this.send(key, data, options);
    return a.state === "connecting" ? this.waitUp(key, a) : key;
  }

  protected override get socketOpen(): boolean {
    return this.#fdOpen;
  }

  protected sendNow(
    assocId: number,
    data: Uint8Array,
    stream: number,
    ppid: number,
    flags: number,
  ): number {
    const to = assocId < 0 ? this.assocs.get(assocId)?.pending?.sockaddr : undefined;
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

  protected shutdownWrite(): void {
    libc().shutdown(this.#fd, K.SHUT_WR);
  }

  /**
   * SCTP_ABORT on a one-to-many socket; the kernel refuses it on one-to-one sockets (EINVAL),
   * where closing with SO_LINGER {1, 0} sends the ABORT.
   */
  protected abortNow(assocId: number): void {
    if (this.style === "one-to-one") this.#abortOneToOne();
    else if (this.#fdOpen) this.sendNow(assocId, NO_DATA, 0, 0, K.SCTP_ABORT);
  }

  /**
   * One-to-many: the kernel reports COMM_LOST for it (drained on the next turn). One-to-one: the
   * socket is gone, report the loss here.
   */
  protected override aborted(assocId: number): void {
    if (this.style === "one-to-many") return;
    this.emit({ type: "lost", assocId });
    this.forget(assocId);
  }

  /**
   * One-to-one associations being set up are left to finish (and shut down) unless `close()`
   * aborts everything: their ABORT closes the socket.
   */
  protected override abortOnClose(assocId: number, all: boolean): void {
    if (this.style === "one-to-many") this.sendNow(assocId, NO_DATA, 0, 0, K.SCTP_ABORT);
    else if (all) this.#abortOneToOne();
  }

  protected readAddresses(assocId: number, local: boolean): DecodedSockaddr[] {
    return readAddresses(this.#fd, assocId, local);
  }

  protected getSctpOption(name: number, value: Uint8Array<ArrayBuffer>): boolean {
    const length = new Uint32Array([value.length]);
    return libc().getsockopt(this.#fd, K.SOL_SCTP, name, value, new Uint8Array(length.buffer)) >= 0;
  }

  protected receive(): number {
    const M = L.msghdr;
    const msg = this.#rxMsgView;
    msg.setUint32(M.nameLength, this.#name.length, true);
    msg.setBigUint64(M.controlLength, BigInt(CONTROL_BUFFER_SIZE), true);
    msg.setInt32(M.flags, 0, true);
    const n = Number(libc().recvmsg(this.#fd, this.#rxMsg, K.MSG_DONTWAIT));
    if (n >= 0) return n;
    const code = errno();
    return code === Errno.EAGAIN || code === Errno.EINTR ? RECEIVE_AGAIN : RECEIVE_END;
  }

  protected receivedFlags(): number {
    return this.#rxMsgView.getInt32(L.msghdr.flags, true);
  }

  protected deliver(data: Uint8Array): void {
    const controlLength = Number(this.#rxMsgView.getBigUint64(L.msghdr.controlLength, true));
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
    if (assocId === 0 && this.style === "one-to-one") {
      for (const [id] of this.assocs) assocId = id;
    }
    this.emit({ type: "message", assocId, stream, ppid, data });
  }

  protected acceptAll(): void {
    const c = libc();
    for (;;) {
      const fd = c.accept4(this.#fd, null, null, K.SOCK_NONBLOCK | K.SOCK_CLOEXEC);
      if (fd < 0) return; // EAGAIN (or an aborted connection)
      const endpoint = new KernelEndpoint({
        fd,
        style: "one-to-one",
        listening: false,
        localPort: this.localPort,
        onEvent: this.eventHandler,
        poller: this.#poller,
      });
      this.emit({ type: "accept", endpoint });
    }
  }

  /**
   * A one-to-one socket has no association any more (end of file, or an error such as
   * ENOTCONN): report it once, stop polling.
   */
  protected override endOfStream(): void {
    if (this.style !== "one-to-one") return;
    for (const assocId of [...this.assocs.keys()]) {
      this.emit({ type: "lost", assocId });
      this.forget(assocId);
    }
    this.#unwatch();
  }

  protected override notifiedAssocId(assocId: number, state: number): number | undefined {
    if (this.style === "one-to-one") {
      this.#adoptId(assocId);
      return assocId;
    }
    if (this.#provisional === 0) return assocId;
    const id = this.#adoptPending(assocId, state);
    // 0: the end of an association we gave up (timeout) before the kernel numbered it.
    return id === 0 ? undefined : id;
  }

  /** A one-to-one socket whose association ended stops polling (no busy POLLHUP loop). */
  protected override associationEnded(): void {
    if (this.style === "one-to-one") this.#unwatch();
  }

  protected override queueGrew(): void {
    this.#updateEvents();
  }

  protected async release(): Promise<void> {
    await this.#unwatch();
    if (this.#fdOpen) {
      this.#fdOpen = false;
      libc().close(this.#fd);
    }
    if (this.#poller.size === 0) await this.#poller.idle();
  }

  // ---- internals --------------------------------------------------------------------------

  /** ABORT of a one-to-one socket's association: close with SO_LINGER {1, 0}. */
  #abortOneToOne(): void {
    if (!this.#fdOpen) return;
    const linger = new Uint8Array(new Int32Array([1, 0]).buffer);
    libc().setsockopt(this.#fd, K.SOL_SOCKET, K.SO_LINGER, linger, linger.length);
    this.#fdOpen = false;
    const fd = this.#fd;
    this.#unwatch().then(() => libc().close(fd));
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
    const wanted = this.queuedCount > 0 ? K.POLLIN | K.POLLOUT : K.POLLIN;
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
    if (this.style === "one-to-one") return assocId; // may be 0: one association per socket
    // 0: the kernel has not numbered it yet (the caller tracks it as pending).
    if (assocId === 0) assocId = this.#existingAssociation(addresses, port) ?? 0;
    return assocId;
  }

  /** The association to a peer address, by SCTP_GET_PEER_ADDR_INFO (one-to-many sockets). */
  #existingAssociation(addresses: readonly string[], port: number): number | undefined {
    if (this.style === "one-to-one") {
      for (const [id] of this.assocs) return id;
      return undefined;
    }
    const P = L.paddrInfo;
    for (const address of addresses) {
      const buffer = new Uint8Array(P.size);
      buffer.set(encodeSockaddr(address, port), P.address);
      if (this.getSctpOption(K.SCTP_GET_PEER_ADDR_INFO, buffer)) {
        const id = new DataView(buffer.buffer).getInt32(P.assocId, true);
        if (id !== 0) return id;
      }
    }
    return undefined;
  }

  /** The id-less association being set up to one of these addresses and this port, if any. */
  #pendingTo(addresses: readonly string[], port: number): [number, Association] | undefined {
    const wanted = new Set(addresses.map(canonical));
    for (const [key, a] of this.assocs) {
      if (a.pending?.port === port && a.pending.addresses.some((x) => wanted.has(x))) {
        return [key, a];
      }
    }
    return undefined;
  }

  #trackPending(addresses: readonly string[], port: number): [number, Association] {
    const key = -++this.#provisional;
    const a = this.track(key, "connecting");
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
    if (assocId !== 0 && this.assocs.has(assocId)) return assocId;
    let match: number | undefined;
    if (state === K.SCTP_COMM_UP || state === K.SCTP_RESTART) {
      const peers = readAddresses(this.#fd, assocId, false);
      const found = peers.length > 0
        ? this.#pendingTo(peers.map((p) => p.address), peers[0].port)
        : undefined;
      match = found?.[0];
    } else {
      for (const [key, a] of this.assocs) {
        if (a.pending !== undefined) {
          match = key;
          break;
        }
      }
    }
    if (match === undefined) return assocId;
    if (assocId === 0) return match; // still no id: handle it under its key
    const a = this.assocs.get(match)!;
    a.pending = undefined;
    this.assocs.delete(match);
    this.assocs.set(assocId, a);
    return assocId;
  }

  /**
   * One-to-one sockets: `sctp_connectx` gives no association id (0); the first notification
   * tells the real one, under which the association is tracked from then on.
   */
  #adoptId(assocId: number): void {
    if (assocId === 0 || this.assocs.has(assocId) || this.assocs.size !== 1) return;
    const [[oldId, a]] = this.assocs;
    this.assocs.delete(oldId);
    this.assocs.set(assocId, a);
  }
}
