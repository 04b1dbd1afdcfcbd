/**
 * Symbol table and constants of the userland SCTP stack usrsctp (`libusrsctp.so.2`, Debian
 * package `libusrsctp2`, version 0.9.5), loaded lazily. Struct layouts and constants were
 * printed by a C probe against `/usr/include/usrsctp.h` on x86_64 Linux; usrsctp's constants
 * differ from the Linux kernel SCTP API (see `docs/transport.md`), keep them apart.
 *
 * The library path is `libusrsctp.so.2` unless the environment variable `RSERPOOL_USRSCTP_PATH`
 * names another file. On load the library is pinned with `dlopen(RTLD_NODELETE)`, so that Deno
 * never unmaps it while usrsctp's threads still run (that crashed at process exit).
 *
 * @example
 * ```ts ignore
 * import { loadUsrsctp } from "./usrsctp.ts";
 * const lib = loadUsrsctp();
 * console.log(lib.usrsctp_sysctl_get_sctp_blackhole());
 * ```
 *
 * @module
 */

import { errno, libc, readEnv } from "./libc.ts";
import { errnoError } from "./errno.ts";
import { SctpError } from "../src/transport/types.ts";

/**
 * The usrsctp functions used by the usrsctp transport backend.
 *
 * @example
 * ```ts
 * import { USRSCTP_SYMBOLS } from "./usrsctp.ts";
 * console.log(USRSCTP_SYMBOLS.usrsctp_sendv.result); // isize
 * ```
 */
export const USRSCTP_SYMBOLS = {
  /**
   * `void usrsctp_init(uint16_t udp_port, int (*conn_output)(void *addr, void *buf, size_t len,
   * uint8_t tos, uint8_t set_df), void (*debug_printf)(const char *format, ...))`
   */
  usrsctp_init: {
    parameters: [
      "u16", // uint16_t udp_port (0: no UDP encapsulation socket)
      "pointer", // conn_output callback (AF_CONN only; NULL)
      "pointer", // debug_printf callback (NULL)
    ],
    result: "void",
  },
  /** `int usrsctp_finish(void)`: 0 when the stack stopped, -1 while sockets remain. */
  usrsctp_finish: { parameters: [], result: "i32" },
  /**
   * `int usrsctp_finish(void)` on Deno's blocking thread pool (returns a Promise): it joins
   * usrsctp's threads, which wait up to their socket timeout. Called once per stop, never per
   * message.
   */
  usrsctp_finish_nonblocking: {
    name: "usrsctp_finish",
    parameters: [],
    result: "i32",
    nonblocking: true,
  },
  /**
   * `struct socket *usrsctp_socket(int domain, int type, int protocol, int (*receive_cb)(...),
   * int (*send_cb)(...), uint32_t sb_threshold, void *ulp_info)`
   */
  usrsctp_socket: {
    parameters: [
      "i32", // int domain
      "i32", // int type
      "i32", // int protocol
      "pointer", // receive_cb (NULL: we use upcalls)
      "pointer", // send_cb (NULL)
      "u32", // uint32_t sb_threshold
      "pointer", // void *ulp_info
    ],
    result: "pointer",
  },
  /** `int usrsctp_setsockopt(struct socket *so, int level, int name, const void *val, socklen_t len)` */
  usrsctp_setsockopt: {
    parameters: [
      "pointer", // struct socket *so
      "i32", // int level
      "i32", // int option_name
      "buffer", // const void *option_value
      "u32", // socklen_t option_len
    ],
    result: "i32",
  },
  /** `int usrsctp_getsockopt(struct socket *so, int level, int name, void *val, socklen_t *len)` */
  usrsctp_getsockopt: {
    parameters: [
      "pointer", // struct socket *so
      "i32", // int level
      "i32", // int option_name
      "buffer", // void *option_value
      "buffer", // socklen_t *option_len (in/out)
    ],
    result: "i32",
  },
  /** `int usrsctp_bind(struct socket *so, struct sockaddr *name, socklen_t namelen)` */
  usrsctp_bind: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // struct sockaddr *name
      "u32", // socklen_t namelen
    ],
    result: "i32",
  },
  /** `int usrsctp_bindx(struct socket *so, struct sockaddr *addrs, int addrcnt, int flags)` */
  usrsctp_bindx: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // struct sockaddr *addrs (packed array)
      "i32", // int addrcnt
      "i32", // int flags (SCTP_BINDX_ADD_ADDR)
    ],
    result: "i32",
  },
  /** `int usrsctp_listen(struct socket *so, int backlog)` */
  usrsctp_listen: {
    parameters: [
      "pointer", // struct socket *so
      "i32", // int backlog
    ],
    result: "i32",
  },
  /** `struct socket *usrsctp_accept(struct socket *so, struct sockaddr *aname, socklen_t *alen)` */
  usrsctp_accept: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // struct sockaddr *aname (may be NULL)
      "buffer", // socklen_t *anamelen (may be NULL)
    ],
    result: "pointer",
  },
  /**
   * `int usrsctp_connectx(struct socket *so, const struct sockaddr *addrs, int addrcnt,
   * sctp_assoc_t *id)`
   */
  usrsctp_connectx: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // const struct sockaddr *addrs (packed array)
      "i32", // int addrcnt
      "buffer", // sctp_assoc_t *id (out)
    ],
    result: "i32",
  },
  /**
   * `ssize_t usrsctp_sendv(struct socket *so, const void *data, size_t len, struct sockaddr *to,
   * int addrcnt, void *info, socklen_t infolen, unsigned int infotype, int flags)`
   */
  usrsctp_sendv: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // const void *data
      "usize", // size_t len
      "buffer", // struct sockaddr *to (packed array or NULL)
      "i32", // int addrcnt
      "buffer", // void *info (struct sctp_sndinfo)
      "u32", // socklen_t infolen
      "u32", // unsigned int infotype (SCTP_SENDV_SNDINFO)
      "i32", // int flags
    ],
    result: "isize",
  },
  /**
   * `ssize_t usrsctp_recvv(struct socket *so, void *dbuf, size_t len, struct sockaddr *from,
   * socklen_t *fromlen, void *info, socklen_t *infolen, unsigned int *infotype, int *msg_flags)`
   */
  usrsctp_recvv: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // void *dbuf
      "usize", // size_t len
      "buffer", // struct sockaddr *from (NULL)
      "buffer", // socklen_t *fromlen (NULL)
      "buffer", // void *info (struct sctp_rcvinfo)
      "buffer", // socklen_t *infolen (in/out)
      "buffer", // unsigned int *infotype (out)
      "buffer", // int *msg_flags (in: MSG_DONTWAIT; out: MSG_NOTIFICATION, MSG_EOR)
    ],
    result: "isize",
  },
  /** `int usrsctp_shutdown(struct socket *so, int how)` */
  usrsctp_shutdown: {
    parameters: [
      "pointer", // struct socket *so
      "i32", // int how (SHUT_WR)
    ],
    result: "i32",
  },
  /** `void usrsctp_close(struct socket *so)` */
  usrsctp_close: { parameters: ["pointer" /* struct socket *so */], result: "void" },
  /** `int usrsctp_set_non_blocking(struct socket *so, int onoff)` */
  usrsctp_set_non_blocking: {
    parameters: [
      "pointer", // struct socket *so
      "i32", // int onoff
    ],
    result: "i32",
  },
  /**
   * `int usrsctp_set_upcall(struct socket *so, void (*upcall)(struct socket *, void *, int),
   * void *arg)`
   */
  usrsctp_set_upcall: {
    parameters: [
      "pointer", // struct socket *so
      "function", // void (*upcall)(struct socket *so, void *arg, int flags) (or NULL)
      "pointer", // void *arg
    ],
    result: "i32",
  },
  /** `int usrsctp_get_events(struct socket *so)`: SCTP_EVENT_READ | WRITE | ERROR */
  usrsctp_get_events: { parameters: ["pointer" /* struct socket *so */], result: "i32" },
  /** `int usrsctp_getpaddrs(struct socket *so, sctp_assoc_t id, struct sockaddr **raddrs)` */
  usrsctp_getpaddrs: {
    parameters: [
      "pointer", // struct socket *so
      "u32", // sctp_assoc_t id
      "buffer", // struct sockaddr **raddrs (out; free with usrsctp_freepaddrs)
    ],
    result: "i32",
  },
  /** `void usrsctp_freepaddrs(struct sockaddr *addrs)` */
  usrsctp_freepaddrs: { parameters: ["pointer" /* struct sockaddr *addrs */], result: "void" },
  /** `int usrsctp_getladdrs(struct socket *so, sctp_assoc_t id, struct sockaddr **raddrs)` */
  usrsctp_getladdrs: {
    parameters: [
      "pointer", // struct socket *so
      "u32", // sctp_assoc_t id
      "buffer", // struct sockaddr **raddrs (out; free with usrsctp_freeladdrs)
    ],
    result: "i32",
  },
  /** `void usrsctp_freeladdrs(struct sockaddr *addrs)` */
  usrsctp_freeladdrs: { parameters: ["pointer" /* struct sockaddr *addrs */], result: "void" },
  /** `sctp_assoc_t usrsctp_getassocid(struct socket *so, struct sockaddr *sa)`: 0 if none */
  usrsctp_getassocid: {
    parameters: [
      "pointer", // struct socket *so
      "buffer", // struct sockaddr *sa
    ],
    result: "u32",
  },
  /** `int usrsctp_sysctl_set_sctp_blackhole(uint32_t value)` */
  usrsctp_sysctl_set_sctp_blackhole: { parameters: ["u32" /* uint32_t */], result: "i32" },
  /** `uint32_t usrsctp_sysctl_get_sctp_blackhole(void)` */
  usrsctp_sysctl_get_sctp_blackhole: { parameters: [], result: "u32" },
  /** `int usrsctp_sysctl_set_sctp_sendspace(uint32_t value)`: default socket send buffer */
  usrsctp_sysctl_set_sctp_sendspace: { parameters: ["u32" /* uint32_t */], result: "i32" },
  /** `int usrsctp_sysctl_set_sctp_recvspace(uint32_t value)`: default socket receive buffer */
  usrsctp_sysctl_set_sctp_recvspace: { parameters: ["u32" /* uint32_t */], result: "i32" },
  /** `uint32_t usrsctp_sysctl_get_sctp_udp_tunneling_port(void)` */
  usrsctp_sysctl_get_sctp_udp_tunneling_port: { parameters: [], result: "u32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The loaded usrsctp symbols.
 *
 * @example
 * ```ts ignore
 * import { loadUsrsctp, type UsrsctpSymbols } from "./usrsctp.ts";
 * const lib: UsrsctpSymbols = loadUsrsctp();
 * ```
 */
export type UsrsctpSymbols = Deno.DynamicLibrary<typeof USRSCTP_SYMBOLS>["symbols"];

/**
 * usrsctp's constants (from `usrsctp.h` 0.9.5 and the Linux socket headers). Many differ from
 * the Linux kernel SCTP API with the same names.
 *
 * @example
 * ```ts
 * import { USRSCTP } from "./usrsctp.ts";
 * console.log(USRSCTP.MSG_NOTIFICATION.toString(16)); // 2000 (the kernel's is 8000)
 * ```
 */
export const USRSCTP = {
  // Address families, socket types, levels (Linux values; usrsctp uses the system's)
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_SEQPACKET: 5,
  IPPROTO_UDP: 17,
  IPPROTO_SCTP: 132,
  SOL_SOCKET: 1,
  SO_TYPE: 3,
  SO_SNDBUF: 7,
  SO_RCVBUF: 8,
  SO_LINGER: 13,
  SO_ATTACH_FILTER: 26,
  SO_SNDBUFFORCE: 32,
  SO_RCVBUFFORCE: 33,
  SO_PROTOCOL: 38,
  SO_DOMAIN: 39,
  SHUT_WR: 1,
  MSG_DONTWAIT: 0x40,
  MSG_EOR: 0x80,
  // usrsctp-specific
  MSG_NOTIFICATION: 0x2000,
  SCTP_FUTURE_ASSOC: 0,
  SCTP_EVENT_READ: 0x0001,
  SCTP_EVENT_WRITE: 0x0002,
  SCTP_EVENT_ERROR: 0x0004,
  SCTP_BINDX_ADD_ADDR: 0x8001,
  SCTP_SENDV_SNDINFO: 1,
  SCTP_RECVV_RCVINFO: 1,
  // socket options (level IPPROTO_SCTP)
  SCTP_RTOINFO: 0x01,
  SCTP_ASSOCINFO: 0x02,
  SCTP_INITMSG: 0x03,
  SCTP_NODELAY: 0x04,
  SCTP_AUTOCLOSE: 0x05,
  SCTP_PEER_ADDR_PARAMS: 0x0a,
  SCTP_I_WANT_MAPPED_V4_ADDR: 0x0d,
  SCTP_EVENT: 0x1e,
  SCTP_RECVRCVINFO: 0x1f,
  SCTP_REMOTE_UDP_ENCAPS_PORT: 0x24,
  SCTP_STATUS: 0x100,
  // sctp_sndinfo.snd_flags
  SCTP_EOF: 0x0100,
  SCTP_ABORT: 0x0200,
  SCTP_UNORDERED: 0x0400,
  // notification types
  SCTP_ASSOC_CHANGE: 0x0001,
  SCTP_PEER_ADDR_CHANGE: 0x0002,
  SCTP_REMOTE_ERROR: 0x0003,
  SCTP_SHUTDOWN_EVENT: 0x0005,
  SCTP_SEND_FAILED_EVENT: 0x000e,
  // sac_state
  SCTP_COMM_UP: 1,
  SCTP_COMM_LOST: 2,
  SCTP_RESTART: 3,
  SCTP_SHUTDOWN_COMP: 4,
  SCTP_CANT_STR_ASSOC: 5,
  // spc_state
  SCTP_ADDR_AVAILABLE: 1,
  SCTP_ADDR_UNREACHABLE: 2,
  SCTP_ADDR_REMOVED: 3,
  SCTP_ADDR_ADDED: 4,
  SCTP_ADDR_MADE_PRIM: 5,
  SCTP_ADDR_CONFIRMED: 6,
  // spp_flags
  SPP_HB_ENABLE: 0x01,
} as const;

/**
 * Byte sizes and field offsets of usrsctp structs on x86_64 Linux (measured with a C probe).
 *
 * @example
 * ```ts
 * import { USRSCTP_LAYOUT } from "./usrsctp.ts";
 * console.log(USRSCTP_LAYOUT.status.primarySrtt); // 164
 * ```
 */
export const USRSCTP_LAYOUT = {
  /** struct sctp_sndinfo {u16 sid; u16 flags; u32 ppid (network order); u32 context; u32 assoc_id} */
  sndinfo: { size: 16, sid: 0, flags: 2, ppid: 4, context: 8, assocId: 12 },
  /** struct sctp_rcvinfo {u16 sid, ssn, flags; u32 ppid@8, tsn, cumtsn, context; u32 assoc_id@24} */
  rcvinfo: { size: 28, sid: 0, ppid: 8, assocId: 24 },
  /** struct sctp_assoc_change (20 bytes) */
  assocChange: {
    size: 20,
    state: 8,
    error: 10,
    outboundStreams: 12,
    inboundStreams: 14,
    assocId: 16,
  },
  /** struct sctp_paddr_change {header 8; sockaddr_storage@8; u32 state@136, error, assoc_id@144} */
  paddrChange: { size: 148, address: 8, state: 136, error: 140, assocId: 144 },
  /** struct sctp_shutdown_event (12 bytes) */
  shutdownEvent: { size: 12, assocId: 8 },
  /** struct sctp_send_failed_event {header 8; u32 error@8; sctp_sndinfo@12; assoc_id@28; data@32} */
  sendFailedEvent: { size: 32, error: 8, info: 12, assocId: 28, data: 32 },
  /**
   * struct sctp_status (176 bytes) with the primary path's struct sctp_paddrinfo at 24 (whose
   * address comes first, unlike Linux's)
   */
  status: {
    size: 176,
    assocId: 0,
    state: 4,
    inboundStreams: 16,
    outboundStreams: 18,
    primary: 24,
    primaryAddress: 24,
    primaryAssocId: 24 + 128,
    primaryState: 24 + 132,
    primarySrtt: 24 + 140,
    primaryRto: 24 + 144,
  },
  /** struct sctp_paddrparams (152 bytes) */
  paddrParams: { size: 152, assocId: 128, hbInterval: 132, flags: 140, pathMaxRxt: 148 },
  /** struct sctp_rtoinfo {assoc_id; initial; max; min} */
  rtoInfo: { size: 16, initial: 4, max: 8, min: 12 },
  /** struct sctp_assocparams (20 bytes) */
  assocParams: { size: 20, asocMaxRxt: 16 },
  /** struct sctp_initmsg {u16 num_ostreams; u16 max_instreams; u16 max_attempts; u16 max_init_timeo} */
  initMsg: { size: 8, outStreams: 0, maxInStreams: 2 },
  /** struct sctp_udpencaps {sockaddr_storage; u32 assoc_id@128; u16 port@132 (network order)} */
  udpEncaps: { size: 136, assocId: 128, port: 132 },
  /** struct sctp_event {u32 assoc_id; u16 type@4; u8 on@6} */
  event: { size: 8, assocId: 0, type: 4, on: 6 },
} as const;

/**
 * Environment variable naming the usrsctp library file.
 *
 * @example
 * ```ts
 * import { USRSCTP_PATH_ENV } from "./usrsctp.ts";
 * console.log(USRSCTP_PATH_ENV); // RSERPOOL_USRSCTP_PATH
 * ```
 */
export const USRSCTP_PATH_ENV = "RSERPOOL_USRSCTP_PATH";

/**
 * Default usrsctp library: Debian package `libusrsctp2`.
 *
 * @example
 * ```ts
 * import { USRSCTP_DEFAULT_PATH } from "./usrsctp.ts";
 * console.log(USRSCTP_DEFAULT_PATH); // libusrsctp.so.2
 * ```
 */
export const USRSCTP_DEFAULT_PATH = "libusrsctp.so.2";

/**
 * The usrsctp library path: `RSERPOOL_USRSCTP_PATH`, else `libusrsctp.so.2`.
 *
 * @example
 * ```ts
 * import { usrsctpLibraryPath } from "./usrsctp.ts";
 * console.log(usrsctpLibraryPath()); // libusrsctp.so.2 (unless overridden)
 * ```
 *
 * @returns The path given to the dynamic loader.
 */
export function usrsctpLibraryPath(): string {
  return readEnv(USRSCTP_PATH_ENV) ?? USRSCTP_DEFAULT_PATH;
}

const RTLD_NOW = 0x2;
const RTLD_NODELETE = 0x1000;

let loaded: UsrsctpSymbols | undefined;

/**
 * Loads usrsctp on first use: pins the library with `dlopen(RTLD_NOW | RTLD_NODELETE)` (it is
 * then never unmapped, even when Deno closes its own handle at exit while usrsctp threads
 * run), then opens it with `Deno.dlopen`.
 *
 * @example
 * ```ts ignore
 * import { loadUsrsctp } from "./usrsctp.ts";
 * console.log(typeof loadUsrsctp().usrsctp_init); // function
 * ```
 *
 * @returns The symbols.
 * @throws {SctpError} `unsupported` when the library cannot be loaded.
 */
export function loadUsrsctp(): UsrsctpSymbols {
  if (loaded !== undefined) return loaded;
  const path = usrsctpLibraryPath();
  const hint = path === USRSCTP_DEFAULT_PATH
    ? "install the Debian package 'libusrsctp2'"
    : `check ${USRSCTP_PATH_ENV}`;
  let pin: Deno.PointerValue;
  try {
    pin = libc().dlopen(new TextEncoder().encode(path + "\0"), RTLD_NOW | RTLD_NODELETE);
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new SctpError("unsupported", `Cannot load usrsctp '${path}': ${hint}`, {
      cause: error,
    });
  }
  if (pin === null) {
    throw new SctpError("unsupported", `Cannot load usrsctp '${path}': ${hint}`);
  }
  try {
    loaded = Deno.dlopen(path, USRSCTP_SYMBOLS).symbols;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    throw new SctpError("unsupported", `Cannot load usrsctp '${path}': ${hint}`, {
      cause: error,
    });
  }
  return loaded;
}

/**
 * Reads errno right after a failed usrsctp call and builds the error with the project's one
 * errno table (`errnoError` of `./errno.ts`).
 *
 * @example
 * ```ts ignore
 * import { lastError } from "./usrsctp.ts";
 * throw lastError("listen");
 * ```
 *
 * @param action What failed.
 * @returns The error.
 */
export function lastError(action: string): SctpError {
  return errnoError(action, errno());
}
