/**
 * The `rspregistrar` program: options, banner, background mode, failure-test mode
 * (`-uptime`/`-downtime`), clean shutdown on SIGINT/SIGTERM.
 *
 * @module
 */

import { loggerFromOptions } from "../common/common_options.ts";
import { daemonize, removeDaemonPidFile } from "../common/daemon.ts";
import { parseCommandLine, type ParsedOptions } from "../common/options.ts";
import { formatAddressPort } from "../net/address_port.ts";
import { AddressScope } from "../net/ip_address.ts";
import { openMulticastChannel } from "../transport/multicast.ts";
import { openSctpTransport } from "../transport/select.ts";
import type { SctpTransport } from "../transport/types.ts";
import { type RegistrarConfig, registrarConfigFromOptions } from "./config.ts";
import { REGISTRAR_OPTIONS } from "./options.ts";
import { randomExp, signalled } from "../common/program.ts";
import { Registrar } from "./registrar.ts";
import { ComponentGroup, componentId, componentLocation, createCspReporter } from "../csp/mod.ts";

type Options = ParsedOptions<typeof REGISTRAR_OPTIONS>;

const SUMMARY = "RSerPool registrar (ASAP and ENRP server), compatible with RSPLIB's rspregistrar.";

function scopeName(scope: number): string {
  return scope <= AddressScope.Loopback
    ? "loopback"
    : scope <= AddressScope.SiteLocal
    ? "site-local"
    : "global";
}

function banner(
  r: Registrar,
  config: RegistrarConfig,
  o: Options,
  transport: SctpTransport,
): string {
  const ms = (v: number) => `${v}ms`;
  const announce = config.asapAnnounce === undefined
    ? "(none)"
    : `{${config.asapAnnounce.address}}:${config.asapAnnounce.port}`;
  const enrpAnnounce = config.enrpAnnounce === undefined
    ? "(none)"
    : `{${config.enrpAnnounce.address}}:${config.enrpAnnounce.port}`;
  const lines = [
    "The rsplib Registrar - Version 1.00",
    "===================================",
    "",
    `Server ID:              $${r.identifier.toString(16).padStart(8, "0")}`,
    `ASAP Address:           ${r.describeAsapEndpoint()}`,
    `ENRP Address:           (ENRP not active in this version)`,
    `ASAP Announce Address:  ${announce}`,
    `ENRP Announce Address:  ${enrpAnnounce}`,
    `ASAP/ENRP Announce TTL: ${config.announceTtl}`,
  ];
  if (o.cspserver !== undefined && (o.cspinterval ?? 0) > 0) {
    lines.push(`CSP Report Address:     ${o.cspserver}`);
    lines.push(`CSP Report Interval:    ${o.cspinterval}ms`);
  }
  lines.push(
    `Auto-Close Timeout:     ${config.autoCloseTimeout}s`,
    `Min Address Scope:      ${scopeName(config.minAddressScope)}`,
    `Daemon Mode:            ${o.daemonpidfile ?? "off"}`,
    `SCTP:                   ${transport.description}`,
    "",
    "ASAP Parameters:",
    `   Distance Step:                               ${ms(config.distanceStep)}`,
    `   Max Bad PE Reports:                          ${config.maxBadPeReports}`,
    `   Server Announce Cycle:                       ${ms(config.serverAnnounceCycle)}`,
    `   Endpoint Monitoring SCTP Heartbeat Interval: 1000ms`,
    `   Endpoint Keep Alive Transmission Interval:   ${
      ms(config.endpointKeepAliveTransmissionInterval)
    }`,
    `   Endpoint Keep Alive Timeout Interval:        ${
      ms(config.endpointKeepAliveTimeoutInterval)
    }`,
    `   Max Increment:                               ${config.maxIncrement}`,
    `   Max Handle Resolution Items (MaxHResItems):  ${config.maxHandleResolutionItems}`,
    "ENRP Parameters:",
    `   Peer Heartbeat Cylce:                        ${ms(config.peerHeartbeatCycle)}`,
    `   Peer Max Time Last Heard:                    ${ms(config.peerMaxTimeLastHeard)}`,
    `   Peer Max Time No Response:                   ${ms(config.peerMaxTimeNoResponse)}`,
    `   Max Elements per Handle Table Request:       ${config.maxElementsPerHandleTableRequest}`,
    `   Mentor Hunt Timeout:                         ${ms(config.mentorDiscoveryTimeout)}`,
    `   Takeover Expiry Interval:                    ${ms(config.takeoverExpiryInterval)}`,
    `   Support for Takeover Suggestion:             ${
      config.supportTakeoverSuggestion ? "on" : "off"
    }`,
    "Security Parameters:",
    `   Max Handle Resolution Rate:                  ${rate(config.maxHandleResolutionRate)}`,
    `   Max Endpoint Unreachable Rate:               ${rate(config.maxEndpointUnreachableRate)}`,
    "",
  );
  return lines.join("\n");
}

function rate(r: number): string {
  return r > 0 ? `${r.toFixed(2)} requests/s` : "unlimited";
}

/**
 * Runs `rspregistrar` with the given command-line arguments until SIGINT/SIGTERM (or the
 * failure-test timer).
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const { options: o } = parseCommandLine(args, REGISTRAR_OPTIONS, {
    program: "rspregistrar",
    summary: SUMMARY,
  });
  let config: RegistrarConfig;
  try {
    config = registrarConfigFromOptions(o);
  } catch (e) {
    console.error(`rspregistrar: ${(e as Error).message}`);
    return 1;
  }
  if (o.daemonpidfile !== undefined) {
    await daemonize(o.daemonpidfile, args.filter((a) => !/^--?daemonpidfile=/.test(a)));
  }
  const log = loggerFromOptions(o, "rspregistrar");
  let transport: SctpTransport;
  try {
    transport = await openSctpTransport(o.sctp, { usrsctp: { udpPort: o.sctpudpport } });
  } catch (e) {
    console.error(`rspregistrar: ${(e as Error).message}`);
    log.close();
    return 1;
  }
  const signal = signalled();
  let stop = false;
  void signal.promise.then(() => stop = true);
  const uptime = o.uptime > 0.000001 ? o.uptime : 0;
  const downtime = Math.max(o.downtime, 0.000001);
  if (uptime > 0 && !o.quiet) {
    console.log(`Uptime   = ${uptime.toFixed(3)} [s]`);
    console.log(`Downtime = ${downtime.toFixed(3)} [s]`);
  }
  try {
    for (let run = 1; !stop; run++) {
      let runFor = 0;
      if (uptime > 0) {
        runFor = randomExp(uptime);
        console.log(`\nRun #${run}: Running registrar for ${runFor.toFixed(3)}s ...\n`);
      }
      let registrar: Registrar;
      try {
        registrar = await Registrar.start(config, {
          transport,
          logger: log,
          openAnnounceSender: (a) =>
            openMulticastChannel({
              group: a.group,
              port: a.port,
              ttl: a.ttl,
              receive: false,
              sendPort: a.localPort,
              loopback: true,
            }),
        });
      } catch (e) {
        console.error(`rspregistrar: ${(e as Error).message}${describeCause(e)}`);
        return 1;
      }
      log.note(`Using ${transport.description}; ASAP endpoint ${registrar.describeAsapEndpoint()}`);
      let reporter;
      try {
        reporter = createCspReporter(o, {
          registrar: true,
          identifier: componentId(ComponentGroup.Registrar, registrar.identifier),
          logger: log,
          status: () => registrarStatus(registrar),
        });
      } catch (e) {
        console.error(`rspregistrar: ${(e as Error).message}`);
        await registrar.close();
        return 1;
      }
      if (!o.quiet && run === 1) console.log(banner(registrar, config, o, transport));
      const timer = runFor > 0
        ? new Promise<string>((r) => setTimeout(() => r("timer"), runFor * 1000))
        : undefined;
      const why = await Promise.race(timer ? [signal.promise, timer] : [signal.promise]);
      if (why === "timer") console.log("Shutdown by timer!");
      await reporter?.close();
      await registrar.close();
      if (uptime === 0 || stop) break;
      const pause = randomExp(downtime);
      console.log(`\nWaiting for ${pause.toFixed(3)}s ...`);
      await Promise.race([signal.promise, new Promise((r) => setTimeout(r, pause * 1000))]);
    }
  } finally {
    signal.dispose();
    removeDaemonPidFile();
    log.close();
  }
  if (!o.quiet) console.log("\nTerminated!");
  return 0;
}

/** RSPLIB's registrar status: "<PEs>[<owned>] PEs in <n> Pool(s), <n> Peer(s)". */
function registrarStatus(r: Registrar) {
  const s = r.statistics();
  const peers = s.peers;
  return {
    statusText: `${s.poolElements}[${s.ownedPoolElements}] PEs in ${s.pools} Pool${
      s.pools === 1 ? "" : "s"
    }, ${peers} Peer${peers === 1 ? "" : "s"}`,
    location: componentLocation({ addresses: r.asapAddresses(), port: r.asapPort }),
    associations: [],
  };
}

function describeCause(e: unknown): string {
  const cause = (e as Error)?.cause;
  return cause instanceof Error ? `: ${cause.message}` : "";
}

/** Formats an endpoint for log lines. */
export function describeEndpoint(addresses: string[], port: number): string {
  return addresses.map((a) => formatAddressPort(a, port)).join(", ");
}
