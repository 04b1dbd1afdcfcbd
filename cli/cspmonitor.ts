/**
 * `cspmonitor`: the Component Status Protocol monitor, with RSPLIB's options. Shows every
 * registrar, pool element and pool user that sends status reports to it, redrawn in place.
 *
 * ```sh
 * deno run -A cli/cspmonitor.ts -localaddress=127.0.0.1:2960 -updateinterval=500 -compact
 * ```
 *
 * @module
 */

import { loggerFromOptions, LOGGING_OPTIONS, parseCommandLine } from "../src/common/mod.ts";
import { runCspMonitor } from "../src/csp/mod.ts";
import { parseAddressPort } from "../src/net/address_port.ts";

const PROGRAM = "cspmonitor";

const OPTIONS = {
  localaddress: {
    kind: "string",
    description: "Listen on this UDP address (IPv6 in brackets; port 0 picks a free one)",
    valueName: "address:port",
    default: "[::]:2960",
  },
  updateinterval: {
    kind: "integer",
    description: "Redraw the view every this many milliseconds",
    valueName: "ms",
    default: 1000,
    min: 100,
  },
  purgeinterval: {
    kind: "integer",
    description: "Drop components silent for this long (or 10 of their report intervals)",
    valueName: "ms",
    default: 30000,
    min: 1000,
  },
  compact: { kind: "flag", description: "Compact view: no association lines" },
  full: { kind: "flag", description: "Full view with association lines (default)" },
  maxpr: {
    kind: "integer",
    description: "Show at most this many registrars",
    valueName: "PRs",
    default: 6,
    min: 0,
  },
  maxpe: {
    kind: "integer",
    description: "Show at most this many pool elements",
    valueName: "PEs",
    default: 42,
    min: 0,
  },
  maxpu: {
    kind: "integer",
    description: "Show at most this many pool users",
    valueName: "PUs",
    default: 24,
    min: 0,
  },
  maxlocationsize: {
    kind: "integer",
    description: "Cut locations to this many characters",
    valueName: "characters",
    default: 72,
    min: 0,
    max: 127,
  },
  ...LOGGING_OPTIONS,
} as const;

async function main(): Promise<number> {
  const { options, order } = parseCommandLine(Deno.args, OPTIONS, {
    program: PROGRAM,
    summary: "Component Status Protocol monitor: shows the status reports of RSerPool components.",
  });
  let local: { hostname: string; port: number };
  try {
    const { address, port } = parseAddressPort(options.localaddress, 0, { hostnames: true });
    local = { hostname: address, port };
  } catch {
    console.error(
      `${PROGRAM}: Invalid value "${options.localaddress}" for option -localaddress: ` +
        "expected <address:port>",
    );
    return 1;
  }
  // -compact and -full: the last one given wins.
  const compact = order.filter((name) => name === "compact" || name === "full").at(-1) ===
    "compact";
  const logger = loggerFromOptions(options, PROGRAM);
  const controller = new AbortController();
  const stop = () => controller.abort();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const signal of signals) Deno.addSignalListener(signal, stop);
  try {
    await runCspMonitor({
      hostname: options.localaddress.startsWith("[::]") ? undefined : local.hostname,
      port: local.port,
      updateInterval: options.updateinterval,
      purgeInterval: options.purgeinterval,
      compact,
      maxRegistrars: options.maxpr,
      maxPoolElements: options.maxpe,
      maxPoolUsers: options.maxpu,
      maxLocationSize: options.maxlocationsize,
      signal: controller.signal,
      logger,
    });
  } catch (e) {
    console.error(
      `${PROGRAM}: Cannot listen on ${options.localaddress}: ${e instanceof Error ? e.message : e}`,
    );
    return 1;
  } finally {
    for (const signal of signals) Deno.removeSignalListener(signal, stop);
    logger.close();
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
