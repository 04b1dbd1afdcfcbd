/**
 * The kernel backend: Linux kernel SCTP through `Deno.dlopen` of the C library and lksctp's
 * `libsctp.so.1`. Sockets are non-blocking; one `poll()` on Deno's blocking thread pool (the
 * FdPoller) reports readiness for all of them, and the JavaScript thread drains them with
 * `recvmsg(MSG_DONTWAIT)`.
 *
 * Needs a kernel with SCTP (`modprobe sctp`; also `hmac` for `listen()`), `--allow-ffi`, and
 * the Debian package `libsctp1`. On machines without kernel SCTP {@linkcode kernelSctpAvailable}
 * is `false` and `open()` throws an {@linkcode SctpError} with code `unsupported`.
 *
 * @example Echo on one kernel SCTP endpoint (needs kernel SCTP)
 * ```ts ignore
 * import { kernelSctpAvailable, kernelTransport } from "./mod.ts";
 * if (kernelSctpAvailable()) {
 *   const transport = kernelTransport();
 *   const server = await transport.open(
 *     { addresses: ["127.0.0.1"], port: 5001, listen: true },
 *     (e) => {
 *       if (e.type === "message") server.send(e.assocId, e.data, { ppid: e.ppid });
 *     },
 *   );
 *   const client = await transport.open({ addresses: ["127.0.0.1"] }, (e) => {
 *     if (e.type === "message") console.log(new TextDecoder().decode(e.data)); // hello
 *   });
 *   const id = await client.connect(["127.0.0.1"], 5001);
 *   client.send(id, new TextEncoder().encode("hello"), { stream: 1, ppid: 11 });
 * }
 * ```
 *
 * @module
 */

import { errno, libc, strerror } from "../../../ffi/libc.ts";
import { Errno, errnoName } from "../../../ffi/errno.ts";
import { KSCTP, libsctp } from "../../../ffi/libsctp.ts";
import {
  type SctpEndpoint,
  type SctpEndpointOptions,
  SctpError,
  type SctpEvent,
  type SctpTransport,
} from "../types.ts";
import { createSocket, KernelEndpoint } from "./_endpoint.ts";
import { fdPoller } from "./_poller.ts";

/**
 * Result of {@linkcode probeKernelSctp}.
 *
 * @example Explain a failed probe
 * ```ts
 * import type { KernelSctpProbe } from "./mod.ts";
 * const describe = (probe: KernelSctpProbe): string =>
 *   probe.available ? "kernel SCTP" : `no kernel SCTP: ${probe.reason}`;
 * console.log(describe({ available: false, errno: 94, reason: "Socket type not supported" })); // no kernel SCTP: Socket type not supported
 * ```
 */
export interface KernelSctpProbe {
  /** Whether this process can create kernel SCTP sockets. */
  available: boolean;
  /** The errno of the failed `socket()` call, when it failed. */
  errno?: number;
  /** Why not, in words ("" when available). */
  reason: string;
}

let cachedProbe: KernelSctpProbe | undefined;

/**
 * Tries `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP)` once (and loads libsctp). Kernels
 * without SCTP answer ESOCKTNOSUPPORT (no protocol registers SOCK_SEQPACKET), EPROTONOSUPPORT or
 * EAFNOSUPPORT. The answer is cached.
 *
 * @example
 * ```ts
 * import { probeKernelSctp } from "./mod.ts";
 * const probe = probeKernelSctp();
 * console.log(probe.available ? "kernel SCTP" : `no kernel SCTP: ${probe.reason}`);
 * ```
 *
 * @returns Whether kernel SCTP can be used, and why not.
 */
export function probeKernelSctp(): KernelSctpProbe {
  if (cachedProbe !== undefined) return cachedProbe;
  let probe: KernelSctpProbe;
  try {
    const c = libc();
    const fd = c.socket(
      KSCTP.AF_INET,
      KSCTP.SOCK_SEQPACKET | KSCTP.SOCK_CLOEXEC,
      KSCTP.IPPROTO_SCTP,
    );
    if (fd < 0) {
      const code = errno();
      probe = {
        available: false,
        errno: code,
        reason: `socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP): ${strerror(code)} (${
          errnoName(code)
        })`,
      };
    } else {
      c.close(fd);
      libsctp();
      probe = { available: true, reason: "" };
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error;
    probe = { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
  cachedProbe = probe;
  return probe;
}

/**
 * Whether kernel SCTP works here (see {@linkcode probeKernelSctp}).
 *
 * @example
 * ```ts
 * import { kernelSctpAvailable } from "./mod.ts";
 * console.log(typeof kernelSctpAvailable()); // boolean
 * ```
 *
 * @returns `true` when `socket()` gave an SCTP socket and libsctp loaded.
 */
export function kernelSctpAvailable(): boolean {
  return probeKernelSctp().available;
}

/** errno values of `socket()` that mean "this kernel has no SCTP". */
export const KERNEL_SCTP_MISSING_ERRNOS: readonly number[] = [
  Errno.EPROTONOSUPPORT,
  Errno.ESOCKTNOSUPPORT,
  Errno.EAFNOSUPPORT,
];

/**
 * Options of {@linkcode kernelTransport}.
 *
 * @example Say why the kernel backend was chosen
 * ```ts
 * import { kernelTransport, type KernelTransportOptions } from "./mod.ts";
 * const options: KernelTransportOptions = { reason: "RSERPOOL_SCTP=kernel" };
 * console.log(kernelTransport(options).description); // kernel SCTP; RSERPOOL_SCTP=kernel
 * ```
 */
export interface KernelTransportOptions {
  /** Appended to the description (why this backend was chosen). */
  reason?: string;
}

class KernelTransport implements SctpTransport {
  readonly name = "kernel" as const;
  readonly #reason: string | undefined;

  constructor(options: KernelTransportOptions) {
    this.#reason = options.reason;
  }

  get description(): string {
    return this.#reason ? `kernel SCTP; ${this.#reason}` : "kernel SCTP";
  }

  open(options: SctpEndpointOptions, onEvent: (event: SctpEvent) => void): Promise<SctpEndpoint> {
    try {
      const probe = probeKernelSctp();
      if (!probe.available) {
        throw new SctpError("unsupported", `Cannot use kernel SCTP: ${probe.reason}`, {
          errno: probe.errno,
        });
      }
      const { fd, localPort } = createSocket(options);
      return Promise.resolve(
        new KernelEndpoint({
          fd,
          style: options.style ?? "one-to-many",
          listening: options.listen ?? false,
          localPort,
          onEvent,
          poller: fdPoller(),
        }),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }
}

/**
 * Creates the kernel SCTP transport. Creating it is cheap and always works; `open()` fails
 * with code `unsupported` where the kernel has no SCTP.
 *
 * @example
 * ```ts
 * import { kernelTransport } from "./mod.ts";
 * const transport = kernelTransport();
 * console.log(transport.name, transport.description); // kernel kernel SCTP
 * ```
 *
 * @param options Description details.
 * @returns The transport.
 */
export function kernelTransport(options: KernelTransportOptions = {}): SctpTransport {
  return new KernelTransport(options);
}
