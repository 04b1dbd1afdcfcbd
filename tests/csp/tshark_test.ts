/**
 * Wireshark's `componentstatusprotocol` dissector (tshark) as an independent decoder of our
 * reports: every frame decodes without malformed or expert marks, with the values we sent.
 */
import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentId,
  CspPpid,
  CspReporter,
  decodeComponentStatusReport,
  encodeComponentStatusReport,
  IpProtocol,
} from "../../src/csp/mod.ts";
import { hasExecutable, run, UdpSink, waitFor } from "./_helpers.ts";

const HAVE_TSHARK = hasExecutable("tshark") && hasExecutable("text2pcap");
if (!HAVE_TSHARK) {
  console.warn("tshark_test.ts: SKIPPED: tshark/text2pcap not installed (apt-get install tshark)");
}

/** One `od -Ax -tx1`-style block per datagram, as text2pcap reads it. */
function hexdump(datagrams: Uint8Array[]): string {
  let text = "";
  for (const d of datagrams) {
    for (let i = 0; i < d.length; i += 16) {
      const bytes = Array.from(d.subarray(i, i + 16), (b) => b.toString(16).padStart(2, "0"));
      text += `${i.toString(16).padStart(6, "0")} ${bytes.join(" ")}\n`;
    }
  }
  return text;
}

const FIELDS = [
  "_ws.malformed",
  "_ws.expert.message",
  "componentstatusprotocol.message_type",
  "componentstatusprotocol.message_final_bit",
  "componentstatusprotocol.message_length",
  "componentstatusprotocol.message_version",
  "componentstatusprotocol.message_sender_id",
  "componentstatusprotocol.message_sendertimestamp",
  "componentstatusprotocol.componentstatusreport_reportinterval",
  "componentstatusprotocol.componentstatusreport_location",
  "componentstatusprotocol.componentstatusreport_status",
  "componentstatusprotocol.componentstatusreport_workload",
  "componentstatusprotocol.componentstatusreport_associations",
  "componentstatusprotocol.componentassociation_receiver_id",
  "componentstatusprotocol.componentassociation_duration",
  "componentstatusprotocol.componentassociation_protocolid",
  "componentstatusprotocol.componentassociation_ppid",
];

/** Runs the datagrams through text2pcap and tshark; one record of FIELDS per frame. */
async function dissect(datagrams: Uint8Array[]): Promise<Record<string, string>[]> {
  const dir = await Deno.makeTempDir({ prefix: "csp-tshark-" });
  try {
    await Deno.writeTextFile(`${dir}/in.od`, hexdump(datagrams));
    const t2p = await run("text2pcap", [
      "-q",
      "-4",
      "192.0.2.1,192.0.2.2",
      "-u",
      "2960,2960",
      `${dir}/in.od`,
      `${dir}/out.pcapng`,
    ]);
    assert.equal(t2p.code, 0, t2p.stderr);
    const args = [
      "-r",
      `${dir}/out.pcapng`,
      "-T",
      "fields",
      "-E",
      "separator=|",
      "-E",
      "occurrence=a",
    ];
    for (const f of FIELDS) args.push("-e", f);
    const ts = await run("tshark", args);
    assert.equal(ts.code, 0, ts.stderr);
    return ts.stdout.trimEnd().split("\n").map((line) => {
      const values = line.split("|");
      return Object.fromEntries(FIELDS.map((f, i) => [f.replace(/^.*\./, ""), values[i] ?? ""]));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "tshark decodes CspReporter's reports and final report without errors",
  ignore: !HAVE_TSHARK,
  fn: async () => {
    await using sink = new UdpSink();
    const reporter = new CspReporter({
      server: { hostname: "127.0.0.1", port: sink.port },
      interval: 60,
      identifier: componentId(ComponentGroup.PoolElement, 0x12345678),
      status: () => ({
        statusText: "3 Sessions",
        workload: 0.75,
        associations: [
          {
            receiverId: componentId(ComponentGroup.Registrar, 0xabcdef01),
            duration: 5_000_000n,
            ppid: CspPpid.ASAP,
          },
          { receiverId: componentId(ComponentGroup.PoolUser, 0x42), ppid: CspPpid.PingPong },
        ],
      }),
    });
    await waitFor(() => sink.datagrams.length >= 3, 3000);
    await reporter.close();
    await waitFor(() => decodeComponentStatusReport(sink.datagrams.at(-1)!).flags === 1, 2000);

    const frames = await dissect(sink.datagrams);
    assert.equal(frames.length, sink.datagrams.length);
    frames.forEach((f, i) => {
      const ours = decodeComponentStatusReport(sink.datagrams[i]);
      const final = i === frames.length - 1;
      assert.equal(f.malformed, "", `frame ${i + 1} malformed`);
      assert.equal(f.message, "", `frame ${i + 1} expert: ${f.message}`);
      assert.equal(f.message_type, "1");
      assert.equal(f.message_final_bit, final ? "1" : "0");
      assert.equal(f.message_version, "0x00000200");
      assert.equal(f.message_sender_id, "0x0200000012345678");
      assert.equal(f.message_length, String(sink.datagrams[i].length));
      assert.equal(f.componentstatusreport_reportinterval, "0.060000000");
      const seconds = Number(f.message_sendertimestamp);
      assert.ok(Math.abs(seconds - Number(ours.senderTimestamp) / 1e6) < 1e-6);
      assert.equal(f.componentstatusreport_location, ours.location);
      assert.equal(f.componentstatusreport_status, final ? "" : "3 Sessions");
      if (final) {
        assert.equal(f.componentstatusreport_associations, "0");
      } else {
        // 0.75 * 0xfffe = 49150.5, rounded to even: 49150 / 0xfffe = 74.9992 %
        assert.equal(f.componentstatusreport_workload, "74.9992");
        assert.equal(f.componentstatusreport_associations, "2");
        assert.equal(f.componentassociation_receiver_id, "0x01000000abcdef01,0x0300000000000042");
        assert.equal(f.componentassociation_duration, "5.000000000,18446744073709.551615000");
        assert.equal(f.componentassociation_protocolid, "132,132");
        assert.equal(f.componentassociation_ppid, "11,33");
      }
    });
  },
});

Deno.test({
  name: "tshark decodes encodeComponentStatusReport() edge cases without errors",
  ignore: !HAVE_TSHARK,
  fn: async () => {
    const base = { senderTimestamp: 0n, reportInterval: 250_000, associations: [] };
    const datagrams = [
      encodeComponentStatusReport({
        ...base,
        senderId: componentId(ComponentGroup.Registrar, 0xffffffff),
        location: "l".repeat(200),
        status: "Ünïcødé ✓ " + "s".repeat(200),
      }),
      encodeComponentStatusReport({
        ...base,
        senderId: componentId(ComponentGroup.PoolUser, 0xff_ffff_ffff_ffffn),
        senderTimestamp: 2n ** 63n,
        location: "",
        status: "",
        workload: 1,
        associations: Array.from({ length: 200 }, (_, i) => ({
          receiverId: componentId(ComponentGroup.PoolElement, i),
          duration: BigInt(i),
          protocolId: [IpProtocol.SCTP, IpProtocol.TCP, IpProtocol.UDP][i % 3],
          ppid: i,
        })),
      }),
    ];
    const frames = await dissect(datagrams);
    assert.equal(frames.length, 2);
    for (const f of frames) {
      assert.equal(f.malformed, "");
      assert.equal(f.message, "");
    }
    assert.equal(frames[0].componentstatusreport_location, "l".repeat(127));
    assert.ok(frames[0].componentstatusreport_status.startsWith("Ünïcødé ✓ sss"));
    assert.equal(frames[1].componentstatusreport_associations, "200");
    assert.equal(frames[1].componentstatusreport_workload, "100");
    assert.equal(frames[1].componentassociation_ppid.split(",").length, 200);
  },
});

Deno.test({
  name: "tshark flags a truncated report as malformed (the oracle sees errors)",
  ignore: !HAVE_TSHARK,
  fn: async () => {
    const bytes = encodeComponentStatusReport({
      senderId: 1n,
      senderTimestamp: 0n,
      reportInterval: 0,
      location: "",
      status: "",
      associations: [{ receiverId: 2n, ppid: 11 }],
    });
    const [frame] = await dissect([bytes.subarray(0, 272)]);
    assert.notEqual(frame.malformed, "");
  },
});
