/**
 * Option groups shared by the programs (RSPLIB's `rsp_initarg` and logging options), and the
 * logger they configure.
 *
 * @module
 */

import { Logger } from "./logger.ts";
import type { ParsedOptions } from "./options.ts";

/**
 * Logging options of every program (RSPLIB's loglevel.c).
 *
 * @example
 * ```ts
 * import { LOGGING_OPTIONS, loggerFromOptions } from "./common_options.ts";
 * import { parseOptions } from "./options.ts";
 * const { options } = parseOptions(["-loglevel=3", "-logcolor=off"], LOGGING_OPTIONS, {
 *   program: "demo",
 * });
 * const log = loggerFromOptions(options, "demo");
 * console.log(log.level); // 3
 * ```
 */
export const LOGGING_OPTIONS = {
  loglevel: {
    kind: "integer",
    description: "Log level: 0 none, 1 error, 2 warning, 3 note, 4 action, 5-9 verbose",
    valueName: "0..9",
    default: 1,
    min: 0,
    max: 9,
  },
  logcolor: {
    kind: "choice",
    description: "Colour the log",
    choices: ["on", "off"],
    default: "on",
  },
  logfile: { kind: "string", description: "Log to this file (truncated)", valueName: "file" },
  logappend: { kind: "string", description: "Log to this file (appended)", valueName: "file" },
  logquiet: { kind: "flag", description: "No log output at all" },
} as const;

/**
 * Creates the logger that the logging options describe.
 *
 * @param options Parsed values of {@linkcode LOGGING_OPTIONS}.
 * @param name Component name for the log header.
 * @returns The logger.
 */
export function loggerFromOptions(
  options: ParsedOptions<typeof LOGGING_OPTIONS>,
  name?: string,
): Logger {
  return new Logger({
    level: options.logquiet ? 0 : options.loglevel,
    color: options.logcolor !== "off",
    file: options.logfile,
    appendFile: options.logfile === undefined ? options.logappend : undefined,
    name,
  });
}

/**
 * Component Status Protocol options of every program (`-cspserver` and `-cspinterval` are both
 * needed; `CSP_SERVER`/`CSP_INTERVAL` give defaults).
 */
export const CSP_OPTIONS = {
  cspserver: {
    kind: "string",
    description: "Send status reports to this monitor",
    valueName: "addr:port",
  },
  cspinterval: {
    kind: "integer",
    description: "Status report interval",
    valueName: "ms",
    min: 0,
  },
  cspidentifier: {
    kind: "string",
    description: "Fixed CSP object identifier (hex 0x.. or decimal)",
    valueName: "id",
  },
} as const;

/**
 * Registrar discovery options of pool elements and pool users (RSPLIB's `rsp_initarg`, §2.1).
 */
export const REGISTRAR_CLIENT_OPTIONS = {
  registrar: {
    kind: "string",
    description: "Static registrar (multi-homed: addr1,addr2:port)",
    valueName: "addr:port",
    repeatable: true,
  },
  asapannounce: {
    kind: "string",
    description: "Listen for registrar announces here: auto (239.0.0.50:3863), off, or addr:port",
    valueName: "auto|off|addr:port",
    default: "auto",
  },
  registrarannouncetimeout: {
    kind: "integer",
    description: "Lifetime of a registrar learned by announce",
    valueName: "ms",
    default: 5000,
    min: 1,
  },
  registrarconnecttimeout: {
    kind: "integer",
    description: "Registrar hunt connect timeout",
    valueName: "ms",
    default: 7500,
    min: 1,
  },
  registrarconnectmaxtrials: {
    kind: "integer",
    description: "Registrar hunt rounds",
    default: 1,
    min: 1,
  },
  registrarrequesttimeout: {
    kind: "integer",
    description: "Send timeout for registrar requests",
    valueName: "ms",
    default: 3000,
    min: 1,
  },
  registrarresponsetimeout: {
    kind: "integer",
    description: "Wait this long for a registrar response",
    valueName: "ms",
    default: 3000,
    min: 1,
  },
  registrarrequestmaxtrials: {
    kind: "integer",
    description: "Registrar request attempts",
    default: 1,
    min: 1,
  },
} as const;

/**
 * SCTP backend options of this project (not in RSPLIB, which always uses the kernel): which
 * SCTP implementation to use, and the UDP port for SCTP over UDP (RFC 6951).
 */
export const SCTP_OPTIONS = {
  sctp: {
    kind: "choice",
    description: "SCTP implementation (env RSERPOOL_SCTP)",
    choices: ["auto", "kernel", "usrsctp", "usrsctp-raw", "usrsctp-udp"],
  },
  sctpudpport: {
    kind: "integer",
    description: "Local UDP port for SCTP over UDP (env RSERPOOL_SCTP_UDP_PORT)",
    valueName: "port",
    min: 1,
    max: 65535,
    outOfRange: "error",
  },
} as const;
