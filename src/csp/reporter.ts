/**
 * The Component Status Protocol reporter that every program runs: a UDP report to the monitor
 * right away and then every interval, and a final report (flag F) on {@linkcode CspReporter.close}.
 *
 * @module
 */

import { LogLevel, silentLogger } from "../common/logger.ts";
import {
  type CspCommandLineOptions,
  type CspConfigSettings,
  type CspEndpoint,
  type CspEnvironment,
  cspReporterConfigFrom,
} from "./config.ts";
import { CspPacket } from "./constants.ts";
import { componentObject } from "./identifier.ts";
import { componentLocation } from "./location.ts";
import { type ComponentAssociation, encodeComponentStatusReport } from "./packet.ts";

/**
 * The logging a reporter or monitor needs; the project's `Logger` (`src/common/logger.ts`) fits.
 *
 * @example A logger that collects warnings
 * ```ts
 * import type { CspLogger } from "./reporter.ts";
 * const lines: string[] = [];
 * const logger: CspLogger = {
 *   enabled: (level) => level <= 4,
 *   log: (level, message) => void lines.push(`[${level}] ${message}`),
 * };
 * if (logger.enabled(4)) logger.log(4, "Cannot send CSP report");
 * console.log(lines); // [ "[4] Cannot send CSP report" ]
 * ```
 */
export interface CspLogger {
  /** Whether messages of this level (1 error ... 9 verbose) are written. */
  enabled(level: number): boolean;
  /** Writes a message at a level. */
  log(level: number, message: string): void;
}

/**
 * What a program reports about itself, returned by its {@linkcode CspStatusProvider}.
 *
 * @example A pool element with two sessions
 * ```ts
 * import type { CspStatus } from "./reporter.ts";
 * import { ComponentGroup, componentId, CspPpid } from "./mod.ts";
 * const status: CspStatus = {
 *   statusText: "2 Sessions",
 *   workload: 0.5,
 *   associations: [{ receiverId: componentId(ComponentGroup.Registrar, 0x1111), ppid: CspPpid.ASAP }],
 * };
 * console.log(status.associations?.length); // 1
 * ```
 */
export interface CspStatus {
  /**
   * Status text, e.g. `"3 Sessions"` or RSPLIB's registrar text `"4[2] PEs in 2 Pools, 1 Peer"`
   * (at most 127 UTF-8 bytes are sent).
   */
  statusText: string;
  /** Load in 0..1; absent when unknown (registrars, non-adaptive pool elements, pool users). */
  workload?: number;
  /** Associations: the registrar (PPID 11), peer registrars (PPID 12), sessions to PEs. */
  associations?: readonly ComponentAssociation[];
  /** Location text; by default {@linkcode componentLocation}() (host name and addresses). */
  location?: string;
  /**
   * A new component id, e.g. once a pool element knows its PE id. Reports are only sent while
   * the id's object number is not 0 (as in RSPLIB).
   */
  identifier?: bigint;
}

/**
 * Called before every report; must not block.
 *
 * @example Status from the program's state
 * ```ts
 * import type { CspStatusProvider } from "./reporter.ts";
 * const sessions = new Set([1, 2]);
 * const status: CspStatusProvider = () => ({
 *   statusText: `${sessions.size} Sessions`,
 *   workload: sessions.size / 8,
 * });
 * console.log(status()); // { statusText: "2 Sessions", workload: 0.25 }
 * ```
 */
export type CspStatusProvider = () => CspStatus;

/**
 * Options of {@linkcode CspReporter}.
 *
 * @example Options for `new CspReporter(options)`
 * ```ts
 * import type { CspReporterOptions } from "./reporter.ts";
 * import { ComponentGroup, componentId } from "./mod.ts";
 * const options: CspReporterOptions = {
 *   server: { hostname: "127.0.0.1", port: 2960 },
 *   interval: 1000,
 *   identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
 *   status: () => ({ statusText: "0 Sessions" }),
 * };
 * console.log(options.identifier.toString(16)); // 200000012345678
 * ```
 */
export interface CspReporterOptions {
  /** The monitor's address (`{ hostname, port }`). */
  server: CspEndpoint;
  /** Report interval in milliseconds (> 0). */
  interval: number;
  /** Component id ({@linkcode import("./identifier.ts").componentId}). */
  identifier: bigint;
  /** Status of the component, asked before every report. */
  status: CspStatusProvider;
  /** Logger for send errors. @default {silentLogger} */
  logger?: CspLogger;
}

/**
 * Options of {@linkcode createCspReporter}.
 *
 * @example No reporter without a monitor address or interval
 * ```ts
 * import { createCspReporter, type CreateCspReporterOptions } from "./reporter.ts";
 * import { ComponentGroup, componentId } from "./mod.ts";
 * const init: CreateCspReporterOptions = {
 *   identifier: componentId(ComponentGroup.Registrar, 0x1111),
 *   status: () => ({ statusText: "0[0] PEs in 0 Pools, 0 Peers" }),
 *   registrar: true,
 *   env: new Map<string, string>(),
 * };
 * console.log(createCspReporter({}, init)); // undefined
 * ```
 */
export interface CreateCspReporterOptions extends CspConfigSettings {
  /** The environment. @default {Deno.env} */
  env?: CspEnvironment;
  /** The program's own component id; `-cspidentifier` overrides it. */
  identifier: bigint;
  /** Status of the component, asked before every report. */
  status: CspStatusProvider;
  /** Logger for send errors. @default {silentLogger} */
  logger?: CspLogger;
}

/**
 * Sends component status reports to a monitor over UDP: the first right away, then every
 * interval (measured from the end of the previous one), and a final report with the F flag
 * (empty status, no associations) on {@linkcode CspReporter.close}. The time stamp is the time
 * since the first report in microseconds (the monitor shows it as uptime).
 *
 * The reporter keeps no timer alive on its own (the program's other work keeps the process
 * running); close it to stop it and free its socket. Send errors are logged and the next
 * report is tried as usual. Needs `--allow-net` and `--unstable-net` (`Deno.listenDatagram`);
 * `--allow-sys` for the default location (host name, interfaces).
 *
 * @example A registrar reporting its handlespace and peers
 * ```ts
 * import {
 *   ComponentGroup,
 *   componentId,
 *   CspPpid,
 *   CspReporter,
 *   IpProtocol,
 * } from "./mod.ts";
 * const peers = [0x2222n];
 * await using reporter = new CspReporter({
 *   server: { hostname: "127.0.0.1", port: 2960 },
 *   interval: 300,
 *   identifier: componentId(ComponentGroup.Registrar, 0x1111),
 *   status: () => ({
 *     statusText: `0[0] PEs in 0 Pools, ${peers.length} Peer${peers.length === 1 ? "" : "s"}`,
 *     associations: peers.map((id) => ({
 *       receiverId: componentId(ComponentGroup.Registrar, id),
 *       protocolId: IpProtocol.SCTP,
 *       ppid: CspPpid.ENRP,
 *     })),
 *   }),
 * });
 * console.log(reporter.reports); // 0 (the first report is on its way)
 * ```
 */
export class CspReporter implements AsyncDisposable {
  #server: CspEndpoint;
  #interval: number;
  #identifier: bigint;
  #status: CspStatusProvider;
  #logger: CspLogger;
  #conn: Deno.DatagramConn;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #pending = new Set<Promise<void>>();
  #startTime: number | undefined;
  #reports = 0;
  #closing: Promise<void> | undefined;

  /**
   * Opens a UDP socket and schedules the first report at once.
   *
   * @param options Monitor address, interval, id and status provider.
   * @throws {RangeError} When the interval is not a positive number.
   */
  constructor(options: CspReporterOptions) {
    if (!(options.interval > 0) || !Number.isFinite(options.interval)) {
      throw new RangeError(`Cannot start CSP reporter: interval ${options.interval} is not > 0`);
    }
    this.#server = { hostname: options.server.hostname, port: options.server.port };
    this.#interval = options.interval;
    this.#identifier = options.identifier;
    this.#status = options.status;
    this.#logger = options.logger ?? silentLogger;
    this.#conn = openSocket(this.#server.hostname);
    this.#schedule(0);
  }

  /** The component id that reports are sent with. */
  get identifier(): bigint {
    return this.#identifier;
  }

  /** The monitor's address. */
  get server(): CspEndpoint {
    return { ...this.#server };
  }

  /** Report interval in milliseconds. */
  get interval(): number {
    return this.#interval;
  }

  /** Number of reports sent so far (without the final one). */
  get reports(): number {
    return this.#reports;
  }

  /** Whether {@linkcode CspReporter.close} has been called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Sends a report now (e.g. after a change the monitor should see at once) and restarts the
   * interval.
   *
   * @returns When the report has been handed to the socket.
   */
  reportNow(): Promise<void> {
    if (this.#closing !== undefined) return Promise.resolve();
    this.#cancelTimer();
    return this.#track(this.#send(false).finally(() => this.#schedule(this.#interval)));
  }

  /**
   * Stops the reports, sends the final report (flag F: the monitor drops the component at its
   * next update) and closes the socket. Calling it again returns the same promise.
   *
   * @returns When the final report is sent and the socket is closed.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#cancelTimer();
      while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
      try {
        await this.#send(true);
      } finally {
        this.#conn.close();
      }
    })();
    return this.#closing;
  }

  /** Same as {@linkcode CspReporter.close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #schedule(delay: number): void {
    if (this.#closing !== undefined) return;
    this.#cancelTimer();
    const timer = setTimeout(() => {
      this.#timer = undefined;
      this.#track(this.#send(false).finally(() => this.#schedule(this.#interval)));
    }, delay);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #track(promise: Promise<void>): Promise<void> {
    this.#pending.add(promise);
    return promise.finally(() => this.#pending.delete(promise));
  }

  async #send(final: boolean): Promise<void> {
    let status: CspStatus = { statusText: "" };
    if (!final) {
      try {
        status = this.#status();
      } catch (e) {
        this.#logger.log(
          LogLevel.Warning,
          `CSP status provider failed, no report sent: ${String(e)}`,
        );
        return;
      }
      if (status.identifier !== undefined) this.#identifier = status.identifier;
    }
    if (componentObject(this.#identifier) === 0n) return;
    const now = performance.now();
    this.#startTime ??= now;
    let bytes: Uint8Array;
    try {
      bytes = encodeComponentStatusReport({
        flags: final ? CspPacket.FLAG_FINAL : 0,
        senderId: this.#identifier,
        senderTimestamp: BigInt(Math.round((now - this.#startTime) * 1000)),
        reportInterval: Math.min(Math.round(this.#interval * 1000), 0xffff_ffff),
        location: final ? "" : (status.location ?? componentLocation()),
        status: status.statusText,
        workload: final ? 0 : status.workload,
        associations: final ? [] : [...(status.associations ?? [])],
      });
    } catch (e) {
      this.#logger.log(LogLevel.Warning, `Cannot encode CSP report: ${String(e)}`);
      return;
    }
    try {
      await this.#conn.send(bytes, { transport: "udp", ...this.#server });
      if (!final) this.#reports++;
    } catch (e) {
      this.#logger.log(
        LogLevel.Warning,
        `Cannot send CSP report to ${this.#server.hostname}:${this.#server.port}: ${String(e)}`,
      );
    }
  }
}

function openSocket(hostname: string): Deno.DatagramConn {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError(
      "Cannot open CSP reporter socket: Deno.listenDatagram needs --unstable-net",
    );
  }
  const v4 = /^\d+\.\d+\.\d+\.\d+$/.test(hostname);
  const candidates = v4 ? ["0.0.0.0"] : ["::", "0.0.0.0"];
  let error: unknown;
  for (const local of candidates) {
    try {
      return Deno.listenDatagram({ transport: "udp", hostname: local, port: 0 });
    } catch (e) {
      error = e;
    }
  }
  throw error;
}

/**
 * Starts a reporter when the command line or the environment asks for one (see
 * {@linkcode cspReporterConfigFrom}); `-cspidentifier` overrides the program's own id. This is
 * the one call a program needs.
 *
 * @example A pool user (e.g. rspterminal) with one session
 * ```ts
 * import {
 *   ComponentGroup,
 *   componentId,
 *   createCspReporter,
 *   CspPpid,
 *   randomComponentId,
 * } from "./mod.ts";
 * // In a program: const { options } = parseCommandLine(Deno.args, { ...CSP_OPTIONS, ... }, ...)
 * const options = { cspserver: "127.0.0.1:2960", cspinterval: 300 };
 * const registrarConnectedAt = Date.now();
 * await using reporter = createCspReporter(options, {
 *   identifier: randomComponentId(ComponentGroup.PoolUser),
 *   status: () => ({
 *     statusText: "1 Session",
 *     associations: [
 *       {
 *         receiverId: componentId(ComponentGroup.Registrar, 0x1111),
 *         duration: BigInt(Date.now() - registrarConnectedAt) * 1000n,
 *         ppid: CspPpid.ASAP,
 *       },
 *       { receiverId: componentId(ComponentGroup.PoolElement, 0x2222), ppid: CspPpid.Data },
 *     ],
 *   }),
 * });
 * console.log(reporter !== undefined); // true
 * ```
 *
 * @param options The parsed `-csp*` options.
 * @param init The program's id and status provider; environment and registrar rules.
 * @returns The running reporter, or `undefined` when reporting is off.
 * @throws {OptionError} When an address, interval or identifier cannot be parsed.
 */
export function createCspReporter(
  options: CspCommandLineOptions,
  init: CreateCspReporterOptions,
): CspReporter | undefined {
  const config = cspReporterConfigFrom(options, init.env ?? Deno.env, {
    registrar: init.registrar,
  });
  if (config === undefined) return undefined;
  return new CspReporter({
    server: config.server,
    interval: config.interval,
    identifier: config.identifier ?? init.identifier,
    status: init.status,
    logger: init.logger,
  });
}
