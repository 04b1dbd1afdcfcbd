/** A child process for tests: output collected as text, wait for patterns, clean stop. */

// deno-lint-ignore no-control-regex -- ANSI escape sequences start with ESC
const ANSI = /\x1b\[[0-9;?]*[a-zA-Z]/g;

/** Removes ANSI escape sequences (RSPLIB's programs colour their output). */
export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** Options of {@linkcode Program}. */
export interface ProgramOptions extends Omit<Deno.CommandOptions, "stdout" | "stderr"> {
  /** Pipe standard input (write with {@linkcode Program.write}). */
  input?: boolean;
}

/** A running program with its standard output and error collected. */
export class Program implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  readonly name: string;
  stdout = "";
  stderr = "";
  readonly #done: Promise<Deno.CommandStatus>;
  readonly #writer?: WritableStreamDefaultWriter<Uint8Array>;

  /**
   * Starts `program`.
   *
   * @param program Executable.
   * @param args Arguments.
   * @param options Environment, stdin.
   */
  constructor(program: string, args: string[], options: ProgramOptions = {}) {
    this.name = `${program} ${args.join(" ")}`;
    const { input, ...rest } = options;
    this.child = new Deno.Command(program, {
      ...rest,
      args,
      stdin: input ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (input) this.#writer = this.child.stdin.getWriter();
    const read = async (s: ReadableStream<Uint8Array>, into: "stdout" | "stderr") => {
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) this[into] += chunk;
    };
    const reading = Promise.all([
      read(this.child.stdout, "stdout"),
      read(this.child.stderr, "stderr"),
    ]);
    this.#done = reading.then(() => this.child.status);
  }

  /** Output so far (stdout then stderr), without ANSI escapes. */
  get output(): string {
    return stripAnsi(this.stdout + this.stderr);
  }

  /** Waits until the output matches `pattern`; returns the match. */
  async waitFor(pattern: RegExp, timeout = 20000): Promise<RegExpMatchArray> {
    const end = performance.now() + timeout;
    for (;;) {
      const m = this.output.match(pattern);
      if (m) return m;
      if (performance.now() > end) {
        throw new Error(
          `timeout waiting for ${pattern} from ${this.name}; output:\n${this.output}`,
        );
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Writes text to standard input. */
  async write(text: string): Promise<void> {
    await this.#writer?.write(new TextEncoder().encode(text));
  }

  /** Sends a signal (ignores a process that is gone). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // already exited
    }
  }

  /** Resolves with the exit status. */
  status(): Promise<Deno.CommandStatus> {
    return this.#done;
  }

  /** Stops the program (SIGTERM, then SIGKILL after `grace` ms) and waits for it. */
  async stop(grace = 5000): Promise<Deno.CommandStatus> {
    try {
      await this.#writer?.close();
    } catch {
      // closed
    }
    this.kill("SIGTERM");
    const timer = setTimeout(() => this.kill("SIGKILL"), grace);
    try {
      return await this.#done;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Same as {@linkcode Program.stop}. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
