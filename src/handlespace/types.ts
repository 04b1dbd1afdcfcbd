/**
 * Public types of the handlespace: pool element entries, timers, options.
 *
 * @module
 */

import type { PoolElementParameter, PoolPolicy, TransportParameter } from "../codec/mod.ts";
import type { RandomSource } from "./random.ts";

/**
 * A pool handle as the handlespace accepts it: bytes, or text (encoded as UTF-8).
 *
 * @example
 * ```ts
 * import type { PoolHandleLike } from "./types.ts";
 * const a: PoolHandleLike = "EchoPool";
 * const b: PoolHandleLike = new TextEncoder().encode("EchoPool"); // the same pool
 * console.log(typeof a, b.length);
 * ```
 */
export type PoolHandleLike = Uint8Array | string;

/**
 * Kinds of the one timer each pool element may have, with RSPLIB's timer codes.
 *
 * @example
 * ```ts
 * import { TimerKind } from "./types.ts";
 * console.log(TimerKind.Expiry); // 1000
 * ```
 */
export const TimerKind = {
  /** No timer running. */
  None: 0,
  /** The entry expires (PEs owned by other registrars; pool user cache entries). */
  Expiry: 1000,
  /** Time to send the next Endpoint Keep Alive (home registrar). */
  KeepAliveTransmission: 1001,
  /** The Endpoint Keep Alive Ack is overdue (home registrar). */
  KeepAliveTimeout: 1002,
} as const;

/**
 * A timer kind code ({@linkcode TimerKind}).
 *
 * @example
 * ```ts
 * import { TimerKind, type TimerKindCode } from "./types.ts";
 * const kind: TimerKindCode = TimerKind.KeepAliveTimeout;
 * console.log(kind); // 1002
 * ```
 */
export type TimerKindCode = typeof TimerKind[keyof typeof TimerKind];

/**
 * How the degradation policies count selections.
 *
 * - `"rfc5356"` (default): each selection that advances the PE (MaxIncrement) adds the load
 *   degradation once; the randomized degradation policies degrade too.
 * - `"rsplib"`: RSPLIB 3.4.4's behaviour: one increment on insertion or update, two per
 *   selection; the randomized degradation policies never degrade.
 *
 * @example
 * ```ts
 * import type { DegradationMode } from "./types.ts";
 * const mode: DegradationMode = "rsplib";
 * console.log(mode);
 * ```
 */
export type DegradationMode = "rfc5356" | "rsplib";

/**
 * A pool element as the handlespace keeps it: its registration data and its selection state.
 * Entries are live views: do not keep them after deregistration. The transport and policy
 * objects are the ones given at registration (not copied): do not change them afterwards.
 *
 * @example
 * ```ts
 * import { Handlespace } from "./mod.ts";
 * const hs = new Handlespace();
 * const entry = hs.registerPoolElement("EchoPool", {
 *   identifier: 1,
 *   homeRegistrarIdentifier: 7,
 *   registrationLife: 30000,
 *   userTransport: { protocol: "sctp", port: 7, addresses: ["192.0.2.1"] },
 *   policy: { type: "RoundRobin" },
 * });
 * console.log(entry.identifier, entry.homeRegistrarIdentifier, entry.selectionCounter); // 1 7 0
 * ```
 */
export interface PoolElementEntry {
  /** The pool's handle (shared; do not modify). */
  readonly poolHandle: Uint8Array;
  /** The 32-bit PE identifier. */
  readonly identifier: number;
  /** Identifier of the PE's home registrar (0: none). */
  readonly homeRegistrarIdentifier: number;
  /** Registration life in milliseconds. */
  readonly registrationLife: number;
  /** Where pool users reach the PE. */
  readonly userTransport: TransportParameter;
  /** The PE's ASAP transport (known to registrars), if any. */
  readonly registratorTransport: TransportParameter | undefined;
  /** The policy settings as registered (with the distance option applied). */
  readonly policy: PoolPolicy;
  /** The registrar's connection number, a 32-bit integer (for example an SCTP association id). */
  readonly connection: number | undefined;
  /** Position in the pool's rotation (RSPLIB's 32-bit sequence number). */
  readonly seqNumber: number;
  /** Weighted round robin: current round. */
  readonly roundCounter: number;
  /** Weighted round robin: picks left in the current round. */
  readonly virtualCounter: number;
  /** Load added by selections since the last update (degradation policies), 0xffffffff = 100 %. */
  readonly degradation: number;
  /** How often the PE was selected. */
  readonly selectionCounter: number;
  /** Endpoint Unreachable reports counted so far. */
  readonly unreachabilityReports: number;
  /** Time of the last registration or update (handlespace clock, milliseconds). */
  readonly lastUpdate: number;
  /**
   * The PE's timer ({@linkcode TimerKind}): the running one, or the one that fired last
   * (see `timerRunning`); `TimerKind.None` if never set or cleared.
   */
  readonly timerKind: TimerKindCode;
  /** When the timer is (or was) due (handlespace clock, milliseconds). */
  readonly timerDue: number;
  /** Whether the timer is running (set and neither fired nor cleared). */
  readonly timerRunning: boolean;
  /** Marked by {@linkcode import("./handlespace.ts").Handlespace.markOwnedBy} and not updated since. */
  readonly marked: boolean;
  /** `true` when the last registration created the entry, `false` after an update. */
  readonly isNew: boolean;
  /** `false` once the entry left the handlespace. */
  readonly registered: boolean;
  /**
   * Builds a Pool Element parameter from the entry (for a Handle Resolution Response or an
   * ENRP Handle Update).
   *
   * @returns A new parameter object; transports and policy are shared with the entry.
   */
  toParameter(): PoolElementParameter;
}

/**
 * Options of {@linkcode import("./handlespace.ts").Handlespace}.
 *
 * @example
 * ```ts
 * import { Handlespace, seededRandom, type HandlespaceOptions } from "./mod.ts";
 * let now = 0;
 * const options: HandlespaceOptions = {
 *   homeRegistrarIdentifier: 0x12345678,
 *   clock: () => now,
 *   random: seededRandom(1),
 * };
 * const hs = new Handlespace(options);
 * console.log(hs.homeRegistrarIdentifier.toString(16)); // 12345678
 * ```
 */
export interface HandlespaceOptions {
  /**
   * The owner whose PEs count as "own" (the registrar's identifier; 0 for a pool user cache).
   *
   * @default {0}
   */
  homeRegistrarIdentifier?: number;
  /**
   * Clock in milliseconds, used for time stamps and timers.
   *
   * @default {() => performance.now()}
   */
  clock?: () => number;
  /**
   * Randomness of the random policies.
   *
   * @default {Math.random}
   */
  random?: RandomSource;
  /**
   * Endpoint Unreachable reports after which {@linkcode import("./handlespace.ts").Handlespace.reportUnreachable}
   * removes a PE (RSPLIB's MaxBadPEReports).
   *
   * @default {3}
   */
  maxBadPeReports?: number;
  /**
   * Most PEs one handle resolution returns.
   *
   * @default {128}
   */
  maxHandleResolutionItems?: number;
  /**
   * How degradation policies count selections ({@linkcode DegradationMode}).
   *
   * @default {"rfc5356"}
   */
  degradation?: DegradationMode;
}

/**
 * Options of {@linkcode import("./handlespace.ts").Handlespace.registerPoolElement}: values a
 * registrar knows better than the PE's own parameter.
 *
 * @example
 * ```ts
 * import type { RegistrationOptions } from "./types.ts";
 * const options: RegistrationOptions = { homeRegistrarIdentifier: 7, connection: 42 };
 * console.log(options.connection);
 * ```
 */
export interface RegistrationOptions {
  /** Home registrar to record instead of the parameter's. */
  homeRegistrarIdentifier?: number;
  /** ASAP transport to record instead of the parameter's. */
  registratorTransport?: TransportParameter;
  /**
   * The registrar's connection number for this PE, a 32-bit integer such as an SCTP association
   * id (replaces the previous one).
   */
  connection?: number;
  /** Distance in milliseconds to record instead of the policy's (DPF policies). */
  distance?: number;
  /**
   * Time of the registration.
   *
   * @default {the handlespace clock}
   */
  now?: number;
}

/**
 * Options of {@linkcode import("./handlespace.ts").Handlespace.handleResolution}.
 *
 * @example
 * ```ts
 * import type { HandleResolutionOptions } from "./types.ts";
 * const options: HandleResolutionOptions = { maxIncrement: 1_000_000_000 }; // a PU cache
 * console.log(options.maxIncrement);
 * ```
 */
export interface HandleResolutionOptions {
  /**
   * How many of the selected PEs advance their selection state (rotation, degradation);
   * 0 means the policy's default (1, or 0 for Random, WeightedRandom, WeightedRandomDPF).
   *
   * @default {0}
   */
  maxIncrement?: number;
  /** Array to fill (its length is set) instead of allocating a new one. */
  into?: PoolElementEntry[];
}

/**
 * Where a Handle Table Response stopped: the last pool element sent.
 *
 * @example
 * ```ts
 * import type { HandleTableCursor } from "./types.ts";
 * const cursor: HandleTableCursor = {
 *   poolHandle: new TextEncoder().encode("EchoPool"),
 *   identifier: 0x1234,
 * };
 * console.log(cursor.identifier);
 * ```
 */
export interface HandleTableCursor {
  /** Pool handle of the last PE sent. */
  poolHandle: Uint8Array;
  /** Identifier of the last PE sent. */
  identifier: number;
}

/**
 * Options of {@linkcode import("./handlespace.ts").Handlespace.handleTable}.
 *
 * @example
 * ```ts
 * import type { HandleTableOptions } from "./types.ts";
 * const firstPage: HandleTableOptions = { owner: 0x1234, maxElements: 128 };
 * console.log(firstPage.maxElements);
 * ```
 */
export interface HandleTableOptions {
  /**
   * Only PEs owned by this registrar, ordered by (identifier, pool handle), as for a Handle
   * Table Request with the own-children-only flag. Without it: all PEs ordered by
   * (pool handle, identifier).
   */
  owner?: number;
  /** Continue after this PE (from the previous page). */
  after?: HandleTableCursor;
  /**
   * Most PEs in the page (at most 1024, like RSPLIB).
   *
   * @default {128}
   */
  maxElements?: number;
}

/**
 * Result of {@linkcode import("./handlespace.ts").Handlespace.reportUnreachable}.
 *
 * @example
 * ```ts
 * import type { UnreachableReport } from "./types.ts";
 * function onReport(report: UnreachableReport | undefined): void {
 *   if (report?.removed) console.log("remove", report.entry.identifier);
 * }
 * onReport(undefined);
 * ```
 */
export interface UnreachableReport {
  /** The reported PE (no longer registered when `removed`). */
  entry: PoolElementEntry;
  /** `true` when the report reached the threshold and the PE was removed. */
  removed: boolean;
}
