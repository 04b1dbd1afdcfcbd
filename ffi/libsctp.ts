/**
 * Symbol table of lksctp's `libsctp.so.1` (Debian package `libsctp1`), the thin user-space
 * wrapper over Linux kernel SCTP sockets, plus the constants and struct layouts of the Linux
 * SCTP socket API (`<netinet/sctp.h>`, `<linux/sctp.h>`).
 *
 * Constants and offsets were printed by a C probe compiled against `<netinet/sctp.h>`
 * (libsctp-dev 1.0.19, Linux UAPI 6.1, x86_64); see `docs/_parts/transport-kernel.md`. They
 * differ from usrsctp's (`ffi/usrsctp.ts`): never mix the two tables.
 *
 * The library path is `libsctp.so.1` unless the environment variable `RSERPOOL_LIBSCTP_PATH`
 * names another file. Loading happens on first use.
 *
 * @example
 * ```ts ignore
 * import { libsctp } from "./libsctp.ts";
 * console.log(typeof libsctp().sctp_bindx); // function
 * ```
 *
 * @module
 */

import { readEnv } from "./libc.ts";

/** The libsctp functions used by the kernel transport backend. */
export const LIBSCTP_SYMBOLS = {
  /** `int sctp_bindx(int sd, struct sockaddr *addrs, int addrcnt, int flags)` */
  sctp_bindx: {
    parameters: [
      "i32", // int sd
      "buffer", // struct sockaddr *addrs (packed sockaddr_in / sockaddr_in6)
      "i32", // int addrcnt
      "i32", // int flags (SCTP_BINDX_ADD_ADDR, SCTP_BINDX_REM_ADDR)
    ],
    result: "i32",
  },
  /** `int sctp_connectx(int sd, struct sockaddr *addrs, int addrcnt, sctp_assoc_t *id)` */
  sctp_connectx: {
    parameters: [
      "i32", // int sd
      "buffer", // struct sockaddr *addrs (packed)
      "i32", // int addrcnt
      "buffer", // sctp_assoc_t *id (out; may be NULL)
    ],
    result: "i32",
  },
  /** `int sctp_getpaddrs(int sd, sctp_assoc_t id, struct sockaddr **addrs)` */
  sctp_getpaddrs: {
    parameters: [
      "i32", // int sd
      "i32", // sctp_assoc_t id
      "buffer", // struct sockaddr **addrs (out: malloc()ed packed list)
    ],
    result: "i32",
  },
  /** `int sctp_freepaddrs(struct sockaddr *addrs)` */
  sctp_freepaddrs: {
    parameters: ["pointer" /* struct sockaddr *addrs */],
    result: "i32",
  },
  /** `int sctp_getladdrs(int sd, sctp_assoc_t id, struct sockaddr **addrs)` */
  sctp_getladdrs: {
    parameters: [
      "i32", // int sd
      "i32", // sctp_assoc_t id (0: the socket's bound addresses)
      "buffer", // struct sockaddr **addrs (out: malloc()ed packed list)
    ],
    result: "i32",
  },
  /** `int sctp_freeladdrs(struct sockaddr *addrs)` */
  sctp_freeladdrs: {
    parameters: ["pointer" /* struct sockaddr *addrs */],
    result: "i32",
  },
  /** `int sctp_peeloff(int sd, sctp_assoc_t assoc_id)`: a one-to-one socket for one association */
  sctp_peeloff: {
    parameters: [
      "i32", // int sd
      "i32", // sctp_assoc_t assoc_id
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded symbols of {@linkcode LIBSCTP_SYMBOLS}. */
export type LibsctpSymbols = Deno.DynamicLibrary<typeof LIBSCTP_SYMBOLS>["symbols"];

/** Environment variable naming another libsctp file to load. */
export const LIBSCTP_PATH_ENV = "RSERPOOL_LIBSCTP_PATH";
/** The default library name. */
export const LIBSCTP_DEFAULT_PATH = "libsctp.so.1";

let loaded: LibsctpSymbols | undefined;

/**
 * The libsctp file to load: `$RSERPOOL_LIBSCTP_PATH`, else `libsctp.so.1` (without env
 * permission: the default).
 *
 * @example
 * ```ts
 * import { libsctpPath } from "./libsctp.ts";
 * console.log(libsctpPath()); // libsctp.so.1
 * ```
 *
 * @returns The file name or path handed to `dlopen`.
 */
export function libsctpPath(): string {
  return readEnv(LIBSCTP_PATH_ENV) ?? LIBSCTP_DEFAULT_PATH;
}

/**
 * Loads libsctp on first use and returns its symbols.
 *
 * @example
 * ```ts ignore
 * import { libsctp } from "./libsctp.ts";
 * const fds = libsctp();
 * console.log(typeof fds.sctp_connectx); // function
 * ```
 *
 * @returns The symbols.
 * @throws {Error} "Cannot load ..." when the library is missing (Debian: `libsctp1`).
 */
export function libsctp(): LibsctpSymbols {
  if (loaded === undefined) {
    const path = libsctpPath();
    try {
      loaded = Deno.dlopen(path, LIBSCTP_SYMBOLS).symbols;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new Error(`Cannot load the SCTP library '${path}' (Debian package libsctp1)`, {
        cause: error,
      });
    }
  }
  return loaded;
}

/**
 * Constants of the Linux socket and SCTP APIs (x86_64 values; `<netinet/sctp.h>`,
 * `<sys/socket.h>`, `<poll.h>`, `<fcntl.h>`).
 */
export const KSCTP = {
  // Sockets.
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_SEQPACKET: 5,
  SOCK_NONBLOCK: 0x800,
  SOCK_CLOEXEC: 0x80000,
  IPPROTO_SCTP: 132,
  SOL_SCTP: 132,
  SOL_SOCKET: 1,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SO_ERROR: 4,
  SO_LINGER: 13,
  SHUT_WR: 1,
  SHUT_RDWR: 2,
  O_NONBLOCK: 0x800,
  O_CLOEXEC: 0x80000,
  MSG_DONTWAIT: 0x40,
  MSG_NOSIGNAL: 0x4000,
  MSG_EOR: 0x80,
  MSG_TRUNC: 0x20,
  MSG_CTRUNC: 0x8,
  MSG_NOTIFICATION: 0x8000,
  POLLIN: 0x1,
  POLLOUT: 0x4,
  POLLERR: 0x8,
  POLLHUP: 0x10,
  POLLNVAL: 0x20,
  // SCTP socket options (level SOL_SCTP).
  SCTP_RTOINFO: 0,
  SCTP_ASSOCINFO: 1,
  SCTP_INITMSG: 2,
  SCTP_NODELAY: 3,
  SCTP_AUTOCLOSE: 4,
  SCTP_PRIMARY_ADDR: 6,
  SCTP_PEER_ADDR_PARAMS: 9,
  SCTP_I_WANT_MAPPED_V4_ADDR: 12,
  SCTP_STATUS: 14,
  SCTP_GET_PEER_ADDR_INFO: 15,
  SCTP_RECVRCVINFO: 32,
  SCTP_EVENT: 127,
  // cmsg types (level IPPROTO_SCTP).
  SCTP_SNDINFO: 2,
  SCTP_RCVINFO: 3,
  // snd_flags.
  SCTP_UNORDERED: 0x1,
  SCTP_ADDR_OVER: 0x2,
  SCTP_ABORT: 0x4,
  SCTP_SACK_IMMEDIATELY: 0x8,
  SCTP_SENDALL: 0x40,
  SCTP_EOF: 0x200,
  // Notification types (sn_type).
  SCTP_ASSOC_CHANGE: 0x8001,
  SCTP_PEER_ADDR_CHANGE: 0x8002,
  SCTP_REMOTE_ERROR: 0x8004,
  SCTP_SHUTDOWN_EVENT: 0x8005,
  SCTP_SENDER_DRY_EVENT: 0x8009,
  SCTP_SEND_FAILED_EVENT: 0x800d,
  // sac_state.
  SCTP_COMM_UP: 0,
  SCTP_COMM_LOST: 1,
  SCTP_RESTART: 2,
  SCTP_SHUTDOWN_COMP: 3,
  SCTP_CANT_STR_ASSOC: 4,
  // spc_state.
  SCTP_ADDR_AVAILABLE: 0,
  SCTP_ADDR_UNREACHABLE: 1,
  SCTP_ADDR_REMOVED: 2,
  SCTP_ADDR_ADDED: 3,
  SCTP_ADDR_MADE_PRIM: 4,
  SCTP_ADDR_CONFIRMED: 5,
  // sctp_bindx flags.
  SCTP_BINDX_ADD_ADDR: 1,
  SCTP_BINDX_REM_ADDR: 2,
  // Association ids with a special meaning.
  SCTP_FUTURE_ASSOC: 0,
  SCTP_CURRENT_ASSOC: 1,
  SCTP_ALL_ASSOC: 2,
  // spp_flags.
  SPP_HB_ENABLE: 0x1,
  SPP_HB_DISABLE: 0x2,
} as const;

/** Sizes and field offsets of the structs used (x86_64, measured with `offsetof`). */
export const KSCTP_LAYOUT = {
  /** `struct msghdr` (56 bytes). */
  msghdr: {
    size: 56,
    name: 0,
    nameLength: 8,
    iov: 16,
    iovLength: 24,
    control: 32,
    controlLength: 40,
    flags: 48,
  },
  /** `struct cmsghdr` (16 bytes; data at 16). */
  cmsghdr: { size: 16, length: 0, level: 8, type: 12, data: 16 },
  /** `struct iovec` (16 bytes: base, length). */
  iovec: { size: 16 },
  /** `struct pollfd` (8 bytes). */
  pollfd: { size: 8, fd: 0, events: 4, revents: 6 },
  /** `struct sctp_sndinfo` (16 bytes; CMSG_SPACE 32). */
  sndinfo: { size: 16, sid: 0, flags: 2, ppid: 4, context: 8, assocId: 12, cmsgSpace: 32 },
  /** `struct sctp_rcvinfo` (28 bytes; CMSG_SPACE 48). */
  rcvinfo: { size: 28, sid: 0, ssn: 2, flags: 4, ppid: 8, tsn: 12, assocId: 24, cmsgSpace: 48 },
  /** `struct sctp_event` (8 bytes). */
  event: { size: 8, assocId: 0, type: 4, on: 6 },
  /** `struct sctp_initmsg` (8 bytes). */
  initMsg: { size: 8, outStreams: 0, maxInStreams: 2, maxAttempts: 4, maxInitTimeout: 6 },
  /** `struct sctp_rtoinfo` (16 bytes). */
  rtoInfo: { size: 16, assocId: 0, initial: 4, max: 8, min: 12 },
  /** `struct sctp_assocparams` (20 bytes). */
  assocParams: { size: 20, assocId: 0, asocMaxRxt: 4 },
  /** `struct sctp_paddrparams` (156 bytes, packed). */
  paddrParams: {
    size: 156,
    assocId: 0,
    address: 4,
    hbInterval: 132,
    pathMaxRxt: 136,
    pathMtu: 138,
    sackDelay: 142,
    flags: 146,
  },
  /** `struct sctp_paddrinfo` (152 bytes, packed). */
  paddrInfo: { size: 152, assocId: 0, address: 4, state: 132, cwnd: 136, srtt: 140, rto: 144 },
  /** `struct sctp_status` (176 bytes; the primary path's `sctp_paddrinfo` at 24). */
  status: {
    size: 176,
    assocId: 0,
    state: 4,
    inboundStreams: 16,
    outboundStreams: 18,
    primary: 24,
    primaryAddress: 28,
    primarySrtt: 164,
  },
  /** `struct sctp_assoc_change` (20 bytes). */
  assocChange: {
    size: 20,
    state: 8,
    error: 10,
    outboundStreams: 12,
    inboundStreams: 14,
    assocId: 16,
  },
  /** `struct sctp_paddr_change` (148 bytes). */
  paddrChange: { size: 148, address: 8, state: 136, error: 140, assocId: 144 },
  /** `struct sctp_shutdown_event` (12 bytes). */
  shutdownEvent: { size: 12, assocId: 8 },
  /** `struct sctp_send_failed_event` (32 bytes + the message). */
  sendFailedEvent: { size: 32, error: 8, info: 12, assocId: 28, data: 32 },
  /** `struct linger` (8 bytes: int l_onoff, int l_linger). */
  linger: { size: 8 },
  /** `struct sockaddr_storage` (128 bytes). */
  sockaddrStorage: { size: 128 },
} as const;
