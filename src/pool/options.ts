/**
 * Settings of the ASAP side of pool elements and pool users (RSPLIB's `rsp_info` and the
 * registrar options of `rsp_initarg`), with RSPLIB's defaults, and their command-line form.
 *
 * @module
 */

import { AddressScope } from "../net/ip_address.ts";
import { type EndpointAddresses, parseEndpointAddresses } from "../net/address_port.ts";
import { WellKnown } from "../codec/mod.ts";

/**
 * The smallest address scope that a pool element registers and that a pool user accepts in a
 * handle resolution. RSPLIB uses site-local and cannot be changed; `loopback` lets programs on
 * one host work over 127.0.0.1 (this project's `-minaddressscope` extension).
 *
 * @example
 * ```ts
 * import type { MinAddressScope } from "./options.ts";
 * const scope: MinAddressScope = "loopback"; // single-host tests on 127.0.0.1
 * console.log(scope);
 * ```
 */
export type MinAddressScope = "loopback" | "sitelocal" | "global";

/**
 * How pool elements and pool users find a registrar and talk to it. Times in milliseconds;
 * defaults are RSPLIB's (inventory §5.3).
 *
 * @example Static registrar, no multicast announces, short timeouts for a test
 * ```ts
 * import type { RegistrarClientOptions } from "./options.ts";
 * const options: RegistrarClientOptions = {
 *   registrars: ["10.0.0.1:3863"],
 *   announce: "off",
 *   connectTimeout: 1000,
 *   responseTimeout: 500,
 * };
 * console.log(options.registrars?.length);
 * ```
 */
export interface RegistrarClientOptions {
  /**
   * Static registrars, each `addr:port` or a multi-homed `addr1,addr2:port` (port 0 or none:
   * 3863), or already parsed.
   * @default {[]}
   */
  registrars?: (string | EndpointAddresses)[];
  /**
   * Where to listen for registrar announces (ASAP Server Announce, UDP multicast): `"auto"`
   * (239.0.0.50:3863), `"off"`, or `addr:port`.
   * @default {"auto"}
   */
  announce?: string;
  /** Lifetime of a registrar learned from an announce. @default {5000} */
  announceTimeout?: number;
  /** How long one round of the registrar hunt waits for an association. @default {7500} */
  connectTimeout?: number;
  /** Rounds of the registrar hunt before "no registrar" is reported. @default {1} */
  connectMaxTrials?: number;
  /**
   * Send timeout of a request (RSPLIB's `-registrarrequesttimeout`). RSPLIB uses it only as the
   * timeout of the blocking send of a request to the registrar (`rserpoolMessageSend()` in
   * `asapinstance.c`: when the socket's send buffer stays full this long, the send fails and
   * the registrar is dropped); its requester waits for the response with `responseTimeout`.
   * This client's sends never block (the transport queues a message the socket cannot take
   * yet), so the setting is accepted for compatibility and has no effect: a request stuck in
   * the send queue ends with `responseTimeout`, which drops the registrar the same way.
   * @default {3000}
   */
  requestTimeout?: number;
  /** How long to wait for a registrar's response. @default {3000} */
  responseTimeout?: number;
  /** Attempts of one request (each on a new registrar association after a timeout). @default {1} */
  requestMaxTrials?: number;
  /** Registrars tried in parallel during the hunt. @default {3} */
  parallelConnects?: number;
  /**
   * Smallest address scope used: for the pool element's registered addresses and the pool
   * elements accepted from the registrar.
   * @default {"sitelocal"}
   */
  minAddressScope?: MinAddressScope;
}

/**
 * {@linkcode RegistrarClientOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import { resolveRegistrarClientOptions, type ResolvedRegistrarClientOptions } from "./options.ts";
 * const r: ResolvedRegistrarClientOptions = resolveRegistrarClientOptions({ announce: "off" });
 * console.log(r.responseTimeout); // 3000
 * ```
 */
export type ResolvedRegistrarClientOptions =
  & Required<Omit<RegistrarClientOptions, "registrars" | "announce">>
  & {
    /** Static registrars. */
    registrars: EndpointAddresses[];
    /** Announce group and port, or `undefined` when announces are off. */
    announce?: { address: string; port: number };
  };

/**
 * RSPLIB's library defaults (inventory §5.3), in milliseconds.
 *
 * @example
 * ```ts
 * import { REGISTRAR_CLIENT_DEFAULTS } from "./options.ts";
 * console.log(REGISTRAR_CLIENT_DEFAULTS.connectTimeout); // 7500
 * ```
 */
export const REGISTRAR_CLIENT_DEFAULTS = {
  announceTimeout: 5000,
  connectTimeout: 7500,
  connectMaxTrials: 1,
  requestTimeout: 3000,
  responseTimeout: 3000,
  requestMaxTrials: 1,
  parallelConnects: 3,
  minAddressScope: "sitelocal",
} as const;

/**
 * The numeric scope ({@linkcode AddressScope}) of a {@linkcode MinAddressScope}.
 *
 * @example
 * ```ts
 * import { scopeValue } from "./options.ts";
 * console.log(scopeValue("loopback")); // 2
 * ```
 *
 * @param scope The scope name.
 * @returns Its RSPLIB scope number.
 */
export function scopeValue(scope: MinAddressScope): number {
  switch (scope) {
    case "loopback":
      return AddressScope.Loopback;
    case "global":
      return AddressScope.Global;
    default:
      return AddressScope.SiteLocal;
  }
}

/**
 * Parses an announce setting: `auto`, `off` (or `none`), or `addr:port` (port default 3863).
 *
 * @example
 * ```ts
 * import { parseAnnounceSetting } from "./options.ts";
 * console.log(parseAnnounceSetting("auto")); // { address: "239.0.0.50", port: 3863 }
 * console.log(parseAnnounceSetting("off")); // undefined
 * ```
 *
 * @param text The setting.
 * @returns Group and port, or `undefined` for `off`.
 * @throws {TypeError} When the text is no address.
 */
export function parseAnnounceSetting(text: string): { address: string; port: number } | undefined {
  const t = text.trim();
  if (t === "off" || t === "none") return undefined;
  if (t === "auto" || t === "") {
    return { address: WellKnown.ASAP_ANNOUNCE_GROUP, port: WellKnown.ASAP_PORT };
  }
  const { addresses, port } = parseEndpointAddresses(t, WellKnown.ASAP_PORT);
  return { address: addresses[0], port: port === 0 ? WellKnown.ASAP_PORT : port };
}

/**
 * Fills in the defaults and parses the address texts.
 *
 * @example
 * ```ts
 * import { resolveRegistrarClientOptions } from "./options.ts";
 * const r = resolveRegistrarClientOptions({ registrars: ["10.0.0.1"], announce: "off" });
 * console.log(r.registrars[0].port, r.announce); // 3863 undefined
 * ```
 *
 * @param options The options.
 * @returns Every setting.
 * @throws {TypeError} For an address that cannot be parsed.
 */
export function resolveRegistrarClientOptions(
  options: RegistrarClientOptions = {},
): ResolvedRegistrarClientOptions {
  const registrars = (options.registrars ?? []).map((r) => {
    const parsed = typeof r === "string" ? parseEndpointAddresses(r, WellKnown.ASAP_PORT) : r;
    return {
      addresses: [...parsed.addresses],
      port: parsed.port === 0 ? WellKnown.ASAP_PORT : parsed.port,
    };
  });
  const positive = (v: number | undefined, d: number) =>
    v === undefined || !Number.isFinite(v) || v <= 0 ? d : v;
  return {
    registrars,
    announce: parseAnnounceSetting(options.announce ?? "auto"),
    announceTimeout: positive(options.announceTimeout, REGISTRAR_CLIENT_DEFAULTS.announceTimeout),
    connectTimeout: positive(options.connectTimeout, REGISTRAR_CLIENT_DEFAULTS.connectTimeout),
    connectMaxTrials: Math.max(1, Math.floor(options.connectMaxTrials ?? 1)),
    requestTimeout: positive(options.requestTimeout, REGISTRAR_CLIENT_DEFAULTS.requestTimeout),
    responseTimeout: positive(options.responseTimeout, REGISTRAR_CLIENT_DEFAULTS.responseTimeout),
    requestMaxTrials: Math.max(1, Math.floor(options.requestMaxTrials ?? 1)),
    parallelConnects: Math.max(1, Math.floor(options.parallelConnects ?? 3)),
    minAddressScope: options.minAddressScope ?? REGISTRAR_CLIENT_DEFAULTS.minAddressScope,
  };
}

/**
 * Values of RSPLIB's registrar options (§2.1) as the option parser returns them.
 *
 * @example
 * ```ts
 * import { parseOptions, REGISTRAR_CLIENT_OPTIONS } from "../common/mod.ts";
 * import type { RegistrarCommandLineValues } from "./options.ts";
 * const values: RegistrarCommandLineValues = parseOptions(
 *   ["-registrar=10.0.0.1:3863"],
 *   REGISTRAR_CLIENT_OPTIONS,
 *   { program: "demo" },
 * ).options;
 * console.log(values.registrar); // [ "10.0.0.1:3863" ]
 * ```
 */
export interface RegistrarCommandLineValues {
  /** `-registrar=` entries. */
  registrar: string[];
  /** `-asapannounce=`. */
  asapannounce: string;
  /** `-registrarannouncetimeout=` (ms). */
  registrarannouncetimeout: number;
  /** `-registrarconnecttimeout=` (ms). */
  registrarconnecttimeout: number;
  /** `-registrarconnectmaxtrials=`. */
  registrarconnectmaxtrials: number;
  /** `-registrarrequesttimeout=` (ms). */
  registrarrequesttimeout: number;
  /** `-registrarresponsetimeout=` (ms). */
  registrarresponsetimeout: number;
  /** `-registrarrequestmaxtrials=`. */
  registrarrequestmaxtrials: number;
}

/**
 * Converts the parsed §2.1 command-line options (`-registrar=`, `-asapannounce=`,
 * `-registrar*timeout=`, `-registrar*maxtrials=`) into {@linkcode RegistrarClientOptions}.
 *
 * @example
 * ```ts
 * import { parseOptions, REGISTRAR_CLIENT_OPTIONS } from "../common/mod.ts";
 * import { registrarClientOptionsFrom } from "./options.ts";
 * const { options } = parseOptions(
 *   ["-registrar=10.0.0.1:3863", "-asapannounce=off", "-registrarconnecttimeout=1000"],
 *   REGISTRAR_CLIENT_OPTIONS,
 *   { program: "demo" },
 * );
 * console.log(registrarClientOptionsFrom(options).connectTimeout); // 1000
 * ```
 *
 * @param parsed Values of {@linkcode REGISTRAR_CLIENT_OPTIONS}.
 * @param minAddressScope This project's `-minaddressscope` value.
 * @returns The options.
 */
export function registrarClientOptionsFrom(
  parsed: RegistrarCommandLineValues,
  minAddressScope?: MinAddressScope,
): RegistrarClientOptions {
  return {
    registrars: parsed.registrar,
    announce: parsed.asapannounce,
    announceTimeout: parsed.registrarannouncetimeout,
    connectTimeout: parsed.registrarconnecttimeout,
    connectMaxTrials: parsed.registrarconnectmaxtrials,
    requestTimeout: parsed.registrarrequesttimeout,
    responseTimeout: parsed.registrarresponsetimeout,
    requestMaxTrials: parsed.registrarrequestmaxtrials,
    minAddressScope,
  };
}

/**
 * Options of this project that RSPLIB's programs do not have, shared by `rspserver` and
 * `rspterminal`.
 *
 * @example
 * ```ts
 * import { parseOptions } from "../common/mod.ts";
 * import { POOL_EXTENSION_OPTIONS } from "./options.ts";
 * const { options } = parseOptions(["-minaddressscope=loopback"], POOL_EXTENSION_OPTIONS, {
 *   program: "demo",
 * });
 * console.log(options.minaddressscope); // loopback
 * ```
 */
export const POOL_EXTENSION_OPTIONS = {
  minaddressscope: {
    kind: "choice",
    description: "Smallest address scope to register and accept (extension; RSPLIB: sitelocal)",
    choices: ["loopback", "sitelocal", "global"],
    default: "sitelocal",
  },
  sessionrtoinitial: {
    kind: "integer",
    description: "Session associations: initial RTO (extension; RSPLIB: 2000)",
    valueName: "ms",
    min: 1,
  },
  sessionrtomin: {
    kind: "integer",
    description: "Session associations: minimum RTO (extension; RSPLIB: 1000)",
    valueName: "ms",
    min: 1,
  },
  sessionrtomax: {
    kind: "integer",
    description: "Session associations: maximum RTO (extension; RSPLIB: 5000)",
    valueName: "ms",
    min: 1,
  },
  sessionassocmaxrxt: {
    kind: "integer",
    description: "Session associations: retransmissions before loss (extension; RSPLIB: 8)",
    min: 1,
  },
  sessionpathmaxrxt: {
    kind: "integer",
    description: "Session associations: retransmissions per path (extension; RSPLIB: 3)",
    min: 1,
  },
  sessionhbinterval: {
    kind: "integer",
    description: "Session associations: heartbeat interval (extension; RSPLIB: 15000)",
    valueName: "ms",
    min: 1,
  },
} as const;

/**
 * Values of the `-session*` options of {@linkcode POOL_EXTENSION_OPTIONS}.
 *
 * @example
 * ```ts
 * import { sessionTuningFrom, type SessionTimerValues } from "./options.ts";
 * const values: SessionTimerValues = { sessionrtomin: 100, sessionrtomax: 200 };
 * console.log(sessionTuningFrom(values)); // { rtoMin: 100, rtoMax: 200 }
 * ```
 */
export interface SessionTimerValues {
  /** `-sessionrtoinitial=` (ms). */
  sessionrtoinitial?: number;
  /** `-sessionrtomin=` (ms). */
  sessionrtomin?: number;
  /** `-sessionrtomax=` (ms). */
  sessionrtomax?: number;
  /** `-sessionassocmaxrxt=`. */
  sessionassocmaxrxt?: number;
  /** `-sessionpathmaxrxt=`. */
  sessionpathmaxrxt?: number;
  /** `-sessionhbinterval=` (ms). */
  sessionhbinterval?: number;
}

/**
 * The session SCTP parameters given by the `-session*` options (RSPLIB's
 * `rsp_update_session_parameters()` as command-line options); absent ones keep RSPLIB's
 * defaults.
 *
 * @example
 * ```ts
 * import { sessionTuningFrom } from "./options.ts";
 * console.log(sessionTuningFrom({ sessionrtomin: 100 })); // { rtoMin: 100 }
 * ```
 *
 * @param values Parsed option values.
 * @returns The SCTP parameters that were given.
 */
export function sessionTuningFrom(values: SessionTimerValues): {
  rtoInitial?: number;
  rtoMin?: number;
  rtoMax?: number;
  associationMaxRetransmissions?: number;
  pathMaxRetransmissions?: number;
  heartbeatInterval?: number;
} {
  const t: Record<string, number> = {};
  const set = (k: string, v: number | undefined) => {
    if (v !== undefined) t[k] = v;
  };
  set("rtoInitial", values.sessionrtoinitial);
  set("rtoMin", values.sessionrtomin);
  set("rtoMax", values.sessionrtomax);
  set("associationMaxRetransmissions", values.sessionassocmaxrxt);
  set("pathMaxRetransmissions", values.sessionpathmaxrxt);
  set("heartbeatInterval", values.sessionhbinterval);
  return t;
}
