/**
 * The `rspterminal` program (RSPLIB's rspterminal.c): standard input goes to a session with a
 * pool, each reply is printed as `from PE $xxxxxxxx> text`, failovers are shown.
 *
 * @module
 */

import {
  CSP_OPTIONS,
  loggerFromOptions,
  LOGGING_OPTIONS,
  parseOptions,
  REGISTRAR_CLIENT_OPTIONS,
  SCTP_OPTIONS,
} from "../common/mod.ts";
import { HelpRequested, OptionError } from "../common/options.ts";
import { ComponentGroup, componentId, createCspReporter, CspPpid } from "../csp/mod.ts";
import { randomComponentId } from "../csp/identifier.ts";
import { openSctpTransport } from "../transport/select.ts";
import type { SctpTransport } from "../transport/types.ts";
import { formatNotification } from "./notifications.ts";
import {
  type MinAddressScope,
  POOL_EXTENSION_OPTIONS,
  registrarClientOptionsFrom,
  sessionTuningFrom,
} from "./options.ts";
import { PoolUser, type PoolUserSession } from "./pool_user.ts";
import { delay, signalled, writeErr, writeOut } from "../common/program.ts";
import { hex } from "./_format.ts";

const TERMINAL_OPTIONS = {
  poolhandle: {
    kind: "string",
    description: "Pool handle",
    valueName: "PH",
    default: "EchoPool",
  },
  lingertime: {
    kind: "integer",
    description: "After end of input, wait this long for replies (extension; RSPLIB: 0)",
    valueName: "ms",
    default: 500,
    min: 0,
  },
  ...REGISTRAR_CLIENT_OPTIONS,
  ...POOL_EXTENSION_OPTIONS,
  ...CSP_OPTIONS,
  ...SCTP_OPTIONS,
  ...LOGGING_OPTIONS,
} as const;

const encoder = new TextEncoder();

/**
 * The text RSPLIB's rspterminal prints for a received message: trailing bytes below `' '`
 * (signed, so also bytes from 0x80) are cut, other bytes below 30 become `.`.
 *
 * @param data The message.
 * @returns The bytes to print.
 */
export function terminalText(data: Uint8Array): Uint8Array {
  let end = data.length;
  while (end > 0 && (data[end - 1] < 0x20 || data[end - 1] >= 0x80)) end--;
  const out = data.slice(0, end);
  for (let i = 0; i < out.length; i++) if (out[i] < 30) out[i] = 0x2e;
  return out;
}

/**
 * Runs `rspterminal` until standard input ends or SIGINT/SIGTERM.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseOptions(args, TERMINAL_OPTIONS, {
      program: "rspterminal",
      summary: "RSerPool terminal: sends standard input to a session with a pool and prints " +
        "the replies with the serving pool element, compatible with RSPLIB's rspterminal.",
    });
  } catch (e) {
    if (e instanceof HelpRequested) {
      writeOut(e.help);
      return 0;
    }
    if (e instanceof OptionError) {
      writeErr(`ERROR: Bad argument: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const o = parsed.options;
  const log = loggerFromOptions(o, "rspterminal");
  let transport: SctpTransport;
  try {
    transport = await openSctpTransport(o.sctp, { usrsctp: { udpPort: o.sctpudpport } });
  } catch (e) {
    writeErr(`rspterminal: ${(e as Error).message}\n`);
    log.close();
    return 1;
  }
  log.note(`Using ${transport.description}`);

  writeOut("RSerPool Terminal - Version 1.0\n");
  writeOut("===============================\n\n");
  writeOut(`Pool Handle = ${o.poolhandle}\n\n`);

  let pu: PoolUser;
  try {
    pu = await PoolUser.create({
      ...registrarClientOptionsFrom(o, o.minaddressscope as MinAddressScope),
      transport,
      sctp: sessionTuningFrom(o),
      logger: log,
    });
  } catch (e) {
    writeErr(`ERROR: Unable to initialize rsplib: ${(e as Error).message}\n`);
    log.close();
    return 1;
  }
  const signal = signalled();
  let session: PoolUserSession | undefined;
  let reporter: ReturnType<typeof createCspReporter>;
  try {
    session = await pu.connect(o.poolhandle, { throwIfUnreachable: false, autoFailover: true });
    if (!session.connected) {
      log.warning(`No pool element of pool ${o.poolhandle} reached yet; still trying`);
    }
    const s = session;
    reporter = createCspReporter(o, {
      identifier: randomComponentId(ComponentGroup.PoolUser),
      logger: log,
      status: () => {
        const registrar = pu.asap.registrar;
        const associations = [];
        if (registrar !== undefined) {
          associations.push({
            receiverId: componentId(ComponentGroup.Registrar, registrar.identifier),
            duration: BigInt(Date.now() - registrar.connectedAt) * 1000n,
            ppid: CspPpid.ASAP,
          });
        }
        if (s.connected) {
          associations.push({
            receiverId: componentId(ComponentGroup.PoolElement, s.poolElementIdentifier!),
            duration: BigInt(Date.now() - s.connectedAt) * 1000n,
            ppid: CspPpid.Data,
          });
        }
        return {
          statusText: `${s.connected ? 1 : 0} Session${s.connected ? "" : "s"}`,
          associations,
        };
      },
    });
    let failovers = 0;
    let lastMessage = performance.now();
    const printer = (async () => {
      for await (const event of s) {
        if (event.type === "message") {
          lastMessage = performance.now();
          writeOut(
            concat(
              encoder.encode(`\x1b[34mfrom PE $${hex(event.poolElementIdentifier)}> `),
              terminalText(event.data),
              encoder.encode("\x1b[0m\n"),
            ),
          );
        } else {
          const n = event.notification;
          writeOut(`\x1b[39;47mNotification: ${formatNotification(n)}\x1b[0m\n`);
          if (n.type === "failover" && n.state === "necessary") {
            failovers++;
            writeOut(`FAILOVER #${failovers} ...\n`);
          }
        }
      }
    })();
    // ---- standard input -> session ----
    const buffer = new Uint8Array(65536);
    const stdinDone = (async () => {
      for (;;) {
        let n: number | null;
        try {
          n = await Deno.stdin.read(buffer);
        } catch {
          n = null;
        }
        if (n === null || n === 0) return "eof";
        if (!s.send(buffer.slice(0, n))) writeErr("rsp_write() failed: session failed\n");
      }
    })();
    const why = await Promise.race([stdinDone, signal.promise]);
    if (why === "eof") {
      // Give replies to the last lines a moment (RSPLIB stops at once).
      const linger = o.lingertime;
      const start = performance.now();
      lastMessage = Math.max(lastMessage, start);
      while (
        !signal.received && performance.now() - start < 4 * linger &&
        performance.now() - lastMessage < linger
      ) {
        await delay(20, signal.promise);
      }
    }
    await s.close();
    await printer;
  } finally {
    signal.dispose();
    await pu.close();
    await reporter?.close();
    log.close();
  }
  writeOut("\nTerminated!\n");
  // Standard input may still have a pending read: leave without waiting for it.
  return 0;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
