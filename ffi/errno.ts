/**
 * Linux errno values: names, and their mapping to {@linkcode SctpErrorCode}s. The table was
 * printed by `strerrorname_np()` (glibc 2.36, x86_64); the values are the same on every Linux
 * architecture this project targets (x86_64, aarch64).
 *
 * @example
 * ```ts
 * import { Errno, errnoCode, errnoName } from "./errno.ts";
 * console.log(errnoName(Errno.EADDRINUSE)); // EADDRINUSE
 * console.log(errnoCode(98)); // address-in-use
 * ```
 *
 * @module
 */

import { SctpError, type SctpErrorCode } from "../src/transport/types.ts";
import { strerror } from "./libc.ts";

/** Linux errno names by value. */
export const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  6: "ENXIO",
  7: "E2BIG",
  8: "ENOEXEC",
  9: "EBADF",
  10: "ECHILD",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  15: "ENOTBLK",
  16: "EBUSY",
  17: "EEXIST",
  18: "EXDEV",
  19: "ENODEV",
  20: "ENOTDIR",
  21: "EISDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  25: "ENOTTY",
  26: "ETXTBSY",
  27: "EFBIG",
  28: "ENOSPC",
  29: "ESPIPE",
  30: "EROFS",
  31: "EMLINK",
  32: "EPIPE",
  33: "EDOM",
  34: "ERANGE",
  35: "EDEADLK",
  36: "ENAMETOOLONG",
  37: "ENOLCK",
  38: "ENOSYS",
  39: "ENOTEMPTY",
  40: "ELOOP",
  42: "ENOMSG",
  43: "EIDRM",
  61: "ENODATA",
  62: "ETIME",
  71: "EPROTO",
  74: "EBADMSG",
  75: "EOVERFLOW",
  84: "EILSEQ",
  88: "ENOTSOCK",
  89: "EDESTADDRREQ",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT",
  94: "ESOCKTNOSUPPORT",
  95: "EOPNOTSUPP",
  96: "EPFNOSUPPORT",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  102: "ENETRESET",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  108: "ESHUTDOWN",
  109: "ETOOMANYREFS",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
  114: "EALREADY",
  115: "EINPROGRESS",
  116: "ESTALE",
  121: "EREMOTEIO",
  122: "EDQUOT",
  125: "ECANCELED",
  130: "EOWNERDEAD",
  131: "ENOTRECOVERABLE",
};

/** The errno values the FFI code tests for, by name. */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EINVAL: 22,
  EMFILE: 24,
  EPIPE: 32,
  ENOSYS: 38,
  EDESTADDRREQ: 89,
  EMSGSIZE: 90,
  ENOPROTOOPT: 92,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EOPNOTSUPP: 95,
  EAFNOSUPPORT: 97,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETDOWN: 100,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  ENOBUFS: 105,
  EISCONN: 106,
  ENOTCONN: 107,
  ESHUTDOWN: 108,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;

/**
 * The symbolic name of an errno value.
 *
 * @example
 * ```ts
 * import { errnoName } from "./errno.ts";
 * console.log(errnoName(94)); // ESOCKTNOSUPPORT
 * console.log(errnoName(9999)); // errno 9999
 * ```
 *
 * @param code The errno value.
 * @returns Its name, or `errno N` for values the table does not know.
 */
export function errnoName(code: number): string {
  return ERRNO_NAMES[code] ?? `errno ${code}`;
}

/**
 * Maps an errno value to an {@linkcode SctpErrorCode}.
 *
 * @example
 * ```ts
 * import { errnoCode } from "./errno.ts";
 * console.log(errnoCode(93)); // unsupported
 * console.log(errnoCode(111)); // connect-failed
 * ```
 *
 * @param code The errno value.
 * @returns The error code; `system` for everything without a closer match.
 */
export function errnoCode(code: number): SctpErrorCode {
  switch (code) {
    case Errno.EADDRINUSE:
      return "address-in-use";
    case Errno.EINVAL:
    case Errno.EADDRNOTAVAIL:
    case Errno.EMSGSIZE:
    case Errno.EDESTADDRREQ:
      return "invalid-argument";
    case Errno.ENOENT:
    case Errno.ENOTCONN:
    case Errno.ESHUTDOWN:
    case Errno.EPIPE:
      return "no-association";
    case Errno.ECONNREFUSED:
    case Errno.ECONNRESET:
    case Errno.ECONNABORTED:
    case Errno.ENETUNREACH:
    case Errno.EHOSTUNREACH:
    case Errno.ENETDOWN:
      return "connect-failed";
    case Errno.ETIMEDOUT:
      return "timeout";
    case Errno.EBADF:
      return "closed";
    case Errno.EPROTONOSUPPORT:
    case Errno.ESOCKTNOSUPPORT:
    case Errno.EAFNOSUPPORT:
    case Errno.EOPNOTSUPP:
    case Errno.ENOSYS:
      return "unsupported";
    default:
      return "system";
  }
}

/**
 * Builds the {@linkcode SctpError} for a failed system call: "Cannot ACTION: MESSAGE (NAME)".
 *
 * @example
 * ```ts
 * import { errnoError } from "./errno.ts";
 * const e = errnoError("bind port 3863", 98);
 * console.log(e.code, e.errno); // address-in-use 98
 * console.log(e.message); // Cannot bind port 3863: Address already in use (EADDRINUSE)
 * ```
 *
 * @param action What failed, completing "Cannot ...".
 * @param code The errno value, read right after the call.
 * @returns The error.
 */
export function errnoError(action: string, code: number): SctpError {
  let text: string;
  try {
    text = strerror(code);
  } catch {
    text = "system error";
  }
  return new SctpError(errnoCode(code), `Cannot ${action}: ${text} (${errnoName(code)})`, {
    errno: code,
  });
}
