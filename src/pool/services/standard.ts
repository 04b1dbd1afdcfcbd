/**
 * RSPLIB's standard services (standardservices.cc): Echo, Discard, Daytime, Character
 * Generator.
 *
 * @module
 */

import type { Service } from "./service.ts";
import { daytimeLine, timeStamp } from "../../common/time_stamp.ts";

/**
 * Echo: each message goes back unchanged (same PPID and stream); prints
 * `<time>Echo <n> bytes on session <id>`.
 *
 * @example
 * ```ts
 * import { echoService } from "./standard.ts";
 * console.log(echoService.defaultPoolHandle); // EchoPool
 * ```
 */
export const echoService: Service = {
  flag: "echo",
  name: "Echo",
  title: "Echo Server - Version 1.0",
  defaultPoolHandle: "EchoPool",
  create: (context) => ({
    handler: (session) => ({
      message(data, info) {
        context.print(`${timeStamp()}Echo ${data.length} bytes on session ${session.id}`);
        return session.send(data, info) ? "okay" : "abort";
      },
    }),
  }),
};

/**
 * Discard: messages are dropped; prints `<time>Discard <n> bytes on session <id>`.
 *
 * @example
 * ```ts
 * import { discardService } from "./standard.ts";
 * console.log(discardService.defaultPoolHandle); // DiscardPool
 * ```
 */
export const discardService: Service = {
  flag: "discard",
  name: "Discard",
  title: "Discard Server - Version 1.0",
  defaultPoolHandle: "DiscardPool",
  create: (context) => ({
    handler: (session) => ({
      message(data) {
        context.print(`${timeStamp()}Discard ${data.length} bytes on session ${session.id}`);
      },
    }),
  }),
};

/**
 * Daytime: at session start, sends one line `Weekday, DD-Month-YYYY HH:MM:SS.uuuuuu\n` (local
 * time, PPID 0) and shuts the session down.
 *
 * @example
 * ```ts
 * import { daytimeService } from "./standard.ts";
 * console.log(daytimeService.defaultPoolHandle); // DaytimePool
 * ```
 */
export const daytimeService: Service = {
  flag: "daytime",
  name: "Daytime",
  title: "Daytime Server - Version 1.0",
  defaultPoolHandle: "DaytimePool",
  create: () => ({
    handler: (session) => ({
      start() {
        session.send(daytimeLine(), { ppid: 0 });
        return "shutdown";
      },
    }),
  }),
};

/** Bytes of one CharGen block: 30 + (i mod 98), like RSPLIB. */
function chargenBlock(): Uint8Array {
  const block = new Uint8Array(1024);
  for (let i = 0; i < block.length; i++) block[i] = 30 + (i % (128 - 30));
  return block;
}

/**
 * Character Generator: at session start, streams 1024-byte blocks of printable characters
 * until the session ends, then shuts it down. At most `-chargenmaxthreads` sessions (4).
 * Sending is paced (`-chargenblocks` blocks every `-chargeninterval` ms; this project's
 * options), since this project's SCTP sends queue instead of blocking.
 *
 * @example
 * ```ts
 * import { chargenService } from "./standard.ts";
 * console.log(chargenService.defaultPoolHandle); // CharGenPool
 * ```
 */
export const chargenService: Service = {
  flag: "chargen",
  name: "Character Generator",
  title: "Character Generator Server - Version 1.0",
  defaultPoolHandle: "CharGenPool",
  optionPrefix: "chargen",
  options: {
    chargenmaxthreads: {
      kind: "integer",
      description: "CharGen: most sessions at once",
      default: 4,
      min: 1,
    },
    chargenblocks: {
      kind: "integer",
      description: "CharGen: blocks of 1024 bytes per interval (extension)",
      default: 16,
      min: 1,
      max: 4096,
    },
    chargeninterval: {
      kind: "integer",
      description: "CharGen: pacing interval (extension)",
      valueName: "ms",
      default: 10,
      min: 1,
    },
  },
  create: (context) => {
    const maxSessions = Number(context.options.chargenmaxthreads ?? 4);
    const blocks = Number(context.options.chargenblocks ?? 16);
    const interval = Number(context.options.chargeninterval ?? 10);
    const block = chargenBlock();
    return {
      serveOptions: { maxSessions },
      handler: (session) => ({
        start: () =>
          new Promise((resolve) => {
            const tick = () => {
              for (let i = 0; i < blocks; i++) {
                if (!session.send(block)) {
                  resolve("shutdown");
                  return;
                }
              }
              if (session.ended) resolve("shutdown");
              else setTimeout(tick, interval);
            };
            tick();
          }),
      }),
    };
  },
};
