/**
 * Registrar load generator: many "PE" associations register PEs, then the program measures
 * (1) re-registrations per second and (2) handle resolutions per second from "PU" associations
 * that one registrar (ours or RSPLIB's `rspregistrar`) sustains. Every response is checked (no
 * reject, the right PE or pool, PEs returned), Endpoint Keep Alives are acknowledged, and every
 * phase is bounded in time and in count.
 *
 * ```sh
 * # inside the UML guest, against a registrar on 10.9.0.2:3863
 * deno run -A scripts/registrar_load.ts --registrar=10.9.0.2:3863
 * # on the host over usrsctp, against `rspregistrar -minaddressscope=loopback -asap=127.0.0.1:P`
 * deno run -A scripts/registrar_load.ts --registrar=127.0.0.1:P --duration=2
 * ```
 *
 * Output: a readable summary on standard output, then one line of JSON (the last line; also
 * written to `--json=FILE`). Exit status 0 when every response was correct, 1 when some were
 * not (or an association was lost, or a response timed out), 2 for a usage error.
 *
 * @module
 */

import {
  AsapType,
  decodeMessage,
  encodeMessage,
  MessageFlag,
  ParameterType,
  Ppid,
  type RSerPoolMessage,
} from "../src/codec/mod.ts";
import { poolHandle as makePoolHandle } from "../src/codec/pool_handle.ts";
import type { PolicyName } from "../src/codec/policy_types.ts";
import { HelpRequested, OptionError, parseOptions } from "../src/common/options.ts";
import { openSctpTransport } from "../src/transport/select.ts";
import type {
  SctpBackendChoice,
  SctpEndpoint,
  SctpEvent,
  SctpSendOptions,
  SctpTransport,
} from "../src/transport/types.ts";

/** Command-line options of the load generator. */
export const LOAD_OPTIONS = {
  registrar: {
    kind: "string",
    description: "Registrar ASAP endpoint address:port",
    valueName: "addr:port",
    default: "10.9.0.2:3863",
  },
  local: {
    kind: "string",
    description: "Local address to bind and to register as the PEs' user transport " +
      "(default: the registrar's address)",
    valueName: "addr",
  },
  pes: { kind: "integer", description: "PEs in total", default: 1000, min: 1, max: 100000 },
  "pe-assocs": {
    kind: "integer",
    description: "PE associations (the PEs are spread over them)",
    default: 50,
    min: 1,
    max: 1000,
  },
  pools: { kind: "integer", description: "Pools (PE i goes to pool i mod pools)", default: 10 },
  pus: { kind: "integer", description: "PU associations", default: 50, min: 0, max: 1000 },
  "reg-window": {
    kind: "integer",
    description: "Outstanding registrations per PE association",
    default: 4,
    min: 1,
    max: 1000,
  },
  "hr-window": {
    kind: "integer",
    description: "Outstanding handle resolutions per PU association",
    default: 4,
    min: 1,
    max: 1000,
  },
  phases: {
    kind: "string",
    description: "Measured phases, comma-separated: reg (re-registrations), hr (handle " +
      "resolutions)",
    default: "reg,hr",
  },
  duration: {
    kind: "number",
    description: "Measured seconds per phase",
    valueName: "s",
    default: 10,
    min: 0.1,
    max: 600,
    outOfRange: "error",
  },
  warmup: {
    kind: "number",
    description: "Unmeasured seconds before each phase's measurement",
    valueName: "s",
    default: 1,
    min: 0,
    max: 60,
    outOfRange: "error",
  },
  count: {
    kind: "integer",
    description: "At most this many requests per phase (warm-up included)",
    default: 10_000_000,
    min: 1,
    max: 100_000_000,
    outOfRange: "error",
  },
  items: {
    kind: "integer",
    description: "Handle Resolution items option (0: not sent, registrar's MaxHResItems applies)",
    default: 0,
    min: 0,
    max: 128,
    outOfRange: "error",
  },
  policy: { kind: "string", description: "Pool policy of the PEs", default: "RoundRobin" },
  reglife: {
    kind: "integer",
    description: "Registration life of the PEs in ms",
    valueName: "ms",
    default: 300000,
  },
  "response-timeout": {
    kind: "integer",
    description: "A response later than this counts as an error and ends the run",
    valueName: "ms",
    default: 10000,
    min: 100,
    max: 120000,
  },
  "wait-registrar": {
    kind: "number",
    description: "Retry the first connection for up to this long (registrar still starting)",
    valueName: "s",
    default: 10,
    min: 0,
    max: 120,
  },
  timeout: {
    kind: "number",
    description: "Hard wall-clock limit of the whole run",
    valueName: "s",
    default: 300,
    min: 1,
    max: 3600,
    outOfRange: "error",
  },
  "registrar-pid": {
    kind: "integer",
    description: "Process id of the registrar: report its CPU time per phase (/proc)",
  },
  decode: {
    kind: "choice",
    description: "Response check: fast (TLV walk) or full (decodeMessage of every response)",
    choices: ["fast", "full"],
    default: "fast",
  },
  sctp: {
    kind: "choice",
    description: "SCTP backend (default: RSERPOOL_SCTP, else auto)",
    choices: ["auto", "kernel", "usrsctp", "usrsctp-raw", "usrsctp-udp"],
  },
  label: { kind: "string", description: "Label copied into the JSON result" },
  json: {
    kind: "string",
    description: "Also write the JSON result to this file",
    valueName: "file",
  },
  quiet: { kind: "flag", description: "Only the JSON line on standard output" },
} as const;

/** Settings of one load run ({@linkcode runLoad}). */
export interface LoadSettings {
  /** Registrar address. */
  registrarAddress: string;
  /** Registrar ASAP port. */
  registrarPort: number;
  /** Local address (bind and PE user transport). */
  localAddress: string;
  /** PEs in total. */
  pes: number;
  /** PE associations. */
  peAssociations: number;
  /** Pools. */
  pools: number;
  /** PU associations. */
  pus: number;
  /** Outstanding registrations per PE association. */
  registrationWindow: number;
  /** Outstanding handle resolutions per PU association. */
  resolutionWindow: number;
  /** Phases to measure. */
  phases: ("reg" | "hr")[];
  /** Measured seconds per phase. */
  duration: number;
  /** Warm-up seconds per phase. */
  warmup: number;
  /** Request limit per phase. */
  count: number;
  /** Handle Resolution items option (0 = absent). */
  items: number;
  /** Policy of the PEs. */
  policy: PolicyName;
  /** Registration life in ms. */
  registrationLife: number;
  /** Response timeout in ms. */
  responseTimeout: number;
  /** Seconds to retry the first connection. */
  waitRegistrar: number;
  /** Hard limit of the run in seconds. */
  timeout: number;
  /** Registrar process id for CPU accounting. */
  registrarPid?: number;
  /** Full decode of every response. */
  fullDecode: boolean;
  /** SCTP backend. */
  sctp?: SctpBackendChoice;
  /** Label for the result. */
  label?: string;
}

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  /** Median. */
  p50: number;
  /** 90th percentile. */
  p90: number;
  /** 99th percentile. */
  p99: number;
  /** Largest. */
  max: number;
}

/** Result of one measured phase. */
export interface PhaseResult {
  /** Requests sent (warm-up and drain included). */
  requests: number;
  /** Correct responses received. */
  responses: number;
  /** Responses completed inside the measurement window. */
  measured: number;
  /** Length of the measurement window in seconds. */
  seconds: number;
  /** `measured / seconds`. */
  perSecond: number;
  /** Latency of the measured responses. */
  latencyMs: LatencySummary;
  /** Registrar CPU seconds (user + system) in the window, when its pid was given. */
  registrarCpuSeconds?: number;
  /** Of that: user mode (JavaScript / C code). */
  registrarUserCpuSeconds?: number;
  /** Of that: kernel mode (system calls, SCTP processing charged to the process). */
  registrarSystemCpuSeconds?: number;
  /** Measured responses per registrar CPU second. */
  perRegistrarCpuSecond?: number;
  /** This generator's CPU seconds in the window. */
  generatorCpuSeconds: number;
  /** Endpoint Keep Alives acknowledged during the phase (warm-up and drain included). */
  keepAlivesAcked: number;
  /** Errors during the phase (0 in a good phase; see {@linkcode LoadResult.errors}). */
  errors: number;
  /** Share of the machine's CPU time that was busy in the window (0-1, all CPUs). */
  systemBusy?: number;
  /** Handle resolutions: PEs per response on average. */
  poolElementsPerResponse?: number;
  /** Handle resolutions: responses with fewer PEs than expected (not an error). */
  shortResponses?: number;
}

/** Result of a load run. */
export interface LoadResult {
  /** `--label`. */
  label?: string;
  /** Registrar endpoint. */
  registrar: string;
  /** SCTP backend description. */
  sctp: string;
  /** Settings used. */
  settings: Omit<LoadSettings, "label">;
  /** Connection set-up and the first registration of every PE. */
  setup: {
    /** Milliseconds to connect all associations. */
    connectMs: number;
    /** Milliseconds to register every PE once. */
    registerMs: number;
    /** First registrations per second. */
    registrationsPerSecond: number;
  };
  /** Re-registration phase. */
  registration?: PhaseResult;
  /** Handle resolution phase. */
  handleResolution?: PhaseResult;
  /** Endpoint Keep Alives received and acknowledged. */
  keepAlivesAcked: number;
  /** Error counters (all zero in a good run). */
  errors: {
    /** Registration Responses with the reject flag or an error. */
    rejects: number;
    /** Handle Resolution Responses with an error or no PE. */
    failedResolutions: number;
    /** Responses that matched no outstanding request, or were malformed. */
    unexpected: number;
    /** Requests without a response in time. */
    timeouts: number;
    /** Associations lost. */
    lostAssociations: number;
    /** Send failures. */
    sendFailures: number;
  };
  /** Up to 10 error descriptions. */
  errorSamples: string[];
  /** `true` when every response was correct. */
  ok: boolean;
  /** Wall-clock seconds of the run. */
  elapsedSeconds: number;
}

const ASAP_SEND: SctpSendOptions = { ppid: Ppid.ASAP };
const PE_ID_BASE = 0x10000000;
const CLK_TCK = 100;
const MAX_LATENCY_SAMPLES = 1 << 20;

/** A parsed command line: the run's settings and where the result goes. */
export interface LoadCommand {
  /** What to run. */
  settings: LoadSettings;
  /** `--json=FILE`. */
  jsonFile?: string;
  /** `--quiet`: only the JSON line. */
  quiet: boolean;
}

/**
 * Parses the command line.
 *
 * @param args Command-line arguments (`--name=value`).
 * @returns The settings and output options.
 * @throws {OptionError} For a bad option; {@linkcode HelpRequested} for `--help`.
 */
export function parseLoadArgs(args: readonly string[]): LoadCommand {
  const { options: o, positional } = parseOptions(args, LOAD_OPTIONS, {
    program: "registrar_load.ts",
    summary: "Registrar load generator: registrations/s and handle resolutions/s of one " +
      "registrar (ours or RSPLIB's). Bounded in time (--duration, --timeout) and count (--count).",
  });
  if (positional.length > 0) throw new OptionError(`Unexpected argument ${positional[0]}`);
  const m = /^(.*):(\d+)$/.exec(o.registrar);
  if (m === null) throw new OptionError(`Invalid -registrar=${o.registrar}: expected addr:port`);
  const address = m[1].replace(/^\[(.*)\]$/, "$1");
  const phases = o.phases.split(",").map((p) => p.trim()).filter((p) => p !== "");
  for (const p of phases) {
    if (p !== "reg" && p !== "hr") throw new OptionError(`Unknown phase ${p}: use reg, hr`);
  }
  if (o.pools < 1 || o.pools > o.pes) {
    throw new OptionError(`Invalid -pools=${o.pools}: 1 to the number of PEs`);
  }
  if (o["pe-assocs"] > o.pes) {
    throw new OptionError(`Invalid -pe-assocs=${o["pe-assocs"]}: more associations than PEs`);
  }
  const settings: LoadSettings = {
    registrarAddress: address,
    registrarPort: Number(m[2]),
    localAddress: o.local ?? address,
    pes: o.pes,
    peAssociations: o["pe-assocs"],
    pools: o.pools,
    pus: o.pus,
    registrationWindow: o["reg-window"],
    resolutionWindow: o["hr-window"],
    phases: phases as ("reg" | "hr")[],
    duration: o.duration,
    warmup: o.warmup,
    count: o.count,
    items: o.items,
    policy: o.policy as PolicyName,
    registrationLife: o.reglife,
    responseTimeout: o["response-timeout"],
    waitRegistrar: o["wait-registrar"],
    timeout: o.timeout,
    registrarPid: o["registrar-pid"],
    fullDecode: o.decode === "full",
    sctp: o.sctp,
    label: o.label,
  };
  return { settings, jsonFile: o.json, quiet: o.quiet };
}

// ---- CPU accounting -------------------------------------------------------------------------

/** [utime, stime] of a process in seconds, or undefined. */
function processCpuSeconds(pid: number | "self"): [number, number] | undefined {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15.
    return [Number(fields[11]) / CLK_TCK, Number(fields[12]) / CLK_TCK];
  } catch {
    return undefined;
  }
}

/** [busy, total] jiffies of all CPUs from /proc/stat. */
function systemTicks(): [number, number] | undefined {
  try {
    const line = Deno.readTextFileSync("/proc/stat").split("\n")[0];
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const total = v.reduce((a, b) => a + b, 0);
    const idle = v[3] + (v[4] ?? 0);
    return [total - idle, total];
  } catch {
    return undefined;
  }
}

interface CpuMark {
  registrar?: [number, number];
  self?: [number, number];
  system?: [number, number];
}

function cpuMark(pid?: number): CpuMark {
  return {
    registrar: pid === undefined ? undefined : processCpuSeconds(pid),
    self: processCpuSeconds("self"),
    system: systemTicks(),
  };
}

// ---- response checks ------------------------------------------------------------------------

/** What a fast TLV walk finds in a response. */
interface Scan {
  poolHandleOffset: number;
  poolHandleLength: number;
  peIdentifier: number;
  poolElements: number;
  operationError: boolean;
  malformed: boolean;
}

const scan: Scan = {
  poolHandleOffset: -1,
  poolHandleLength: 0,
  peIdentifier: -1,
  poolElements: 0,
  operationError: false,
  malformed: false,
};

/** Walks the top-level TLVs of an ASAP message (no allocation). */
function scanMessage(data: Uint8Array): Scan {
  scan.poolHandleOffset = -1;
  scan.poolHandleLength = 0;
  scan.peIdentifier = -1;
  scan.poolElements = 0;
  scan.operationError = false;
  scan.malformed = false;
  const length = Math.min((data[2] << 8) | data[3], data.length);
  let offset = 4;
  while (offset + 4 <= length) {
    const type = ((data[offset] << 8) | data[offset + 1]) & 0x3fff;
    const tlvLength = (data[offset + 2] << 8) | data[offset + 3];
    if (tlvLength < 4 || offset + tlvLength > length) {
      scan.malformed = true;
      return scan;
    }
    switch (type) {
      case ParameterType.PoolHandle:
        scan.poolHandleOffset = offset + 4;
        scan.poolHandleLength = tlvLength - 4;
        break;
      case ParameterType.PeIdentifier:
        if (tlvLength >= 8) {
          scan.peIdentifier = ((data[offset + 4] << 24) | (data[offset + 5] << 16) |
            (data[offset + 6] << 8) | data[offset + 7]) >>> 0;
        }
        break;
      case ParameterType.PoolElement:
        scan.poolElements++;
        break;
      case ParameterType.OperationError:
        scan.operationError = true;
        break;
    }
    offset += (tlvLength + 3) & ~3;
  }
  if (offset < length) scan.malformed = true;
  return scan;
}

function sameBytes(data: Uint8Array, offset: number, length: number, expected: Uint8Array) {
  if (length !== expected.length) return false;
  for (let i = 0; i < length; i++) if (data[offset + i] !== expected[i]) return false;
  return true;
}

// ---- the run --------------------------------------------------------------------------------

interface PeAssociation {
  index: number;
  endpoint: SctpEndpoint;
  assocId: number;
  /** Global PE indices registered over this association. */
  pes: number[];
  next: number;
  outstanding: number;
}

interface PuAssociation {
  index: number;
  endpoint: SctpEndpoint;
  assocId: number;
  /** FIFO of outstanding requests: pool index and send time. */
  pools: number[];
  times: number[];
  head: number;
  sent: number;
}

type PhaseName = "setup" | "reg" | "hr" | "idle";

class Percentiles {
  #samples = new Float64Array(MAX_LATENCY_SAMPLES);
  #count = 0;

  reset(): void {
    this.#count = 0;
  }

  add(v: number): void {
    if (this.#count < MAX_LATENCY_SAMPLES) this.#samples[this.#count++] = v;
  }

  summary(): LatencySummary {
    const s = this.#samples.subarray(0, this.#count).sort();
    const at = (q: number) =>
      s.length === 0 ? 0 : round3(s[Math.min(s.length - 1, Math.floor(q * s.length))]);
    return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: at(1) };
  }
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** The load run: associations, phases, checks. */
class LoadRun {
  readonly s: LoadSettings;
  readonly transport: SctpTransport;
  readonly started = performance.now();
  readonly hardDeadline: number;
  readonly poolHandles: Uint8Array[];
  readonly registrationBytes: Uint8Array[];
  readonly resolutionBytes: Uint8Array[];
  readonly peOutstandingSince: Float64Array;
  readonly peAssociationOf: Int32Array;
  readonly poolSizes: number[];
  readonly peAssocs: PeAssociation[] = [];
  readonly puAssocs: PuAssociation[] = [];
  readonly endpoints: SctpEndpoint[] = [];
  readonly latencies = new Percentiles();
  phase: PhaseName = "idle";
  issuing = false;
  requests = 0;
  responses = 0;
  measured = 0;
  windowStart = Infinity;
  windowEnd = Infinity;
  resolvedPes = 0;
  shortResponses = 0;
  keepAlivesAcked = 0;
  readonly errors = {
    rejects: 0,
    failedResolutions: 0,
    unexpected: 0,
    timeouts: 0,
    lostAssociations: 0,
    sendFailures: 0,
  };
  readonly errorSamples: string[] = [];
  #wake: (() => void) | undefined;
  #failed = false;

  constructor(settings: LoadSettings, transport: SctpTransport) {
    this.s = settings;
    this.transport = transport;
    this.hardDeadline = this.started + settings.timeout * 1000;
    const s = settings;
    this.poolHandles = Array.from(
      { length: s.pools },
      (_, i) => makePoolHandle(`LoadPool-${String(i).padStart(3, "0")}`),
    );
    this.poolSizes = Array.from(
      { length: s.pools },
      (_, i) => Math.floor(s.pes / s.pools) + (i < s.pes % s.pools ? 1 : 0),
    );
    this.registrationBytes = Array.from({ length: s.pes }, (_, i) =>
      encodeMessage({
        type: "registration",
        poolHandle: this.poolHandles[i % s.pools],
        poolElement: {
          identifier: PE_ID_BASE + i,
          homeRegistrarIdentifier: 0,
          registrationLife: s.registrationLife,
          userTransport: {
            protocol: "sctp",
            port: 20000 + (i % 40000),
            addresses: [s.localAddress],
            controlChannel: true,
          },
          policy: { type: s.policy, weight: 1, load: 0 },
        },
      }));
    this.resolutionBytes = this.poolHandles.map((poolHandle) =>
      encodeMessage(
        s.items > 0
          ? { type: "handleResolution", poolHandle, items: s.items }
          : { type: "handleResolution", poolHandle },
      )
    );
    this.peOutstandingSince = new Float64Array(s.pes);
    this.peAssociationOf = new Int32Array(s.pes).fill(-1);
  }

  get failed(): boolean {
    return this.#failed;
  }

  error(kind: keyof LoadRun["errors"], text: string): void {
    this.errors[kind]++;
    this.phaseErrors++;
    if (this.errorSamples.length < 10) this.errorSamples.push(text);
    if (kind === "lostAssociations" || kind === "timeouts" || kind === "sendFailures") {
      this.fail();
    }
  }

  fail(): void {
    this.#failed = true;
    this.issuing = false;
    this.#wake?.();
  }

  /** Opens one endpoint and connects it to the registrar. */
  async connect(
    onEvent: (e: SctpEvent) => void,
    retryUntil: number,
  ): Promise<[SctpEndpoint, number]> {
    for (;;) {
      const endpoint = await this.transport.open({ addresses: [this.s.localAddress] }, onEvent);
      try {
        const left = retryUntil - performance.now();
        const assocId = await endpoint.connect([this.s.registrarAddress], this.s.registrarPort, {
          timeout: Math.min(5000, Math.max(1000, left)),
        });
        this.endpoints.push(endpoint);
        return [endpoint, assocId];
      } catch (e) {
        await endpoint.close({ abort: true }).catch(() => {});
        if (performance.now() >= retryUntil) throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }

  checkEvent(e: SctpEvent, what: string): boolean {
    switch (e.type) {
      case "message":
        if (e.ppid !== Ppid.ASAP) {
          this.error("unexpected", `${what}: message with PPID ${e.ppid}`);
          return false;
        }
        return true;
      case "lost":
      case "closed":
      case "shutdown":
      case "restart":
        if (!this.closing) this.error("lostAssociations", `${what}: association ${e.type}`);
        return false;
      case "sendFailed":
        if (!this.closing) this.error("sendFailures", `${what}: send failed`);
        return false;
      default:
        return false;
    }
  }

  closing = false;
  /** Errors since the current phase began. */
  phaseErrors = 0;
  /** Setup: PEs of each association not sent yet. */
  remaining: Int32Array | undefined;
  unsent = 0;

  #now = 0;
  #nowValid = false;
  #nowUses = 0;
  readonly #invalidateNow = () => this.#nowValid = false;

  /**
   * The clock, read once per batch of events: every clock read is a system call, and in
   * user-mode-linux a system call costs ~0.2 ms. The SCTP backend delivers the messages of one
   * socket wake-up synchronously, so a microtask marks the end of the batch.
   */
  now(): number {
    // Also at most 16 uses per read: a backend may deliver a long run of events without
    // returning to the event loop (no microtask checkpoint).
    if (!this.#nowValid || ++this.#nowUses > 16) {
      this.#now = performance.now();
      this.#nowValid = true;
      this.#nowUses = 0;
      queueMicrotask(this.#invalidateNow);
    }
    return this.#now;
  }

  decode(data: Uint8Array): RSerPoolMessage | undefined {
    try {
      return decodeMessage(Ppid.ASAP, data, { loopback: true });
    } catch {
      return undefined;
    }
  }

  // ---- PE side ----

  async connectPes(retryUntil: number): Promise<void> {
    const s = this.s;
    const jobs: Promise<void>[] = [];
    for (let a = 0; a < s.peAssociations; a++) {
      const pes: number[] = [];
      for (let i = a; i < s.pes; i += s.peAssociations) pes.push(i);
      const job = async () => {
        const ref: { assoc?: PeAssociation } = {};
        const [endpoint, assocId] = await this.connect((e) => {
          if (ref.assoc !== undefined && this.checkEvent(e, `PE association ${a}`)) {
            this.onPeMessage(ref.assoc, e as Extract<SctpEvent, { type: "message" }>);
          }
        }, a === 0 ? retryUntil : performance.now() + 5000);
        ref.assoc = { index: a, endpoint, assocId, pes, next: 0, outstanding: 0 };
        for (const pe of pes) this.peAssociationOf[pe] = a;
        this.peAssocs[a] = ref.assoc;
      };
      if (a === 0) await job(); // the first one waits for the registrar
      else jobs.push(job());
    }
    await Promise.all(jobs);
  }

  sendRegistration(a: PeAssociation): boolean {
    for (let tries = 0; tries < a.pes.length; tries++) {
      const pe = a.pes[a.next];
      a.next = a.next + 1 === a.pes.length ? 0 : a.next + 1;
      if (this.peOutstandingSince[pe] !== 0) continue;
      const now = this.now();
      this.peOutstandingSince[pe] = now;
      a.outstanding++;
      this.requests++;
      try {
        a.endpoint.send(a.assocId, this.registrationBytes[pe], ASAP_SEND);
      } catch (e) {
        this.error("sendFailures", `PE association ${a.index}: ${e}`);
        return false;
      }
      return true;
    }
    return false;
  }

  onPeMessage(a: PeAssociation, e: Extract<SctpEvent, { type: "message" }>): void {
    const data = e.data;
    const type = data.length >= 4 ? data[0] : -1;
    if (type === AsapType.EndpointKeepAlive) {
      if (!this.closing) this.ackKeepAlive(a, data);
      return;
    }
    if (type !== AsapType.RegistrationResponse) {
      this.error("unexpected", `PE association ${a.index}: message type ${type}`);
      return;
    }
    const now = this.now();
    let identifier: number;
    let rejected: boolean;
    let poolOk: boolean;
    if (this.s.fullDecode) {
      const m = this.decode(data);
      if (m?.type !== "registrationResponse") {
        this.error("unexpected", `PE association ${a.index}: undecodable response`);
        return;
      }
      identifier = m.identifier;
      rejected = m.reject || m.error !== undefined;
      const pe = identifier - PE_ID_BASE;
      poolOk = pe >= 0 && pe < this.s.pes &&
        sameBytes(m.poolHandle, 0, m.poolHandle.length, this.poolHandles[pe % this.s.pools]);
    } else {
      const t = scanMessage(data);
      identifier = t.peIdentifier;
      rejected = (data[1] & MessageFlag.REJECT) !== 0 || t.operationError;
      const pe = identifier - PE_ID_BASE;
      poolOk = !t.malformed && pe >= 0 && pe < this.s.pes &&
        sameBytes(
          data,
          t.poolHandleOffset,
          t.poolHandleLength,
          this.poolHandles[pe % this.s.pools],
        );
    }
    const pe = identifier - PE_ID_BASE;
    if (!poolOk || this.peAssociationOf[pe] !== a.index || this.peOutstandingSince[pe] === 0) {
      this.error(
        "unexpected",
        `PE association ${a.index}: response for PE $${identifier.toString(16)} not outstanding`,
      );
      return;
    }
    if (rejected) {
      this.error("rejects", `PE $${identifier.toString(16)}: registration rejected`);
    } else {
      this.responses++;
      if (now >= this.windowStart && now < this.windowEnd) {
        this.measured++;
        this.latencies.add(now - this.peOutstandingSince[pe]);
      }
    }
    this.peOutstandingSince[pe] = 0;
    a.outstanding--;
    if (this.issuing) this.refillRegistration(a, now);
    if (!this.issuing && a.outstanding === 0) this.#wake?.();
  }

  refillRegistration(a: PeAssociation, now: number): void {
    if (this.remaining !== undefined) {
      // Setup: register each PE once.
      if (this.remaining[a.index] > 0) {
        this.remaining[a.index]--;
        if (--this.unsent === 0) this.issuing = false;
        this.sendRegistration(a);
      }
      return;
    }
    if (now >= this.windowEnd || this.requests >= this.s.count) {
      this.stopIssuing(now);
      return;
    }
    this.sendRegistration(a);
  }

  ackKeepAlive(a: PeAssociation, data: Uint8Array): void {
    let m;
    try {
      m = decodeMessage(Ppid.ASAP, data, { loopback: true });
    } catch (e) {
      this.error("unexpected", `PE association ${a.index}: bad keep alive: ${e}`);
      return;
    }
    if (m.type !== "endpointKeepAlive" || m.identifier === undefined) {
      this.error("unexpected", `PE association ${a.index}: keep alive without PE identifier`);
      return;
    }
    try {
      a.endpoint.send(
        a.assocId,
        encodeMessage({
          type: "endpointKeepAliveAck",
          poolHandle: m.poolHandle,
          identifier: m.identifier,
        }),
        ASAP_SEND,
      );
      this.keepAlivesAcked++;
    } catch (e) {
      this.error("sendFailures", `PE association ${a.index}: keep alive ack: ${e}`);
    }
  }

  // ---- PU side ----

  async connectPus(): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (let u = 0; u < this.s.pus; u++) {
      jobs.push((async () => {
        const ref: { assoc?: PuAssociation } = {};
        const [endpoint, assocId] = await this.connect((e) => {
          if (ref.assoc !== undefined && this.checkEvent(e, `PU association ${u}`)) {
            this.onPuMessage(ref.assoc, e as Extract<SctpEvent, { type: "message" }>);
          }
        }, performance.now() + 5000);
        ref.assoc = { index: u, endpoint, assocId, pools: [], times: [], head: 0, sent: 0 };
        this.puAssocs[u] = ref.assoc;
      })());
    }
    await Promise.all(jobs);
  }

  sendResolution(u: PuAssociation): void {
    const pool = (u.index + u.sent) % this.s.pools;
    u.sent++;
    u.pools.push(pool);
    u.times.push(this.now());
    this.requests++;
    try {
      u.endpoint.send(u.assocId, this.resolutionBytes[pool], ASAP_SEND);
    } catch (e) {
      this.error("sendFailures", `PU association ${u.index}: ${e}`);
    }
  }

  onPuMessage(u: PuAssociation, e: Extract<SctpEvent, { type: "message" }>): void {
    const data = e.data;
    const type = data.length >= 4 ? data[0] : -1;
    if (type !== AsapType.HandleResolutionResponse || u.head >= u.pools.length) {
      this.error("unexpected", `PU association ${u.index}: unexpected message type ${type}`);
      return;
    }
    const now = this.now();
    const pool = u.pools[u.head];
    const sentAt = u.times[u.head];
    u.head++;
    if (u.head === u.pools.length) {
      u.pools.length = 0;
      u.times.length = 0;
      u.head = 0;
    }
    let pes: number;
    let failed: boolean;
    let poolOk: boolean;
    if (this.s.fullDecode) {
      const m = this.decode(data);
      if (m?.type !== "handleResolutionResponse") {
        this.error("unexpected", `PU association ${u.index}: undecodable response`);
        return;
      }
      pes = m.poolElements.length;
      failed = m.reject === true || m.error !== undefined;
      poolOk = sameBytes(m.poolHandle, 0, m.poolHandle.length, this.poolHandles[pool]);
    } else {
      const t = scanMessage(data);
      pes = t.poolElements;
      failed = (data[1] & MessageFlag.REJECT) !== 0 || t.operationError || t.malformed;
      poolOk = sameBytes(data, t.poolHandleOffset, t.poolHandleLength, this.poolHandles[pool]);
    }
    if (!poolOk) {
      this.error("unexpected", `PU association ${u.index}: response for another pool`);
    } else if (failed || pes === 0) {
      this.error("failedResolutions", `PU association ${u.index}: resolution failed (${pes} PEs)`);
    } else {
      const expected = Math.min(this.s.items > 0 ? this.s.items : 3, this.poolSizes[pool]);
      if (pes < expected) this.shortResponses++;
      this.responses++;
      if (now >= this.windowStart && now < this.windowEnd) {
        this.measured++;
        this.resolvedPes += pes;
        this.latencies.add(now - sentAt);
      }
    }
    if (this.issuing) {
      if (now >= this.windowEnd || this.requests >= this.s.count) this.stopIssuing(now);
      else this.sendResolution(u);
    }
    if (!this.issuing && u.head === u.pools.length) this.#wake?.();
  }

  // ---- phases ----

  stopIssuing(now: number): void {
    if (!this.issuing) return;
    this.issuing = false;
    if (now < this.windowEnd) this.windowEnd = now;
  }

  outstanding(): number {
    if (this.phase === "hr") {
      let n = 0;
      for (const u of this.puAssocs) n += u.pools.length - u.head;
      return n;
    }
    let n = 0;
    for (const a of this.peAssocs) n += a.outstanding;
    return n;
  }

  oldestOutstanding(): number {
    let oldest = Infinity;
    if (this.phase === "hr") {
      for (const u of this.puAssocs) {
        if (u.head < u.times.length) oldest = Math.min(oldest, u.times[u.head]);
      }
    } else {
      for (const v of this.peOutstandingSince) if (v !== 0 && v < oldest) oldest = v;
    }
    return oldest;
  }

  /** Waits until nothing is outstanding (and no longer issuing), checking timeouts. */
  async settle(): Promise<void> {
    for (;;) {
      if (this.#failed) return;
      if (!this.issuing && this.outstanding() === 0) return;
      const now = performance.now();
      if (now >= this.hardDeadline) {
        this.error("timeouts", `run exceeded --timeout=${this.s.timeout}s`);
        return;
      }
      const oldest = this.oldestOutstanding();
      if (now - oldest > this.s.responseTimeout) {
        this.error("timeouts", `no response within ${this.s.responseTimeout} ms (${this.phase})`);
        return;
      }
      if (this.issuing && now >= this.windowEnd) this.stopIssuing(now);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.#wake = undefined;
          resolve();
        }, 200);
        this.#wake = () => {
          clearTimeout(timer);
          this.#wake = undefined;
          resolve();
        };
      });
    }
  }

  /** First registration of every PE (not a measured phase). */
  async registerAll(): Promise<number> {
    this.phase = "setup";
    const t0 = performance.now();
    this.windowStart = this.windowEnd = Infinity;
    // Each PE exactly once: an association stops issuing when all its PEs were sent.
    this.remaining = Int32Array.from(this.peAssocs, (a) => a.pes.length);
    this.issuing = true;
    for (const a of this.peAssocs) {
      while (a.outstanding < this.s.registrationWindow && this.remaining[a.index] > 0) {
        this.remaining[a.index]--;
        this.sendRegistration(a);
      }
    }
    this.unsent = this.s.pes;
    for (const a of this.peAssocs) this.unsent -= a.pes.length - this.remaining[a.index];
    if (this.unsent === 0) this.issuing = false;
    try {
      await this.settle();
    } finally {
      this.remaining = undefined;
    }
    this.phase = "idle";
    return performance.now() - t0;
  }

  async runPhase(phase: "reg" | "hr"): Promise<PhaseResult> {
    this.phase = phase;
    this.requests = 0;
    this.responses = 0;
    this.measured = 0;
    this.resolvedPes = 0;
    this.shortResponses = 0;
    this.latencies.reset();
    const keepAlivesBefore = this.keepAlivesAcked;
    this.phaseErrors = 0;
    const start = performance.now();
    this.windowStart = start + this.s.warmup * 1000;
    this.windowEnd = this.windowStart + this.s.duration * 1000;
    let startMark: CpuMark | undefined;
    const markTimer = setTimeout(
      () => startMark = cpuMark(this.s.registrarPid),
      this.s.warmup * 1000,
    );
    let endMark: CpuMark | undefined;
    const endTimer = setTimeout(() => {
      endMark = cpuMark(this.s.registrarPid);
      this.stopIssuing(performance.now());
      this.#wake?.();
    }, (this.s.warmup + this.s.duration) * 1000);
    this.issuing = true;
    if (phase === "reg") {
      for (const a of this.peAssocs) {
        for (let i = 0; i < this.s.registrationWindow && this.issuing; i++) {
          if (this.requests >= this.s.count || !this.sendRegistration(a)) break;
        }
      }
    } else {
      for (const u of this.puAssocs) {
        for (let i = 0; i < this.s.resolutionWindow && this.issuing; i++) {
          if (this.requests >= this.s.count) break;
          this.sendResolution(u);
        }
      }
    }
    try {
      await this.settle();
    } finally {
      clearTimeout(markTimer);
      clearTimeout(endTimer);
    }
    // Count limit reached before the window ended: the window ends at the last measured answer.
    startMark ??= cpuMark(this.s.registrarPid);
    endMark ??= cpuMark(this.s.registrarPid);
    const windowEnd = Math.min(this.windowEnd, performance.now());
    const seconds = Math.max(0, (windowEnd - this.windowStart) / 1000);
    const result: PhaseResult = {
      requests: this.requests,
      responses: this.responses,
      measured: this.measured,
      seconds: round3(seconds),
      perSecond: seconds > 0 ? Math.round(this.measured / seconds) : 0,
      latencyMs: this.latencies.summary(),
      generatorCpuSeconds: round3(
        (endMark.self?.[0] ?? 0) + (endMark.self?.[1] ?? 0) - (startMark.self?.[0] ?? 0) -
          (startMark.self?.[1] ?? 0),
      ),
      keepAlivesAcked: this.keepAlivesAcked - keepAlivesBefore,
      errors: this.phaseErrors,
    };
    if (startMark.registrar !== undefined && endMark.registrar !== undefined) {
      const user = endMark.registrar[0] - startMark.registrar[0];
      const system = endMark.registrar[1] - startMark.registrar[1];
      const cpu = user + system;
      result.registrarCpuSeconds = round3(cpu);
      result.registrarUserCpuSeconds = round3(user);
      result.registrarSystemCpuSeconds = round3(system);
      result.perRegistrarCpuSecond = cpu > 0 ? Math.round(this.measured / cpu) : undefined;
    }
    if (startMark.system !== undefined && endMark.system !== undefined) {
      const busy = endMark.system[0] - startMark.system[0];
      const total = endMark.system[1] - startMark.system[1];
      if (total > 0) result.systemBusy = round3(busy / total);
    }
    if (phase === "hr") {
      result.poolElementsPerResponse = this.measured > 0
        ? round3(this.resolvedPes / this.measured)
        : 0;
      result.shortResponses = this.shortResponses;
    }
    this.phase = "idle";
    this.windowStart = this.windowEnd = Infinity;
    return result;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.issuing = false;
    const closes = this.endpoints.map((e) => e.close().catch(() => {}));
    await Promise.race([
      Promise.all(closes),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    await Promise.all(this.endpoints.map((e) => e.close({ abort: true }).catch(() => {})));
  }
}

/**
 * Runs the load: connects, registers every PE, measures the phases, closes.
 *
 * @param settings What to run.
 * @param transport SCTP backend (default: {@linkcode openSctpTransport} with `settings.sctp`).
 * @returns The result; `ok` is `false` when any response was wrong or missing.
 */
export async function runLoad(
  settings: LoadSettings,
  transport?: SctpTransport,
): Promise<LoadResult> {
  const t = transport ?? await openSctpTransport(settings.sctp);
  const run = new LoadRun(settings, t);
  const s = settings;
  let connectMs = 0, registerMs = 0;
  let registration: PhaseResult | undefined;
  let handleResolution: PhaseResult | undefined;
  const hardStop = setTimeout(() => run.fail(), s.timeout * 1000);
  try {
    const c0 = performance.now();
    await run.connectPes(c0 + s.waitRegistrar * 1000);
    await run.connectPus();
    connectMs = performance.now() - c0;
    registerMs = await run.registerAll();
    for (const phase of s.phases) {
      if (run.failed) break;
      if (phase === "reg") registration = await run.runPhase("reg");
      else if (s.pus > 0) handleResolution = await run.runPhase("hr");
    }
  } catch (e) {
    run.error("lostAssociations", `run failed: ${e instanceof Error ? e.message : e}`);
  } finally {
    clearTimeout(hardStop);
    await run.close();
  }
  const e = run.errors;
  const errorCount = Object.values(e).reduce((a, b) => a + b, 0);
  const { label: _label, ...rest } = settings;
  return {
    label: settings.label,
    registrar: `${s.registrarAddress}:${s.registrarPort}`,
    sctp: t.description,
    settings: rest,
    setup: {
      connectMs: Math.round(connectMs),
      registerMs: Math.round(registerMs),
      registrationsPerSecond: registerMs > 0 ? Math.round(s.pes / (registerMs / 1000)) : 0,
    },
    registration,
    handleResolution,
    keepAlivesAcked: run.keepAlivesAcked,
    errors: e,
    errorSamples: run.errorSamples,
    ok: errorCount === 0 && !run.failed,
    elapsedSeconds: round3((performance.now() - run.started) / 1000),
  };
}

/**
 * One readable line for a result.
 *
 * @param r The result.
 * @returns E.g. `reg 1234/s (p50 1.2 ms) | hr 2345/s (p50 0.9 ms, 3 PEs) | ok`.
 */
export function summarize(r: LoadResult): string {
  const parts: string[] = [
    `${r.label ?? r.registrar}: setup ${r.settings.pes} PEs in ${r.setup.registerMs} ms`,
  ];
  const phase = (name: string, p: PhaseResult | undefined) => {
    if (p === undefined) return;
    let text =
      `${name} ${p.perSecond}/s (${p.measured} in ${p.seconds} s, p50 ${p.latencyMs.p50} ms` +
      `, p99 ${p.latencyMs.p99} ms`;
    if (p.registrarCpuSeconds !== undefined) text += `, registrar CPU ${p.registrarCpuSeconds} s`;
    if (p.poolElementsPerResponse !== undefined) text += `, ${p.poolElementsPerResponse} PEs/resp`;
    parts.push(text + ")");
  };
  phase("registrations", r.registration);
  phase("handle resolutions", r.handleResolution);
  parts.push(`keep-alives acked ${r.keepAlivesAcked}`);
  const errors = Object.entries(r.errors).filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
  parts.push(r.ok ? "ok" : `FAILED (${errors.join(", ") || "aborted"})`);
  return parts.join(" | ");
}

if (import.meta.main) {
  let command: LoadCommand;
  try {
    command = parseLoadArgs(Deno.args);
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.help);
      Deno.exit(0);
    }
    console.error(`registrar_load.ts: ${(e as Error).message}`);
    Deno.exit(2);
  }
  const result = await runLoad(command.settings);
  const json = JSON.stringify(result);
  if (command.jsonFile !== undefined) await Deno.writeTextFile(command.jsonFile, json + "\n");
  if (!command.quiet) {
    console.log(summarize(result));
    for (const sample of result.errorSamples) console.log(`  error: ${sample}`);
  }
  console.log(json);
  // usrsctp threads (host runs) may keep the process alive: exit explicitly.
  Deno.exit(result.ok ? 0 : 1);
}
