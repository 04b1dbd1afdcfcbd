/**
 * One command-line option parser for every program, compatible with RSPLIB: `-name=value`,
 * `-flag`, repeatable options (several `-registrar=`), `--name=value` accepted too, `--help` and
 * `-h` print the options with their defaults.
 *
 * @module
 */

/**
 * Kind of an option's value.
 *
 * @example An integer option accepts hex
 * ```ts
 * import { type OptionKind, parseOptions } from "./options.ts";
 * const kind: OptionKind = "integer";
 * const specs = { port: { kind, description: "Local port" } };
 * console.log(parseOptions(["-port=0x0f1f"], specs, { program: "demo" }).options.port); // 3871
 * ```
 */
export type OptionKind = "flag" | "string" | "integer" | "number" | "choice";

/**
 * Declaration of one option.
 *
 * @example An interval clamped like RSPLIB's
 * ```ts
 * import { type OptionSpec, parseOptions } from "./options.ts";
 * const cspinterval: OptionSpec = {
 *   kind: "integer",
 *   description: "CSP report interval",
 *   valueName: "ms",
 *   min: 250,
 * };
 * const { options } = parseOptions(["-cspinterval=100"], { cspinterval }, { program: "demo" });
 * console.log(options.cspinterval); // 250
 * ```
 */
export interface OptionSpec {
  /** Kind of value. */
  kind: OptionKind;
  /** One line for `--help`. */
  description: string;
  /** Placeholder shown in `--help`, e.g. `ms` in `-cspinterval=<ms>`. */
  valueName?: string;
  /** Value when the option is absent. */
  default?: string | number | boolean;
  /** May be given several times; the values are collected in order. */
  repeatable?: boolean;
  /** Smallest allowed value (integer, number). */
  min?: number;
  /** Largest allowed value (integer, number). */
  max?: number;
  /** What to do with a number outside min..max: clamp it as RSPLIB does (default), or fail. */
  outOfRange?: "clamp" | "error";
  /** Allowed values (choice). */
  choices?: readonly string[];
  /** Another option's name: this one is a deprecated alias of it. */
  aliasOf?: string;
}

/**
 * A program's option declarations, by name (without dashes).
 *
 * @example Options of a program and its help text
 * ```ts
 * import { formatHelp, type OptionSpecs } from "./options.ts";
 * const specs: OptionSpecs = {
 *   quiet: { kind: "flag", description: "No banner" },
 *   loglevel: { kind: "integer", description: "Log level", default: 3, min: 0, max: 9 },
 * };
 * console.log(formatHelp(specs, { program: "demo" }).split("\n")[0]); // Usage: demo [options]
 * ```
 */
export type OptionSpecs = Record<string, OptionSpec>;

/** The allowed values of a choice option, as a union of string literals. */
export type ChoiceOf<O> = O extends { choices: readonly (infer C extends string)[] } ? C : string;

/** The parsed value type of one option declaration. */
export type OptionValue<O> = O extends { kind: "flag" } ? boolean
  : O extends { repeatable: true } ? string[]
  : O extends { kind: "integer" | "number" } ? (O extends { default: number } ? number
      : number | undefined)
  : O extends { kind: "choice" } ? (O extends { default: string } ? ChoiceOf<O>
      : ChoiceOf<O> | undefined)
  : O extends { default: string } ? string
  : string | undefined;

/** Parsed values of all options of `S`. */
export type ParsedOptions<S extends OptionSpecs> = { -readonly [K in keyof S]: OptionValue<S[K]> };

/** Result of {@linkcode parseOptions}. */
export interface ParseResult<S extends OptionSpecs> {
  /** Values by option name. */
  options: ParsedOptions<S>;
  /** Arguments that do not start with a dash. */
  positional: string[];
  /** Names of the options given, in command-line order (for "last one wins" choices). */
  order: string[];
  /** Names given on the command line (to tell a default from an explicit value). */
  given: Set<string>;
  /** Warnings to print (unknown options that are ignored, deprecated aliases). */
  warnings: string[];
}

/** Settings of {@linkcode parseOptions}. */
export interface ParseSettings {
  /** Program name for messages and `--help`. */
  program: string;
  /** One paragraph above the option list in `--help`. */
  summary?: string;
  /** Usage line after the program name, e.g. `[options] <registrar address>`. */
  usage?: string;
  /**
   * Decides about an unknown option: fail (default), warn and ignore, or ignore silently.
   * RSPLIB's rspserver ignores unknown general options; most other programs fail.
   */
  unknown?: (name: string) => "error" | "warn" | "ignore";
  /** Positional arguments allowed (default 0). */
  maxPositional?: number;
}

/**
 * A bad command line. Programs print the message and exit with code 1.
 *
 * @example
 * ```ts
 * import { OptionError, parseOptions } from "./options.ts";
 * try {
 *   parseOptions(["-nope"], {}, { program: "demo" });
 * } catch (e) {
 *   console.log(e instanceof OptionError); // true
 * }
 * ```
 */
export class OptionError extends Error {
  /** @param message What is wrong, naming the option. */
  constructor(message: string) {
    super(message);
    this.name = "OptionError";
  }
}

/**
 * `--help` or `-h` was given. {@linkcode parseCommandLine} prints the help text and exits 0.
 */
export class HelpRequested extends Error {
  /** The help text. */
  readonly help: string;
  /** @param help The help text. */
  constructor(help: string) {
    super("Help requested");
    this.name = "HelpRequested";
    this.help = help;
  }
}

/**
 * Parses an integer like RSPLIB's option parsers accept it: decimal, or hex with `0x`.
 *
 * @param text The text.
 * @returns The number, or `undefined` when `text` is no integer.
 */
export function parseInteger(text: string): number | undefined {
  const t = text.trim();
  if (/^[+-]?\d+$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  return undefined;
}

function convert(name: string, spec: OptionSpec, raw: string): string | number {
  switch (spec.kind) {
    case "integer":
    case "number": {
      const v = spec.kind === "integer" ? parseInteger(raw) : Number(raw.trim());
      if (v === undefined || raw.trim() === "" || !Number.isFinite(v)) {
        throw new OptionError(`Invalid value "${raw}" for option -${name}: expected a number`);
      }
      const lo = spec.min ?? -Infinity, hi = spec.max ?? Infinity;
      if (v < lo || v > hi) {
        if (spec.outOfRange === "error") {
          throw new OptionError(
            `Invalid value ${v} for option -${name}: allowed ${rangeText(spec)}`,
          );
        }
        return Math.min(Math.max(v, lo), hi);
      }
      return v;
    }
    case "choice":
      if (!spec.choices?.includes(raw)) {
        throw new OptionError(
          `Invalid value "${raw}" for option -${name}: use one of ${spec.choices?.join(", ")}`,
        );
      }
      return raw;
    default:
      return raw;
  }
}

function rangeText(spec: OptionSpec): string {
  return `${spec.min ?? "-inf"}..${spec.max ?? "inf"}`;
}

/**
 * Parses command-line arguments against option declarations.
 *
 * @example
 * ```ts
 * import { parseOptions } from "./options.ts";
 * const specs = {
 *   loglevel: { kind: "integer", description: "Log level", default: 1, min: 0, max: 9 },
 *   registrar: { kind: "string", description: "Registrar", repeatable: true },
 *   quiet: { kind: "flag", description: "No banner" },
 * } as const;
 * const { options } = parseOptions(
 *   ["-loglevel=5", "-registrar=10.0.0.1:3863", "--registrar=10.0.0.2:3863", "-quiet"],
 *   specs,
 *   { program: "demo" },
 * );
 * console.log(options.loglevel, options.registrar.length, options.quiet); // 5 2 true
 * ```
 *
 * @typeParam S The declarations.
 * @param args The arguments (e.g. `Deno.args`).
 * @param specs The declarations.
 * @param settings Program name, unknown-option policy.
 * @returns Values, positional arguments, order and warnings.
 * @throws {OptionError} For an unknown or malformed option.
 * @throws {HelpRequested} For `-h`, `-help` or `--help`.
 */
export function parseOptions<S extends OptionSpecs>(
  args: readonly string[],
  specs: S,
  settings: ParseSettings,
): ParseResult<S> {
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.aliasOf !== undefined) continue;
    values[name] = spec.kind === "flag"
      ? (spec.default ?? false)
      : spec.repeatable
      ? []
      : spec.default;
  }
  const positional: string[] = [];
  const order: string[] = [];
  const given = new Set<string>();
  const warnings: string[] = [];
  for (const arg of args) {
    if (arg === "-h" || arg === "--help" || arg === "-help") {
      throw new HelpRequested(formatHelp(specs, settings));
    }
    if (!arg.startsWith("-") || arg === "-") {
      positional.push(arg);
      continue;
    }
    const body = arg.startsWith("--") ? arg.slice(2) : arg.slice(1);
    const eq = body.indexOf("=");
    let name = eq >= 0 ? body.slice(0, eq) : body;
    const raw = eq >= 0 ? body.slice(eq + 1) : undefined;
    let spec: OptionSpec | undefined = specs[name];
    if (spec === undefined || !Object.hasOwn(specs, name)) {
      const action = settings.unknown?.(name) ?? "error";
      if (action === "error") {
        throw new OptionError(`Unknown option ${arg} (see ${settings.program} --help)`);
      }
      if (action === "warn") warnings.push(`Ignoring unknown option ${arg}`);
      continue;
    }
    if (spec.aliasOf !== undefined) {
      warnings.push(`Option -${name} is deprecated, use -${spec.aliasOf}`);
      name = spec.aliasOf;
      spec = specs[name];
    }
    order.push(name);
    given.add(name);
    if (spec.kind === "flag") {
      if (raw !== undefined) {
        throw new OptionError(`Option -${name} takes no value (got "${arg}")`);
      }
      values[name] = true;
      continue;
    }
    if (raw === undefined) {
      throw new OptionError(
        `Option -${name} needs a value: -${name}=<${spec.valueName ?? "value"}>`,
      );
    }
    const value = convert(name, spec, raw);
    if (spec.repeatable) (values[name] as unknown[]).push(value);
    else values[name] = value;
  }
  const max = settings.maxPositional ?? 0;
  if (positional.length > max) {
    throw new OptionError(
      `Unexpected argument "${positional[max]}" (see ${settings.program} --help)`,
    );
  }
  return { options: values as ParsedOptions<S>, positional, order, given, warnings };
}

/**
 * Formats the `--help` text: usage line, summary, and every option with its default.
 *
 * @param specs The declarations.
 * @param settings Program name, usage and summary.
 * @returns The text.
 */
export function formatHelp(specs: OptionSpecs, settings: ParseSettings): string {
  const lines = [`Usage: ${settings.program} ${settings.usage ?? "[options]"}`];
  if (settings.summary) lines.push("", settings.summary);
  lines.push("", "Options:");
  const rows: [string, string][] = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.aliasOf !== undefined) continue;
    const left = spec.kind === "flag"
      ? `-${name}`
      : `-${name}=<${spec.valueName ?? (spec.choices ? spec.choices.join("|") : "value")}>`;
    let right = spec.description;
    if (spec.min !== undefined || spec.max !== undefined) right += ` (${rangeText(spec)})`;
    if (spec.repeatable) right += " (repeatable)";
    if (spec.default !== undefined && spec.kind !== "flag") right += ` [default: ${spec.default}]`;
    rows.push([left, right]);
  }
  rows.push(["-h, --help", "Show this help"]);
  const width = Math.min(44, Math.max(...rows.map(([l]) => l.length)));
  for (const [l, r] of rows) {
    lines.push(
      l.length > width ? `  ${l}\n  ${" ".repeat(width)}  ${r}` : `  ${l.padEnd(width)}  ${r}`,
    );
  }
  return lines.join("\n") + "\n";
}

/**
 * Parses `Deno.args` for a program: prints `--help` and exits 0, or prints the error and exits 1
 * for a bad option; prints warnings to standard error.
 *
 * @example
 * ```ts ignore
 * import { parseCommandLine } from "./options.ts";
 * const { options } = parseCommandLine(Deno.args, {
 *   quiet: { kind: "flag", description: "No banner" },
 * } as const, { program: "example" });
 * ```
 *
 * @typeParam S The declarations.
 * @param args The arguments.
 * @param specs The declarations.
 * @param settings Program name and policies.
 * @returns The parse result.
 */
export function parseCommandLine<S extends OptionSpecs>(
  args: readonly string[],
  specs: S,
  settings: ParseSettings,
): ParseResult<S> {
  try {
    const result = parseOptions(args, specs, settings);
    for (const w of result.warnings) console.error(`${settings.program}: ${w}`);
    return result;
  } catch (e) {
    if (e instanceof HelpRequested) {
      console.log(e.help);
      Deno.exit(0);
    }
    if (e instanceof OptionError) {
      console.error(`${settings.program}: ${e.message}`);
      Deno.exit(1);
    }
    throw e;
  }
}
