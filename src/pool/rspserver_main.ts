/**
 * The `rspserver` program (RSPLIB's rspserver.cc): a pool element offering one service (Echo by
 * default, Discard, Daytime, CharGen; more plug in through the service registry), with RSPLIB's
 * options and output.
 *
 * @module
 */

import { formatPoolHandle, isAdaptivePolicy, Limits, type PoolPolicy } from "../codec/mod.ts";
import {
  CSP_OPTIONS,
  loggerFromOptions,
  LOGGING_OPTIONS,
  type OptionSpecs,
  parseOptions,
  REGISTRAR_CLIENT_OPTIONS,
  SCTP_OPTIONS,
} from "../common/mod.ts";
import { HelpRequested, OptionError } from "../common/options.ts";
import { daemonize, removeDaemonPidFile } from "../common/daemon.ts";
import { ComponentGroup, componentId, createCspReporter, CspPpid } from "../csp/mod.ts";
import { parseEndpointAddresses } from "../net/address_port.ts";
import { openSctpTransport } from "../transport/select.ts";
import type { SctpTransport } from "../transport/types.ts";
import {
  type MinAddressScope,
  POOL_EXTENSION_OPTIONS,
  registrarClientOptionsFrom,
  sessionTuningFrom,
} from "./options.ts";
import { parsePolicySpec } from "./policy_spec.ts";
import { PoolElement } from "./pool_element.ts";
import { serve } from "./server.ts";
import { findService, type Service, serviceFlags } from "./services/mod.ts";
import {
  delay,
  randomExp,
  type Signalled,
  signalled,
  writeErr,
  writeOut,
} from "../common/program.ts";
import { hex } from "./_format.ts";

const GENERAL_OPTIONS = {
  poolhandle: {
    kind: "string",
    description: "Pool handle (default: per service)",
    valueName: "PH",
  },
  identifier: {
    kind: "integer",
    description: "Fixed PE identifier (hex 0x... or decimal; default random)",
    valueName: "id",
    min: 1,
    max: 0xffffffff,
    outOfRange: "error",
  },
  local: {
    kind: "string",
    description: "Local addresses (default: all)",
    valueName: "addr:port[,addr...]",
  },
  policy: {
    kind: "string",
    description: "Pool member selection policy, e.g. LeastUsedDegradation:0.1",
    valueName: "spec",
    default: "RoundRobin",
  },
  rereginterval: {
    kind: "integer",
    description: "Re-registration interval (registration life = 3x)",
    valueName: "ms",
    default: 30000,
    min: 10,
  },
  runtime: {
    kind: "integer",
    description: "Stop after this time (0 = never)",
    valueName: "ms",
    default: 0,
    min: 0,
  },
  uptime: {
    kind: "number",
    description: "Failure test: run for exp. distributed time with this mean",
    valueName: "s",
    default: 0,
    min: 0,
  },
  downtime: {
    kind: "number",
    description: "Failure test: pause for exp. distributed time with this mean",
    valueName: "s",
    default: 0,
    min: 0,
  },
  quiet: { kind: "flag", description: "Do not print the banner" },
  daemonpidfile: {
    kind: "string",
    description: "Run in the background, write its process id here",
    valueName: "file",
  },
} as const;

function serviceFlagSpecs(): OptionSpecs {
  const specs: OptionSpecs = {};
  for (const flag of serviceFlags()) {
    specs[flag] = { kind: "flag", description: `Service: ${findService(flag)!.name}` };
  }
  return specs;
}

function allSpecs(): OptionSpecs {
  const specs: OptionSpecs = {
    ...serviceFlagSpecs(),
    ...GENERAL_OPTIONS,
    ...REGISTRAR_CLIENT_OPTIONS,
    ...POOL_EXTENSION_OPTIONS,
    ...CSP_OPTIONS,
    ...SCTP_OPTIONS,
    ...LOGGING_OPTIONS,
  };
  for (const flag of serviceFlags()) Object.assign(specs, findService(flag)!.options ?? {});
  return specs;
}

// deno-lint-ignore no-explicit-any
type Values = Record<string, any>;

function pct(value: number | undefined): string {
  return `${(100 * (value ?? 0) / Limits.MAX_UINT32).toFixed(3)}%`;
}

function banner(
  service: Service,
  poolHandle: string,
  o: Values,
  policy: PoolPolicy,
  maxSessions: number | undefined,
  runtime: number,
  extra: string[],
): string {
  const local = o.local === undefined ? "all" : (() => {
    const { addresses, port } = parseEndpointAddresses(o.local);
    return addresses.map((a, i) => (i === 0 && port ? `${a}:${port}` : a)).join(", ");
  })();
  const lines = [
    service.title,
    "=".repeat(service.title.length),
    "",
    "General Parameters:",
    `   Pool Handle             = ${poolHandle}`,
    `   Reregistration Interval = ${(o.rereginterval / 1000).toFixed(3)}s`,
    `   Local Addresses         = { ${local} }`,
    `   Runtime Limit           = ${runtime > 0 ? `${(runtime / 1000).toFixed(3)} [s]` : "off"}`,
  ];
  if (maxSessions !== undefined && Number.isFinite(maxSessions)) {
    lines.push(`   Max Threads             = ${maxSessions}`);
  }
  lines.push(
    "   Policy Settings",
    `      Policy Type          = ${policy.type}`,
    `      Load Degradation     = ${pct(policy.loadDegradation)}`,
    `      Load DPF             = ${pct(policy.loadDpf)}`,
    `      Weight               = ${policy.weight ?? policy.priority ?? 0}`,
    `      Weight DPF           = ${pct(policy.weightDpf)}`,
    ...extra,
  );
  return lines.join("\n") + "\n";
}

/**
 * Runs `rspserver` until SIGINT/SIGTERM or the runtime limit.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  const specs = allSpecs();
  const prefixes = serviceFlags().map((f) => findService(f)!.optionPrefix).filter((p) =>
    p !== undefined
  ) as string[];
  let parsed;
  try {
    parsed = parseOptions(args, specs, {
      program: "rspserver",
      summary: "RSerPool pool element with the Echo, Discard, Daytime and CharGen services, " +
        "compatible with RSPLIB's rspserver. Unknown options are ignored with a warning " +
        "(unknown options of a service, e.g. -chargenxyz, are errors).",
      unknown: (name) => prefixes.some((p) => name.startsWith(p)) ? "error" : "warn",
    });
  } catch (e) {
    if (e instanceof HelpRequested) {
      writeOut(e.help);
      return 0;
    }
    if (e instanceof OptionError) {
      writeErr(`rspserver: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  for (const w of parsed.warnings) writeErr(`rspserver: ${w}\n`);
  const o = parsed.options as Values;
  const flags = new Set(serviceFlags());
  const lastService = [...parsed.order].reverse().find((n) => flags.has(n)) ?? "echo";
  const service = findService(lastService)!;
  let policy: PoolPolicy;
  try {
    policy = o.policy === undefined || !parsed.given.has("policy")
      ? (service.defaultPolicy?.(o) ?? parsePolicySpec("RoundRobin"))
      : parsePolicySpec(o.policy);
  } catch (e) {
    writeErr(`rspserver: ${(e as Error).message}\n`);
    return 1;
  }
  let localAddresses: string[] | undefined;
  let localPort: number | undefined;
  if (o.local !== undefined) {
    try {
      const parsedLocal = parseEndpointAddresses(o.local, 0);
      localAddresses = parsedLocal.addresses;
      localPort = parsedLocal.port || undefined;
    } catch (e) {
      writeErr(`rspserver: Bad local address ${o.local}: ${(e as Error).message}\n`);
      return 1;
    }
  }
  const registrarOptions = registrarClientOptionsFrom(
    o as Parameters<typeof registrarClientOptionsFrom>[0],
    o.minaddressscope as MinAddressScope,
  );
  try {
    for (const r of registrarOptions.registrars ?? []) parseEndpointAddresses(String(r));
  } catch (e) {
    writeErr(`rspserver: Bad registrar address: ${(e as Error).message}\n`);
    return 1;
  }
  if (o.daemonpidfile !== undefined) {
    await daemonize(o.daemonpidfile, args.filter((a) => !/^--?daemonpidfile=/.test(a)));
  }
  const log = loggerFromOptions(o as Parameters<typeof loggerFromOptions>[0], "rspserver");
  let transport: SctpTransport;
  try {
    transport = await openSctpTransport(o.sctp, { usrsctp: { udpPort: o.sctpudpport } });
  } catch (e) {
    writeErr(`rspserver: ${(e as Error).message}\n`);
    log.close();
    return 1;
  }
  log.note(`Using ${transport.description}`);
  const signal = signalled();
  const uptime = o.uptime > 0.000001 ? o.uptime : 0;
  let code = 0;
  try {
    for (;;) {
      const runtime = uptime > 0 ? Math.round(1000 * randomExp(uptime)) : o.runtime;
      code = await runOnce(service, o, policy, localAddresses, localPort, registrarOptions, {
        transport,
        log,
        runtime,
        uptime,
        signal,
      });
      if (code !== 0 || uptime === 0 || signal.received) break;
      const pause = randomExp(o.downtime);
      writeOut(`\nWaiting for ${pause.toFixed(3)}s ...\n`);
      await delay(pause * 1000, signal.promise);
      if (signal.received) break;
    }
  } finally {
    signal.dispose();
    removeDaemonPidFile();
    log.close();
  }
  return code;
}

async function runOnce(
  service: Service,
  o: Values,
  policy: PoolPolicy,
  localAddresses: string[] | undefined,
  localPort: number | undefined,
  registrarOptions: ReturnType<typeof registrarClientOptionsFrom>,
  env: {
    transport: SctpTransport;
    log: ReturnType<typeof loggerFromOptions>;
    runtime: number;
    uptime: number;
    signal: Signalled;
  },
): Promise<number> {
  const { transport, log, runtime, signal } = env;
  const poolHandle: string = o.poolhandle ?? service.defaultPoolHandle;
  if (!o.quiet) {
    if (env.uptime > 0) {
      writeOut(
        `Uptime   = ${env.uptime.toFixed(3)} [s]\nDowntime = ${o.downtime.toFixed(3)} [s]\n`,
      );
    }
    writeOut(`Starting service ${service.name}...\n`);
  }
  const serviceOptions: Record<string, unknown> = {};
  for (const name of Object.keys(service.options ?? {})) serviceOptions[name] = o[name];
  let pe: PoolElement | undefined;
  const instance = await service.create({
    options: serviceOptions,
    print: (line) => writeOut(line + "\n"),
    log,
    get identifier() {
      return pe?.identifier ?? 0;
    },
  });
  if (!o.quiet) {
    writeOut(
      banner(
        service,
        poolHandle,
        o,
        policy,
        instance.serveOptions?.maxSessions,
        runtime,
        instance.parameters?.() ?? [],
      ),
    );
  }
  try {
    pe = await PoolElement.create({
      ...registrarOptions,
      transport,
      poolHandle,
      identifier: o.identifier,
      policy,
      localAddresses,
      port: localPort,
      reregistrationInterval: o.rereginterval,
      daemonMode: o.daemonpidfile !== undefined,
      sctp: sessionTuningFrom(o),
      logger: log,
    });
  } catch (e) {
    writeErr(`ERROR: Failed to register PE to pool ${poolHandle}: ${(e as Error).message}\n`);
    await instance.close?.();
    return 1;
  }
  if (!o.quiet) {
    writeOut(`Registration:\n   Identifier              = $${hex(pe.identifier)}\n\n`);
  }
  const server = serve(pe, instance.handler, {
    ...instance.serveOptions,
    onError: (error, session) => log.error(`Session ${session.id}: ${error}`),
  });
  const reporter = createCspReporter(o, {
    identifier: componentId(ComponentGroup.PoolElement, pe.identifier),
    logger: log,
    status: () => {
      const sessions = pe!.sessions.size;
      const registrar = pe!.asap.registrar;
      return {
        statusText: `${sessions} Session${sessions === 1 ? "" : "s"}`,
        workload: isAdaptivePolicy(policy.type) ? pe!.load : undefined,
        associations: registrar === undefined ? [] : [{
          receiverId: componentId(ComponentGroup.Registrar, registrar.identifier),
          duration: BigInt(Date.now() - registrar.connectedAt) * 1000n,
          ppid: CspPpid.ASAP,
        }],
      };
    },
  });
  log.note(
    `PE $${hex(pe.identifier)} serving pool ${formatPoolHandle(pe.poolHandle)} on port ${pe.port}`,
  );
  const stops: Promise<unknown>[] = [signal.promise];
  if (runtime > 0) stops.push(delay(runtime, signal.promise).then(() => "runtime"));
  const why = await Promise.race(stops);
  if (why === "runtime" && !signal.received) writeOut("Auto-stop reached!\n");
  // Deregister first, so that pool users do not fail over to this PE again.
  await pe.close();
  await server.close();
  await instance.close?.();
  await reporter?.close();
  writeErr("\nTerminated!\n");
  return 0;
}
