/**
 * Reporter settings from the command line (`-cspserver`, `-cspinterval`, `-cspidentifier`) and
 * the environment (`CSP_SERVER`, `CSP_INTERVAL`), with RSPLIB's rules.
 *
 * @module
 */

import { OptionError } from "../common/options.ts";
import { parseAddressPort } from "../net/address_port.ts";
import { ComponentGroup, CspPacket } from "./constants.ts";
import { componentId } from "./identifier.ts";

/**
 * Where a reporter sends its reports.
 *
 * @example The default monitor address
 * ```ts
 * import type { CspEndpoint } from "./config.ts";
 * import { formatAddressPort } from "../net/address_port.ts";
 * const monitor: CspEndpoint = { hostname: "127.0.0.1", port: 2960 };
 * console.log(formatAddressPort(monitor.hostname, monitor.port)); // 127.0.0.1:2960
 * ```
 */
export interface CspEndpoint {
  /** IP address or host name of the monitor. */
  hostname: string;
  /** UDP port of the monitor. */
  port: number;
}

/**
 * Settings of a reporter.
 *
 * @example Settings with a fixed component id
 * ```ts
 * import { type CspReporterConfig, cspReporterConfigFrom } from "./config.ts";
 * const config: CspReporterConfig | undefined = cspReporterConfigFrom(
 *   { cspserver: "10.0.0.1", cspinterval: 1000, cspidentifier: "0x42" },
 *   new Map<string, string>(),
 * );
 * console.log(config?.server, config?.identifier?.toString(16)); // { hostname: "10.0.0.1", port: 2960 } 200000000000042
 * ```
 */
export interface CspReporterConfig {
  /** The monitor's address. */
  server: CspEndpoint;
  /** Report interval in milliseconds (> 0). */
  interval: number;
  /**
   * Fixed component id from `-cspidentifier`; RSPLIB forces its group to pool element. When
   * absent, the program uses its own id (registrar id, PE id, or a random PU id).
   */
  identifier?: bigint;
}

/**
 * The CSP options as parsed from the command line ({@linkcode import("../common/common_options.ts").CSP_OPTIONS}).
 *
 * @example An interval of 0 turns reporting off
 * ```ts
 * import { type CspCommandLineOptions, cspReporterConfigFrom } from "./config.ts";
 * const options: CspCommandLineOptions = { cspserver: "127.0.0.1:2960", cspinterval: 0 };
 * console.log(cspReporterConfigFrom(options, new Map<string, string>())); // undefined
 * ```
 */
export interface CspCommandLineOptions {
  /** `-cspserver=addr:port` (port 0 or none means 2960). */
  cspserver?: string;
  /** `-cspinterval=ms`; 0 turns reporting off. */
  cspinterval?: number;
  /** `-cspidentifier=N`, hex (`0x...`) or decimal, 32 bits. */
  cspidentifier?: string;
}

/**
 * Read access to environment variables; `Deno.env` and a `Map` both fit.
 *
 * @example An environment from a record
 * ```ts
 * import { type CspEnvironment, cspReporterConfigFrom } from "./config.ts";
 * const variables: Record<string, string> = { CSP_SERVER: "127.0.0.1", CSP_INTERVAL: "500" };
 * const env: CspEnvironment = { get: (name) => variables[name] };
 * console.log(cspReporterConfigFrom({}, env)?.interval); // 500
 * ```
 */
export interface CspEnvironment {
  /** The value of a variable, or `undefined`. */
  get(name: string): string | undefined;
}

/**
 * Settings of {@linkcode cspReporterConfigFrom}.
 *
 * @example rspregistrar's rules: an interval alone turns reporting on
 * ```ts
 * import { type CspConfigSettings, cspReporterConfigFrom } from "./config.ts";
 * const settings: CspConfigSettings = { registrar: true };
 * const config = cspReporterConfigFrom({ cspinterval: 1000 }, new Map<string, string>(), settings);
 * console.log(config?.server); // { hostname: "127.0.0.1", port: 2960 }
 * ```
 */
export interface CspConfigSettings {
  /**
   * Apply rspregistrar's rules instead of the library's: the monitor address defaults to
   * `127.0.0.1:2960`, so an interval alone turns reporting on, and `-cspserver` without an
   * interval reports every 250 ms.
   * @default {false}
   */
  registrar?: boolean;
}

/**
 * Smallest interval taken from `CSP_INTERVAL`, in milliseconds (RSPLIB's limit).
 *
 * @example A shorter CSP_INTERVAL is raised
 * ```ts
 * import { CSP_MIN_ENV_INTERVAL, cspReporterConfigFrom } from "./config.ts";
 * const env = new Map([["CSP_SERVER", "127.0.0.1"], ["CSP_INTERVAL", "10"]]);
 * console.log(cspReporterConfigFrom({}, env)?.interval === CSP_MIN_ENV_INTERVAL); // true
 * ```
 */
export const CSP_MIN_ENV_INTERVAL = 250;

/**
 * Works out the reporter settings from the parsed CSP options and the environment, as RSPLIB's
 * `rsp_initinfo()`/`rsp_initarg()` do for pool elements and pool users:
 *
 * - the monitor address comes from `-cspserver`, else `CSP_SERVER` (port 0 or none: 2960);
 * - the interval comes from `-cspinterval`, else `CSP_INTERVAL` (at least 250 ms);
 * - reports are sent only when both are known (interval > 0);
 * - `-cspidentifier=N` fixes the id to pool element N (RSPLIB forces the group).
 *
 * With `settings.registrar`, rspregistrar's rules apply instead (see
 * {@linkcode CspConfigSettings.registrar}).
 *
 * @example A pool element started with `-cspserver=127.0.0.1:2960 -cspinterval=300`
 * ```ts
 * import { cspReporterConfigFrom } from "./config.ts";
 * const config = cspReporterConfigFrom(
 *   { cspserver: "127.0.0.1:2960", cspinterval: 300 },
 *   new Map<string, string>(),
 * );
 * console.log(config?.server.port, config?.interval); // 2960 300
 * ```
 *
 * @example Settings from the environment only
 * ```ts
 * import { cspReporterConfigFrom } from "./config.ts";
 * const env = new Map([["CSP_SERVER", "[::1]:2961"], ["CSP_INTERVAL", "100"]]);
 * console.log(cspReporterConfigFrom({}, env)); // { server: { hostname: "::1", port: 2961 }, interval: 250 }
 * ```
 *
 * @param options The parsed `-csp*` options.
 * @param env The environment (`Deno.env`); a variable that cannot be read counts as unset.
 * @param settings Registrar rules.
 * @returns The settings, or `undefined` when reporting is off.
 * @throws {OptionError} When an address, interval or identifier cannot be parsed (the message
 * names the option or variable).
 */
export function cspReporterConfigFrom(
  options: CspCommandLineOptions,
  env: CspEnvironment,
  settings: CspConfigSettings = {},
): CspReporterConfig | undefined {
  const envServer = readEnv(env, "CSP_SERVER");
  const envInterval = readEnv(env, "CSP_INTERVAL");

  let server = envServer === undefined ? undefined : parseServer(envServer, "CSP_SERVER");
  let interval = 0;
  if (envInterval !== undefined) {
    const value = /^\s*\d+\s*$/.test(envInterval) ? Number(envInterval) : NaN;
    if (!Number.isSafeInteger(value)) {
      throw new OptionError(`Invalid value "${envInterval}" for CSP_INTERVAL: expected ms`);
    }
    interval = Math.max(value, CSP_MIN_ENV_INTERVAL);
  }
  if (options.cspserver !== undefined) {
    server = parseServer(options.cspserver, "option -cspserver");
    if (settings.registrar && options.cspinterval === undefined && interval <= 0) {
      interval = CSP_MIN_ENV_INTERVAL;
    }
  }
  if (options.cspinterval !== undefined) {
    if (!Number.isFinite(options.cspinterval) || options.cspinterval < 0) {
      throw new OptionError(
        `Invalid value ${options.cspinterval} for option -cspinterval: expected ms`,
      );
    }
    interval = Math.floor(options.cspinterval);
  }
  if (settings.registrar && server === undefined) {
    server = { hostname: "127.0.0.1", port: CspPacket.DEFAULT_PORT };
  }

  let identifier: bigint | undefined;
  if (options.cspidentifier !== undefined) {
    const n = parseIdentifier(options.cspidentifier);
    if (n === undefined) {
      throw new OptionError(
        `Invalid value "${options.cspidentifier}" for option -cspidentifier: ` +
          "expected a 32-bit number (hex 0x... or decimal)",
      );
    }
    identifier = componentId(ComponentGroup.PoolElement, n);
  }

  if (server === undefined || interval <= 0) return undefined;
  const config: CspReporterConfig = { server, interval };
  if (identifier !== undefined) config.identifier = identifier;
  return config;
}

function readEnv(env: CspEnvironment, name: string): string | undefined {
  try {
    return env.get(name);
  } catch {
    return undefined; // no --allow-env: as if unset
  }
}

function parseServer(text: string, where: string): CspEndpoint {
  try {
    const { address, port } = parseAddressPort(text.trim(), CspPacket.DEFAULT_PORT, {
      hostnames: true,
    });
    return { hostname: address, port };
  } catch {
    throw new OptionError(`Invalid value "${text}" for ${where}: expected <address:port>`);
  }
}

function parseIdentifier(text: string): number | undefined {
  const t = text.trim();
  let n: number;
  if (/^0x[0-9a-f]+$/i.test(t)) n = parseInt(t.slice(2), 16);
  else if (/^\d+$/.test(t)) n = Number(t);
  else return undefined;
  return Number.isSafeInteger(n) && n <= 0xffff_ffff ? n : undefined;
}
