/**
 * Infrastructure shared by every program: the RSPLIB-compatible option parser and logger.
 *
 * @example
 * ```ts
 * import { LOGGING_OPTIONS, loggerFromOptions, parseOptions } from "./mod.ts";
 * const { options } = parseOptions(["-loglevel=2"], LOGGING_OPTIONS, { program: "demo" });
 * loggerFromOptions(options).warning("shown at level 2");
 * ```
 *
 * @module
 */

export * from "./logger.ts";
export * from "./options.ts";
export * from "./common_options.ts";
