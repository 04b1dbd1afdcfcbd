/**
 * Session notifications (RSPLIB's `union rserpool_notification`): session change on the pool
 * element side, failover necessary/complete on the pool user side, and shutdown.
 *
 * @module
 */

/**
 * A session was added (association up) or removed (association gone) at a pool element.
 *
 * @example
 * ```ts
 * import type { SessionChangeNotification } from "./notifications.ts";
 * const n: SessionChangeNotification = { type: "sessionChange", state: "add", session: 1 };
 * console.log(n.state);
 * ```
 */
export interface SessionChangeNotification {
  /** Notification kind. */
  type: "sessionChange";
  /** Added or removed. */
  state: "add" | "remove";
  /** The session's number (1, 2, ...). */
  session: number;
}

/**
 * A pool user's session lost its pool element (`necessary`) or reached a new one
 * (`complete`).
 *
 * @example
 * ```ts
 * import type { FailoverNotification } from "./notifications.ts";
 * const n: FailoverNotification = { type: "failover", state: "complete", session: 1, hasCookie: true };
 * console.log(n.hasCookie);
 * ```
 */
export interface FailoverNotification {
  /** Notification kind. */
  type: "failover";
  /** Failover needed, or done. */
  state: "necessary" | "complete";
  /** The session's number. */
  session: number;
  /** Whether a cookie is stored (it is sent to the new pool element). */
  hasCookie: boolean;
}

/**
 * The peer started a graceful shutdown of the session's association.
 *
 * @example
 * ```ts
 * import type { ShutdownNotification } from "./notifications.ts";
 * const n: ShutdownNotification = { type: "shutdown", session: 2 };
 * console.log(n.session);
 * ```
 */
export interface ShutdownNotification {
  /** Notification kind. */
  type: "shutdown";
  /** The session's number. */
  session: number;
}

/**
 * Any session notification.
 *
 * @example
 * ```ts
 * import type { SessionNotification } from "./notifications.ts";
 * const n: SessionNotification = { type: "failover", state: "necessary", session: 1, hasCookie: false };
 * console.log(n.type);
 * ```
 */
export type SessionNotification =
  | SessionChangeNotification
  | FailoverNotification
  | ShutdownNotification;

/**
 * Formats a notification exactly as RSPLIB's `rsp_print_notification` does (what
 * `rspterminal` prints after `Notification: `).
 *
 * @example
 * ```ts
 * import { formatNotification } from "./notifications.ts";
 * console.log(formatNotification({ type: "failover", state: "complete", session: 1, hasCookie: true }));
 * // RSERPOOL_FAILOVER for session 1, state=RSERPOOL_FAILOVER_COMPLETE, cookie=yes
 * ```
 *
 * @param notification The notification.
 * @returns RSPLIB's text.
 */
export function formatNotification(notification: SessionNotification): string {
  switch (notification.type) {
    case "sessionChange":
      return `RSERPOOL_SESSION_CHANGE for session ${notification.session}, state=${
        notification.state === "add" ? "RSERPOOL_SESSION_ADD" : "RSERPOOL_SESSION_REMOVE"
      }`;
    case "failover":
      return `RSERPOOL_FAILOVER for session ${notification.session}, state=${
        notification.state === "necessary"
          ? "RSERPOOL_FAILOVER_NECESSARY"
          : "RSERPOOL_FAILOVER_COMPLETE"
      }, cookie=${notification.hasCookie ? "yes" : "no"}`;
    case "shutdown":
      return `RSERPOOL_SHUTDOWN_EVENT for session ${notification.session}`;
  }
}
