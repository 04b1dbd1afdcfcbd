/**
 * The registrar's configuration: the parsed `rspregistrar` options turned into typed settings
 * (milliseconds, scopes, endpoints).
 *
 * @module
 */

import { WellKnown } from "../codec/constants.ts";
import type { ParsedOptions } from "../common/options.ts";
import { AddressScope } from "../net/ip_address.ts";
import { type AddressPort, parseAddressPort, parseEndpointAddresses } from "../net/address_port.ts";
import type { REGISTRAR_OPTIONS } from "./options.ts";

/** Where an SCTP endpoint binds: `port` 0 picks RSPLIB's random port 10000-59999. */
export interface EndpointSetting {
  /** Local addresses; empty = wildcard. */
  addresses: string[];
  /** Local port; 0 = random in 10000-59999 ("auto"). */
  port: number;
}

/** Settings of a {@linkcode import("./registrar.ts").Registrar}. */
export interface RegistrarConfig {
  /** Registrar identifier; 0 = random. */
  identifier: number;
  /** ASAP endpoint. */
  asap: EndpointSetting;
  /** ASAP announce group, or `undefined` for no announces. */
  asapAnnounce: AddressPort | undefined;
  /** ENRP endpoint (used by the ENRP part). */
  enrp: EndpointSetting;
  /** ENRP presence group, or `undefined`. */
  enrpAnnounce: AddressPort | undefined;
  /** Static peers (ENRP). */
  peers: { addresses: string[]; port: number }[];
  /** TTL of multicast announces. */
  announceTtl: number;
  /** Server Announce cycle in ms (randomised by ±12.5 %). */
  serverAnnounceCycle: number;
  /** Endpoint Keep Alive interval in ms. */
  endpointKeepAliveTransmissionInterval: number;
  /** Endpoint Keep Alive Ack timeout in ms. */
  endpointKeepAliveTimeoutInterval: number;
  /** Endpoint Unreachable reports before removal. */
  maxBadPeReports: number;
  /** SCTP autoclose in seconds. */
  autoCloseTimeout: number;
  /** Lowest accepted address scope ({@linkcode AddressScope}). */
  minAddressScope: number;
  /** RSPLIB's MaxIncrement (0 = policy default). */
  maxIncrement: number;
  /** PEs per handle resolution without an items option. */
  maxHandleResolutionItems: number;
  /** PEs per Handle Table Response. */
  maxElementsPerHandleTableRequest: number;
  /** DPF distance rounding step in ms. */
  distanceStep: number;
  /** ENRP Presence cycle in ms. */
  peerHeartbeatCycle: number;
  /** ENRP peer silence before a reply-required Presence, ms. */
  peerMaxTimeLastHeard: number;
  /** ENRP wait for that reply, ms. */
  peerMaxTimeNoResponse: number;
  /** Startup phase length without a mentor, ms. */
  mentorDiscoveryTimeout: number;
  /** Takeover expiry, ms. */
  takeoverExpiryInterval: number;
  /** ENRP takeover suggestion extension. */
  supportTakeoverSuggestion: boolean;
  /** Handle resolutions per second per pool user and pool (≤ 0: unlimited). */
  maxHandleResolutionRate: number;
  /** Endpoint Unreachables per second per pool user and pool (≤ 0: unlimited). */
  maxEndpointUnreachableRate: number;
  /** Use IPv6 for wildcard binds. */
  ipv6: boolean;
}

/** RSPLIB's defaults. */
export const DEFAULT_REGISTRAR_CONFIG: Readonly<RegistrarConfig> = {
  identifier: 0,
  asap: { addresses: [], port: 0 },
  asapAnnounce: { address: WellKnown.ASAP_ANNOUNCE_GROUP, port: WellKnown.ASAP_PORT },
  enrp: { addresses: [], port: 0 },
  enrpAnnounce: { address: WellKnown.ENRP_ANNOUNCE_GROUP, port: WellKnown.ENRP_PORT },
  peers: [],
  announceTtl: 30,
  serverAnnounceCycle: 1000,
  endpointKeepAliveTransmissionInterval: 5000,
  endpointKeepAliveTimeoutInterval: 5000,
  maxBadPeReports: 3,
  autoCloseTimeout: 300,
  minAddressScope: AddressScope.SiteLocal,
  maxIncrement: 0,
  maxHandleResolutionItems: 3,
  maxElementsPerHandleTableRequest: 128,
  distanceStep: 50,
  peerHeartbeatCycle: 2444,
  peerMaxTimeLastHeard: 5000,
  peerMaxTimeNoResponse: 5000,
  mentorDiscoveryTimeout: 5000,
  takeoverExpiryInterval: 5000,
  supportTakeoverSuggestion: false,
  maxHandleResolutionRate: -1,
  maxEndpointUnreachableRate: -1,
  ipv6: true,
};

const SCOPES: Record<string, number> = {
  loopback: AddressScope.Loopback,
  sitelocal: AddressScope.SiteLocal,
  global: AddressScope.Global,
};

function endpointSetting(text: string, what: string): EndpointSetting {
  if (text.startsWith("auto")) return { addresses: [], port: 0 };
  try {
    const e = parseEndpointAddresses(text, 0);
    return { addresses: e.addresses, port: e.port };
  } catch (e) {
    throw new TypeError(`Bad ${what} address "${text}": ${(e as Error).message}`);
  }
}

function announceSetting(text: string, group: string, port: number): AddressPort | undefined {
  const t = text.toLowerCase();
  if (t === "off" || t === "none") return undefined;
  if (t === "auto") return { address: group, port };
  return parseAddressPort(text, port);
}

/**
 * Builds the configuration from parsed `rspregistrar` options.
 *
 * @example
 * ```ts
 * import { parseOptions } from "../common/options.ts";
 * import { REGISTRAR_OPTIONS } from "./options.ts";
 * import { registrarConfigFromOptions } from "./config.ts";
 * const { options } = parseOptions(
 *   ["-asap=10.0.0.1:3863", "-asapannounce=off", "-minaddressscope=loopback"],
 *   REGISTRAR_OPTIONS,
 *   { program: "rspregistrar" },
 * );
 * const config = registrarConfigFromOptions(options);
 * console.log(config.asap, config.asapAnnounce); // { addresses: [ "10.0.0.1" ], port: 3863 } undefined
 * ```
 *
 * @param o Parsed options.
 * @returns The configuration.
 * @throws {TypeError} For an address that cannot be parsed.
 */
export function registrarConfigFromOptions(
  o: ParsedOptions<typeof REGISTRAR_OPTIONS>,
): RegistrarConfig {
  return {
    identifier: o.identifier ?? 0,
    asap: endpointSetting(o.asap, "ASAP"),
    asapAnnounce: announceSetting(
      o.asapannounce,
      WellKnown.ASAP_ANNOUNCE_GROUP,
      WellKnown.ASAP_PORT,
    ),
    enrp: endpointSetting(o.enrp, "ENRP"),
    enrpAnnounce: announceSetting(
      o.enrpannounce,
      WellKnown.ENRP_ANNOUNCE_GROUP,
      WellKnown.ENRP_PORT,
    ),
    peers: o.peer.map((p) => {
      const e = parseEndpointAddresses(p, WellKnown.ENRP_PORT);
      return { addresses: e.addresses, port: e.port === 0 ? WellKnown.ENRP_PORT : e.port };
    }),
    announceTtl: o.announcettl,
    serverAnnounceCycle: o.serverannouncecycle,
    endpointKeepAliveTransmissionInterval: o.endpointkeepalivetransmissioninterval,
    endpointKeepAliveTimeoutInterval: o.endpointkeepalivetimeoutinterval,
    maxBadPeReports: o.maxbadpereports,
    autoCloseTimeout: o.autoclosetimeout,
    minAddressScope: SCOPES[o.minaddressscope],
    maxIncrement: o.maxincrement,
    maxHandleResolutionItems: o.maxhresitems,
    maxElementsPerHandleTableRequest: Math.min(o.maxelementsperhtrequest, 1024),
    distanceStep: o.distancestep,
    peerHeartbeatCycle: o.peerheartbeatcycle,
    peerMaxTimeLastHeard: o.peermaxtimelastheard,
    peerMaxTimeNoResponse: o.peermaxtimenoresponse,
    mentorDiscoveryTimeout: o.mentordiscoverytimeout,
    takeoverExpiryInterval: o.takeoverexpiryinterval,
    supportTakeoverSuggestion: o.supporttakeoversuggestion,
    maxHandleResolutionRate: o.maxhrrate,
    maxEndpointUnreachableRate: o.maxeurate,
    ipv6: !o["disable-ipv6"],
  };
}
