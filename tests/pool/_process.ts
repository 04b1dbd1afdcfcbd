/**
 * Runs the project's programs (`cli/*.ts`) as child processes for host tests: collects their
 * output, waits for patterns, feeds standard input, stops them by signal.
 *
 * @module
 */

const ROOT = new URL("../..", import.meta.url).pathname.replace(/\/$/, "");

/** Strips ANSI colour sequences. */
export function plain(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, "");
}

/** A running program. */
export class Program implements AsyncDisposable {
  readonly name: string;
  readonly child: Deno.ChildProcess;
  #out = "";
  #err = "";
  #stdin?: WritableStreamDefaultWriter<Uint8Array>;
  #readers: Promise<void>[] = [];
  #status?: Deno.CommandStatus;
  readonly exited: Promise<Deno.CommandStatus>;

  /**
   * Starts `cli/<name>.ts`, or the executable `name` when it is an absolute path (e.g. RSPLIB's
   * `/usr/bin/rspserver`); inside network namespace `netns` when given.
   */
  constructor(
    name: string,
    args: string[],
    env: Record<string, string> = {},
    stdin = false,
    netns?: string,
  ) {
    this.name = name;
    const external = name.startsWith("/");
    let command = external ? name : Deno.execPath();
    let argv = external ? args : ["run", "-A", "--unstable-net", `${ROOT}/cli/${name}.ts`, ...args];
    if (netns !== undefined) {
      argv = ["netns", "exec", netns, command, ...argv];
      command = "ip";
    }
    this.child = new Deno.Command(command, {
      args: argv,
      env,
      stdin: stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (stdin) this.#stdin = this.child.stdin.getWriter();
    this.#readers.push(this.#pump(this.child.stdout, (t) => this.#out += t));
    this.#readers.push(this.#pump(this.child.stderr, (t) => this.#err += t));
    this.exited = this.child.status.then((s) => this.#status = s);
  }

  async #pump(stream: ReadableStream<Uint8Array>, add: (t: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  }

  /** Standard output so far (colours removed). */
  get stdout(): string {
    return plain(this.#out);
  }

  /** Standard output so far, as written. */
  get rawStdout(): string {
    return this.#out;
  }

  /** Standard error so far (colours removed). */
  get stderr(): string {
    return plain(this.#err);
  }

  /** Exit status once exited. */
  get status(): Deno.CommandStatus | undefined {
    return this.#status;
  }

  /** Waits until stdout (or stderr) matches; returns the match. */
  async waitFor(
    pattern: RegExp,
    timeout = 10000,
    where: "stdout" | "stderr" = "stdout",
  ): Promise<RegExpMatchArray> {
    const end = performance.now() + timeout;
    for (;;) {
      const m = (where === "stdout" ? this.stdout : this.stderr).match(pattern);
      if (m) return m;
      if (this.#status !== undefined) {
        throw new Error(
          `${this.name} exited (${this.#status.code}) before ${pattern}:\n${this.stdout}\n${this.stderr}`,
        );
      }
      if (performance.now() > end) {
        throw new Error(
          `${this.name}: no ${pattern} within ${timeout} ms:\n${this.stdout}\n${this.stderr}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Writes to standard input. */
  async write(text: string): Promise<void> {
    await this.#stdin?.write(new TextEncoder().encode(text));
  }

  /** Closes standard input. */
  async closeInput(): Promise<void> {
    await this.#stdin?.close().catch(() => {});
    this.#stdin = undefined;
  }

  /** Sends a signal (ignored once exited). */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    if (this.#status !== undefined) return;
    try {
      this.child.kill(signal);
    } catch {
      // exited meanwhile
    }
  }

  /** Stops the program (SIGTERM, then SIGKILL after `grace` ms) and waits for its output. */
  async stop(grace = 5000): Promise<Deno.CommandStatus> {
    await this.closeInput();
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), grace);
    const status = await this.exited;
    clearTimeout(t);
    await Promise.all(this.#readers);
    return status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Runs a program to its end with the given input; returns code and output. */
export async function runToEnd(
  name: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-net", `${ROOT}/cli/${name}.ts`, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const d = new TextDecoder();
  return {
    code: out.code,
    stdout: plain(d.decode(out.stdout)),
    stderr: plain(d.decode(out.stderr)),
  };
}
