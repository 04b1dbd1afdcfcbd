/**
 * Reception of ASAP Server Announces by UDP multicast (internal).
 *
 * @module
 */

import { decodeMessage, Ppid } from "../codec/mod.ts";
import type { Logger } from "../common/mod.ts";
import { openMulticastChannel } from "../transport/multicast.ts";

/** A registrar heard by announce. */
export interface HeardRegistrar {
  /** The registrar's identifier. */
  identifier: number;
  /** Its ASAP addresses. */
  addresses: string[];
  /** Its ASAP SCTP port. */
  port: number;
}

/** A running announce listener. */
export interface AnnounceListener {
  /** Stops listening. */
  close(): Promise<void>;
}

/**
 * Joins the announce group and calls `onAnnounce` for every valid Server Announce. The
 * registrar's address and port come from the SCTP transport parameter when the announce has
 * one, else from the UDP datagram's source (what RSPLIB's registrars send).
 *
 * @returns The listener, or `undefined` (with a warning) when the group cannot be joined.
 */
export async function listenForAnnounces(
  group: { address: string; port: number },
  onAnnounce: (registrar: HeardRegistrar) => void,
  log: Logger,
  loopback: boolean,
): Promise<AnnounceListener | undefined> {
  try {
    const channel = await openMulticastChannel({ group: group.address, port: group.port }, (m) => {
      try {
        const message = decodeMessage(Ppid.ASAP, m.data, { loopback });
        if (message.type !== "serverAnnounce") return;
        const sctp = message.transports?.find((t) => t.protocol === "sctp");
        onAnnounce(
          sctp !== undefined
            ? {
              identifier: message.registrarIdentifier,
              addresses: sctp.addresses,
              port: sctp.port,
            }
            : { identifier: message.registrarIdentifier, addresses: [m.address], port: m.port },
        );
      } catch (e) {
        log.verbose(2, `Ignoring bad announce from ${m.address}: ${e}`);
      }
    });
    log.verbose(1, `Listening for registrar announces on ${group.address}:${group.port}`);
    return { close: () => channel.close() };
  } catch (e) {
    log.warning(
      `Cannot listen for registrar announces on ${group.address}:${group.port}: ${
        (e as Error).message
      }`,
    );
    return undefined;
  }
}
