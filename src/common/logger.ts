/**
 * Logging with RSPLIB's semantics: `-loglevel=0..9` (0 none, 1 error (default), 2 warning,
 * 3 note, 4 action, 5–9 verbose), `-logcolor=on|off`, `-logfile=F`, `-logappend=F`, `-logquiet`.
 *
 * @module
 */

import { timeStamp } from "./time_stamp.ts";

/**
 * Log levels, as RSPLIB numbers them.
 *
 * @example
 * ```ts
 * import { LogLevel } from "./logger.ts";
 * console.log(LogLevel.Warning); // 2
 * ```
 */
export const LogLevel = {
  None: 0,
  Error: 1,
  Warning: 2,
  Note: 3,
  Action: 4,
  Verbose1: 5,
  Verbose2: 6,
  Verbose3: 7,
  Verbose4: 8,
  Verbose5: 9,
} as const;

/** Highest log level. */
export const MAX_LOG_LEVEL = 9;

/** Options of {@linkcode Logger}. */
export interface LoggerOptions {
  /** Messages up to this level are written. @default {1} */
  level?: number;
  /** ANSI colours as RSPLIB uses them. @default {true} */
  color?: boolean;
  /** Write to this file (truncated), instead of standard error. */
  file?: string;
  /** Append to this file, instead of standard error. */
  appendFile?: string;
  /** Where lines go when no file is given (for tests). @default {standard error} */
  write?: (text: string) => void;
  /** Component name shown in the first line of each entry. */
  name?: string;
}

/** Colours of (time stamp, text) per level, RSPLIB's numbering (30 + c % 8, +60 if c > 8). */
const COLORS: readonly [number, number][] = [
  [0, 0],
  [9, 1],
  [13, 5],
  [10, 2],
  [12, 4],
  [10, 3],
  [14, 6],
  [3, 3],
  [6, 6],
  [7, 7],
];
const PREFIX = ["", "Error: ", "Warning: ", "", "", "", "", "", "", ""];

function ansi(color: number): string {
  return `\x1b[${30 + (color % 8) + (color > 8 ? 60 : 0)}m`;
}

const encoder = new TextEncoder();

/**
 * A logger. Each entry is a header line (time, process, host, component) and the message, like
 * RSPLIB's log output. Check {@linkcode Logger.enabled} before building expensive messages.
 *
 * @example
 * ```ts
 * import { Logger, LogLevel } from "./logger.ts";
 * const lines: string[] = [];
 * const log = new Logger({ level: LogLevel.Note, color: false, write: (t) => lines.push(t) });
 * log.note("Registrar started");
 * log.action("not written: level 4 > 3");
 * console.log(lines.length); // 1
 * ```
 */
export class Logger {
  #level: number;
  #color: boolean;
  #file?: Deno.FsFile;
  #write: (text: string) => void;
  #name: string;
  #host: string;

  /**
   * Makes a logger; it opens `options.file` (or appends to `options.appendFile`) at once.
   *
   * @param options Level, colour and target.
   */
  constructor(options: LoggerOptions = {}) {
    this.#level = Math.max(0, Math.min(options.level ?? LogLevel.Error, MAX_LOG_LEVEL));
    this.#color = options.color ?? true;
    this.#name = options.name ?? "";
    this.#host = safeHostname();
    const path = options.file ?? options.appendFile;
    if (path !== undefined) {
      const file = Deno.openSync(path, {
        write: true,
        create: true,
        truncate: options.file !== undefined,
        append: options.file === undefined,
      });
      this.#file = file;
      this.#write = (text) => writeAll(file, encoder.encode(text));
      if (options.appendFile !== undefined && file.statSync().size > 0) {
        this.#write("\n" + "#".repeat(89) + "\n\n");
      }
    } else {
      this.#write = options.write ?? ((text) => writeAll(Deno.stderr, encoder.encode(text)));
    }
  }

  /** The current level. */
  get level(): number {
    return this.#level;
  }

  /** Whether messages of `level` are written. */
  enabled(level: number): boolean {
    return level <= this.#level;
  }

  /**
   * Writes a message at `level` (1 = error ... 9 = verbose 5).
   *
   * @param level The level.
   * @param message The text (one or more lines).
   */
  log(level: number, message: string): void {
    if (level > this.#level || level < 1) return;
    const stamp = timeStamp();
    const [c1, c2] = COLORS[level];
    const color = this.#color;
    const where = `P${Deno.pid}@${this.#host}${this.#name ? " " + this.#name : ""}`;
    const text = message.endsWith("\n") ? message : message + "\n";
    const out = color
      ? `${ansi(c1)}${stamp}${ansi(c2)}${where}\n${ansi(c1)}${stamp}${ansi(c2)}${
        PREFIX[level]
      }${text}\x1b[0m`
      : `${stamp}${where}\n${stamp}${PREFIX[level]}${text}`;
    try {
      this.#write(out);
    } catch {
      // A log target that went away must not take the program down.
    }
  }

  /** Logs an error (level 1). */
  error(message: string): void {
    this.log(LogLevel.Error, message);
  }

  /** Logs a warning (level 2). */
  warning(message: string): void {
    this.log(LogLevel.Warning, message);
  }

  /** Logs a note (level 3). */
  note(message: string): void {
    this.log(LogLevel.Note, message);
  }

  /** Logs an action (level 4). */
  action(message: string): void {
    this.log(LogLevel.Action, message);
  }

  /** Logs a verbose message (`n` = 1..5, levels 5..9). */
  verbose(n: number, message: string): void {
    this.log(LogLevel.Action + n, message);
  }

  /** Closes a log file. */
  close(): void {
    if (this.#file !== undefined) {
      this.log(LogLevel.Action, "Logging finished.");
      this.#file.close();
      this.#file = undefined;
      this.#level = 0;
    }
  }
}

function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let off = 0;
  while (off < bytes.length) off += w.writeSync(bytes.subarray(off));
}

function safeHostname(): string {
  try {
    return Deno.hostname();
  } catch {
    return "?";
  }
}

/**
 * A logger that writes nothing (the default for library code).
 *
 * @example
 * ```ts
 * import { silentLogger } from "./logger.ts";
 * silentLogger.error("dropped");
 * ```
 */
export const silentLogger: Logger = new Logger({ level: LogLevel.None, write: () => {} });
