/**
 * The `Service` interface of `rspserver`: what a service (Echo, Discard, Daytime, CharGen; later
 * PingPong, Fractal, CalcApp) contributes to the program, so that new ones plug in.
 *
 * @module
 */

import type { Logger, OptionSpecs } from "../../common/mod.ts";
import type { PoolPolicy } from "../../codec/mod.ts";
import type { ServeOptions, SessionHandlerFactory } from "../server.ts";

/**
 * What a service gets when it starts.
 *
 * @example
 * ```ts
 * import type { ServiceContext } from "./service.ts";
 * import { silentLogger } from "../../common/mod.ts";
 * const context: ServiceContext = {
 *   options: {},
 *   print: (line) => console.log(line),
 *   log: silentLogger,
 *   identifier: 0x1234,
 * };
 * context.print("hello");
 * ```
 */
export interface ServiceContext {
  /** Parsed values of the service's own options ({@linkcode Service.options}). */
  options: Record<string, unknown>;
  /** Writes one line to the program's standard output (e.g. "Echo 6 bytes on session 1"). */
  print(line: string): void;
  /** The program's logger. */
  log: Logger;
  /** The PE identifier. */
  identifier: number;
}

/**
 * A started service: how its sessions are handled.
 *
 * @example
 * ```ts
 * import type { ServiceInstance } from "./service.ts";
 * const instance: ServiceInstance = {
 *   handler: (session) => ({ start: () => void session.send("welcome\n") }),
 *   serveOptions: { maxSessions: 8 },
 * };
 * console.log(instance.serveOptions?.maxSessions);
 * ```
 */
export interface ServiceInstance {
  /** Makes the handler of each session. */
  handler: SessionHandlerFactory;
  /** Session limit and reject hook. */
  serveOptions?: ServeOptions;
  /** Extra lines for the parameter banner (after the general parameters). */
  parameters?(): string[];
  /** Called when the program stops. */
  close?(): void | Promise<void>;
}

/**
 * A service of `rspserver`, selected by its flag (`-echo`, `-discard`, ...).
 *
 * @example A "reverse" service that answers each message reversed
 * ```ts
 * import type { Service } from "./service.ts";
 * const reverse: Service = {
 *   flag: "reverse",
 *   name: "Reverse",
 *   title: "Reverse Server - Version 1.0",
 *   defaultPoolHandle: "ReversePool",
 *   create: () => ({
 *     handler: (session) => ({
 *       message: (data, info) => void session.send(data.slice().reverse(), info),
 *     }),
 *   }),
 * };
 * console.log(reverse.flag);
 * ```
 */
export interface Service {
  /** Program flag without the dash, e.g. `"echo"`. */
  flag: string;
  /** Name in "Starting service <name>...", e.g. `"Echo"` or `"Character Generator"`. */
  name: string;
  /** Banner title, e.g. `"Echo Server - Version 1.0"`. */
  title: string;
  /** Pool handle when `-poolhandle` is not given. */
  defaultPoolHandle: string;
  /** Policy when `-policy` is not given. @default {RoundRobin} */
  defaultPolicy?: (options: Record<string, unknown>) => PoolPolicy;
  /** The service's own options (e.g. `chargenmaxthreads`). */
  options?: OptionSpecs;
  /**
   * Options starting with this prefix that are not in `options` are errors (RSPLIB:
   * `-chargen*`, `-fgp*`, ...). Other unknown options are ignored with a warning.
   */
  optionPrefix?: string;
  /** Starts the service. */
  create(context: ServiceContext): ServiceInstance | Promise<ServiceInstance>;
}
