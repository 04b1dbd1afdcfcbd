/**
 * The console view as a person sees it: `cli/cspmonitor.ts` runs in a detached tmux session (a
 * real terminal emulator), reporters send to it, and `tmux capture-pane -p` shows the screen.
 * The tmux server is private to the test (`tmux -L <name> -f /dev/null`).
 */
import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  CspPpid,
  CspReporter,
  encodeComponentStatusReport,
} from "../../src/csp/mod.ts";
import { fuzzDatagram, Random } from "./_fuzz.ts";
import {
  delay,
  DENO,
  freeUdpPort,
  hasExecutable,
  ROOT,
  run,
  UdpSender,
  waitFor,
} from "./_helpers.ts";

const HAVE_TMUX = hasExecutable("tmux");
if (!HAVE_TMUX) console.warn("tmux_test.ts: SKIPPED: tmux not installed (apt-get install tmux)");

/** A private tmux server with one detached session running a command. */
class TmuxSession implements AsyncDisposable {
  readonly socket = `csp-test-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  readonly target = "csp";

  async start(command: string[], width: number, height: number): Promise<void> {
    const shellCommand = "exec " + command.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const result = await this.tmux(
      "new-session",
      "-d",
      "-s",
      this.target,
      "-x",
      String(width),
      "-y",
      String(height),
      "-c",
      ROOT,
      shellCommand,
      ";",
      "set-option",
      "-t",
      this.target,
      "remain-on-exit",
      "on",
    );
    assert.equal(result.code, 0, result.stderr);
  }

  tmux(...args: string[]) {
    return run("tmux", ["-L", this.socket, "-f", "/dev/null", ...args]);
  }

  /** The visible screen, trailing blanks and empty lines removed. */
  async capture(): Promise<string[]> {
    const { stdout } = await this.tmux("capture-pane", "-p", "-t", this.target);
    const lines = stdout.split("\n").map((l) => l.trimEnd());
    while (lines.length > 0 && lines.at(-1) === "") lines.pop();
    return lines;
  }

  /** `[dead, exit status, signal]` of the pane's process. */
  async paneState(): Promise<[boolean, number | undefined, number | undefined]> {
    const { stdout } = await this.tmux(
      "display-message",
      "-p",
      "-t",
      this.target,
      "#{pane_dead}:#{pane_dead_status}:#{pane_dead_signal}",
    );
    const [dead, status, signal] = stdout.trim().split(":");
    return [dead === "1", status ? Number(status) : undefined, signal ? Number(signal) : undefined];
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.tmux("kill-server");
  }
}

Deno.test({
  name: "cspmonitor in tmux shows components, purges silent ones and survives a fuzz burst",
  ignore: !HAVE_TMUX,
  fn: async () => {
    const port = freeUdpPort();
    await using tmux = new TmuxSession();
    await tmux.start(
      [
        DENO,
        "run",
        "-A",
        "cli/cspmonitor.ts",
        `-localaddress=127.0.0.1:${port}`,
        "-updateinterval=200",
        "-purgeinterval=1000",
      ],
      200,
      50,
    );
    const screen = () => tmux.capture();
    const header = (counts: string) => async () => (await screen())[0]?.endsWith(counts);
    assert.ok(await waitFor(header("0 PRs, 0 PEs, 0 PUs"), 8000), (await screen()).join("\n"));

    const server = { hostname: "127.0.0.1", port };
    const registrar = new CspReporter({
      server,
      interval: 250,
      identifier: componentId(ComponentGroup.Registrar, 0x1111),
      status: () => ({
        statusText: "2[1] PEs in 1 Pool, 1 Peer",
        location: "pr-host: 10.0.0.1:3863",
        associations: [{
          receiverId: componentId(ComponentGroup.Registrar, 0x2222),
          ppid: CspPpid.ENRP,
        }],
      }),
    });
    const element = new CspReporter({
      server,
      interval: 250,
      identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
      status: () => ({
        statusText: "1 Session",
        location: "pe-host: 10.0.0.2:41234",
        workload: 0.5,
        associations: [{
          receiverId: componentId(ComponentGroup.Registrar, 0x1111),
          duration: 3_723_000_000n,
          ppid: CspPpid.ASAP,
        }],
      }),
    });
    const user = new CspReporter({
      server,
      interval: 250,
      identifier: componentId(ComponentGroup.PoolUser, 0xabcdef),
      status: () => ({
        statusText: "1 Session",
        location: "pu-host: 10.0.0.3",
        associations: [{
          receiverId: componentId(ComponentGroup.PoolElement, 0x12345678),
          duration: 61_000_000n,
          ppid: CspPpid.Data,
        }],
      }),
    });
    using sender = new UdpSender();
    try {
      // A pool element that reports until everything is on screen, then falls silent (no final
      // report).
      const silent = encodeComponentStatusReport({
        senderId: componentId(ComponentGroup.PoolElement, 0xdead),
        senderTimestamp: 100_000_000n,
        reportInterval: 1_000_000,
        location: "pe-host: 10.0.0.9",
        status: "about to vanish",
        associations: [],
      });
      let lastSilentReport = 0;
      const allShown = await waitFor(async () => {
        await sender.send(silent, port);
        lastSilentReport = Date.now();
        const l = await screen();
        return l[0]?.endsWith("1 PRs, 2 PEs, 1 PUs") && l.length === 9 && l;
      }, 5000);
      assert.ok(allShown, (await screen()).join("\n"));
      const lines = allShown;
      console.log(`tmux pane:\n${lines.join("\n")}`);
      assert.match(
        lines[0],
        /^\d\d-\w{3}-\d{4} [\d:.]+: Current Component Status -- 1 PRs, 2 PEs, 1 PUs$/,
      );
      assert.equal(lines[1], "");
      assert.match(
        lines[2],
        /^PR \$00001111 \[pr-host: 10\.0\.0\.1:3863\] +U=00:00:0\d l=0\.\ds A=1 "2\[1\] PEs in 1 Pool, 1 Peer"$/,
      );
      assert.equal(lines[3], "   -> PR $00002222 ENRP/SCTP");
      assert.match(
        lines[4],
        /^PE \$12345678 \[pe-host: 10\.0\.0\.2:41234\] U=00:00:0\d l=0\.\ds A=1 L= 50% "1 Session"$/,
      );
      assert.equal(lines[5], "   -> PR $00001111 ASAP/SCTP         duration=1:02:03");
      assert.match(
        lines[6],
        /^PE \$0000dead \[pe-host: 10\.0\.0\.9\] +U=00:01:40 l=0\.\ds A=0 "about to vanish"$/,
      );
      assert.match(
        lines[7],
        /^PU \$00000000abcdef \[pu-host: 10\.0\.0\.3\] +U=00:00:0\d l=0\.\ds A=1 "1 Session"$/,
      );
      assert.equal(lines[8], "   -> PE $12345678 Data/SCTP         duration=0:01:01");
      assert.equal(lines.length, 9);
      for (const i of [2, 6, 7]) assert.equal(lines[i].indexOf("U="), lines[4].indexOf("U="));

      // Purge: the silent PE goes after the purge interval (1 s), the others stay.
      assert.ok(await waitFor(header("1 PRs, 1 PEs, 1 PUs"), 3000), (await screen()).join("\n"));
      const silentFor = Date.now() - lastSilentReport;
      assert.ok(silentFor >= 900, `purged after ${silentFor} ms of silence`);
      assert.ok(!(await screen()).some((l) => l.includes("$0000dead")));

      // Final report: the PU is gone at the next update (200 ms), long before a purge (1 s).
      const closed = Date.now();
      await user.close();
      assert.ok(await waitFor(header("1 PRs, 1 PEs, 0 PUs"), 2000), (await screen()).join("\n"));
      const gone = Date.now() - closed;
      assert.ok(gone < 900, `PU removed ${gone} ms after its final report`);

      // Fuzz burst: the monitor keeps running and the screen recovers.
      const random = new Random(42);
      for (let i = 0; i < 5000; i++) {
        await sender.send(fuzzDatagram(random, i), port);
        if (i % 100 === 99) await delay(6);
      }
      const [dead] = await tmux.paneState();
      assert.equal(dead, false, `the monitor died:\n${(await screen()).join("\n")}`);
      const recovered = await waitFor(async () => {
        const l = await screen();
        return l.length === 6 && l[0].endsWith("1 PRs, 1 PEs, 0 PUs") &&
          l[5] === "   -> PR $00001111 ASAP/SCTP         duration=1:02:03";
      }, 5000);
      assert.ok(recovered, `screen after the burst:\n${(await screen()).join("\n")}`);
    } finally {
      await Promise.all([registrar.close(), element.close(), user.close()]);
    }

    // Ctrl-C ends it cleanly in the terminal.
    await tmux.tmux("send-keys", "-t", tmux.target, "C-c");
    // (The exit code itself is checked in cspmonitor_cli_test.ts: tmux 3.3 does not always
    // report a dead pane's status.)
    const exited = await waitFor(async () => {
      const [dead] = await tmux.paneState();
      return dead && (await screen()).includes("Terminated!");
    }, 5000);
    assert.ok(
      exited,
      `no exit on Ctrl-C: ${await tmux.paneState()}\n${(await screen()).join("\n")}`,
    );
    const [, status, signal] = await tmux.paneState();
    assert.ok(status === undefined || status === 0, `exit status ${status}`);
    assert.equal(signal, undefined, "not killed by a signal");
  },
});
