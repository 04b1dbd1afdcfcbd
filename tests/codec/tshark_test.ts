/**
 * Wireshark (tshark) decodes every message type our encoder produces without a malformed-packet
 * mark or an expert error. Needs tshark and text2pcap (CI installs them: package tshark).
 */
import assert from "node:assert/strict";
import { encodeMessage } from "../../mod.ts";
import { sampleMessages } from "./_samples.ts";

const hasTshark = await new Deno.Command("tshark", { args: ["--version"], stdout: "null" })
  .output().then((o) => o.success).catch(() => false);

function hexdump(messages: Uint8Array[]): string {
  let out = "";
  for (const b of messages) {
    for (let i = 0; i < b.length; i += 16) {
      out += i.toString(16).padStart(6, "0") + " " +
        Array.from(b.subarray(i, i + 16), (x) => x.toString(16).padStart(2, "0")).join(" ") +
        "\n";
    }
  }
  return out;
}

async function run(cmd: string, args: string[]): Promise<string> {
  const o = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  if (!o.success) throw new Error(`${cmd} failed: ${new TextDecoder().decode(o.stderr)}`);
  return new TextDecoder().decode(o.stdout);
}

for (const [ppid, protocol, port] of [[11, "asap", 3863], [12, "enrp", 9901]] as const) {
  Deno.test({
    name: `encodeMessage() output of every ${protocol.toUpperCase()} type is clean in tshark`,
    ignore: !hasTshark,
    fn: async () => {
      const samples = sampleMessages().filter(([p]) => p === ppid).map(([, m]) => m);
      const dir = await Deno.makeTempDir();
      try {
        await Deno.writeTextFile(`${dir}/in.od`, hexdump(samples.map(encodeMessage)));
        await run("text2pcap", [
          "-q",
          "-4",
          "10.0.0.1,10.0.0.2",
          "-S",
          `${port},${port},${ppid}`,
          `${dir}/in.od`,
          `${dir}/out.pcapng`,
        ]);
        const text = await run("tshark", [
          "-r",
          `${dir}/out.pcapng`,
          "-T",
          "fields",
          "-e",
          `${protocol}.message_type`,
          "-e",
          "_ws.malformed",
          "-e",
          "_ws.expert.severity",
        ]);
        const rows = text.trim().split("\n").map((l) => l.split("\t"));
        assert.equal(rows.length, samples.length);
        rows.forEach((row, i) => {
          const m = samples[i];
          assert.notEqual(row[0], "", `${m.type}: not dissected as ${protocol}`);
          assert.equal(row[1] ?? "", "", `${m.type}: malformed`);
          // Expert severities: 8388608 = error, 6291456 = warning.
          assert.ok(!/8388608|6291456/.test(row[2] ?? ""), `${m.type}: expert ${row[2]}`);
        });
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}
