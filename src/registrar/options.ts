/**
 * `rspregistrar` options with RSPLIB's names, defaults, units and clamps (inventory §2.2).
 *
 * @module
 */

import { CSP_OPTIONS, LOGGING_OPTIONS, SCTP_OPTIONS } from "../common/common_options.ts";

/**
 * Every option of `rspregistrar`. Times are in milliseconds unless the description says
 * otherwise; out-of-range values are clamped like RSPLIB clamps them.
 */
export const REGISTRAR_OPTIONS = {
  identifier: {
    kind: "integer",
    description: "Registrar identifier (hex 0x... or decimal; default random)",
    valueName: "id",
    min: 0,
    max: 0xffffffff,
    outOfRange: "error",
  },
  asap: {
    kind: "string",
    description: "ASAP endpoint: auto (wildcard, random port 10000-59999) or addr:port[,addr...]",
    valueName: "auto|addr:port[,addr...]",
    default: "auto",
  },
  asapannounce: {
    kind: "string",
    description: "ASAP announce group: auto (239.0.0.50:3863), off/none, or addr:port",
    valueName: "auto|off|addr:port",
    default: "auto",
  },
  enrp: {
    kind: "string",
    description: "ENRP endpoint: auto or addr:port[,addr...]",
    valueName: "auto|addr:port[,addr...]",
    default: "auto",
  },
  enrpannounce: {
    kind: "string",
    description: "ENRP presence group: auto (239.0.0.51:9901), off/none, or addr:port",
    valueName: "auto|off|addr:port",
    default: "auto",
  },
  enrpmulticast: { kind: "string", description: "Deprecated", aliasOf: "enrpannounce" },
  peer: {
    kind: "string",
    description: "Static peer registrar (port 0 = 9901)",
    valueName: "addr:port[,addr...]",
    repeatable: true,
  },
  announcettl: {
    kind: "integer",
    description: "TTL of multicast announces and presences",
    default: 30,
    min: 1,
    max: 255,
  },
  serverannouncecycle: {
    kind: "integer",
    description: "ASAP Server Announce interval (randomised by +-12.5 %)",
    valueName: "ms",
    default: 1000,
    min: 100,
    max: 60000,
  },
  endpointkeepalivetransmissioninterval: {
    kind: "integer",
    description: "Endpoint Keep Alive interval",
    valueName: "ms",
    default: 5000,
    min: 300,
    max: 300000,
  },
  endpointkeepalivetimeoutinterval: {
    kind: "integer",
    description: "Endpoint Keep Alive Ack timeout",
    valueName: "ms",
    default: 5000,
    min: 100,
    max: 60000,
  },
  maxbadpereports: {
    kind: "integer",
    description: "Endpoint Unreachable reports before a PE is removed",
    default: 3,
    min: 1,
  },
  autoclosetimeout: {
    kind: "integer",
    description: "SCTP autoclose of idle associations (seconds)",
    valueName: "s",
    default: 300,
    min: 5,
  },
  minaddressscope: {
    kind: "choice",
    description: "Lowest address scope accepted from PEs",
    choices: ["loopback", "sitelocal", "global"],
    default: "sitelocal",
  },
  maxincrement: {
    kind: "integer",
    description: "PEs per handle resolution whose selection state advances (0 = policy default)",
    default: 0,
    min: 0,
  },
  maxhresitems: {
    kind: "integer",
    description: "PEs per handle resolution when the pool user asks for no number",
    default: 3,
    min: 1,
  },
  maxelementsperhtrequest: {
    kind: "integer",
    description: "PEs per ENRP Handle Table Response",
    default: 128,
    min: 1,
  },
  distancestep: {
    kind: "integer",
    description: "Rounding step of DPF distances",
    valueName: "ms",
    default: 50,
    min: 1,
  },
  peerheartbeatcycle: {
    kind: "integer",
    description: "ENRP Presence interval (randomised by +-12.5 %)",
    valueName: "ms",
    default: 2444,
    min: 1000,
    max: 300000,
  },
  peermaxtimelastheard: {
    kind: "integer",
    description: "Peer silence before a Presence with Reply Required",
    valueName: "ms",
    default: 5000,
    min: 1000,
    max: 300000,
  },
  peermaxtimenoresponse: {
    kind: "integer",
    description: "Wait for that reply before taking the peer over",
    valueName: "ms",
    default: 5000,
    min: 1000,
    max: 60000,
  },
  mentordiscoverytimeout: {
    kind: "integer",
    description: "Startup phase: wait this long for a mentor registrar",
    valueName: "ms",
    default: 5000,
    min: 1000,
    max: 60000,
  },
  takeoverexpiryinterval: {
    kind: "integer",
    description: "Takeover expiry",
    valueName: "ms",
    default: 5000,
    min: 1000,
    max: 60000,
  },
  supporttakeoversuggestion: {
    kind: "flag",
    description: "Support the ENRP takeover-suggestion extension",
  },
  maxhrrate: {
    kind: "number",
    description: "Handle resolutions per second per pool user and pool (-1 = unlimited)",
    valueName: "rate",
    default: -1,
  },
  maxeurate: {
    kind: "number",
    description: "Endpoint Unreachables per second per pool user and pool (-1 = unlimited)",
    valueName: "rate",
    default: -1,
  },
  quiet: { kind: "flag", description: "Do not print the banner" },
  "disable-ipv6": { kind: "flag", description: "Use IPv4 only" },
  daemonpidfile: {
    kind: "string",
    description: "Run in the background and write the process id to this file",
    valueName: "file",
  },
  uptime: {
    kind: "number",
    description: "Failure test: run for an exponentially distributed time with this mean (s)",
    valueName: "s",
    default: 0,
    min: 0,
  },
  downtime: {
    kind: "number",
    description: "Failure test: mean pause before the registrar restarts (s)",
    valueName: "s",
    default: 0,
    min: 0,
  },
  ...CSP_OPTIONS,
  ...SCTP_OPTIONS,
  ...LOGGING_OPTIONS,
} as const;
