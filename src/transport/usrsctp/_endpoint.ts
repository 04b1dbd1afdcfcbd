/**
 * One usrsctp socket as an {@linkcode SctpEndpoint}: the socket operations under the shared
 * {@linkcode SctpEndpointCore}, driven by usrsctp's upcalls (and a backstop timer).
 *
 * All usrsctp calls made here are non-blocking (the socket is non-blocking, `recvv` also gets
 * MSG_DONTWAIT): a blocking call on the JavaScript thread would deadlock against usrsctp's
 * receive thread, which waits for the JavaScript thread while it runs the upcall.
 *
 * @module
 */

import { errno } from "../../../ffi/libc.ts";
import { Errno, errnoError } from "../../../ffi/errno.ts";
import { lastError, USRSCTP, USRSCTP_LAYOUT } from "../../../ffi/usrsctp.ts";
import { type SctpEndpointOptions, SctpError, type SctpSendOptions } from "../types.ts";
import { RECEIVE_AGAIN, SctpEndpointCore, type SctpEndpointCoreInit } from "../_endpoint_core.ts";
import {
  applySctpTuning,
  enableSctpEvents,
  type SctpOptionSetter,
  type SctpSocketApi,
} from "../_socket_api.ts";
import {
  type DecodedSockaddr,
  encodeSockaddr,
  encodeSockaddrs,
  readSockaddrList,
} from "../_sockaddr.ts";
import type { UpcallTarget, UsrsctpStack } from "./_stack.ts";

const L = USRSCTP;
const RECEIVE_BUFFER_SIZE = 128 * 1024;
/** A buffer for zero-length sends (Deno passes an empty buffer as NULL). */
const NOT_NULL = new Uint8Array(1);
const NO_DATA = new Uint8Array(0);
/**
 * Interval of the safety check for notifications that usrsctp queues from its timer thread
 * without an upcall (association lost by timeouts, path unreachable, INIT given up): usrsctp
 * 0.9.5 calls the upcall from `sctp_timeout_handler` only when `so_error` is set, which it does
 * for one-to-one sockets only. Runs only while the endpoint has associations.
 */
const BACKSTOP_INTERVAL_MS = 100;

/** usrsctp's socket API for the shared endpoint logic. */
const USRSCTP_API: SctpSocketApi = {
  constants: USRSCTP,
  layout: USRSCTP_LAYOUT,
  signedAssocIds: false,
  eofWithData: true,
  sharedSendBuffer: false,
};

/** How the endpoint resolves the remote UDP encapsulation port of a peer (UDP mode). */
export type RemoteUdpPortResolver = (addresses: readonly string[], port: number) => number;

/** Internal construction parameters. */
export interface EndpointInit extends Omit<SctpEndpointCoreInit, "receiveBufferSize"> {
  stack: UsrsctpStack;
  so: Deno.PointerObject;
  remoteUdpPort: RemoteUdpPortResolver;
  /** Called once the endpoint released its socket (the transport then releases the stack). */
  onClosed: () => Promise<void>;
}

function optionSetter(stack: UsrsctpStack, so: Deno.PointerObject): SctpOptionSetter {
  return (name, value, what) => {
    if (stack.lib.usrsctp_setsockopt(so, L.IPPROTO_SCTP, name, value, value.length) < 0) {
      throw lastError(`set ${what}`);
    }
  };
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
    const set = optionSetter(stack, so);
    enableSctpEvents(USRSCTP_API, set);
    applySctpTuning(USRSCTP_API, options, set);
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

/** Reads the addresses `getpaddrs`/`getladdrs` return for an association (0: the endpoint). */
function readAddresses(
  stack: UsrsctpStack,
  so: Deno.PointerObject,
  assocId: number,
  local: boolean,
): DecodedSockaddr[] {
  const lib = stack.lib;
  return local
    ? readSockaddrList((out) => lib.usrsctp_getladdrs(so, assocId, out), lib.usrsctp_freeladdrs)
    : readSockaddrList((out) => lib.usrsctp_getpaddrs(so, assocId, out), lib.usrsctp_freepaddrs);
}

function boundPort(stack: UsrsctpStack, so: Deno.PointerObject): number | undefined {
  const addresses = readAddresses(stack, so, 0, true);
  return addresses.length > 0 ? addresses[0].port : undefined;
}

/** A usrsctp socket implementing {@linkcode SctpEndpoint}. */
export class UsrsctpEndpoint extends SctpEndpointCore implements UpcallTarget {
  /** Backend that carries this endpoint. */
  readonly backend = "usrsctp" as const;
  #stack: UsrsctpStack;
  #so: Deno.PointerObject;
  #remoteUdpPort: RemoteUdpPortResolver;
  #onClosed: () => Promise<void>;
  #backstop: ReturnType<typeof setInterval> | undefined;
  // Receive state, allocated once.
  #bufferLength = BigInt(RECEIVE_BUFFER_SIZE);
  #info = new Uint8Array(USRSCTP_LAYOUT.rcvinfo.size);
  #infoView = new DataView(this.#info.buffer);
  #infoLength = new Uint32Array(1);
  #infoLengthBytes = new Uint8Array(this.#infoLength.buffer);
  #infoType = new Uint32Array(1);
  #infoTypeBytes = new Uint8Array(this.#infoType.buffer);
  #flags = new Int32Array(1);
  #flagsBytes = new Uint8Array(this.#flags.buffer);
  // Send state.
  #sndinfo = new Uint8Array(USRSCTP_LAYOUT.sndinfo.size);
  #sndinfoView = new DataView(this.#sndinfo.buffer);
  #assocIdOut = new Uint32Array(1);

  constructor(init: EndpointInit) {
    super(USRSCTP_API, { ...init, receiveBufferSize: RECEIVE_BUFFER_SIZE });
    this.#stack = init.stack;
    this.#so = init.so;
    this.#remoteUdpPort = init.remoteUdpPort;
    this.#onClosed = init.onClosed;
    if (this.listening) this.#stack.noteListening(this.localPort, 1);
    this.#stack.register(this.#so, this);
    // Anything that arrived before the upcall was installed.
    queueMicrotask(() => this.upcall());
  }

  /** Called by the stack's upcall (JavaScript thread). */
  upcall(): void {
    if (this.isClosed) return;
    this.ready(true);
  }

  // ---- socket operations for SctpEndpointCore ----------------------------------------------

  protected connectTo(
    addresses: string[],
    port: number,
    timeout: number | undefined,
  ): Promise<number> {
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
      if (code === Errno.EALREADY || code === Errno.EISCONN) {
        const existing = this.#existingAssociation(addresses, port);
        if (existing !== undefined) {
          const a = this.assocs.get(existing);
          if (a?.state === "up") return Promise.resolve(existing);
          if (a !== undefined) return this.waitUp(existing, a, timeout);
        }
      }
      if (code !== Errno.EINPROGRESS) {
        throw errnoError(`connect to ${addresses.join(", ")} port ${port}`, code);
      }
    }
    const assocId = id[0] !== 0 ? id[0] : this.#existingAssociation(addresses, port);
    if (assocId === undefined) throw cannotSetUp(addresses, port);
    return this.waitUp(assocId, this.track(assocId, "connecting"), timeout);
  }

  protected sendByAddress(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions,
  ): number {
    const existing = this.#existingAssociation(addresses, port);
    if (existing !== undefined && this.assocs.has(existing)) {
      this.send(existing, data, options);
      return existing;
    }
    const packed = encodeSockaddrs(addresses, port);
    this.#setRemoteUdpPort(addresses, port);
    const flags = this.sendFlags(options); // with SCTP_EOF for `eof`
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
      if (code !== Errno.EAGAIN && code !== Errno.EINPROGRESS) {
        throw errnoError(`send to ${addresses.join(", ")} port ${port}`, code);
      }
    }
    const assocId = this.#existingAssociation(addresses, port);
    if (assocId === undefined) throw cannotSetUp(addresses, port);
    const a = this.track(assocId, "connecting");
    if (n < 0n) this.enqueue(a, data.slice(), options.stream ?? 0, options.ppid ?? 0, flags);
    return assocId;
  }

  protected sendNow(
    assocId: number,
    data: Uint8Array,
    stream: number,
    ppid: number,
    flags: number,
  ): number {
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

  protected shutdownWrite(): void {
    this.#stack.lib.usrsctp_shutdown(this.#so, L.SHUT_WR);
  }

  protected abortNow(assocId: number): void {
    this.sendNow(assocId, NO_DATA, 0, 0, L.SCTP_ABORT);
  }

  /** The local COMM_LOST notification is queued without an upcall: fetch it soon. */
  protected override aborted(): void {
    queueMicrotask(() => this.upcall());
  }

  protected readAddresses(assocId: number, local: boolean): DecodedSockaddr[] {
    return readAddresses(this.#stack, this.#so, assocId, local);
  }

  protected getSctpOption(name: number, value: Uint8Array<ArrayBuffer>): boolean {
    const length = new Uint32Array([value.length]);
    return this.#stack.lib.usrsctp_getsockopt(
      this.#so,
      L.IPPROTO_SCTP,
      name,
      value,
      new Uint8Array(length.buffer),
    ) >= 0;
  }

  protected receive(): number {
    this.#infoLength[0] = this.#info.length;
    this.#infoType[0] = 0;
    this.#flags[0] = L.MSG_DONTWAIT;
    const r = this.#stack.lib.usrsctp_recvv(
      this.#so,
      this.receiveBuffer,
      this.#bufferLength,
      null,
      null,
      this.#info,
      this.#infoLengthBytes,
      this.#infoTypeBytes,
      this.#flagsBytes,
    );
    // < 0: EAGAIN (or the association of a one-to-one socket is gone).
    return r < 0n ? RECEIVE_AGAIN : Number(r);
  }

  protected receivedFlags(): number {
    return this.#flags[0];
  }

  protected deliver(data: Uint8Array): void {
    const v = this.#infoView;
    this.emit({
      type: "message",
      assocId: v.getUint32(USRSCTP_LAYOUT.rcvinfo.assocId, true),
      stream: v.getUint16(USRSCTP_LAYOUT.rcvinfo.sid, true),
      ppid: v.getUint32(USRSCTP_LAYOUT.rcvinfo.ppid, false),
      data,
    });
  }

  protected acceptAll(): void {
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
        onEvent: this.eventHandler,
        remoteUdpPort: this.#remoteUdpPort,
        onClosed: this.#onClosed,
      });
      this.emit({ type: "accept", endpoint });
    }
  }

  protected override associationsChanged(): void {
    const wanted = this.assocs.size > 0 && !this.isClosed;
    if (wanted && this.#backstop === undefined) {
      this.#backstop = setInterval(() => this.upcall(), BACKSTOP_INTERVAL_MS);
      Deno.unrefTimer(this.#backstop);
    } else if (!wanted && this.#backstop !== undefined) {
      clearInterval(this.#backstop);
      this.#backstop = undefined;
    }
  }

  protected override pollNow(): void {
    this.upcall();
  }

  protected async release(): Promise<void> {
    this.#stack.unregister(this.#so);
    if (this.listening) this.#stack.noteListening(this.localPort, -1);
    this.#stack.lib.usrsctp_close(this.#so);
    await this.#onClosed();
  }

  // ---- internals --------------------------------------------------------------------------

  #fillSndinfo(assocId: number, stream: number, ppid: number, flags: number): Uint8Array {
    const S = USRSCTP_LAYOUT.sndinfo;
    const v = this.#sndinfoView;
    v.setUint16(S.sid, stream, true);
    v.setUint16(S.flags, flags, true);
    v.setUint32(S.ppid, ppid, false); // opaque to SCTP: network byte order on the wire
    v.setUint32(S.context, 0, true);
    v.setUint32(S.assocId, assocId, true);
    return this.#sndinfo;
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
}

/** usrsctp knows no association to the peer after `connectx`/`sendv` (it should). */
function cannotSetUp(addresses: readonly string[], port: number): SctpError {
  return new SctpError(
    "connect-failed",
    `Cannot set up an association to ${addresses.join(", ")} port ${port}`,
  );
}

/** Whether an address hints at this host (loopback or wildcard). */
function isLocalHint(address: string): boolean {
  return address.startsWith("127.") || address === "::1" || address === "0.0.0.0" ||
    address === "::";
}
