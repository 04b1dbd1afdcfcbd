/**
 * The live Component Status Protocol monitor: receives reports on a UDP socket, purges silent
 * components and redraws the console view every update interval, until its signal aborts.
 *
 * @module
 */

import { LogLevel, silentLogger } from "../common/logger.ts";
import type { CspLogger } from "./reporter.ts";
import { CspPacket } from "./constants.ts";
import { describeComponentId } from "./identifier.ts";
import { CspMonitor, type CspMonitorOptions, type CspMonitorStats } from "./monitor.ts";
import { type CspRenderOptions, renderCspMonitor } from "./render.ts";

/**
 * Options of {@linkcode runCspMonitor}; the defaults are RSPLIB's.
 *
 * @example Options for `runCspMonitor(options)`
 * ```ts
 * import type { RunCspMonitorOptions } from "./run_monitor.ts";
 * const controller = new AbortController(); // controller.abort() stops the monitor
 * const options: RunCspMonitorOptions = {
 *   hostname: "127.0.0.1",
 *   port: 2960,
 *   updateInterval: 500,
 *   compact: true,
 *   signal: controller.signal,
 * };
 * console.log(options.updateInterval); // 500
 * ```
 */
export interface RunCspMonitorOptions
  extends CspMonitorOptions, Omit<CspRenderOptions, "now" | "time"> {
  /** Local address to listen on. @default {"::"} (all addresses; `0.0.0.0` without IPv6) */
  hostname?: string;
  /** Local UDP port; 0 picks a free one (see `onListen`). @default {2960} */
  port?: number;
  /** Redraw (and purge) every this many milliseconds. @default {1000} */
  updateInterval?: number;
  /** Stops the monitor. */
  signal?: AbortSignal;
  /** Where the console view goes. @default {writes to standard output} */
  write?: (text: string) => void;
  /** Logger for dropped datagrams (level 5) and errors. @default {silentLogger} */
  logger?: CspLogger;
  /** Called with the bound address once the socket is open. */
  onListen?: (address: Deno.NetAddr) => void;
}

const encoder = new TextEncoder();

function writeStdout(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}

function listen(hostname: string | undefined, port: number): Deno.DatagramConn {
  if (typeof Deno.listenDatagram !== "function") {
    throw new TypeError("Cannot open CSP monitor socket: Deno.listenDatagram needs --unstable-net");
  }
  if (hostname !== undefined) return Deno.listenDatagram({ transport: "udp", hostname, port });
  try {
    return Deno.listenDatagram({ transport: "udp", hostname: "::", port });
  } catch {
    return Deno.listenDatagram({ transport: "udp", hostname: "0.0.0.0", port });
  }
}

/**
 * Runs a monitor like RSPLIB's `cspmonitor`: prints its banner, clears the screen, and then every
 * update interval (the first at once) purges silent components and redraws the view in
 * place. Every datagram is checked; invalid ones are logged (level 5) and dropped, so no
 * datagram can stop the monitor. When `signal` aborts, the socket is closed and
 * `"\nTerminated!\n"` is written. Needs `--allow-net` and `--unstable-net`.
 *
 * @example Run for a moment on a free loopback port
 * ```ts
 * import { runCspMonitor } from "./run_monitor.ts";
 * const controller = new AbortController();
 * const frames: string[] = [];
 * const done = runCspMonitor({
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   updateInterval: 100,
 *   signal: controller.signal,
 *   write: (text) => frames.push(text),
 *   onListen: (address) => console.log(address.port > 0), // true
 * });
 * setTimeout(() => controller.abort(), 50);
 * const stats = await done;
 * console.log(stats.datagrams); // 0
 * ```
 *
 * @param options Address, intervals, display limits, signal and output.
 * @returns The counters when the monitor stops.
 * @throws {Deno.errors.AddrInUse} (or another `Deno.errors` class) when the socket cannot be
 * bound.
 */
export async function runCspMonitor(options: RunCspMonitorOptions = {}): Promise<CspMonitorStats> {
  const logger = options.logger ?? silentLogger;
  const output = options.write ?? writeStdout;
  const write = (text: string) => {
    try {
      output(text);
    } catch (e) {
      logger.log(LogLevel.Error, `Cannot write the component status view: ${String(e)}`);
    }
  };
  const updateInterval = options.updateInterval ?? 1000;
  const conn = listen(options.hostname, options.port ?? CspPacket.DEFAULT_PORT);
  const address = conn.addr as Deno.NetAddr;
  options.onListen?.(address);
  logger.log(
    LogLevel.Note,
    `Component status monitor listening on ${address.hostname}:${address.port}`,
  );

  const monitor = new CspMonitor(options);
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let lastSize = -1;

  const update = () => {
    timer = undefined;
    if (stopped) return;
    try {
      const now = performance.now();
      for (const c of monitor.purge(now)) {
        if (logger.enabled(LogLevel.Action)) {
          logger.log(
            LogLevel.Action,
            `Purged ${describeComponentId(c.id)}${c.final ? " (final report)" : ""}`,
          );
        }
      }
      if (monitor.size !== lastSize || monitor.size > 0) {
        write(renderCspMonitor(monitor, { ...options, now, time: Date.now() }));
      }
      lastSize = monitor.size;
    } catch (e) {
      logger.log(LogLevel.Error, `Cannot update the component status view: ${String(e)}`);
    }
    timer = setTimeout(update, updateInterval);
  };

  const receiveLoop = async () => {
    const buffer = new Uint8Array(65536);
    while (!stopped) {
      let datagram: Uint8Array;
      let from: Deno.Addr;
      try {
        [datagram, from] = await conn.receive(buffer);
      } catch (e) {
        if (stopped) break;
        logger.log(LogLevel.Warning, `Cannot receive a datagram: ${String(e)}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
        continue;
      }
      const result = monitor.receive(datagram);
      if (!result.accepted && logger.enabled(LogLevel.Verbose1)) {
        const source = from as Deno.NetAddr;
        logger.log(
          LogLevel.Verbose1,
          `Dropped ${datagram.length}-byte datagram from ${source.hostname}:${source.port}: ` +
            result.error?.message,
        );
      }
    }
  };

  write("Component Status Monitor - Version 1.0\n======================================\n\n");
  write("\x1b[;H\x1b[2J");
  const receiving = receiveLoop();
  update(); // RSPLIB 3.4.4 draws the first frame at once too

  await new Promise<void>((resolve) => {
    if (options.signal?.aborted) return resolve();
    options.signal?.addEventListener("abort", () => resolve(), { once: true });
  });
  stopped = true;
  if (timer !== undefined) clearTimeout(timer);
  conn.close();
  await receiving;
  write("\nTerminated!\n");
  const stats = monitor.stats;
  logger.log(
    LogLevel.Note,
    `Component status monitor stopped: ${stats.datagrams} datagrams, ${stats.accepted} reports, ` +
      `${stats.dropped} dropped`,
  );
  return stats;
}
