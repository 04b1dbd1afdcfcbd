/**
 * The console view of a Component Status Protocol monitor: one frame with the same text and
 * ANSI sequences as RSPLIB's `cspmonitor`, drawn over the previous one (cursor home, each line
 * cleared to its end, the rest of the screen cleared after the last line).
 *
 * ```text
 * 24-Nov-2026 01:38:36.0382: Current Component Status -- 1 PRs, 1 PEs, 0 PUs
 *
 * PR $00001111 [node1: 10.0.0.1:3863]  U=00:10:00 l=0.2s A=0 "1[1] PEs in 1 Pool, 0 Peers"
 * PE $12345678 [node2: 10.0.0.2:41234] U=00:09:58 l=0.4s A=1 L= 50% "1 Session"
 *    -> PR $00001111 ASAP/SCTP         duration=0:09:58
 * ```
 *
 * @module
 */

import { ComponentGroup, CspPacket, CspPpid, IpProtocol, UNKNOWN_DURATION } from "./constants.ts";
import { componentGroup, describeComponentId } from "./identifier.ts";
import type { CspComponent, CspMonitor } from "./monitor.ts";

/**
 * Options of {@linkcode renderCspMonitor}; the defaults are RSPLIB's.
 *
 * @example A compact frame with fewer pool elements
 * ```ts
 * import { CspMonitor, type CspRenderOptions, renderCspMonitor } from "./mod.ts";
 * const options: CspRenderOptions = { compact: true, maxPoolElements: 10, now: performance.now() };
 * const frame = renderCspMonitor(new CspMonitor(), options);
 * console.log(frame.includes("Current Component Status")); // true
 * ```
 */
export interface CspRenderOptions {
  /** Leave out the association lines (`-compact`). @default {false} */
  compact?: boolean;
  /** Most registrars shown (`-maxpr`). @default {6} */
  maxRegistrars?: number;
  /** Most pool elements shown (`-maxpe`). @default {42} */
  maxPoolElements?: number;
  /** Most pool users shown (`-maxpu`). @default {24} */
  maxPoolUsers?: number;
  /** Longer locations are cut to this many characters, ending in `...` (`-maxlocationsize`). @default {72} */
  maxLocationSize?: number;
  /** The monitor's clock in ms, for the time since the last report. @default {performance.now()} */
  now?: number;
  /** Wall-clock time of the header's time stamp (ms since the epoch). @default {Date.now()} */
  time?: number;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

const PPID_NAMES: ReadonlyMap<number, string> = new Map([
  [CspPpid.Data, "Data"],
  [CspPpid.ENRP, "ENRP"],
  [CspPpid.ASAP, "ASAP"],
  [CspPpid.CalcApp, "CalcApp"],
  [CspPpid.FractalGenerator, "FractGen"],
  [CspPpid.Scripting, "Scripting"],
  [CspPpid.PingPong, "PingPong"],
]);

const PROTOCOL_NAMES: ReadonlyMap<number, string> = new Map([
  [IpProtocol.SCTP, "SCTP"],
  [IpProtocol.TCP, "TCP"],
  [IpProtocol.UDP, "UDP"],
]);

/** Colour (ANSI foreground) of a group: PRs red, PEs blue, PUs green. */
const GROUP_COLORS: ReadonlyMap<number, number> = new Map([
  [ComponentGroup.Registrar, 31],
  [ComponentGroup.PoolElement, 34],
  [ComponentGroup.PoolUser, 32],
]);

const GROUP_NAMES: ReadonlyMap<number, string> = new Map([
  [ComponentGroup.Registrar, "PRs"],
  [ComponentGroup.PoolElement, "PEs"],
  [ComponentGroup.PoolUser, "PUs"],
]);

/**
 * Draws one frame of the monitor's console view, to be written to a terminal as is. It does not
 * purge; call {@linkcode CspMonitor.purge} first, as the monitor does every update interval.
 * Control characters in received texts are shown as `?` (a report cannot move the cursor).
 *
 * @example
 * ```ts
 * import {
 *   ComponentGroup,
 *   componentId,
 *   CspMonitor,
 *   CspPpid,
 *   renderCspMonitor,
 * } from "./mod.ts";
 * const monitor = new CspMonitor();
 * monitor.update({
 *   senderId: componentId(ComponentGroup.PoolElement, 0x12345678),
 *   senderTimestamp: 3_723_000_000n,
 *   reportInterval: 1_000_000,
 *   location: "node2: 10.0.0.2",
 *   status: "1 Session",
 *   workload: 0.5,
 *   associations: [{
 *     receiverId: componentId(ComponentGroup.Registrar, 0xabcdef01),
 *     duration: 5_000_000n,
 *     ppid: CspPpid.ASAP,
 *   }],
 * }, 0);
 * const frame = renderCspMonitor(monitor, { now: 1_600 });
 * // deno-lint-ignore no-control-regex
 * const text = frame.replace(/\x1b\[[0-9;]*[a-zA-Z]/g, "");
 * console.log(text.split("\n")[4]); // PE $12345678 [node2: 10.0.0.2] U=01:02:03 l=1.6s A=1 L= 50% "1 Session"
 * console.log(text.split("\n")[5]); //    -> PR $abcdef01 ASAP/SCTP         duration=0:00:05
 * ```
 *
 * @param monitor The monitor state.
 * @param options Display limits and mode.
 * @returns The frame, with ANSI control sequences.
 */
export function renderCspMonitor(monitor: CspMonitor, options: CspRenderOptions = {}): string {
  const now = options.now ?? performance.now();
  const limits = new Map<number, number>([
    [ComponentGroup.Registrar, options.maxRegistrars ?? 6],
    [ComponentGroup.PoolElement, options.maxPoolElements ?? 42],
    [ComponentGroup.PoolUser, options.maxPoolUsers ?? 24],
  ]);
  const maxLocation = Math.max(
    0,
    Math.min(options.maxLocationSize ?? 72, CspPacket.LOCATION_SIZE - 1),
  );
  const counts = monitor.counts();
  const totals = new Map<number, number>([
    [ComponentGroup.Registrar, counts.registrars],
    [ComponentGroup.PoolElement, counts.poolElements],
    [ComponentGroup.PoolUser, counts.poolUsers],
  ]);

  let out = "\x1b[;H" + timeStamp(options.time ?? Date.now()) +
    `Current Component Status -- \x1b[31;1m${counts.registrars} PRs\x1b[0m, ` +
    `\x1b[34;1m${counts.poolElements} PEs\x1b[0m, \x1b[32;1m${counts.poolUsers} PUs\x1b[0m` +
    "\x1b[0K\n\x1b[0K\n\x1b[0K\x1b[;H\n";

  // First pass: which components are shown, and their labels (for the column alignment).
  type Entry = { component: CspComponent; label: string } | { hidden: number; group: number };
  const entries: Entry[] = [];
  const shown = new Map<number, number>();
  let labelWidth = 0;
  for (const component of monitor.components()) {
    const group = componentGroup(component.id);
    const limit = limits.get(group);
    if (limit !== undefined) {
      const n = (shown.get(group) ?? 0) + 1;
      shown.set(group, n);
      if (n > limit) {
        if (n === limit + 1) entries.push({ hidden: (totals.get(group) ?? 0) - limit, group });
        continue;
      }
    }
    const label = `\n${describeComponentId(component.id)} [${
      cutLocation(printable(component.location), maxLocation)
    }]`;
    labelWidth = Math.max(labelWidth, label.length);
    entries.push({ component, label });
  }

  for (const entry of entries) {
    if ("hidden" in entry) {
      const color = GROUP_COLORS.get(entry.group) ?? 0;
      out += `\n\x1b[${color};47m(${entry.hidden} further ${
        GROUP_NAMES.get(entry.group)
      } have been hidden)\x1b[0m`;
      continue;
    }
    const { component: c, label } = entry;
    const color = GROUP_COLORS.get(componentGroup(c.id)) ?? 0;
    const space = " ".repeat(labelWidth - label.length);
    const since = (Math.trunc(Math.abs(c.lastReport - now)) / 1000).toFixed(1);
    out += `\x1b[${color};1m${label}\x1b[0m\x1b[${color}m ${space}`;
    out += `U=${uptime(c.senderTimestamp)} l=${since}s A=${c.associations.length}` +
      `${workload(c.workload)} "${printable(c.status)}"\x1b[0K`;
    if (!options.compact) {
      for (const a of c.associations) {
        const protocol = `${ppidName(a.ppid)}/${protocolName(a.protocolId ?? IpProtocol.SCTP)}`;
        out += `\n   -> ${describeComponentId(a.receiverId)} ${protocol.padEnd(16)}`;
        const d = a.duration ?? UNKNOWN_DURATION;
        if (d !== UNKNOWN_DURATION) out += `  duration=${hoursMinutesSeconds(d)}`;
        out += "\x1b[0K";
      }
    }
    out += "\x1b[0m\x1b[0K";
  }
  return out + "\x1b[0J";
}

/** `dd-Mon-yyyy hh:mm:ss.ffff: ` in local time, as RSPLIB's `printTimeStamp()`. */
function timeStamp(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const fraction = Math.floor((((ms % 1000) + 1000) % 1000) * 10);
  return `${p(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(fraction, 4)}: `;
}

/** Uptime: `hh:mm:ss` below 100 hours, else `ddd` days and hours, `??:??:??` beyond reason. */
function uptime(us: bigint): string {
  const h = us / 3_600_000_000n;
  if (h < 100n) {
    const m = (us / 60_000_000n) % 60n, s = (us / 1_000_000n) % 60n;
    return `${pad2(h)}:${pad2(m)}:${pad2(s)}`;
  }
  if (h / 24n < 15000n) return `${String(h / 24n).padStart(3)}d ${pad2(h % 24n)}h`;
  return "??:??:??";
}

function hoursMinutesSeconds(us: bigint): string {
  const h = us / 3_600_000_000n, m = (us / 60_000_000n) % 60n, s = (us / 1_000_000n) % 60n;
  return `${h}:${pad2(m)}:${pad2(s)}`;
}

function pad2(n: bigint): string {
  return String(n).padStart(2, "0");
}

function workload(load: number | undefined): string {
  if (load === undefined || load < 0) return "";
  const percent = String(roundHalfEven(100 * load)).padStart(3);
  return load < 0.9 ? ` L=${percent}%` : ` L=\x1b[7m${percent}%\x1b[27m`;
}

function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function ppidName(ppid: number): string {
  return PPID_NAMES.get(ppid) ?? `$${ppid.toString(16).padStart(8, "0")}`;
}

function protocolName(protocol: number): string {
  return PROTOCOL_NAMES.get(protocol) ?? `$${protocol.toString(16).padStart(4, "0")}`;
}

/** Cuts a location longer than `max` characters; the last three become `...` (if max >= 3). */
function cutLocation(location: string, max: number): string {
  if (location.length <= max) return location;
  return max >= 3 ? location.slice(0, max - 3) + "..." : location.slice(0, max);
}

/** Replaces control characters (C0, DEL, C1) so that received text cannot steer the terminal. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, "?");
}
