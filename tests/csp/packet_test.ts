import assert from "node:assert/strict";
import {
  ComponentGroup,
  componentGroup,
  componentId,
  componentObject,
  CspDecodeError,
  CspDecodeReason,
  CspOffset,
  CspPacket,
  CspPpid,
  decodeComponentStatusReport,
  decodeWorkload,
  describeComponentId,
  encodeComponentStatusReport,
  encodeWorkload,
  IpProtocol,
  randomComponentId,
  UNKNOWN_DURATION,
} from "../../src/csp/mod.ts";
import { fromHex } from "./_helpers.ts";

const encoder = new TextEncoder();

function field(text: string, size: number): string {
  const bytes = new Uint8Array(size);
  bytes.set(encoder.encode(text));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Both vectors were made with the independent Python encoder of
// /work/shared/reference/interop-tools.md §2 (struct.pack('!BBHIQQ', ...)), which RSPLIB's
// cspmonitor accepts.
const PYTHON_PE_REPORT = fromHex(
  "0100013800000200020000001234567800000000dde878c0000f4240" +
    field("oracle-test [192.0.2.1]", 128) + field("TS-PE test status", 128) +
    "7fff000101000000abcdef0100000000004c4b40000000840000000b",
);
const PYTHON_FINAL_PR_REPORT = fromHex(
  "0101015000000200010000000000111100000000000000000003d090" + field("", 128) +
    field("", 128) +
    "ffff00020100000000002222ffffffffffffffff000000840000000c" +
    "0300000000abcdef00000000000000070001000629097602",
);

Deno.test("encodeComponentStatusReport() writes RSPLIB's exact byte layout", () => {
  const bytes = encodeComponentStatusReport({
    senderId: componentId(ComponentGroup.PoolElement, 0x12345678),
    senderTimestamp: 3_723_000_000n,
    reportInterval: 1_000_000,
    location: "oracle-test [192.0.2.1]",
    status: "TS-PE test status",
    workload: 0.5,
    associations: [{
      receiverId: componentId(ComponentGroup.Registrar, 0xabcdef01),
      duration: 5_000_000n,
      ppid: CspPpid.ASAP,
    }],
  });
  assert.equal(bytes.length, 312);
  assert.deepEqual(bytes, PYTHON_PE_REPORT);
});

Deno.test("encodeComponentStatusReport() writes the F flag, unknown values and all association fields", () => {
  const bytes = encodeComponentStatusReport({
    flags: CspPacket.FLAG_FINAL,
    senderId: componentId(ComponentGroup.Registrar, 0x1111),
    senderTimestamp: 0n,
    reportInterval: 250_000,
    location: "",
    status: "",
    associations: [
      { receiverId: componentId(ComponentGroup.Registrar, 0x2222), ppid: CspPpid.ENRP },
      {
        receiverId: componentId(ComponentGroup.PoolUser, 0xabcdef),
        duration: 7n,
        flags: 1,
        protocolId: IpProtocol.TCP,
        ppid: 0x29097602,
      },
    ],
  });
  assert.equal(bytes.length, 336);
  assert.deepEqual(bytes, PYTHON_FINAL_PR_REPORT);
});

Deno.test("encodeComponentStatusReport() puts every field at its offset", () => {
  const bytes = encodeComponentStatusReport({
    flags: 0,
    senderId: 0x0102030405060708n,
    senderTimestamp: 0x1112131415161718n,
    reportInterval: 0x21222324,
    location: "L",
    status: "S",
    workload: 1,
    associations: [],
  });
  const view = new DataView(bytes.buffer);
  assert.equal(view.getUint8(CspOffset.TYPE), CspPacket.TYPE_REPORT);
  assert.equal(view.getUint16(CspOffset.LENGTH), CspPacket.REPORT_SIZE);
  assert.equal(view.getUint32(CspOffset.VERSION), 0x0200);
  assert.equal(view.getBigUint64(CspOffset.SENDER_ID), 0x0102030405060708n);
  assert.equal(view.getBigUint64(CspOffset.SENDER_TIMESTAMP), 0x1112131415161718n);
  assert.equal(view.getUint32(CspOffset.REPORT_INTERVAL), 0x21222324);
  assert.equal(bytes[CspOffset.LOCATION], 0x4c);
  assert.equal(bytes[CspOffset.LOCATION + 1], 0);
  assert.equal(bytes[CspOffset.STATUS], 0x53);
  assert.equal(view.getUint16(CspOffset.WORKLOAD), 0xfffe);
  assert.equal(view.getUint16(CspOffset.ASSOCIATIONS), 0);
});

Deno.test("decodeComponentStatusReport() reads a report from the Python encoder", () => {
  const report = decodeComponentStatusReport(PYTHON_PE_REPORT);
  assert.deepEqual(report, {
    flags: 0,
    senderId: 0x0200000012345678n,
    senderTimestamp: 3_723_000_000n,
    reportInterval: 1_000_000,
    location: "oracle-test [192.0.2.1]",
    status: "TS-PE test status",
    workload: 0x7fff / 0xfffe,
    associations: [{
      receiverId: 0x01000000abcdef01n,
      duration: 5_000_000n,
      flags: 0,
      protocolId: 132,
      ppid: 11,
    }],
    length: 312,
  });
  const final = decodeComponentStatusReport(PYTHON_FINAL_PR_REPORT);
  assert.equal(final.flags, CspPacket.FLAG_FINAL);
  assert.equal(final.workload, undefined);
  assert.equal(final.associations[0].duration, undefined);
  assert.equal(final.associations[1].protocolId, IpProtocol.TCP);
});

Deno.test("decodeComponentStatusReport() round-trips every field", () => {
  const report = {
    flags: 0,
    senderId: UNKNOWN_DURATION,
    senderTimestamp: 2n ** 63n + 5n,
    reportInterval: 0xffffffff,
    location: "ä".repeat(20),
    status: "x".repeat(127),
    workload: 0,
    associations: Array.from({ length: 50 }, (_, i) => ({
      receiverId: BigInt(i) << 40n,
      duration: BigInt(i) * 1000n,
      flags: i,
      protocolId: 1000 + i,
      ppid: 0xffff0000 + i,
    })),
    length: 288 + 50 * 24,
  };
  assert.deepEqual(decodeComponentStatusReport(encodeComponentStatusReport(report)), report);
});

Deno.test("encodeComponentStatusReport() cuts texts to 127 UTF-8 bytes at a character boundary", () => {
  const bytes = encodeComponentStatusReport({
    senderId: 1n,
    senderTimestamp: 0n,
    reportInterval: 0,
    location: "a" + "€".repeat(60), // 1 + 180 bytes
    status: "s".repeat(300),
    associations: [],
  });
  assert.equal(bytes[CspOffset.LOCATION + 127], 0, "location keeps its final NUL");
  assert.equal(bytes[CspOffset.STATUS + 127], 0, "status keeps its final NUL");
  const report = decodeComponentStatusReport(bytes);
  assert.equal(report.location, "a" + "€".repeat(42)); // 127 bytes
  assert.equal(report.status, "s".repeat(127));
});

Deno.test("decodeComponentStatusReport() reads 128-byte texts without NUL and non-UTF-8 bytes", () => {
  const bytes = encodeComponentStatusReport({
    senderId: 1n,
    senderTimestamp: 0n,
    reportInterval: 0,
    location: "",
    status: "",
    associations: [],
  });
  bytes.fill(0x41, CspOffset.LOCATION, CspOffset.LOCATION + 128);
  bytes[CspOffset.STATUS] = 0xff;
  const report = decodeComponentStatusReport(bytes);
  assert.equal(report.location, "A".repeat(128));
  assert.equal(report.status, "\ufffd");
});

Deno.test("decodeComponentStatusReport() throws CspDecodeError with RSPLIB's checks", () => {
  const good = encodeComponentStatusReport({
    senderId: 1n,
    senderTimestamp: 0n,
    reportInterval: 0,
    location: "",
    status: "",
    associations: [{ receiverId: 2n, ppid: 0 }],
  });
  const cases: [Uint8Array, CspDecodeReason][] = [
    [new Uint8Array(0), CspDecodeReason.TooShort],
    [good.subarray(0, 287), CspDecodeReason.TooShort],
    [Object.assign(good.slice(), { 0: 2 }), CspDecodeReason.UnknownType],
    [Object.assign(good.slice(), { 6: 3 }), CspDecodeReason.UnsupportedVersion],
    [Object.assign(good.slice(), { 4: 1 }), CspDecodeReason.UnsupportedVersion],
    [good.subarray(0, 311), CspDecodeReason.LengthMismatch],
    [new Uint8Array([...good, 0]), CspDecodeReason.LengthMismatch],
    [Object.assign(good.slice(), { 287: 2 }), CspDecodeReason.LengthMismatch],
    [Object.assign(good.slice(), { 286: 0xff, 287: 0xff }), CspDecodeReason.LengthMismatch],
  ];
  for (const [bytes, reason] of cases) {
    assert.throws(
      () => decodeComponentStatusReport(bytes),
      (e: unknown) => {
        assert.ok(e instanceof CspDecodeError);
        assert.equal(e.reason, reason);
        assert.equal(e.size, bytes.length);
        assert.match(e.message, /^Cannot decode component status report: /);
        return true;
      },
    );
  }
});

Deno.test("decodeComponentStatusReport() ignores the header length field like RSPLIB", () => {
  const bytes = encodeComponentStatusReport({
    senderId: 1n,
    senderTimestamp: 0n,
    reportInterval: 0,
    location: "",
    status: "ok",
    associations: [],
  });
  bytes[CspOffset.LENGTH] = 0;
  bytes[CspOffset.LENGTH + 1] = 0;
  const report = decodeComponentStatusReport(bytes);
  assert.equal(report.status, "ok");
  assert.equal(report.length, 0);
});

Deno.test("decodeComponentStatusReport() reads a report inside a larger buffer", () => {
  const buffer = new Uint8Array(1000);
  buffer.set(PYTHON_PE_REPORT, 100);
  const report = decodeComponentStatusReport(buffer.subarray(100, 100 + PYTHON_PE_REPORT.length));
  assert.equal(report.senderId, 0x0200000012345678n);
});

Deno.test("encodeComponentStatusReport() throws RangeError for values that do not fit", () => {
  const base = {
    senderId: 1n,
    senderTimestamp: 0n,
    reportInterval: 0,
    location: "",
    status: "",
    associations: [],
  };
  for (
    const bad of [
      { ...base, senderId: -1n },
      { ...base, senderId: 2n ** 64n },
      { ...base, senderTimestamp: -1n },
      { ...base, reportInterval: 2 ** 32 },
      { ...base, reportInterval: 1.5 },
      { ...base, flags: 256 },
      { ...base, associations: [{ receiverId: 1n, ppid: 2 ** 32 }] },
      { ...base, associations: [{ receiverId: 1n, ppid: 0, protocolId: 70000 }] },
      { ...base, associations: [{ receiverId: 1n, ppid: 0, duration: -5n }] },
      {
        ...base,
        associations: Array.from({ length: CspPacket.MAX_ASSOCIATIONS + 1 }, () => ({
          receiverId: 1n,
          ppid: 0,
        })),
      },
    ]
  ) {
    assert.throws(() => encodeComponentStatusReport(bad), RangeError);
  }
  const max = encodeComponentStatusReport({
    ...base,
    associations: Array.from({ length: CspPacket.MAX_ASSOCIATIONS }, () => ({
      receiverId: 1n,
      ppid: 0,
    })),
  });
  assert.ok(max.length <= 65507, "the largest report fits one UDP datagram");
});

Deno.test("encodeWorkload() rounds like RSPLIB's rint() and treats negative as unknown", () => {
  assert.equal(encodeWorkload(0), 0);
  assert.equal(encodeWorkload(1), 0xfffe);
  assert.equal(encodeWorkload(2), 0xfffe);
  assert.equal(encodeWorkload(0.5), 0x7fff);
  assert.equal(encodeWorkload(0.25), 16384); // 16383.5 -> even
  assert.equal(encodeWorkload(-1), 0xffff);
  assert.equal(encodeWorkload(NaN), 0xffff);
  assert.equal(encodeWorkload(undefined), 0xffff);
  assert.equal(decodeWorkload(0), 0);
  assert.equal(decodeWorkload(0xfffe), 1);
  assert.equal(decodeWorkload(0xffff), undefined);
});

Deno.test("componentId() combines group and object like CID_COMPOUND", () => {
  const id = componentId(ComponentGroup.PoolUser, 0x1_2345_6789_abcd_efn);
  assert.equal(id, 0x0323456789abcdefn, "object cut to 56 bits");
  assert.equal(componentGroup(id), 3);
  assert.equal(componentObject(id), 0x23456789abcdefn);
  assert.equal(componentId(1, 0xff_0000_0000_0000_01n), 0x0100000000000001n, "56 bits kept");
  assert.throws(() => componentId(256, 1), RangeError);
  assert.throws(() => componentId(1, -1), RangeError);
  assert.throws(() => componentId(1, 1.5), RangeError);
  const random = randomComponentId(ComponentGroup.PoolUser);
  assert.equal(componentGroup(random), ComponentGroup.PoolUser);
  assert.notEqual(componentObject(random), 0n);
});

Deno.test("describeComponentId() formats ids like RSPLIB's cspmonitor", () => {
  assert.equal(describeComponentId(componentId(1, 0xabcd)), "PR $0000abcd");
  assert.equal(describeComponentId(componentId(2, 0x12345678)), "PE $12345678");
  assert.equal(describeComponentId(componentId(2, 0x123456789an)), "PE $123456789a");
  assert.equal(describeComponentId(componentId(3, 0xabcdef)), "PU $00000000abcdef");
  assert.equal(describeComponentId(componentId(9, 0xabcdef)), "ID $        abcdef");
});
