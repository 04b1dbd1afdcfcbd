/**
 * The Component Status Protocol (CSP) of RSPLIB: every component (registrar, pool element, pool
 * user) sends a UDP status report every `-cspinterval` ms to the monitor at `-cspserver`, and
 * the monitor (`cspmonitor`) shows them all with location, uptime, load, status text and
 * associations. Byte-compatible with RSPLIB 3.4.4 (version 0x0200).
 *
 * - {@linkcode createCspReporter} / {@linkcode CspReporter}: the reporter every program runs.
 * - {@linkcode cspReporterConfigFrom}: reporter settings from options and environment.
 * - {@linkcode encodeComponentStatusReport} / {@linkcode decodeComponentStatusReport}: the codec.
 * - {@linkcode CspMonitor}, {@linkcode renderCspMonitor}, {@linkcode runCspMonitor}: the monitor.
 *
 * @example A pool element reporting its sessions and load
 * ```ts
 * import { ComponentGroup, componentId, createCspReporter, CspPpid } from "./mod.ts";
 * const sessions = new Map<number, number>(); // session id -> PU side connect time
 * const registrar = { id: 0x1111, connectedAt: Date.now() };
 * await using reporter = createCspReporter(
 *   { cspserver: "127.0.0.1:2960", cspinterval: 300 }, // parsed CSP_OPTIONS
 *   {
 *     identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
 *     status: () => ({
 *       statusText: `${sessions.size} Session${sessions.size === 1 ? "" : "s"}`,
 *       workload: sessions.size / 4,
 *       associations: [{
 *         receiverId: componentId(ComponentGroup.Registrar, registrar.id),
 *         duration: BigInt(Date.now() - registrar.connectedAt) * 1000n,
 *         ppid: CspPpid.ASAP,
 *       }],
 *     }),
 *   },
 * );
 * console.log(reporter?.interval); // 300
 * ```
 *
 * @module
 */

export * from "./constants.ts";
export * from "./identifier.ts";
export * from "./errors.ts";
export * from "./packet.ts";
export * from "./location.ts";
export * from "./config.ts";
export * from "./reporter.ts";
export * from "./monitor.ts";
export * from "./render.ts";
export * from "./run_monitor.ts";
