/**
 * Symbol table of the C library (`libc.so.6`) shared by the FFI code of this project, loaded
 * lazily on first use (importing this module needs no permission).
 *
 * The table is assembled from blocks, one per user. Add the symbols you need in your own block
 * (with a comment naming its user) and spread it into {@linkcode LIBC_SYMBOLS}; do not change
 * symbols of another block, use them.
 *
 * @example Read errno after a failing call
 * ```ts ignore
 * import { errno, libc, strerror } from "./libc.ts";
 * const fd = libc().socket(2, 3, 132); // AF_INET, SOCK_RAW, IPPROTO_SCTP
 * if (fd < 0) console.log(strerror(errno()));
 * else libc().close(fd);
 * ```
 *
 * @module
 */

/**
 * Shared basics: errno, error strings, dlopen. First user: the usrsctp backend
 * (`ffi/usrsctp.ts`, `src/transport/usrsctp/`).
 */
const SHARED_SYMBOLS = {
  /** `int *__errno_location(void)`: address of the calling thread's errno. */
  __errno_location: { parameters: [], result: "pointer" },
  /** `char *strerror(int errnum)` */
  strerror: { parameters: ["i32" /* int errnum */], result: "pointer" },
  /** `void *dlopen(const char *filename, int flags)` */
  dlopen: {
    parameters: [
      "buffer", // const char *filename (NUL-terminated)
      "i32", // int flags
    ],
    result: "pointer",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * Sockets, used by the usrsctp backend (`src/transport/usrsctp/_stack.ts`: privilege probe,
 * enlarging and filtering usrsctp's own raw/UDP sockets) and the transport selection probe.
 */
const USRSCTP_BACKEND_SYMBOLS = {
  /** `int socket(int domain, int type, int protocol)` */
  socket: {
    parameters: [
      "i32", // int domain
      "i32", // int type
      "i32", // int protocol
    ],
    result: "i32",
  },
  /** `int close(int fd)` */
  close: { parameters: ["i32" /* int fd */], result: "i32" },
  /** `int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen)` */
  setsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // const void *optval
      "u32", // socklen_t optlen
    ],
    result: "i32",
  },
  /** `int getsockopt(int sockfd, int level, int optname, void *optval, socklen_t *optlen)` */
  getsockopt: {
    parameters: [
      "i32", // int sockfd
      "i32", // int level
      "i32", // int optname
      "buffer", // void *optval
      "buffer", // socklen_t *optlen (in/out)
    ],
    result: "i32",
  },
  /** `int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen)` */
  bind: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct sockaddr *addr
      "u32", // socklen_t addrlen
    ],
    result: "i32",
  },
  /** `int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen)` */
  getsockname: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct sockaddr *addr
      "buffer", // socklen_t *addrlen (in/out)
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * Kernel SCTP backend (`src/transport/kernel/`): non-blocking SCTP sockets driven by `poll()`
 * on Deno's blocking thread pool, with a self-pipe to wake it.
 */
const KERNEL_BACKEND_SYMBOLS = {
  /** `int listen(int sockfd, int backlog)` */
  listen: {
    parameters: [
      "i32", // int sockfd
      "i32", // int backlog
    ],
    result: "i32",
  },
  /** `int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags)` */
  accept4: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct sockaddr *addr (NULL: not wanted)
      "buffer", // socklen_t *addrlen (in/out; NULL with addr NULL)
      "i32", // int flags (SOCK_NONBLOCK | SOCK_CLOEXEC)
    ],
    result: "i32",
  },
  /** `int shutdown(int sockfd, int how)` */
  shutdown: {
    parameters: [
      "i32", // int sockfd
      "i32", // int how (SHUT_RD, SHUT_WR, SHUT_RDWR)
    ],
    result: "i32",
  },
  /** `ssize_t sendmsg(int sockfd, const struct msghdr *msg, int flags)` */
  sendmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // const struct msghdr *msg
      "i32", // int flags
    ],
    result: "isize",
  },
  /** `ssize_t recvmsg(int sockfd, struct msghdr *msg, int flags)` */
  recvmsg: {
    parameters: [
      "i32", // int sockfd
      "buffer", // struct msghdr *msg (msg_namelen, msg_controllen, msg_flags are written)
      "i32", // int flags
    ],
    result: "isize",
  },
  /** `int pipe2(int pipefd[2], int flags)` */
  pipe2: {
    parameters: [
      "buffer", // int pipefd[2] (out)
      "i32", // int flags (O_NONBLOCK | O_CLOEXEC)
    ],
    result: "i32",
  },
  /** `ssize_t read(int fd, void *buf, size_t count)` */
  read: {
    parameters: [
      "i32", // int fd
      "buffer", // void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  /** `ssize_t write(int fd, const void *buf, size_t count)` */
  write: {
    parameters: [
      "i32", // int fd
      "buffer", // const void *buf
      "usize", // size_t count
    ],
    result: "isize",
  },
  /**
   * `int poll(struct pollfd *fds, nfds_t nfds, int timeout)` on Deno's blocking thread pool
   * (returns a Promise; `fds` must stay untouched until it settles).
   */
  poll_nonblocking: {
    name: "poll",
    parameters: [
      "buffer", // struct pollfd *fds
      "u64", // nfds_t nfds (unsigned long)
      "i32", // int timeout (ms; -1: no limit)
    ],
    result: "i32",
    nonblocking: true,
  },
  /** `int poll(struct pollfd *fds, nfds_t nfds, int timeout)`, synchronous (timeout 0 only). */
  poll: {
    parameters: [
      "buffer", // struct pollfd *fds
      "u64", // nfds_t nfds (unsigned long)
      "i32", // int timeout (ms)
    ],
    result: "i32",
  },
  /** `int fcntl(int fd, int cmd, ...)` (variadic; called with one int argument) */
  fcntl: {
    parameters: [
      "i32", // int fd
      "i32", // int cmd (F_GETFL, F_SETFL, ...)
      "i32", // int arg
    ],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** All libc symbols used by the project. */
export const LIBC_SYMBOLS = {
  ...SHARED_SYMBOLS,
  ...USRSCTP_BACKEND_SYMBOLS,
  ...KERNEL_BACKEND_SYMBOLS,
} as const satisfies Deno.ForeignLibraryInterface;

/** The loaded symbols of {@linkcode LIBC_SYMBOLS}. */
export type LibcSymbols = Deno.DynamicLibrary<typeof LIBC_SYMBOLS>["symbols"];

let loaded: LibcSymbols | undefined;

/** Environment variable naming another C library file to load instead of `libc.so.6`. */
export const LIBC_PATH_ENV = "RSERPOOL_LIBC_PATH";

/**
 * Reads an environment variable; a missing permission counts as "unset".
 *
 * @example
 * ```ts
 * import { readEnv } from "./libc.ts";
 * console.log(readEnv("RSERPOOL_NO_SUCH_VARIABLE")); // undefined
 * ```
 *
 * @param name The variable.
 * @returns Its value, or `undefined`.
 */
export function readEnv(name: string): string | undefined {
  try {
    const value = Deno.env.get(name);
    return value === "" ? undefined : value;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      return undefined;
    }
    throw error;
  }
}

/**
 * The C library file to load: `$RSERPOOL_LIBC_PATH`, else `libc.so.6` (without env permission:
 * the default).
 *
 * @example
 * ```ts
 * import { libcPath } from "./libc.ts";
 * console.log(libcPath()); // libc.so.6
 * ```
 *
 * @returns The file name or path handed to `dlopen`.
 */
export function libcPath(): string {
  return readEnv(LIBC_PATH_ENV) ?? "libc.so.6";
}

/**
 * Loads libc on first use and returns its symbols.
 *
 * @example
 * ```ts ignore
 * import { libc } from "./libc.ts";
 * console.log(typeof libc().socket); // function
 * ```
 *
 * @returns The symbols.
 */
export function libc(): LibcSymbols {
  if (loaded === undefined) {
    try {
      const path = libcPath();
      loaded = Deno.dlopen(path, LIBC_SYMBOLS).symbols;
    } catch (error) {
      if (error instanceof Deno.errors.NotCapable) throw error;
      throw new Error(`Cannot load the C library '${libcPath()}'`, { cause: error });
    }
  }
  return loaded;
}

/**
 * Reads the calling thread's `errno`. Call it right after the failing synchronous FFI call,
 * with nothing in between that could make another system call.
 *
 * @example
 * ```ts ignore
 * import { errno } from "./libc.ts";
 * console.log(errno() >= 0); // true
 * ```
 *
 * @returns The current errno.
 */
export function errno(): number {
  const where = libc().__errno_location();
  return where === null ? 0 : new Deno.UnsafePointerView(where).getInt32(0);
}

/**
 * Describes an errno value (`strerror`).
 *
 * @example
 * ```ts ignore
 * import { strerror } from "./libc.ts";
 * console.log(strerror(98)); // Address already in use
 * ```
 *
 * @param code The errno value.
 * @returns The C library's message.
 */
export function strerror(code: number): string {
  const text = libc().strerror(code);
  return text === null ? `errno ${code}` : Deno.UnsafePointerView.getCString(text);
}
