/** One sample of every ASAP and ENRP message type, with every parameter and policy. */
import {
  POLICY_FIELDS,
  type PolicyName,
  PolicyType,
  type PoolElementParameter,
  poolHandle,
  type PoolPolicy,
  type RSerPoolMessage,
  type ServerInformation,
} from "../../mod.ts";

/** A PE; `n` varies identifier, port and addresses; `registrator` adds an ASAP transport. */
export function samplePoolElement(
  n: number,
  registrator = false,
  policy: PoolPolicy = { type: "RoundRobin" },
): PoolElementParameter {
  const pe: PoolElementParameter = {
    identifier: 0x10000000 + n,
    homeRegistrarIdentifier: registrator ? 0x0a0b0c0d : 0,
    registrationLife: 300000,
    userTransport: {
      protocol: "sctp",
      port: 7000 + (n % 1000),
      addresses: [`10.${(n >> 8) & 255}.${n & 255}.1`, `2001:db8::${(n % 0xffff).toString(16)}`],
      controlChannel: true,
    },
    policy,
  };
  if (registrator) {
    pe.registratorTransport = {
      protocol: "sctp",
      port: 40000 + (n % 1000),
      addresses: [`10.${(n >> 8) & 255}.${n & 255}.1`],
      controlChannel: false,
    };
  }
  return pe;
}

/** A policy of every type with distinct field values. */
export function samplePolicy(name: PolicyName): PoolPolicy {
  const policy: PoolPolicy = { type: name };
  let v = 1;
  for (const field of POLICY_FIELDS[name]) {
    policy[field] = field === "distance" ? 25 : v++ * 0x01000000;
  }
  return policy;
}

const ph = poolHandle("EchoPool");
const server: ServerInformation = {
  registrarIdentifier: 0x0a0b0c0d,
  transport: {
    protocol: "sctp",
    port: 9901,
    addresses: ["10.1.1.1", "fd00::1"],
    controlChannel: false,
  },
};

/** [ppid, message] for every message type and every policy. */
export function sampleMessages(): [number, RSerPoolMessage][] {
  const asap: RSerPoolMessage[] = [
    { type: "registration", poolHandle: ph, poolElement: samplePoolElement(1) },
    { type: "deregistration", poolHandle: ph, identifier: 7 },
    { type: "registrationResponse", poolHandle: ph, identifier: 7, reject: false },
    {
      type: "registrationResponse",
      poolHandle: ph,
      identifier: 7,
      reject: true,
      error: { cause: 0xf008 },
    },
    {
      // Cause 0x5 with the offending policy, as RFC 5354 asks (RSPLIB sends it bare).
      type: "registrationResponse",
      poolHandle: ph,
      identifier: 7,
      reject: true,
      error: { cause: 0x5, data: new Uint8Array([0, 8, 0, 8, 0, 0, 0, 3]) },
    },
    { type: "deregistrationResponse", poolHandle: ph, identifier: 7 },
    { type: "deregistrationResponse", poolHandle: ph, identifier: 7, error: { cause: 0x9 } },
    { type: "handleResolution", poolHandle: ph },
    { type: "handleResolution", poolHandle: ph, items: 0xffffffff },
    {
      type: "handleResolutionResponse",
      poolHandle: ph,
      policy: { type: "RoundRobin" },
      poolElements: [samplePoolElement(1), samplePoolElement(2)],
    },
    { type: "handleResolutionResponse", poolHandle: ph, error: { cause: 0x9 }, poolElements: [] },
    { type: "endpointKeepAlive", registrarIdentifier: 5, poolHandle: ph, home: false },
    {
      type: "endpointKeepAlive",
      registrarIdentifier: 5,
      poolHandle: ph,
      identifier: 9,
      home: true,
    },
    { type: "endpointKeepAliveAck", poolHandle: ph, identifier: 9 },
    { type: "endpointUnreachable", poolHandle: ph, identifier: 9 },
    { type: "serverAnnounce", registrarIdentifier: 0x12345678 },
    {
      type: "serverAnnounce",
      registrarIdentifier: 0x12345678,
      transports: [{
        protocol: "sctp",
        port: 3863,
        addresses: ["10.0.0.1"],
        controlChannel: false,
      }],
    },
    { type: "cookie", cookie: new TextEncoder().encode("state-odd") },
    { type: "cookieEcho", cookie: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
    {
      type: "businessCard",
      poolHandle: ph,
      policy: { type: "RoundRobin" },
      poolElements: [samplePoolElement(3)],
    },
    {
      type: "asapError",
      error: { cause: 0x1, data: new Uint8Array([0x40, 0x20, 0x00, 0x05, 0x01, 0, 0, 0]) },
    },
    // Cause 0x2 with the unrecognized message (header only here).
    { type: "asapError", error: { cause: 0x2, data: new Uint8Array([0x7f, 0, 0, 4]) } },
  ];
  for (const name of Object.keys(PolicyType) as PolicyName[]) {
    asap.push({
      type: "registration",
      poolHandle: ph,
      poolElement: samplePoolElement(100, false, samplePolicy(name)),
    });
  }
  const enrp: RSerPoolMessage[] = [
    {
      type: "presence",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      replyRequired: true,
      checksum: 0xabcd,
      serverInformation: server,
    },
    {
      type: "handleTableRequest",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      ownChildrenOnly: true,
    },
    {
      type: "handleTableResponse",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      reject: false,
      moreToSend: true,
      pools: [
        { poolHandle: ph, poolElements: [samplePoolElement(1, true), samplePoolElement(2, true)] },
        { poolHandle: poolHandle("DaytimePool"), poolElements: [samplePoolElement(3, true)] },
      ],
    },
    {
      type: "handleTableResponse",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      reject: true,
      moreToSend: false,
      pools: [],
    },
    {
      type: "handleUpdate",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      action: "add",
      takeoverSuggested: false,
      poolHandle: ph,
      poolElement: samplePoolElement(4, true),
    },
    {
      type: "handleUpdate",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      action: "delete",
      takeoverSuggested: true,
      poolHandle: ph,
      poolElement: samplePoolElement(4, true),
    },
    { type: "listRequest", senderIdentifier: 1, receiverIdentifier: 2 },
    {
      type: "listResponse",
      senderIdentifier: 1,
      receiverIdentifier: 2,
      reject: false,
      servers: [server, { ...server, registrarIdentifier: 0x0d0c0b0a }],
    },
    { type: "initTakeover", senderIdentifier: 1, receiverIdentifier: 2, targetIdentifier: 3 },
    { type: "initTakeoverAck", senderIdentifier: 2, receiverIdentifier: 1, targetIdentifier: 3 },
    { type: "takeoverServer", senderIdentifier: 1, receiverIdentifier: 0, targetIdentifier: 3 },
    { type: "enrpError", senderIdentifier: 1, receiverIdentifier: 2, error: { cause: 0x10 } },
  ];
  return [
    ...asap.map((m) => [11, m] as [number, RSerPoolMessage]),
    ...enrp.map((m) => [12, m] as [number, RSerPoolMessage]),
  ];
}
