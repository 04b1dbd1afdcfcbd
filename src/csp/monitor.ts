/**
 * The state of a Component Status Protocol monitor: the components that reported, updated from
 * datagrams and purged when silent, as RSPLIB's `cspmonitor` keeps them. No I/O; see
 * {@linkcode import("./run_monitor.ts").runCspMonitor} for the live program and
 * {@linkcode import("./render.ts").renderCspMonitor} for the console view.
 *
 * @module
 */

import { ComponentGroup } from "./constants.ts";
import { CspDecodeError } from "./errors.ts";
import { componentGroup } from "./identifier.ts";
import {
  type ComponentAssociation,
  type ComponentStatusReport,
  decodeComponentStatusReport,
} from "./packet.ts";

/**
 * A component as the monitor knows it from its latest report.
 *
 * @example The components a monitor knows
 * ```ts
 * import { ComponentGroup, componentId, type CspComponent, CspMonitor } from "./mod.ts";
 * const monitor = new CspMonitor();
 * monitor.update({
 *   senderId: componentId(ComponentGroup.PoolUser, 7),
 *   senderTimestamp: 0n,
 *   reportInterval: 1_000_000,
 *   location: "pu1: 192.0.2.7",
 *   status: "1 Session",
 *   associations: [],
 * }, 0);
 * const [pu]: CspComponent[] = monitor.components();
 * console.log(pu.status, pu.final); // 1 Session false
 * ```
 */
export interface CspComponent {
  /** Component id (group and object). */
  readonly id: bigint;
  /** When the latest report arrived, in the monitor's clock (ms, `performance.now()`). */
  lastReport: number;
  /** The component's uptime from its latest report, in microseconds. */
  senderTimestamp: bigint;
  /** The component's report interval in microseconds. */
  reportInterval: number;
  /** Location text. */
  location: string;
  /** Status text. */
  status: string;
  /** Load in 0..1; absent when unknown. */
  workload?: number;
  /** Associations from the latest report. */
  associations: ComponentAssociation[];
  /** A final report (flag F) arrived: the component is dropped at the next purge. */
  final: boolean;
}

/**
 * Options of {@linkcode CspMonitor}.
 *
 * @example Purge silent components after 5 s
 * ```ts
 * import { CspMonitor, type CspMonitorOptions } from "./monitor.ts";
 * const options: CspMonitorOptions = { purgeInterval: 5_000, maxComponents: 1_000 };
 * console.log(new CspMonitor(options).purgeInterval); // 5000
 * ```
 */
export interface CspMonitorOptions {
  /**
   * Drop a component after this many milliseconds without a report (or after 10 of its report
   * intervals, if that is shorter). @default {30000}
   */
  purgeInterval?: number;
  /**
   * Most components kept; reports of further components are dropped (a bound against floods
   * of forged ids; RSPLIB has none). @default {65536}
   */
  maxComponents?: number;
}

/**
 * Result of {@linkcode CspMonitor.receive}.
 *
 * @example A datagram that is too short
 * ```ts
 * import { CspMonitor, type CspReceiveResult } from "./monitor.ts";
 * const result: CspReceiveResult = new CspMonitor().receive(new Uint8Array(5));
 * console.log(result.accepted, result.error?.name); // false CspDecodeError
 * ```
 */
export interface CspReceiveResult {
  /** Whether the datagram was a valid report and was taken. */
  accepted: boolean;
  /** The component updated (absent for a dropped datagram, or a final report of an unknown id). */
  component?: CspComponent;
  /** Why the datagram was dropped: a {@linkcode CspDecodeError}, or a `RangeError` when full. */
  error?: Error;
}

/**
 * Number of components per group.
 *
 * @example The header line's counts
 * ```ts
 * import { type CspComponentCounts, CspMonitor } from "./monitor.ts";
 * const c: CspComponentCounts = new CspMonitor().counts();
 * console.log(`${c.registrars} PRs, ${c.poolElements} PEs, ${c.poolUsers} PUs`); // 0 PRs, 0 PEs, 0 PUs
 * ```
 */
export interface CspComponentCounts {
  /** Registrars (PRs). */
  registrars: number;
  /** Pool elements (PEs). */
  poolElements: number;
  /** Pool users (PUs). */
  poolUsers: number;
}

/**
 * Counters of a {@linkcode CspMonitor}.
 *
 * @example Counters after a dropped datagram
 * ```ts
 * import { CspMonitor, type CspMonitorStats } from "./monitor.ts";
 * const monitor = new CspMonitor();
 * monitor.receive(new Uint8Array(5));
 * const stats: CspMonitorStats = monitor.stats;
 * console.log(stats); // { datagrams: 1, accepted: 0, dropped: 1, purged: 0 }
 * ```
 */
export interface CspMonitorStats {
  /** Datagrams given to {@linkcode CspMonitor.receive}. */
  datagrams: number;
  /** Valid reports taken. */
  accepted: number;
  /** Datagrams dropped (invalid, or table full). */
  dropped: number;
  /** Components purged. */
  purged: number;
}

/**
 * Components known to a monitor. Feed it datagrams with {@linkcode CspMonitor.receive}, call
 * {@linkcode CspMonitor.purge} once per display cycle, and list them in display order (group,
 * then location, then id) with {@linkcode CspMonitor.components}. Invalid datagrams never throw:
 * they are counted and returned with the reason.
 *
 * @example
 * ```ts
 * import { ComponentGroup, componentId, CspMonitor, encodeComponentStatusReport } from "./mod.ts";
 * const monitor = new CspMonitor({ purgeInterval: 30_000 });
 * const bytes = encodeComponentStatusReport({
 *   senderId: componentId(ComponentGroup.Registrar, 0x1234),
 *   senderTimestamp: 0n,
 *   reportInterval: 1_000_000,
 *   location: "node1: 10.0.0.1:3863",
 *   status: "0[0] PEs in 0 Pools, 0 Peers",
 *   associations: [],
 * });
 * console.log(monitor.receive(bytes, 0).accepted); // true
 * console.log(monitor.receive(new Uint8Array(5), 0).error?.message); // Cannot decode component status report: 5 bytes are fewer than 288
 * console.log(monitor.counts().registrars); // 1
 * monitor.purge(10_001); // silent for 10 report intervals
 * console.log(monitor.size); // 0
 * ```
 */
export class CspMonitor {
  #components = new Map<bigint, CspComponent>();
  #purgeInterval: number;
  #maxComponents: number;
  #stats: CspMonitorStats = { datagrams: 0, accepted: 0, dropped: 0, purged: 0 };

  /**
   * Creates an empty monitor state.
   *
   * @param options Purge interval and size limit.
   */
  constructor(options: CspMonitorOptions = {}) {
    this.#purgeInterval = options.purgeInterval ?? 30_000;
    this.#maxComponents = options.maxComponents ?? 65_536;
  }

  /** Number of components known. */
  get size(): number {
    return this.#components.size;
  }

  /** The purge interval in milliseconds. */
  get purgeInterval(): number {
    return this.#purgeInterval;
  }

  /** A copy of the counters. */
  get stats(): CspMonitorStats {
    return { ...this.#stats };
  }

  /**
   * Takes one datagram: decodes it with RSPLIB's checks and updates the component.
   *
   * @param bytes The datagram.
   * @param now The monitor's clock in ms. @default {performance.now()}
   * @returns Whether it was taken, the component, or why it was dropped.
   */
  receive(bytes: Uint8Array, now: number = performance.now()): CspReceiveResult {
    this.#stats.datagrams++;
    let report: ComponentStatusReport;
    try {
      report = decodeComponentStatusReport(bytes);
    } catch (e) {
      this.#stats.dropped++;
      if (e instanceof CspDecodeError) return { accepted: false, error: e };
      return { accepted: false, error: e instanceof Error ? e : new Error(String(e)) };
    }
    return this.update(report, now);
  }

  /**
   * Takes a decoded report. A final report (flag F) marks a known component for removal at the
   * next {@linkcode CspMonitor.purge}; for an unknown id it is ignored.
   *
   * @param report The report.
   * @param now The monitor's clock in ms. @default {performance.now()}
   * @returns Whether it was taken, and the component.
   */
  update(report: ComponentStatusReport, now: number = performance.now()): CspReceiveResult {
    // RSPLIB's monitor treats any non-zero flags as final (only F is defined).
    const final = (report.flags ?? 0) !== 0;
    let component = this.#components.get(report.senderId);
    if (component === undefined) {
      if (final) {
        this.#stats.accepted++;
        return { accepted: true };
      }
      if (this.#components.size >= this.#maxComponents) {
        this.#stats.dropped++;
        return {
          accepted: false,
          error: new RangeError(
            `Cannot track component: limit of ${this.#maxComponents} components reached`,
          ),
        };
      }
      component = {
        id: report.senderId,
        lastReport: now,
        senderTimestamp: 0n,
        reportInterval: 0,
        location: "",
        status: "",
        associations: [],
        final: false,
      };
      this.#components.set(report.senderId, component);
    }
    this.#stats.accepted++;
    if (final) {
      component.final = true;
      component.associations = [];
      return { accepted: true, component };
    }
    component.final = false;
    component.lastReport = now;
    component.senderTimestamp = report.senderTimestamp;
    component.reportInterval = report.reportInterval;
    component.location = report.location;
    component.status = report.status;
    if (report.workload === undefined || report.workload < 0) delete component.workload;
    else component.workload = report.workload;
    component.associations = report.associations.map((a) => ({ ...a }));
    return { accepted: true, component };
  }

  /**
   * Drops components that sent a final report, or were silent for longer than the purge
   * interval or 10 of their report intervals, whichever is shorter (RSPLIB's rule).
   *
   * @param now The monitor's clock in ms. @default {performance.now()}
   * @returns The components dropped.
   */
  purge(now: number = performance.now()): CspComponent[] {
    const purged: CspComponent[] = [];
    for (const [id, c] of this.#components) {
      const limit = Math.min(this.#purgeInterval, (10 * c.reportInterval) / 1000);
      if (c.final || c.lastReport + limit < now) {
        this.#components.delete(id);
        purged.push(c);
      }
    }
    this.#stats.purged += purged.length;
    return purged;
  }

  /**
   * The component with this id.
   *
   * @param id The component id.
   * @returns The component, or `undefined`.
   */
  get(id: bigint): CspComponent | undefined {
    return this.#components.get(id);
  }

  /**
   * All components in display order: by group (PRs, PEs, PUs, others), then location, then id.
   *
   * @returns A new array.
   */
  components(): CspComponent[] {
    return [...this.#components.values()].sort(compareForDisplay);
  }

  /**
   * Number of registrars, pool elements and pool users (other groups are not counted).
   *
   * @returns The counts.
   */
  counts(): CspComponentCounts {
    const counts = { registrars: 0, poolElements: 0, poolUsers: 0 };
    for (const c of this.#components.values()) {
      switch (componentGroup(c.id)) {
        case ComponentGroup.Registrar:
          counts.registrars++;
          break;
        case ComponentGroup.PoolElement:
          counts.poolElements++;
          break;
        case ComponentGroup.PoolUser:
          counts.poolUsers++;
          break;
      }
    }
    return counts;
  }
}

function compareForDisplay(a: CspComponent, b: CspComponent): number {
  const ga = componentGroup(a.id), gb = componentGroup(b.id);
  if (ga !== gb) return ga - gb;
  if (a.location !== b.location) return a.location < b.location ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
