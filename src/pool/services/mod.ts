/**
 * The services of `rspserver` and their registry: a service is selected by its flag; new
 * services (PingPong, Fractal, CalcApp) plug in with {@linkcode registerService}.
 *
 * @example
 * ```ts
 * import { findService, serviceFlags } from "./mod.ts";
 * console.log(serviceFlags().join(" ")); // echo discard daytime chargen
 * console.log(findService("echo")?.defaultPoolHandle); // EchoPool
 * ```
 *
 * @module
 */

import type { Service } from "./service.ts";
import { chargenService, daytimeService, discardService, echoService } from "./standard.ts";

export type { Service, ServiceContext, ServiceInstance } from "./service.ts";
export { chargenService, daytimeService, discardService, echoService } from "./standard.ts";

const registry = new Map<string, Service>();
for (const s of [echoService, discardService, daytimeService, chargenService]) {
  registry.set(s.flag, s);
}

/**
 * Adds (or replaces) a service, selected by `-<flag>`.
 *
 * @example
 * ```ts
 * import { findService, registerService } from "./mod.ts";
 * registerService({
 *   flag: "hello",
 *   name: "Hello",
 *   title: "Hello Server - Version 1.0",
 *   defaultPoolHandle: "HelloPool",
 *   create: () => ({ handler: (s) => ({ start: () => void s.send("hello\n") }) }),
 * });
 * console.log(findService("hello")?.name); // Hello
 * ```
 *
 * @param service The service.
 */
export function registerService(service: Service): void {
  registry.set(service.flag, service);
}

/**
 * The service selected by `-<flag>`.
 *
 * @example
 * ```ts
 * import { findService } from "./mod.ts";
 * console.log(findService("daytime")?.title); // Daytime Server - Version 1.0
 * ```
 *
 * @param flag The flag without the dash.
 * @returns The service, or `undefined`.
 */
export function findService(flag: string): Service | undefined {
  return registry.get(flag);
}

/**
 * Flags of all registered services, in registration order.
 *
 * @example
 * ```ts
 * import { serviceFlags } from "./mod.ts";
 * console.log(serviceFlags().includes("chargen")); // true
 * ```
 *
 * @returns The flags.
 */
export function serviceFlags(): string[] {
  return [...registry.keys()];
}
