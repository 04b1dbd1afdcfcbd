/**
 * Backend selection: kernel SCTP when the kernel has it, else usrsctp (raw IP when privileged,
 * else UDP encapsulation), overridable by the caller or the environment variable
 * `RSERPOOL_SCTP` (`auto`, `kernel`, `usrsctp`, `usrsctp-raw`, `usrsctp-udp`).
 *
 * @module
 */

import { errno, libc, readEnv, strerror } from "../../ffi/libc.ts";
import { loadUsrsctp, USRSCTP } from "../../ffi/usrsctp.ts";
import { type SctpBackendChoice, SctpError, type SctpTransport } from "./types.ts";
import { canUseRawSockets, usrsctpTransport, type UsrsctpTransportOptions } from "./usrsctp/mod.ts";

/**
 * Environment variable overriding the backend choice.
 *
 * @example
 * ```ts
 * import { BACKEND_ENV } from "./select.ts";
 * console.log(BACKEND_ENV); // RSERPOOL_SCTP
 * ```
 */
export const BACKEND_ENV = "RSERPOOL_SCTP";

const CHOICES: readonly SctpBackendChoice[] = [
  "auto",
  "kernel",
  "usrsctp",
  "usrsctp-raw",
  "usrsctp-udp",
];

/**
 * Options of {@linkcode openSctpTransport}.
 *
 * @example
 * ```ts ignore
 * import { openSctpTransport } from "./select.ts";
 * const t = await openSctpTransport("usrsctp-udp", { usrsctp: { udpPort: 40000 } });
 * ```
 */
export interface OpenSctpTransportOptions {
  /** Options for the usrsctp backend (UDP ports, blackhole). */
  usrsctp?: Omit<UsrsctpTransportOptions, "mode" | "reason">;
  /** Creates the kernel backend. Default: `kernelTransport()` of `./kernel/mod.ts`. */
  kernel?: () => SctpTransport | Promise<SctpTransport>;
  /**
   * Probe for kernel SCTP (default: `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP)`).
   * Returns `undefined` when it works, else why not.
   */
  probeKernel?: () => string | undefined;
}

/**
 * Why kernel SCTP cannot be used here, or `undefined` when a one-to-many SCTP socket opens.
 *
 * @example
 * ```ts ignore
 * import { kernelSctpUnavailable } from "./select.ts";
 * console.log(kernelSctpUnavailable() ?? "kernel SCTP works");
 * ```
 *
 * @returns The reason, e.g. "socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP): Socket type not
 * supported (errno 94)".
 */
export function kernelSctpUnavailable(): string | undefined {
  let fd: number;
  try {
    fd = libc().socket(USRSCTP.AF_INET, USRSCTP.SOCK_SEQPACKET, USRSCTP.IPPROTO_SCTP);
  } catch (error) {
    return `cannot probe: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (fd >= 0) {
    libc().close(fd);
    return undefined;
  }
  const code = errno();
  return `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP): ${strerror(code)} (errno ${code})`;
}

/**
 * Loads the kernel backend (`./kernel/mod.ts`, `kernelTransport()`) on demand: libsctp and the
 * poller are only loaded when the kernel backend is chosen.
 */
async function loadKernelTransport(): Promise<SctpTransport> {
  let module: typeof import("./kernel/mod.ts");
  try {
    module = await import("./kernel/mod.ts");
  } catch (error) {
    throw new SctpError("unsupported", "Cannot load the kernel SCTP backend", { cause: error });
  }
  return module.kernelTransport();
}

/** Wraps a transport to extend its description. */
function withReason(transport: SctpTransport, reason: string): SctpTransport {
  return {
    get name() {
      return transport.name;
    },
    get mode() {
      return transport.mode;
    },
    get description() {
      return `${transport.description}; ${reason}`;
    },
    open: (options, onEvent) => transport.open(options, onEvent),
  };
}

function parseChoice(text: string, from: string): SctpBackendChoice {
  if ((CHOICES as readonly string[]).includes(text)) return text as SctpBackendChoice;
  throw new SctpError(
    "invalid-argument",
    `Cannot use SCTP backend '${text}' (from ${from}): expected one of ${CHOICES.join(", ")}`,
  );
}

const INSTALL_HINT = "install the Debian package 'libusrsctp2' (userland SCTP), or use a kernel " +
  "with SCTP ('modprobe sctp'; Debian package 'libsctp1' for the library)";

/**
 * Opens the SCTP transport to use.
 *
 * - `auto` (default): kernel SCTP if `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP)` works, else
 *   usrsctp (raw IP if this process may open raw sockets, else UDP encapsulation).
 * - `kernel`, `usrsctp` (raw or UDP as in `auto`), `usrsctp-raw`, `usrsctp-udp`: that backend.
 *
 * The choice comes from `choice`, else from the environment variable `RSERPOOL_SCTP`, else
 * `auto`. The transport's `description` says what was chosen and why (for the log).
 *
 * @example
 * ```ts ignore
 * import { openSctpTransport } from "./select.ts";
 * const transport = await openSctpTransport();
 * console.log(transport.description);
 * // e.g. usrsctp (raw IP); auto: no kernel SCTP (socket(...): Socket type not supported (errno 94))
 * ```
 *
 * @param choice The backend, or `undefined` for `RSERPOOL_SCTP` / `auto`.
 * @param options Backend options and test hooks.
 * @returns The transport.
 * @throws {SctpError} `unsupported` with one message naming every reason and what to install
 * when no backend works; `invalid-argument` for an unknown choice.
 */
export async function openSctpTransport(
  choice?: SctpBackendChoice,
  options: OpenSctpTransportOptions = {},
): Promise<SctpTransport> {
  const env = readEnv(BACKEND_ENV);
  const wanted = choice ?? (env !== undefined ? parseChoice(env, BACKEND_ENV) : "auto");
  parseChoice(wanted, "the caller");
  const source = choice !== undefined ? "requested" : env !== undefined ? BACKEND_ENV : "auto";
  const probe = options.probeKernel ?? kernelSctpUnavailable;
  const loadKernel = options.kernel ?? loadKernelTransport;

  if (wanted === "kernel") {
    const why = probe();
    if (why !== undefined) {
      throw new SctpError(
        "unsupported",
        `Cannot use kernel SCTP: ${why}; load the kernel module ('modprobe sctp') or choose ` +
          `usrsctp (${BACKEND_ENV}=usrsctp)`,
      );
    }
    return withReason(await loadKernel(), `${source}: kernel`);
  }

  if (wanted === "auto") {
    const why = probe();
    if (why === undefined) {
      try {
        return withReason(await loadKernel(), "auto: kernel SCTP available");
      } catch (error) {
        return openUsrsctp(
          "auto",
          options,
          `auto: kernel backend failed (${error instanceof Error ? error.message : error})`,
        );
      }
    }
    return openUsrsctp("auto", options, `auto: no kernel SCTP (${why})`);
  }

  const mode = wanted === "usrsctp-raw" ? "raw" : wanted === "usrsctp-udp" ? "udp" : "auto";
  return openUsrsctp(mode, options, `${source}: ${wanted}`);
}

function openUsrsctp(
  mode: "raw" | "udp" | "auto",
  options: OpenSctpTransportOptions,
  reason: string,
): SctpTransport {
  let privileged: boolean;
  try {
    privileged = canUseRawSockets();
  } catch (error) {
    throw new SctpError("unsupported", `Cannot use SCTP: ${reason}; ${INSTALL_HINT}`, {
      cause: error,
    });
  }
  const resolved = mode === "auto" ? (privileged ? "raw" : "udp") : mode;
  if (resolved === "raw" && !privileged) {
    throw new SctpError(
      "unsupported",
      "Cannot use usrsctp with raw IP: raw sockets need root or CAP_NET_RAW " +
        `(use ${BACKEND_ENV}=usrsctp-udp for UDP encapsulation)`,
    );
  }
  const why = mode === "auto"
    ? `${reason}; ${privileged ? "raw sockets allowed" : "no raw sockets (not privileged)"}`
    : reason;
  try {
    // Loads the library now, so that a missing usrsctp is reported here and not at open().
    loadUsrsctp();
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw new SctpError(
      "unsupported",
      `Cannot use SCTP: ${reason}; usrsctp unavailable (${detail}); ${INSTALL_HINT}`,
      { cause: error },
    );
  }
  return usrsctpTransport({ ...options.usrsctp, mode: resolved, reason: why });
}
