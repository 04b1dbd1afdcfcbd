/**
 * Codec rates: encode and decode of a Registration, a Handle Resolution Response with 128 PEs and
 * a Handle Table Response with 128 PEs (the ENRP paging maximum).
 * Run: `scripts/deno bench -A bench/codec_bench.ts`
 */
import { decodeMessage, encodeMessage, poolHandle, type RSerPoolMessage } from "../mod.ts";
import { samplePoolElement } from "../tests/codec/_samples.ts";

const ph = poolHandle("EchoPool");
const registration: RSerPoolMessage = {
  type: "registration",
  poolHandle: ph,
  poolElement: samplePoolElement(1),
};
const hrr: RSerPoolMessage = {
  type: "handleResolutionResponse",
  poolHandle: ph,
  policy: { type: "RoundRobin" },
  poolElements: Array.from({ length: 128 }, (_, i) => samplePoolElement(i)),
};
const htr: RSerPoolMessage = {
  type: "handleTableResponse",
  senderIdentifier: 1,
  receiverIdentifier: 2,
  reject: false,
  moreToSend: true,
  pools: Array.from({ length: 8 }, (_, p) => ({
    poolHandle: poolHandle(`Pool-${p}`),
    poolElements: Array.from({ length: 16 }, (_, i) => samplePoolElement(p * 16 + i, true)),
  })),
};

const cases: [string, number, RSerPoolMessage][] = [
  ["Registration", 11, registration],
  ["Handle Resolution Response, 128 PEs", 12 - 1, hrr],
  ["Handle Table Response, 128 PEs", 12, htr],
];

for (const [name, ppid, message] of cases) {
  const bytes = encodeMessage(message);
  Deno.bench({
    name: `encode ${name} (${bytes.length} B)`,
    group: name,
    fn: () => {
      encodeMessage(message);
    },
  });
  Deno.bench({
    name: `decode ${name} (${bytes.length} B)`,
    group: name,
    fn: () => {
      decodeMessage(ppid, bytes);
    },
  });
}
