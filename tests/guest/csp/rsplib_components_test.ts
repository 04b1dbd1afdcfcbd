/**
 * Our monitor shows RSPLIB's own programs (kernel SCTP, so inside the user-mode-linux guest of
 * scripts/uml/run.sh): RSPLIB's rspregistrar, an rspserver echo pool element and an rspterminal
 * pool user report to our monitor on the guest's loopback.
 *
 *   scripts/uml/run.sh -- .tools/bin/deno test -A tests/guest/csp/
 */
import assert from "node:assert/strict";
import { runCspMonitor } from "../../../src/csp/mod.ts";
import { Child, hasExecutable, terminalScreen, waitFor } from "../../csp/_helpers.ts";

const IN_GUEST = Deno.env.get("RSERPOOL_UML_GUEST") === "1";
const PROGRAMS = ["rspregistrar", "rspserver", "rspterminal"];
const HAVE_RSPLIB = PROGRAMS.every(hasExecutable);
const skip = !IN_GUEST
  ? "not inside the user-mode-linux guest (run it with scripts/uml/run.sh)"
  : !HAVE_RSPLIB
  ? "RSPLIB programs missing (apt-get install rsplib-registrar rsplib-tools)"
  : undefined;
if (skip) console.warn(`rsplib_components_test.ts: SKIPPED: ${skip}`);

/** The guest's first IPv4 address (site-local, so that RSPLIB's registrar accepts PEs on it). */
function guestAddress(): string {
  const listed = (Deno.env.get("RSERPOOL_UML_GUEST_ADDRESSES") ?? "").split(/\s+/);
  const v4 = listed.find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
  assert.ok(v4, `no IPv4 guest address in RSERPOOL_UML_GUEST_ADDRESSES="${listed.join(" ")}"`);
  return v4;
}

Deno.test({
  name: "runCspMonitor() shows RSPLIB's registrar, pool element and pool user",
  ignore: skip !== undefined,
  fn: async () => {
    const address = guestAddress();
    const controller = new AbortController();
    let output = "";
    let port = 0;
    const monitor = runCspMonitor({
      hostname: "127.0.0.1",
      port: 0,
      updateInterval: 200,
      purgeInterval: 5000,
      signal: controller.signal,
      write: (text) => output += text,
      onListen: (a) => port = a.port,
    });
    const screen = () => terminalScreen(output);
    const csp = [`-cspserver=127.0.0.1:${port}`, "-cspinterval=300"];
    const children: Child[] = [];
    try {
      const registrar = new Child("rspregistrar", [
        `-asap=${address}:3863`,
        `-enrp=${address}:9901`,
        "-asapannounce=off",
        "-enrpannounce=off",
        "-identifier=0x1111",
        "-loglevel=1",
        "-logcolor=off",
        ...csp,
      ]);
      children.push(registrar);
      const prShown = await waitFor(
        () => screen().some((l) => /^PR \$00001111 \[/.test(l)),
        15_000,
      );
      assert.ok(prShown, `registrar not shown:\n${screen().join("\n")}\n${registrar.stderr}`);

      const server = new Child("rspserver", [
        "-echo",
        `-registrar=${address}:3863`,
        "-identifier=0x12345678",
        "-asapannounce=off",
        "-loglevel=1",
        "-logcolor=off",
        ...csp,
      ]);
      children.push(server);
      const registered = await waitFor(
        () => screen().some((l) => /^PR \$00001111 .*"1\[1\] PEs in 1 Pool, 0 Peers"$/.test(l)),
        20_000,
      );
      assert.ok(registered, `PE not registered:\n${screen().join("\n")}\n${server.stdout}`);

      const terminal = new Child("rspterminal", [
        `-registrar=${address}:3863`,
        "-poolhandle=EchoPool",
        "-asapannounce=off",
        ...csp,
      ], { stdin: true });
      children.push(terminal);
      await terminal.write("hello from the guest\n");
      const all = await waitFor(() => {
        const lines = screen();
        return lines[0]?.endsWith("1 PRs, 1 PEs, 1 PUs") &&
          lines.some((l) => /^ {3}-> PE \$12345678 /.test(l));
      }, 20_000);
      const lines = screen();
      console.log(`our monitor shows:\n${lines.join("\n")}`);
      assert.ok(all, `${lines.join("\n")}\nterminal: ${terminal.stdout}${terminal.stderr}`);

      const text = lines.join("\n");
      assert.match(
        text,
        /^PR \$00001111 \[rserpool-uml: .*\] +U=\d\d:\d\d:\d\d l=\d\.\ds A=0 "1\[1\] PEs in 1 Pool, 0 Peers"$/m,
      );
      assert.match(
        text,
        /^PE \$12345678 \[rserpool-uml: .*\] +U=\d\d:\d\d:\d\d l=\d\.\ds A=1 .*"\d+ Sessions?"$/m,
      );
      assert.match(text, /^ {3}-> PR \$[0-9a-f]{8} ASAP\/SCTP +duration=0:00:\d\d$/m);
      assert.match(
        text,
        /^PU \$[0-9a-f]{14} \[rserpool-uml.*\] +U=\d\d:\d\d:\d\d l=\d\.\ds A=2 "1 Session"$/m,
      );
      assert.match(text, /^ {3}-> PE \$12345678 Data\/SCTP +duration=0:00:\d\d$/m);
      // RSPLIB's PE and PU report their registrar association; with a static -registrar entry
      // they do not learn the registrar's id, so it shows as PR $00000000.
      assert.equal(text.match(/^ {3}-> PR \$[0-9a-f]{8} ASAP\/SCTP/gm)?.length, 2);
      assert.match(terminal.stdout, /from PE \$12345678> hello from the guest/);

      // A clean stop sends RSPLIB's final report: the PU disappears at the next update.
      await terminal.stop("SIGINT");
      assert.ok(
        await waitFor(() => screen()[0]?.endsWith("1 PRs, 1 PEs, 0 PUs"), 3000),
        screen().join("\n"),
      );
    } finally {
      for (const child of children.reverse()) await child.stop("SIGINT");
      controller.abort();
      await monitor;
    }
  },
});
