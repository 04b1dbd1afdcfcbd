/**
 * Registrar discovery by ASAP Server Announces (UDP multicast) across hosts: three network
 * namespaces on a bridge (scripts/netns/testbed.sh): our `rspregistrar` announces on host 1,
 * two `rspserver -echo` on host 2 and an `rspterminal` on host 3 find it without `-registrar=`.
 * Needs root (namespaces); usrsctp with UDP encapsulation.
 */
import assert from "node:assert/strict";
import { createTestbed, netnsAvailable } from "../_netns.ts";
import { Program } from "./_process.ts";

const ENV = { RSERPOOL_SCTP: "usrsctp-udp", NO_COLOR: "1" };

Deno.test({
  name: "rspserver and rspterminal find the registrar by announces and fail over (namespaces)",
  ignore: !netnsAvailable(),
  fn: async () => {
    await using bed = await createTestbed({ hosts: 3, links: 1 });
    const [h1, h2, h3] = [1, 2, 3].map((i) => bed.host(i));
    const programs: Program[] = [];
    try {
      const registrar = new Program(
        "rspregistrar",
        [
          `-asap=${h1.addresses[0]}:3863`,
          "-asapannounce=auto",
          "-enrpannounce=off",
          "-serverannouncecycle=300",
          "-mentordiscoverytimeout=1000",
          "-quiet",
        ],
        ENV,
        false,
        h1.namespace,
      );
      programs.push(registrar);
      const servers = ["0000e001", "0000e002"].map((id) =>
        new Program(
          "rspserver",
          [
            "-echo",
            `-identifier=0x${id}`,
            "-registrarconnecttimeout=5000",
          ],
          ENV,
          false,
          h2.namespace,
        )
      );
      programs.push(...servers);
      for (const s of servers) await s.waitFor(/Identifier {14}= \$0000e00\d/, 20000);
      const terminal = new Program("rspterminal", [], ENV, true, h3.namespace);
      programs.push(terminal);
      await terminal.write("one\n");
      const first = await terminal.waitFor(/from PE \$(0000e00\d)> one/, 20000);
      const serving = servers.find((s) => s.stdout.includes(`= $${first[1]}`))!;
      serving.kill("SIGTERM");
      await terminal.waitFor(/RSERPOOL_FAILOVER_COMPLETE/, 15000);
      await terminal.write("two\n");
      const second = await terminal.waitFor(/from PE \$(0000e00\d)> two/, 15000);
      assert.notEqual(second[1], first[1]);
      // The pool elements registered with their bridge address (host 2).
      assert.equal((await serving.exited).code, 0);
    } finally {
      for (const p of programs.reverse()) await p.stop();
    }
  },
});
