/** Helpers of the CSP tests: UDP sinks, processes, waiting, ANSI stripping. */

/** Deno executable running the tests. */
export const DENO: string = Deno.execPath();

/** Repository root. */
export const ROOT: string = new URL("../../", import.meta.url).pathname;

/** Removes ANSI control sequences (CSI) from terminal output. */
export function stripAnsi(text: string): string {
  // deno-lint-ignore no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, "");
}

/** Parses hex into bytes (spaces allowed). */
export function fromHex(hex: string): Uint8Array {
  const clean = hex.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 50 ms until it returns a truthy value or `timeout` ms pass.
 *
 * @returns The last value of `check`.
 */
export async function waitFor<T>(check: () => T | Promise<T>, timeout: number): Promise<T> {
  const end = Date.now() + timeout;
  let value = await check();
  while (!value && Date.now() < end) {
    await delay(50);
    value = await check();
  }
  return value;
}

/** A free UDP port on 127.0.0.1 (bound and released; good enough for tests). */
export function freeUdpPort(): number {
  const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (conn.addr as Deno.NetAddr).port;
  conn.close();
  return port;
}

/** A UDP socket on loopback that collects the datagrams it receives. */
export class UdpSink implements AsyncDisposable {
  readonly conn: Deno.DatagramConn;
  readonly datagrams: Uint8Array[] = [];
  #loop: Promise<void>;

  constructor() {
    const conn = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    this.conn = conn;
    this.#loop = (async () => {
      try {
        for await (const [data] of conn) this.datagrams.push(data.slice());
      } catch {
        // closed
      }
    })();
  }

  /** The port to send to. */
  get port(): number {
    return (this.conn.addr as Deno.NetAddr).port;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.conn.close();
    await this.#loop;
  }
}

/** A UDP sender on loopback. */
export class UdpSender implements Disposable {
  readonly conn: Deno.DatagramConn = Deno.listenDatagram({
    transport: "udp",
    hostname: "127.0.0.1",
    port: 0,
  });

  /** Sends one datagram to 127.0.0.1:`port`. */
  send(bytes: Uint8Array, port: number): Promise<number> {
    return this.conn.send(bytes, { transport: "udp", hostname: "127.0.0.1", port });
  }

  [Symbol.dispose](): void {
    this.conn.close();
  }
}

/**
 * A child process whose standard output is collected as text (the newest `limit` characters),
 * killed (SIGTERM, then SIGKILL) and awaited on dispose.
 */
export class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  #stdout = "";
  #stderr = "";
  #readers: Promise<void>[];
  #limit: number;
  #status: Deno.CommandStatus | undefined;
  #stdin: boolean;

  constructor(
    command: string,
    args: string[],
    options: { limit?: number; cwd?: string; stdin?: boolean } = {},
  ) {
    this.#limit = options.limit ?? 1_000_000;
    this.#stdin = options.stdin ?? false;
    this.process = new Deno.Command(command, {
      args,
      cwd: options.cwd ?? ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#readers = [
      this.#collect(this.process.stdout, (t) => this.#stdout = this.#trim(this.#stdout + t)),
      this.#collect(this.process.stderr, (t) => this.#stderr = this.#trim(this.#stderr + t)),
    ];
    this.process.status.then((s) => this.#status = s);
  }

  async #collect(stream: ReadableStream<Uint8Array>, add: (text: string) => void): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) add(decoder.decode(chunk, { stream: true }));
  }

  #trim(text: string): string {
    return text.length > this.#limit ? text.slice(text.length - this.#limit) : text;
  }

  /** Writes text to standard input (only with `stdin: true`). */
  async write(text: string): Promise<void> {
    const writer = this.process.stdin.getWriter();
    try {
      await writer.write(new TextEncoder().encode(text));
    } finally {
      writer.releaseLock();
    }
  }

  /** Standard output so far. */
  get stdout(): string {
    return this.#stdout;
  }

  /** Standard error so far. */
  get stderr(): string {
    return this.#stderr;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.#status === undefined;
  }

  /** Sends a signal and waits (at most `timeout` ms, then SIGKILL) for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM", timeout = 3000): Promise<Deno.CommandStatus> {
    if (this.#stdin) {
      this.#stdin = false;
      await this.process.stdin.close().catch(() => {});
    }
    if (this.#status === undefined) {
      try {
        this.process.kill(signal);
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          this.process.kill("SIGKILL");
        } catch {
          // already gone
        }
      }, timeout);
      try {
        await this.process.status;
      } finally {
        clearTimeout(timer);
      }
    }
    await Promise.all(this.#readers);
    return await this.process.status;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Whether an executable can be found in PATH (or at an absolute path). */
export function hasExecutable(name: string): boolean {
  if (name.startsWith("/")) {
    try {
      return Deno.statSync(name).isFile;
    } catch {
      return false;
    }
  }
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return true;
    } catch {
      // not here
    }
  }
  return false;
}

/** Runs a command to completion and returns its output. */
export async function run(
  command: string,
  args: string[],
  stdin?: Uint8Array,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = new Deno.Command(command, {
    args,
    cwd: ROOT,
    stdin: stdin ? "piped" : "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin) {
    const writer = child.stdin.getWriter();
    await writer.write(stdin);
    await writer.close();
  }
  const out = await child.output();
  const decoder = new TextDecoder();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

/**
 * A tiny terminal: applies text, line feeds (as CR LF, like a tty), and the control sequences
 * that the monitor uses (cursor position `H`, erase `K` and `J`; colours are ignored), and
 * returns the visible lines without trailing blanks.
 */
export function terminalScreen(output: string, screen: string[] = []): string[] {
  let row = 0, col = 0;
  const put = (ch: string) => {
    while (screen.length <= row) screen.push("");
    const line = screen[row].padEnd(col, " ");
    screen[row] = line.slice(0, col) + ch + line.slice(col + 1);
    col++;
  };
  // deno-lint-ignore no-control-regex
  const tokens = output.match(/\x1b\[[0-9;?]*[a-zA-Z]|\n|\r|[^\x1b\n\r]/g) ?? [];
  for (const token of tokens) {
    if (token === "\n") {
      row++;
      col = 0;
    } else if (token === "\r") {
      col = 0;
    } else if (token.startsWith("\x1b[")) {
      const command = token.at(-1);
      const params = token.slice(2, -1).split(";").map((p) => (p === "" ? 0 : Number(p)));
      if (command === "H") {
        row = Math.max(1, params[0] ?? 1) - 1;
        col = Math.max(1, params[1] ?? 1) - 1;
      } else if (command === "K") {
        if (row < screen.length) screen[row] = screen[row].slice(0, col);
      } else if (command === "J") {
        if ((params[0] ?? 0) === 2) screen.length = 0;
        else {
          if (row < screen.length) screen[row] = screen[row].slice(0, col);
          screen.length = Math.min(screen.length, row + 1);
        }
      }
    } else {
      put(token);
    }
  }
  const lines = screen.map((l) => l.trimEnd());
  while (lines.length > 0 && lines.at(-1) === "") lines.pop();
  return lines;
}
