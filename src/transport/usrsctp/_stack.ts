/**
 * The process-wide usrsctp stack: one per process (usrsctp is a library singleton), started
 * with the first endpoint and stopped (`usrsctp_finish`) after the last one closed.
 *
 * Event integration: every usrsctp socket gets the same upcall, a
 * `Deno.UnsafeCallback.threadSafe`; usrsctp calls it from its receive threads (which wait until
 * the JavaScript thread ran it), and the endpoint registered for that socket drains it with
 * non-blocking `usrsctp_recvv`.
 *
 * @module
 */

import { errno, libc, strerror } from "../../../ffi/libc.ts";
import { loadUsrsctp, USRSCTP, type UsrsctpSymbols } from "../../../ffi/usrsctp.ts";
import { SctpError, type UsrsctpMode } from "../types.ts";

/** What an endpoint needs from the stack. */
export interface StackRequest {
  /** Raw IP or UDP encapsulation. */
  mode: UsrsctpMode;
  /** Local UDP encapsulation port asked for explicitly (UDP mode). */
  udpPort?: number;
  /** Fixed SCTP port of the endpoint being opened (for the UDP port convention). */
  fixedPort?: number;
  /** usrsctp's `blackhole` sysctl; default 2 in raw mode, 0 in UDP mode. */
  blackhole?: 0 | 1 | 2;
}

/** Receives the upcalls of one usrsctp socket. */
export interface UpcallTarget {
  /** Called on the JavaScript thread when usrsctp signalled the socket. */
  upcall(): void;
}

/** Socket buffer size asked for usrsctp's own raw/UDP sockets (it sets 128 KiB itself). */
const LOWER_SOCKET_BUFFER = 4 * 1024 * 1024;
/** Default usrsctp socket buffers (sysctls sctp_sendspace / sctp_recvspace). */
const SCTP_SOCKET_BUFFER = 1024 * 1024;
/** How long `release` retries `usrsctp_finish` before leaving the stack running. */
const FINISH_TIMEOUT_MS = 5000;

const UPCALL_DEFINITION = {
  parameters: [
    "pointer", // struct socket *so
    "pointer", // void *arg
    "i32", // int flags (M_NOWAIT; events come from usrsctp_get_events)
  ],
  result: "void",
} as const satisfies Deno.UnsafeCallbackDefinition;

/**
 * The UDP encapsulation port that belongs to an SCTP port by this project's convention: the
 * SCTP port with its highest bit flipped (`port ^ 0x8000`, e.g. 3863 → 36631, 9901 → 42669).
 *
 * The SCTP port itself is not used because RSerPool sends its multicast announces to the SCTP
 * ports (ASAP 3863, ENRP 9901) and usrsctp binds its UDP socket without `SO_REUSEADDR`: a
 * registrar could not send its announces from its ASAP port, and nobody on its host could
 * receive them.
 *
 * @example
 * ```ts
 * import { udpEncapsulationPort } from "./_stack.ts";
 * console.log(udpEncapsulationPort(3863)); // 36631
 * ```
 *
 * @param sctpPort The SCTP port (1..65535).
 * @returns The UDP port.
 */
export function udpEncapsulationPort(sctpPort: number): number {
  return (sctpPort ^ 0x8000) & 0xffff;
}

/**
 * Whether this process may open raw IP sockets (root or CAP_NET_RAW), probed with
 * `socket(AF_INET, SOCK_RAW, IPPROTO_SCTP)`.
 *
 * @example
 * ```ts ignore
 * import { canUseRawSockets } from "./_stack.ts";
 * console.log(canUseRawSockets() ? "raw IP" : "UDP encapsulation");
 * ```
 *
 * @returns `true` when raw sockets work.
 */
export function canUseRawSockets(): boolean {
  const fd = libc().socket(USRSCTP.AF_INET, USRSCTP.SOCK_RAW, USRSCTP.IPPROTO_SCTP);
  if (fd < 0) return false;
  libc().close(fd);
  return true;
}

/** Picks a free UDP port by binding port 0 and reading the port the kernel chose. */
function freeUdpPort(): number {
  const c = libc();
  const fd = c.socket(USRSCTP.AF_INET, USRSCTP.SOCK_DGRAM, USRSCTP.IPPROTO_UDP);
  if (fd < 0) throw new SctpError("system", `Cannot create a UDP socket: ${strerror(errno())}`);
  try {
    const address = new Uint8Array(16);
    address[0] = USRSCTP.AF_INET;
    if (c.bind(fd, address, 16) < 0) {
      throw new SctpError("system", `Cannot bind a UDP socket: ${strerror(errno())}`);
    }
    const length = new Uint32Array([16]);
    if (c.getsockname(fd, address, length) < 0) {
      throw new SctpError("system", `Cannot read a UDP port: ${strerror(errno())}`);
    }
    return new DataView(address.buffer).getUint16(2, false);
  } finally {
    c.close(fd);
  }
}

/** The socket file descriptors of this process, or `undefined` without read permission. */
function socketFds(): Set<number> | undefined {
  try {
    const fds = new Set<number>();
    for (const entry of Deno.readDirSync("/proc/self/fd")) {
      const fd = Number(entry.name);
      try {
        if (Deno.readLinkSync(`/proc/self/fd/${fd}`).startsWith("socket:")) fds.add(fd);
      } catch {
        // closed meanwhile
      }
    }
    return fds;
  } catch {
    return undefined;
  }
}

function getIntOption(fd: number, level: number, name: number): number | undefined {
  const value = new Int32Array(1);
  const length = new Uint32Array([4]);
  return libc().getsockopt(fd, level, name, value, length) < 0 ? undefined : value[0];
}

function setIntOption(fd: number, level: number, name: number, value: number): boolean {
  return libc().setsockopt(fd, level, name, new Int32Array([value]), 4) === 0;
}

/** Sets a socket buffer size, with the *FORCE variant when privileged. */
function enlarge(fd: number): void {
  const L = USRSCTP;
  if (!setIntOption(fd, L.SOL_SOCKET, L.SO_RCVBUFFORCE, LOWER_SOCKET_BUFFER)) {
    setIntOption(fd, L.SOL_SOCKET, L.SO_RCVBUF, LOWER_SOCKET_BUFFER);
  }
  if (!setIntOption(fd, L.SOL_SOCKET, L.SO_SNDBUFFORCE, LOWER_SOCKET_BUFFER)) {
    setIntOption(fd, L.SOL_SOCKET, L.SO_SNDBUF, LOWER_SOCKET_BUFFER);
  }
}

/** Attaches a classic BPF program "return 0" (drop everything) to a socket. */
function attachDropAllFilter(fd: number): boolean {
  const filter = new Uint8Array(8); // struct sock_filter { u16 code; u8 jt, jf; u32 k }
  new DataView(filter.buffer).setUint16(0, 0x06, true); // BPF_RET | BPF_K, k = 0
  const program = new Uint8Array(16); // struct sock_fprog { u16 len; struct sock_filter *filter@8 }
  const view = new DataView(program.buffer);
  view.setUint16(0, 1, true);
  view.setBigUint64(8, BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))), true);
  return libc().setsockopt(fd, USRSCTP.SOL_SOCKET, USRSCTP.SO_ATTACH_FILTER, program, 16) === 0;
}

function boundPort(fd: number): number | undefined {
  const address = new Uint8Array(128);
  const length = new Uint32Array([128]);
  if (libc().getsockname(fd, address, length) < 0) return undefined;
  return new DataView(address.buffer).getUint16(2, false);
}

/** What the inspection of usrsctp's own sockets found. */
interface LowerSockets {
  raw: number;
  udp: number;
  udpOnPort: boolean;
}

/**
 * Finds the sockets usrsctp_init opened, enlarges their buffers and, in UDP mode, makes its raw
 * SCTP sockets (opened whenever the process is privileged) deaf: a UDP-mode process must never
 * answer raw SCTP packets meant for other stacks on the host.
 */
function tuneLowerSockets(
  before: Set<number>,
  mode: UsrsctpMode,
  udpPort: number,
): LowerSockets | undefined {
  const after = socketFds();
  if (after === undefined) return undefined;
  const found: LowerSockets = { raw: 0, udp: 0, udpOnPort: false };
  for (const fd of after) {
    if (before.has(fd)) continue;
    const protocol = getIntOption(fd, USRSCTP.SOL_SOCKET, USRSCTP.SO_PROTOCOL);
    const type = getIntOption(fd, USRSCTP.SOL_SOCKET, USRSCTP.SO_TYPE);
    if (protocol === USRSCTP.IPPROTO_SCTP && type === USRSCTP.SOCK_RAW) {
      found.raw++;
      if (mode === "udp") attachDropAllFilter(fd);
      else enlarge(fd);
    } else if (protocol === USRSCTP.IPPROTO_UDP && type === USRSCTP.SOCK_DGRAM) {
      found.udp++;
      // The IPv4 socket decides (the IPv6 one binds [::]:port with IPV6_V6ONLY separately).
      const domain = getIntOption(fd, USRSCTP.SOL_SOCKET, USRSCTP.SO_DOMAIN);
      if (domain === USRSCTP.AF_INET && boundPort(fd) === udpPort) found.udpOnPort = true;
      enlarge(fd);
    }
  }
  return found;
}

/** The running usrsctp stack of this process. */
export class UsrsctpStack {
  /** usrsctp's symbols. */
  readonly lib: UsrsctpSymbols;
  /** Raw IP or UDP encapsulation. */
  readonly mode: UsrsctpMode;
  /** Local UDP encapsulation port (0 in raw mode). */
  readonly udpPort: number;
  /** The blackhole sysctl in effect. */
  readonly blackhole: number;
  #targets = new Map<number | bigint, UpcallTarget>();
  #callback: Deno.UnsafeCallback<typeof UPCALL_DEFINITION> | undefined;
  #refs = 0;
  #listening = new Map<number, number>();

  constructor(lib: UsrsctpSymbols, mode: UsrsctpMode, udpPort: number, blackhole: number) {
    this.lib = lib;
    this.mode = mode;
    this.udpPort = udpPort;
    this.blackhole = blackhole;
  }

  /** Endpoints holding the stack. */
  get refs(): number {
    return this.#refs;
  }

  /** Counts one more endpoint. */
  retain(): void {
    this.#refs++;
  }

  /**
   * Counts one endpoint less.
   *
   * @returns The remaining count.
   */
  drop(): number {
    return --this.#refs;
  }

  /**
   * Installs the upcall on a socket and routes it to `target`.
   *
   * @param so The socket.
   * @param target Its endpoint.
   */
  register(so: Deno.PointerObject, target: UpcallTarget): void {
    if (this.#callback === undefined) {
      this.#callback = Deno.UnsafeCallback.threadSafe(UPCALL_DEFINITION, (socket) => {
        if (socket === null) return;
        this.#targets.get(Deno.UnsafePointer.value(socket))?.upcall();
      });
    }
    this.#targets.set(Deno.UnsafePointer.value(so), target);
    this.lib.usrsctp_set_upcall(so, this.#callback.pointer, null);
  }

  /**
   * Removes the upcall of a socket (call before `usrsctp_close`).
   *
   * @param so The socket.
   */
  unregister(so: Deno.PointerObject): void {
    this.lib.usrsctp_set_upcall(so, null, null);
    this.#targets.delete(Deno.UnsafePointer.value(so));
  }

  /**
   * Notes a listening SCTP port of this process (or forgets it with `delta` -1).
   *
   * @param port The port.
   * @param delta +1 or -1.
   */
  noteListening(port: number, delta: 1 | -1): void {
    const n = (this.#listening.get(port) ?? 0) + delta;
    if (n <= 0) this.#listening.delete(port);
    else this.#listening.set(port, n);
  }

  /**
   * Whether an endpoint of this process listens on `port`.
   *
   * @param port The SCTP port.
   * @returns `true` if so.
   */
  listensOn(port: number): boolean {
    return this.#listening.has(port);
  }

  /** Closes the upcall callback (when no socket uses it any more). */
  closeCallback(): void {
    this.#callback?.close();
    this.#callback = undefined;
  }
}

let current: UsrsctpStack | undefined;
let stopping: Promise<void> | undefined;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function describeMode(mode: UsrsctpMode, udpPort: number): string {
  return mode === "raw" ? "raw IP" : `UDP encapsulation on port ${udpPort}`;
}

/** The UDP port a request asks for, `undefined` when any port will do. */
function wantedUdpPort(request: StackRequest): number | undefined {
  if (request.mode !== "udp") return undefined;
  if (request.udpPort !== undefined && request.udpPort !== 0) return request.udpPort;
  return request.fixedPort ? udpEncapsulationPort(request.fixedPort) : undefined;
}

function incompatibility(stack: UsrsctpStack, request: StackRequest): string | undefined {
  if (stack.mode !== request.mode) {
    return `Cannot open a usrsctp endpoint in ${request.mode} mode: this process's usrsctp ` +
      `stack already runs with ${describeMode(stack.mode, stack.udpPort)} (one stack per process)`;
  }
  const port = wantedUdpPort(request);
  if (port !== undefined && port !== stack.udpPort) {
    return `Cannot use UDP encapsulation port ${port}: this process's usrsctp stack already ` +
      `uses port ${stack.udpPort} (one stack per process)`;
  }
  return undefined;
}

/**
 * Returns the process's stack, starting it if needed, and counts the caller as a user.
 *
 * A stack without users that could not be stopped yet (associations still closing) is reused
 * when it fits the request, else stopped first.
 *
 * @param request Mode and ports.
 * @returns The stack.
 * @throws {SctpError} `unsupported` when the stack cannot run as requested, `address-in-use`
 * when the UDP port is taken, `invalid-argument` when the running stack uses another mode or
 * UDP port.
 */
export async function acquireStack(request: StackRequest): Promise<UsrsctpStack> {
  while (stopping !== undefined) await stopping;
  if (current !== undefined && current.refs === 0 && incompatibility(current, request)) {
    await stop(current);
  }
  if (current !== undefined) {
    const problem = incompatibility(current, request);
    // An explicit UDP port must match; the convention's port is only a preference while
    // other endpoints of this process use the stack.
    if (
      problem !== undefined &&
      (current.mode !== request.mode || current.refs === 0 ||
        (request.udpPort !== undefined && request.udpPort !== 0))
    ) {
      throw new SctpError("invalid-argument", problem);
    }
    current.retain();
    return current;
  }
  const stack = await startStack(request);
  stack.retain();
  current = stack;
  return stack;
}

async function startStack(request: StackRequest): Promise<UsrsctpStack> {
  const lib = loadUsrsctp();
  const privileged = canUseRawSockets();
  if (request.mode === "raw" && !privileged) {
    throw new SctpError(
      "unsupported",
      "Cannot use usrsctp with raw IP: raw sockets need root or CAP_NET_RAW " +
        "(use UDP encapsulation instead: RSERPOOL_SCTP=usrsctp-udp)",
    );
  }
  let udpPort = 0;
  if (request.mode === "udp") {
    udpPort = request.udpPort ??
      (request.fixedPort ? udpEncapsulationPort(request.fixedPort) : freeUdpPort());
    if (!Number.isInteger(udpPort) || udpPort < 1 || udpPort > 65535) {
      throw new SctpError("invalid-argument", `Cannot use UDP encapsulation port ${udpPort}`);
    }
  }
  const before = socketFds();
  lib.usrsctp_init(udpPort, null, null);
  // Silent first (usrsctp_init resets the sysctls): a privileged stack in UDP mode has raw
  // sockets until their filter is attached, and must not answer other stacks' packets.
  lib.usrsctp_sysctl_set_sctp_blackhole(2);
  lib.usrsctp_sysctl_set_sctp_sendspace(SCTP_SOCKET_BUFFER);
  lib.usrsctp_sysctl_set_sctp_recvspace(SCTP_SOCKET_BUFFER);
  const lower = before === undefined ? undefined : tuneLowerSockets(before, request.mode, udpPort);
  const blackhole = request.blackhole ?? (request.mode === "raw" ? 2 : 0);
  lib.usrsctp_sysctl_set_sctp_blackhole(blackhole);
  let failure: SctpError | undefined;
  if (lower !== undefined) {
    if (request.mode === "udp" && !lower.udpOnPort) {
      failure = new SctpError(
        "address-in-use",
        `Cannot bind the usrsctp UDP encapsulation port ${udpPort}: it is in use ` +
          "(choose another with RSERPOOL_SCTP_UDP_PORT or the udpPort option)",
      );
    } else if (request.mode === "raw" && lower.raw === 0) {
      failure = new SctpError(
        "unsupported",
        "Cannot use usrsctp with raw IP: usrsctp could not open its raw SCTP sockets",
      );
    }
  }
  if (failure !== undefined) {
    // No socket exists yet: finish succeeds (retried briefly in case a lock is busy).
    for (let i = 0; i < 50 && await lib.usrsctp_finish_nonblocking() !== 0; i++) await sleep(10);
    throw failure;
  }
  return new UsrsctpStack(lib, request.mode, udpPort, blackhole);
}

/**
 * Counts one user less; the last one stops the stack.
 *
 * @param stack The stack from {@linkcode acquireStack}.
 */
export async function releaseStack(stack: UsrsctpStack): Promise<void> {
  if (stack.drop() > 0) return;
  await stop(stack);
}

/**
 * Stops an unused stack: `usrsctp_finish` (on Deno's blocking thread pool: it joins usrsctp's
 * threads, which takes up to a few hundred ms), retried for up to 5 s while associations of
 * closed sockets linger. A stack that does not stop stays (reused or stopped again later).
 */
function stop(stack: UsrsctpStack): Promise<void> {
  const work = (async () => {
    // Let upcalls that were already on their way run before finish joins the threads.
    await sleep(0);
    const deadline = Date.now() + FINISH_TIMEOUT_MS;
    let finished = false;
    while (stack.refs === 0) {
      if (await stack.lib.usrsctp_finish_nonblocking() === 0) {
        finished = true;
        break;
      }
      if (Date.now() > deadline) break;
      await sleep(10);
    }
    if (stack.refs === 0) stack.closeCallback();
    if (finished && current === stack) current = undefined;
  })();
  stopping = work;
  return work.finally(() => {
    if (stopping === work) stopping = undefined;
  });
}

/**
 * The running stack, if any (for tests and descriptions).
 *
 * @returns The stack or `undefined`.
 */
export function currentStack(): UsrsctpStack | undefined {
  return current;
}
