/** Invalid input: the typed error with the cause an RSPLIB registrar answers with. */
import assert from "node:assert/strict";
import {
  decodeMessage,
  encodeMessage,
  ErrorCause,
  poolHandle,
  RSerPoolDecodeError,
  type RSerPoolMessage,
} from "../../mod.ts";
import { fromHex, toHex } from "./_golden.ts";
import { samplePoolElement } from "./_samples.ts";

/** Builds a message from hex pieces and fixes the header length. */
function msg(...hexParts: string[]): Uint8Array {
  const b = fromHex(hexParts.join(""));
  b[2] = b.length >> 8;
  b[3] = b.length & 0xff;
  return b;
}

function decodeError(ppid: number, bytes: Uint8Array): RSerPoolDecodeError {
  try {
    decodeMessage(ppid, bytes);
  } catch (e) {
    assert.ok(e instanceof RSerPoolDecodeError, `unexpected ${e}`);
    return e;
  }
  assert.fail("decoded without error");
}

const PH = "0009000c4563686f506f6f6c"; // "EchoPool"
const PEID = "000e000811223344";
const RR = "0008000800000001";
const sctp = (addressTlvs: string, length: number) =>
  `0004${length.toString(16).padStart(4, "0")}00070000${addressTlvs}`;
const V4 = "000100080a000001"; // 10.0.0.1
const registration = (transport: string, policy = RR) => {
  const pe = `1122334400000000000493e0${transport}${policy}`;
  return msg("01000000", PH, `000a${(4 + pe.length / 2).toString(16).padStart(4, "0")}`, pe);
};

Deno.test("decodeMessage() rejects a pool handle longer than 32 bytes with cause 0x11", () => {
  const longPh = "0009002a" + "41".repeat(38) + "0000";
  const e = decodeError(11, msg("05000000", longPh));
  assert.equal(e.errorCause, ErrorCause.InvalidValue);
  assert.equal(toHex(e.offendingParameter!), longPh.slice(0, 84));
});

Deno.test("decodeMessage() skips an unknown skip-type parameter inside a transport's address list", () => {
  // RSPLIB 3.4.4 crashes on this input (zeroed address of family 0).
  const unknownSkip = "80ff0008deadbeef";
  const m = decodeMessage(11, registration(sctp(unknownSkip + V4, 24)));
  assert.equal(m.type, "registration");
  if (m.type === "registration") {
    assert.deepEqual(m.poolElement.userTransport.addresses, ["10.0.0.1"]);
  }
});

Deno.test("decodeMessage() ends a transport's address list at an unknown stop-type parameter", () => {
  const unknownStop = "00ff0008deadbeef";
  const m = decodeMessage(11, registration(sctp(V4 + unknownStop, 24)));
  assert.ok(m.type === "registration");
  assert.deepEqual(m.poolElement.userTransport.addresses, ["10.0.0.1"]);
});

Deno.test("decodeMessage() applies the action bits of an unexpected parameter", () => {
  // stop silently -> 0x1009 (RSPLIB sends no reply)
  const silent = decodeError(11, msg("05000000", "00ff0008deadbeef", PH));
  assert.equal(silent.errorCause, ErrorCause.UnrecognizedParameterSilent);
  assert.equal(silent.silent, true);
  // stop and report -> 0x1 with the parameter
  const report = decodeError(11, msg("05000000", "40ff0008deadbeef", PH));
  assert.equal(report.errorCause, ErrorCause.UnrecognizedParameter);
  assert.equal(toHex(report.offendingParameter!), "40ff0008deadbeef");
  assert.equal(report.silent, false);
  // skip -> decodes
  const m = decodeMessage(11, msg("05000000", "80ff0008deadbeef", PH));
  assert.equal(m.type, "handleResolution");
});

Deno.test("decodeMessage() reports broken lengths as invalid message or invalid TLV", () => {
  assert.equal(decodeError(11, fromHex("0100")).errorCause, ErrorCause.InvalidMessage);
  assert.equal(decodeError(11, fromHex("05000040" + PH)).errorCause, ErrorCause.InvalidMessage);
  assert.equal(decodeError(11, fromHex("05000002" + PH)).errorCause, ErrorCause.InvalidMessage);
  const e = decodeError(11, msg("05000000", "000900ff4563686f"));
  assert.equal(e.errorCause, ErrorCause.InvalidValues);
  assert.equal(e.offendingParameter?.length, 0);
  assert.equal(decodeError(11, msg("05000000", "00090002")).errorCause, ErrorCause.InvalidValues);
});

Deno.test("decodeMessage() answers unknown types and PPIDs with a silent unrecognized message", () => {
  for (
    const [ppid, bytes] of [[11, msg("0f000000")], [12, msg("0b000000")], [
      0,
      msg("01000000"),
    ]] as const
  ) {
    const e = decodeError(ppid, bytes);
    assert.equal(e.errorCause, ErrorCause.UnrecognizedMessage);
    assert.equal(e.silent, true);
  }
});

Deno.test("decodeMessage() drops link-local and loopback addresses like RSPLIB", () => {
  const linkLocal = "00010008a9fe0101"; // 169.254.1.1
  const loopback = "000100087f000001";
  const e = decodeError(11, registration(sctp(linkLocal + loopback, 24)));
  assert.equal(e.errorCause, ErrorCause.InvalidValue);
  const kept = decodeMessage(11, registration(sctp(linkLocal + loopback, 24)), { loopback: true });
  assert.ok(kept.type === "registration");
  assert.deepEqual(kept.poolElement.userTransport.addresses, ["127.0.0.1"]);
});

Deno.test("decodeMessage() checks policies: unknown type 0x100b, short layouts 0x11 or 0x3", () => {
  assert.equal(
    decodeError(11, registration(sctp(V4, 16), "0008000800001234")).errorCause,
    ErrorCause.UnsupportedPoolPolicy,
  );
  assert.equal(
    decodeError(11, registration(sctp(V4, 16), "0008000840000001")).errorCause,
    ErrorCause.InvalidValue,
  );
  assert.equal(
    decodeError(11, registration(sctp(V4, 16), "0008000800000004")).errorCause,
    ErrorCause.InvalidValues, // WeightedRandom: RSPLIB answers "invalid TLV" here
  );
});

Deno.test("decodeMessage() requires a 4-byte PE identifier", () => {
  const e = decodeError(11, msg("02000000", PH, "000e000611220000"));
  assert.equal(e.errorCause, ErrorCause.InvalidValue);
  assert.equal(toHex(e.offendingParameter!), "000e00061122");
  assert.ok(decodeMessage(11, msg("02000000", PH, PEID)).type === "deregistration");
});

Deno.test("decodeMessage() requires registrator transport and home registrar in ENRP", () => {
  const noRegistrator: RSerPoolMessage = {
    type: "handleUpdate",
    senderIdentifier: 1,
    receiverIdentifier: 2,
    action: "add",
    takeoverSuggested: false,
    poolHandle: poolHandle("EchoPool"),
    poolElement: samplePoolElement(1, true),
  };
  const bytes = encodeMessage(noRegistrator);
  // cut the registrator transport (the end of the PE) and fix the lengths
  const registratorLength = 16; // SCTP transport with one IPv4 address
  const cut = bytes.slice(0, bytes.length - registratorLength);
  const peStart = 4 + 12 + 12;
  const peLength = (cut[peStart + 2] << 8 | cut[peStart + 3]) - registratorLength;
  cut[peStart + 2] = peLength >> 8;
  cut[peStart + 3] = peLength & 0xff;
  cut[2] = cut.length >> 8;
  cut[3] = cut.length & 0xff;
  assert.equal(decodeError(12, cut).errorCause, ErrorCause.InvalidRegistrator);
  const homeless = bytes.slice();
  homeless.fill(0, peStart + 8, peStart + 12);
  assert.equal(decodeError(12, homeless).errorCause, ErrorCause.InvalidValue);
});

Deno.test("decodeMessage() refuses more than 128 PEs in a handle resolution response", () => {
  const pes = Array.from({ length: 129 }, (_, i) => samplePoolElement(i));
  const ok = encodeMessage({
    type: "handleResolutionResponse",
    poolHandle: poolHandle("P"),
    policy: { type: "RoundRobin" },
    poolElements: pes.slice(0, 128),
  });
  assert.equal(decodeMessage(11, ok).type, "handleResolutionResponse");
  assert.throws(() =>
    encodeMessage({
      type: "handleResolutionResponse",
      poolHandle: poolHandle("P"),
      policy: { type: "RoundRobin" },
      poolElements: pes,
    }), RangeError);
});

Deno.test("decodeMessage() returns copies that do not change when the input is reused", () => {
  const bytes = encodeMessage({ type: "cookie", cookie: new Uint8Array([1, 2, 3]) });
  const m = decodeMessage(11, bytes);
  bytes.fill(0);
  assert.ok(m.type === "cookie");
  assert.deepEqual(m.cookie, new Uint8Array([1, 2, 3]));
});

Deno.test("encodeMessage() sends IPv4-mapped IPv6 addresses as IPv4 like RSPLIB", () => {
  const pe = samplePoolElement(1);
  pe.userTransport.addresses = ["::ffff:10.1.2.3"];
  const bytes = encodeMessage({
    type: "registration",
    poolHandle: poolHandle("P"),
    poolElement: pe,
  });
  assert.match(toHex(bytes), /000100080a010203/);
});

Deno.test("encodeMessage() refuses values that do not fit the wire format", () => {
  const pe = samplePoolElement(1);
  const base = { type: "registration", poolHandle: poolHandle("P"), poolElement: pe } as const;
  assert.throws(() => encodeMessage({ ...base, poolHandle: new Uint8Array(33) }), RangeError);
  assert.throws(() => encodeMessage({ ...base, poolHandle: new Uint8Array(0) }), RangeError);
  assert.throws(
    () =>
      encodeMessage({
        ...base,
        poolElement: { ...pe, userTransport: { ...pe.userTransport, addresses: ["not-an-ip"] } },
      }),
    TypeError,
  );
  assert.throws(
    () =>
      encodeMessage({
        ...base,
        poolElement: {
          ...pe,
          userTransport: { protocol: "tcp", port: 1, addresses: ["10.0.0.1", "10.0.0.2"] },
        },
      }),
    RangeError,
  );
  assert.throws(
    () => encodeMessage({ ...base, poolElement: { ...pe, identifier: -1 } }),
    RangeError,
  );
  assert.throws(() => poolHandle("x".repeat(33)), RangeError);
});
