/**
 * What the two SCTP backends share: the bookkeeping of an {@linkcode SctpEndpoint} over one
 * SCTP socket of the RFC 6458 socket API, whichever stack implements it (Linux kernel SCTP,
 * usrsctp).
 *
 * {@linkcode SctpEndpointCore} keeps the association table, per-association send queues (a
 * send that meets EAGAIN is copied into its association's queue; later sends queue behind it),
 * `connect()` waiters with their timeouts, the reassembly of partially delivered messages, the
 * decoding of SCTP notifications into {@linkcode SctpEvent}s, `status()`, and the graceful
 * `close()`. A backend subclass brings the socket: how to send one message, receive one
 * message, shut down, abort, read addresses and socket options, accept, and when to drain
 * (usrsctp upcalls, the kernel backend's poller); also `connect()` and `sendTo()`, which
 * differ in how the stacks number new associations. Constant values and struct offsets differ
 * between the two APIs: each backend hands its {@linkcode SctpSocketApi} table to the core.
 *
 * @module
 */

import { Errno, errnoError } from "../../ffi/errno.ts";
import type {
  SctpAssociationStatus,
  SctpEndpoint,
  SctpEvent,
  SctpPeerAddressEvent,
  SctpSendOptions,
} from "./types.ts";
import { SctpError } from "./types.ts";
import { type DecodedSockaddr, decodeSockaddr } from "./_sockaddr.ts";
import type { SctpSocketApi } from "./_socket_api.ts";

/** {@linkcode SctpEndpointCore.receive}: nothing more to read now (EAGAIN). */
export const RECEIVE_AGAIN = -1;
/** {@linkcode SctpEndpointCore.receive}: the socket failed; the association (one-to-one) ended. */
export const RECEIVE_END = -2;

/** How long `close()` waits for graceful shutdowns before aborting the rest. */
const CLOSE_TIMEOUT_MS = 3000;
/** The payload of control messages (EOF, ABORT); never written. */
const EMPTY = new Uint8Array(0);

/** A message waiting for room in the socket. */
interface QueuedMessage {
  data: Uint8Array;
  stream: number;
  ppid: number;
  flags: number;
}

/** A `connect()` / `sendTo()` call waiting for an association to come up. */
interface Waiter {
  resolve: (id: number) => void;
  reject: (error: SctpError) => void;
  timer?: ReturnType<typeof setTimeout>;
}

/** What an endpoint knows about one association. */
export interface Association {
  /** Where it stands. */
  state: "connecting" | "up" | "closing";
  /** Messages waiting for room in the socket; `head` is the next one. */
  queue: QueuedMessage[];
  /** Index of the next message to send in `queue`. */
  head: number;
  /**
   * Set while the stack has not numbered the association yet (Linux numbers it when the
   * INIT ACK arrives): it is then tracked under a private negative key and addressed by the
   * peer address.
   */
  pending?: { addresses: string[]; port: number; sockaddr: Uint8Array<ArrayBuffer> };
  /** `connect()` / `sendTo()` calls waiting for it to come up. */
  waiters: Waiter[];
}

/** Construction parameters of {@linkcode SctpEndpointCore}. */
export interface SctpEndpointCoreInit {
  /** The socket style. */
  style: "one-to-many" | "one-to-one";
  /** Whether the socket listens. */
  listening: boolean;
  /** Bound local port. */
  localPort: number;
  /** Event callback. */
  onEvent: (event: SctpEvent) => void;
  /** Size of the receive buffer (larger messages are reassembled). */
  receiveBufferSize: number;
}

/**
 * The backend-independent part of an {@linkcode SctpEndpoint}. Subclasses implement the socket
 * operations (the `protected abstract` members), `connect()`, `sendTo()` and accepting, and
 * call {@linkcode SctpEndpointCore.ready} when the socket may be readable or writable.
 */
export abstract class SctpEndpointCore implements SctpEndpoint {
  /** Backend that carries this endpoint. */
  abstract readonly backend: SctpEndpoint["backend"];
  /** Bound local port. */
  readonly localPort: number;
  /** The socket style. */
  protected readonly style: "one-to-many" | "one-to-one";
  /** Whether the socket listens. */
  protected readonly listening: boolean;
  /**
   * The associations by id (Linux: negative keys for associations the stack has not numbered
   * yet; see {@linkcode Association.pending}).
   */
  protected readonly assocs: Map<number, Association> = new Map();
  /** Receive buffer: {@linkcode SctpEndpointCore.receive} reads one message (piece) into it. */
  protected readonly receiveBuffer: Uint8Array<ArrayBuffer>;
  readonly #api: SctpSocketApi;
  #onEvent: (event: SctpEvent) => void;
  #closing = false;
  #closed = false;
  #closePromise: Promise<void> | undefined;
  #closeWaiter: (() => void) | undefined;
  #draining = false;
  #queued = 0;
  #partial: Uint8Array | undefined;
  #partialLength = 0;
  #paddrStates: Record<number, SctpPeerAddressEvent["state"]>;

  /**
   * Creates the shared state.
   *
   * @param api The backend's API table.
   * @param init Style, port, callback, receive buffer size.
   */
  constructor(api: SctpSocketApi, init: SctpEndpointCoreInit) {
    this.#api = api;
    this.style = init.style;
    this.listening = init.listening;
    this.localPort = init.localPort;
    this.#onEvent = init.onEvent;
    this.receiveBuffer = new Uint8Array(init.receiveBufferSize);
    const C = api.constants;
    this.#paddrStates = {
      [C.SCTP_ADDR_AVAILABLE]: "available",
      [C.SCTP_ADDR_UNREACHABLE]: "unreachable",
      [C.SCTP_ADDR_REMOVED]: "removed",
      [C.SCTP_ADDR_ADDED]: "added",
      [C.SCTP_ADDR_MADE_PRIM]: "primary",
      [C.SCTP_ADDR_CONFIRMED]: "confirmed",
    };
  }

  // ---- socket operations of the backend -----------------------------------------------------

  /** Sends one message now; returns 0 or the errno value (EAGAIN: no room). */
  protected abstract sendNow(
    assocId: number,
    data: Uint8Array,
    stream: number,
    ppid: number,
    flags: number,
  ): number;
  /** One-to-one sockets: `shutdown(SHUT_WR)`. */
  protected abstract shutdownWrite(): void;
  /** Aborts one association now (ABORT chunk). */
  protected abstract abortNow(assocId: number): void;
  /** The peer addresses of an association, or (`local`, id 0) the bound addresses. */
  protected abstract readAddresses(assocId: number, local: boolean): DecodedSockaddr[];
  /** `getsockopt` at level IPPROTO_SCTP into `value`; `false` when it failed. */
  protected abstract getSctpOption(name: number, value: Uint8Array<ArrayBuffer>): boolean;
  /**
   * Receives one message (or piece of one) into {@linkcode SctpEndpointCore.receiveBuffer},
   * without blocking.
   *
   * @returns Its length, {@linkcode RECEIVE_AGAIN} or {@linkcode RECEIVE_END}.
   */
  protected abstract receive(): number;
  /** The recvmsg flags of the last {@linkcode SctpEndpointCore.receive}. */
  protected abstract receivedFlags(): number;
  /** Emits the `message` event of a complete data message (its receive info is the backend's). */
  protected abstract deliver(data: Uint8Array): void;
  /**
   * `connect()` after the common checks: sets up (or finds) the association to the peer.
   *
   * @returns Its id once it is up (see {@linkcode SctpEndpointCore.waitUp}).
   */
  protected abstract connectTo(
    addresses: string[],
    port: number,
    timeout: number | undefined,
  ): Promise<number>;
  /**
   * `sendTo()` after the common checks (open, one-to-many): sends by peer address, setting the
   * association up if needed.
   *
   * @returns The association id, or when it is known.
   */
  protected abstract sendByAddress(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions,
  ): number | Promise<number>;
  /** A listening one-to-one socket is readable: accept what waits. */
  protected abstract acceptAll(): void;
  /** Releases the socket after `close()` (the associations are gone). */
  protected abstract release(): Promise<void>;

  // ---- hooks with defaults --------------------------------------------------------------------

  /** Whether the socket is still open (a backend may close it before `close()`). */
  protected get socketOpen(): boolean {
    return true;
  }

  /**
   * `close()` ends an association that is connecting (or every one, with `abort`). Default:
   * {@linkcode SctpEndpointCore.abortNow}.
   */
  protected abortOnClose(assocId: number, _all: boolean): void {
    this.abortNow(assocId);
  }

  /** After `abort()` sent the ABORT of an association. */
  protected aborted(_assocId: number): void {}

  /**
   * The id to handle an association notification under, or `undefined` to ignore it. Default:
   * the id it carries.
   */
  protected notifiedAssocId(assocId: number, _state: number): number | undefined {
    return assocId;
  }

  /** An association ended (lost, closed, could not start) and was forgotten. */
  protected associationEnded(): void {}

  /** The set of associations changed (one added or forgotten, or all gone at close). */
  protected associationsChanged(): void {}

  /** A message was queued (the socket should report when it is writable). */
  protected queueGrew(): void {}

  /**
   * `receive()` gave {@linkcode RECEIVE_END}, or 0 bytes that are no notification: on a
   * one-to-one socket, the end of its association.
   */
  protected endOfStream(): void {}

  /** `close()` is about to wait for graceful shutdowns: process the socket now if needed. */
  protected pollNow(): void {}

  // ---- SctpEndpoint ---------------------------------------------------------------------------

  /**
   * Replaces the event handler (e.g. for an endpoint delivered by an `accept` event).
   *
   * @param onEvent The new handler.
   */
  setEventHandler(onEvent: (event: SctpEvent) => void): void {
    this.#onEvent = onEvent;
  }

  /** Bound local addresses. */
  localAddresses(): string[] {
    if (this.#closed || !this.socketOpen) return [];
    return this.readAddresses(0, true).map((a) => a.address);
  }

  /**
   * Sets up an association to a (multi-homed) peer.
   *
   * @param addresses The peer's addresses.
   * @param port The peer's port.
   * @param options `timeout` in ms (then ABORT and reject with `timeout`).
   * @returns The association id, when it is up.
   */
  connect(addresses: string[], port: number, options: { timeout?: number } = {}): Promise<number> {
    try {
      this.checkOpen("connect");
      return this.connectTo(addresses, port, options.timeout);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends to a peer by address, setting up an association when there is none (one-to-many).
   *
   * @param addresses The peer's addresses.
   * @param port The peer's port.
   * @param data The payload.
   * @param options Stream, PPID, unordered, EOF.
   * @returns The association id.
   */
  sendTo(
    addresses: string[],
    port: number,
    data: Uint8Array,
    options: SctpSendOptions = {},
  ): Promise<number> {
    try {
      this.checkOpen("send");
      if (this.style !== "one-to-many") {
        throw new SctpError("invalid-argument", "Cannot use sendTo on a one-to-one endpoint");
      }
      return Promise.resolve(this.sendByAddress(addresses, port, data, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends one message, or queues a copy when the socket has no room (or messages wait).
   *
   * @param assocId The association.
   * @param data The payload.
   * @param options Stream, PPID, unordered, EOF.
   */
  send(assocId: number, data: Uint8Array, options: SctpSendOptions = {}): void {
    this.checkOpen("send");
    const a = this.assocs.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot send on association ${assocId}: unknown`);
    }
    const eofWithData = options.eof === true && this.#api.eofWithData;
    const stream = options.stream ?? 0;
    const ppid = options.ppid ?? 0;
    const flags = this.sendFlags(options);
    if (a.head < a.queue.length) {
      // Behind queued messages (order); copied, the caller may reuse its buffer.
      this.enqueue(a, data.slice(), stream, ppid, flags);
    } else {
      const code = this.sendNow(assocId, data, stream, ppid, flags);
      if (code === Errno.EAGAIN) this.enqueue(a, data.slice(), stream, ppid, flags);
      else if (code !== 0) throw errnoError(`send on association ${assocId}`, code);
    }
    if (eofWithData) a.state = "closing";
    else if (options.eof) this.shutdown(assocId);
  }

  /**
   * Starts a graceful shutdown of one association (behind its queued messages).
   *
   * @param assocId The association.
   */
  shutdown(assocId: number): void {
    this.checkOpen("shut down an association");
    const a = this.assocs.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot shut down association ${assocId}: unknown`);
    }
    if (a.state === "closing") return;
    a.state = "closing";
    if (a.head < a.queue.length) {
      this.enqueue(a, EMPTY, 0, 0, this.#api.constants.SCTP_EOF);
    } else {
      this.shutdownNow(assocId);
    }
  }

  /**
   * Aborts one association; its queued messages are reported as `sendFailed`.
   *
   * @param assocId The association.
   */
  abort(assocId: number): void {
    this.checkOpen("abort an association");
    const a = this.assocs.get(assocId);
    if (a === undefined) {
      throw new SctpError("no-association", `Cannot abort association ${assocId}: unknown`);
    }
    this.#dropQueue(assocId, a);
    this.abortNow(assocId);
    this.aborted(assocId);
  }

  /**
   * Status of one association (SCTP_STATUS and the peer addresses).
   *
   * @param assocId The association.
   * @returns The status, or `undefined` when it is unknown.
   */
  status(assocId: number): SctpAssociationStatus | undefined {
    if (this.#closed || !this.socketOpen || !this.assocs.has(assocId)) return undefined;
    const S = this.#api.layout.status;
    const buffer = new Uint8Array(S.size);
    const view = new DataView(buffer.buffer);
    view.setUint32(S.assocId, assocId, true); // the same bytes as setInt32 for negative ids
    if (!this.getSctpOption(this.#api.constants.SCTP_STATUS, buffer)) return undefined;
    const peers = this.readAddresses(assocId, false);
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

  /** Ids of the associations that are up (or shutting down). */
  associations(): number[] {
    const ids: number[] = [];
    for (const [id, a] of this.assocs) if (a.state !== "connecting") ids.push(id);
    return ids;
  }

  /**
   * Closes the socket: graceful shutdown of every association (up to 3 s, then ABORT), or ABORT
   * at once with `abort: true`.
   *
   * @param options `abort`.
   * @returns When everything is released.
   */
  close(options: { abort?: boolean } = {}): Promise<void> {
    this.#closePromise ??= this.#close(options.abort ?? false);
    return this.#closePromise;
  }

  /** Same as `close()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ---- for the backends -------------------------------------------------------------------------

  /** Whether `close()` has finished releasing the associations. */
  protected get isClosed(): boolean {
    return this.#closed;
  }

  /** Number of queued messages of all associations. */
  protected get queuedCount(): number {
    return this.#queued;
  }

  /** The current event handler (accepted endpoints start with the listener's). */
  protected get eventHandler(): (event: SctpEvent) => void {
    return this.#onEvent;
  }

  /** The `snd_flags` of a message: SCTP_UNORDERED, and SCTP_EOF where it rides on data. */
  protected sendFlags(options: SctpSendOptions): number {
    const C = this.#api.constants;
    const flags = options.unordered ? C.SCTP_UNORDERED : 0;
    return options.eof && this.#api.eofWithData ? flags | C.SCTP_EOF : flags;
  }

  /** Throws `closed` once `close()` was called (or the socket is gone). */
  protected checkOpen(action: string): void {
    if (this.#closing || this.#closed || !this.socketOpen) {
      throw new SctpError("closed", `Cannot ${action}: the endpoint is closed`);
    }
  }

  /** Calls the event handler; an exception there is reported, not thrown into the backend. */
  protected emit(event: SctpEvent): void {
    try {
      this.#onEvent(event);
    } catch (error) {
      reportError(error);
    }
  }

  /**
   * The socket may be readable (`readable`) or writable: accept (listening one-to-one), drain,
   * then send queued messages.
   */
  protected ready(readable: boolean): void {
    if (this.listening && this.style === "one-to-one") {
      this.acceptAll();
      return;
    }
    if (readable) this.drain();
    if (this.#queued > 0 && this.socketOpen) this.#flush();
  }

  /** The association under `assocId`, added in `state` if it is new. */
  protected track(assocId: number, state: Association["state"]): Association {
    let a = this.assocs.get(assocId);
    if (a === undefined) {
      a = { state, queue: [], head: 0, waiters: [] };
      this.assocs.set(assocId, a);
      this.associationsChanged();
    }
    return a;
  }

  /** Removes an association: its waiters fail, its queued messages are reported failed. */
  protected forget(assocId: number): void {
    const a = this.assocs.get(assocId);
    if (a === undefined) return;
    if (a.waiters.length > 0) {
      this.#settle(
        a,
        assocId,
        new SctpError("connect-failed", `Cannot set up association ${assocId}: it ended`),
      );
    }
    this.#dropQueue(assocId, a);
    this.assocs.delete(assocId);
    this.associationsChanged();
    if (this.assocs.size === 0) this.#closeWaiter?.();
  }

  /**
   * Resolves with the association's id when it comes up; with a `timeout`, rejects and aborts
   * it when it does not come up in time.
   */
  protected waitUp(assocId: number, a: Association, timeout?: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (timeout !== undefined && timeout > 0) {
        waiter.timer = setTimeout(() => {
          const index = a.waiters.indexOf(waiter);
          if (index < 0) return;
          a.waiters.splice(index, 1);
          let id = assocId; // its key may have changed (Linux: the id came meanwhile)
          for (const [key, value] of this.assocs) if (value === a) id = key;
          const what = a.pending
            ? `the association to ${a.pending.addresses.join(", ")} port ${a.pending.port}`
            : `association ${id}`;
          const error = new SctpError(
            "timeout",
            `Cannot set up ${what}: no answer in ${timeout} ms`,
          );
          if (this.assocs.get(id) === a) {
            this.abortNow(id);
            this.#settle(a, id, error); // the others waiting for it
            this.forget(id);
          }
          reject(error);
        }, timeout);
      }
      a.waiters.push(waiter);
    });
  }

  /** Shuts one association down now: SCTP_EOF, or `shutdown(SHUT_WR)` on a one-to-one socket. */
  protected shutdownNow(assocId: number): void {
    if (this.style === "one-to-one") this.shutdownWrite();
    else this.sendNow(assocId, EMPTY, 0, 0, this.#api.constants.SCTP_EOF);
  }

  /** Reads the socket until it has nothing more (or the endpoint closed). */
  protected drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    const C = this.#api.constants;
    const buffer = this.receiveBuffer;
    try {
      while (!this.#closed && this.socketOpen) {
        const n = this.receive();
        if (n < 0) {
          if (n === RECEIVE_END) this.endOfStream();
          return;
        }
        const flags = this.receivedFlags();
        const notification = (flags & C.MSG_NOTIFICATION) !== 0;
        if (n === 0 && !notification) {
          this.endOfStream();
          return;
        }
        if ((flags & C.MSG_EOR) === 0) {
          this.#appendPartial(buffer.subarray(0, n));
          continue;
        }
        let data: Uint8Array = buffer.subarray(0, n);
        if (this.#partialLength > 0) {
          this.#appendPartial(data);
          data = this.#partial!.subarray(0, this.#partialLength);
          this.#partialLength = 0;
        }
        if (notification) this.#notification(data);
        else this.deliver(data);
      }
    } finally {
      this.#draining = false;
    }
  }

  // ---- internals --------------------------------------------------------------------------------

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

  /** Queues a message behind the association's others (sent when the socket has room). */
  protected enqueue(
    a: Association,
    data: Uint8Array,
    stream: number,
    ppid: number,
    flags: number,
  ): void {
    a.queue.push({ data, stream, ppid, flags });
    this.#queued++;
    this.queueGrew();
  }

  /** Drops the queued messages of an association, reporting each data message as failed. */
  #dropQueue(assocId: number, a: Association): void {
    const pending = a.queue.length - a.head;
    if (pending <= 0) return;
    const dropped = a.queue.slice(a.head);
    a.queue = [];
    a.head = 0;
    this.#queued -= pending;
    const C = this.#api.constants;
    for (const m of dropped) {
      if (m.data.length === 0 && m.flags & (C.SCTP_EOF | C.SCTP_ABORT)) continue; // control
      this.emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
    }
  }

  /** Sends queued messages while the socket takes them. */
  #flush(): void {
    const C = this.#api.constants;
    for (const [assocId, a] of this.assocs) {
      while (a.head < a.queue.length) {
        const m = a.queue[a.head];
        let code: number;
        if (m.flags & C.SCTP_EOF && m.data.length === 0) {
          this.shutdownNow(assocId);
          code = 0;
        } else {
          code = this.sendNow(assocId, m.data, m.stream, m.ppid, m.flags);
        }
        if (code === Errno.EAGAIN) {
          if (this.#api.sharedSendBuffer) return; // no room for anyone
          break; // this association's share is full; try the others
        }
        a.head++;
        this.#queued--;
        if (code !== 0) {
          this.emit({ type: "sendFailed", assocId, ppid: m.ppid, stream: m.stream });
        }
      }
      if (a.head >= a.queue.length) {
        if (a.queue.length > 0) {
          a.queue = [];
          a.head = 0;
        }
      } else if (a.head > 1024 && a.head * 2 > a.queue.length) {
        a.queue = a.queue.slice(a.head); // release sent messages
        a.head = 0;
      }
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

  #assocId(v: DataView, offset: number): number {
    return this.#api.signedAssocIds ? v.getInt32(offset, true) : v.getUint32(offset, true);
  }

  #notification(data: Uint8Array): void {
    if (data.length < 8) return;
    const C = this.#api.constants;
    const L = this.#api.layout;
    const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
    switch (v.getUint16(0, true)) {
      case C.SCTP_ASSOC_CHANGE: {
        const A = L.assocChange;
        if (data.length < A.size) return;
        this.#assocChange(
          this.#assocId(v, A.assocId),
          v.getUint16(A.state, true),
          v.getUint16(A.inboundStreams, true),
          v.getUint16(A.outboundStreams, true),
        );
        return;
      }
      case C.SCTP_PEER_ADDR_CHANGE: {
        const P = L.paddrChange;
        if (data.length < P.size) return;
        const address = decodeSockaddr(data, P.address);
        const state = this.#paddrStates[v.getInt32(P.state, true)];
        if (address === undefined || state === undefined) return;
        this.emit({
          type: "peerAddressChange",
          assocId: this.#assocId(v, P.assocId),
          address: address.address,
          state,
        });
        return;
      }
      case C.SCTP_SHUTDOWN_EVENT: {
        if (data.length < L.shutdownEvent.size) return;
        const assocId = this.#assocId(v, L.shutdownEvent.assocId);
        const a = this.assocs.get(assocId);
        if (a !== undefined) a.state = "closing";
        this.emit({ type: "shutdown", assocId });
        return;
      }
      case C.SCTP_SEND_FAILED_EVENT: {
        const F = L.sendFailedEvent;
        if (data.length < F.size) return;
        this.emit({
          type: "sendFailed",
          assocId: this.#assocId(v, F.assocId),
          stream: v.getUint16(F.info + L.sndinfo.sid, true),
          ppid: v.getUint32(F.info + L.sndinfo.ppid, false),
        });
        return;
      }
    }
  }

  #assocChange(id: number, state: number, inbound: number, outbound: number): void {
    const assocId = this.notifiedAssocId(id, state);
    if (assocId === undefined) return;
    const C = this.#api.constants;
    switch (state) {
      case C.SCTP_COMM_UP: {
        const a = this.track(assocId, "up");
        a.state = "up";
        const peers = this.readAddresses(assocId, false);
        this.emit({
          type: "up",
          assocId,
          peerAddresses: peers.map((p) => p.address),
          peerPort: peers[0]?.port ?? 0,
          inboundStreams: inbound,
          outboundStreams: outbound,
        });
        this.#settle(a, assocId);
        if (this.#closing) this.shutdownNow(assocId);
        return;
      }
      case C.SCTP_RESTART:
        this.track(assocId, "up").state = "up";
        this.emit({ type: "restart", assocId });
        return;
      case C.SCTP_COMM_LOST:
      case C.SCTP_SHUTDOWN_COMP:
      case C.SCTP_CANT_STR_ASSOC: {
        const a = this.assocs.get(assocId);
        const type = state === C.SCTP_COMM_LOST
          ? "lost"
          : state === C.SCTP_SHUTDOWN_COMP
          ? "closed"
          : "cantStart";
        this.emit({ type, assocId });
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
        this.forget(assocId);
        this.associationEnded();
        return;
      }
    }
  }

  async #close(abort: boolean): Promise<void> {
    this.#closing = true;
    const C = this.#api.constants;
    if (this.assocs.size > 0 && this.socketOpen) {
      const done = new Promise<void>((resolve) => (this.#closeWaiter = resolve));
      for (const [assocId, a] of this.assocs) {
        if (abort || a.state === "connecting") {
          this.#dropQueue(assocId, a);
          this.#settle(
            a,
            assocId,
            new SctpError("closed", `Cannot set up association ${assocId}: endpoint closed`),
          );
          this.abortOnClose(assocId, abort);
        } else if (a.state === "up") {
          if (a.head < a.queue.length) this.enqueue(a, EMPTY, 0, 0, C.SCTP_EOF);
          else this.shutdownNow(assocId);
          a.state = "closing";
        }
      }
      if (abort) {
        for (const assocId of [...this.assocs.keys()]) this.forget(assocId);
      }
      if (this.assocs.size > 0) {
        this.pollNow();
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          done,
          new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS))),
        ]);
        clearTimeout(timer);
        for (const [assocId, a] of this.assocs) {
          this.#dropQueue(assocId, a);
          this.abortNow(assocId);
        }
      }
      this.#closeWaiter = undefined;
    }
    this.#closed = true;
    this.assocs.clear();
    this.associationsChanged();
    await this.release();
  }
}
