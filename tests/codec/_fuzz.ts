/**
 * Codec fuzzer: mutated and random inputs for ASAP and ENRP. Each input must either decode (and
 * then re-encode and decode to the same message) or throw RSerPoolDecodeError — nothing else,
 * no hang.
 */
import { isDeepStrictEqual } from "node:util";
import { decodeMessage, encodeMessage, RSerPoolDecodeError } from "../../mod.ts";
import { sampleMessages } from "./_samples.ts";
import { fromHex, readGolden } from "./_golden.ts";

/** Small fast seeded PRNG (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Result counts of a fuzz run. */
export interface FuzzCounts {
  inputs: number;
  decoded: number;
  rejected: number;
  causes: Record<string, number>;
  failures: string[];
}

/** The seed corpus per PPID: RSPLIB's golden messages and our samples of every type. */
export async function seedCorpus(): Promise<Map<number, Uint8Array[]>> {
  const corpus = new Map<number, Uint8Array[]>([[11, []], [12, []]]);
  for (const g of await readGolden()) corpus.get(g.ppid)!.push(fromHex(g.hex));
  for (const [ppid, m] of sampleMessages()) corpus.get(ppid)!.push(encodeMessage(m));
  return corpus;
}

function mutate(seed: Uint8Array, rnd: () => number, corpus: Uint8Array[]): Uint8Array {
  let b = seed.slice();
  const rounds = 1 + Math.floor(rnd() * 4);
  for (let r = 0; r < rounds; r++) {
    const at = Math.floor(rnd() * Math.max(1, b.length));
    switch (Math.floor(rnd() * 9)) {
      case 0: // flip a bit
        if (b.length) b[at] ^= 1 << Math.floor(rnd() * 8);
        break;
      case 1: // random byte
        if (b.length) b[at] = Math.floor(rnd() * 256);
        break;
      case 2: // interesting 16-bit value (lengths, types)
        if (b.length > at + 1) {
          const v = [0, 1, 3, 4, 5, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, b.length, b.length + 4][
            Math.floor(rnd() * 12)
          ];
          b[at] = v >> 8;
          b[at + 1] = v & 0xff;
        }
        break;
      case 3: // truncate
        b = b.slice(0, at);
        break;
      case 4: { // extend with random bytes
        const extra = new Uint8Array(Math.floor(rnd() * 16));
        for (let i = 0; i < extra.length; i++) extra[i] = Math.floor(rnd() * 256);
        const n = new Uint8Array(b.length + extra.length);
        n.set(b);
        n.set(extra, b.length);
        b = n;
        break;
      }
      case 5: { // splice a piece of another message in
        const other = corpus[Math.floor(rnd() * corpus.length)];
        const from = Math.floor(rnd() * other.length);
        const piece = other.subarray(from, from + Math.floor(rnd() * 64));
        const n = new Uint8Array(at + piece.length + Math.max(0, b.length - at));
        n.set(b.subarray(0, at));
        n.set(piece, at);
        n.set(b.subarray(at), at + piece.length);
        b = n;
        break;
      }
      case 6: // set an action-bit pattern on a parameter type byte
        if (b.length > at) {
          b[at] = (b[at] & 0x3f) | ([0x00, 0x40, 0x80, 0xc0][Math.floor(rnd() * 4)]);
        }
        break;
      case 7: // fix the header length to the (new) size, so the inner checks are reached
        if (b.length >= 4) {
          b[2] = (b.length >> 8) & 0xff;
          b[3] = b.length & 0xff;
        }
        break;
      case 8: // duplicate a 4-byte aligned chunk
        if (b.length >= 8) {
          const s = Math.floor(rnd() * (b.length / 4)) * 4;
          const chunk = b.slice(s, s + 4 * (1 + Math.floor(rnd() * 4)));
          const n = new Uint8Array(b.length + chunk.length);
          n.set(b.subarray(0, s));
          n.set(chunk, s);
          n.set(b.subarray(s), s + chunk.length);
          b = n;
        }
        break;
    }
  }
  return b;
}

/** Checks one input; returns an error text when the codec misbehaves. */
export function checkInput(ppid: number, input: Uint8Array, counts: FuzzCounts): void {
  counts.inputs++;
  let message;
  try {
    message = decodeMessage(ppid, input, { loopback: (input[0] & 1) === 0 });
  } catch (e) {
    if (!(e instanceof RSerPoolDecodeError)) {
      counts.failures.push(`ppid ${ppid} input ${hex(input)}: ${e}`);
      return;
    }
    counts.rejected++;
    const key = e.errorCause.toString(16);
    counts.causes[key] = (counts.causes[key] ?? 0) + 1;
    return;
  }
  counts.decoded++;
  try {
    const again = decodeMessage(ppid, encodeMessage(message), { loopback: true });
    if (!isDeepStrictEqual(again, message)) {
      counts.failures.push(`ppid ${ppid} not idempotent: ${hex(input)}`);
    }
  } catch (e) {
    counts.failures.push(`ppid ${ppid} re-encode failed (${e}): ${hex(input)}`);
  }
}

function hex(b: Uint8Array): string {
  return Array.from(b.subarray(0, 200), (x) => x.toString(16).padStart(2, "0")).join("");
}

/** Runs `perProtocol` mutated inputs plus 1/8 as many random ones for each PPID. */
export async function fuzz(perProtocol: number, seed = 0x5eed): Promise<Map<number, FuzzCounts>> {
  const corpus = await seedCorpus();
  const rnd = prng(seed);
  const result = new Map<number, FuzzCounts>();
  for (const [ppid, seeds] of corpus) {
    const counts: FuzzCounts = { inputs: 0, decoded: 0, rejected: 0, causes: {}, failures: [] };
    const randomInputs = Math.floor(perProtocol / 8);
    for (let i = 0; i < perProtocol - randomInputs; i++) {
      checkInput(ppid, mutate(seeds[Math.floor(rnd() * seeds.length)], rnd, seeds), counts);
    }
    for (let i = 0; i < randomInputs; i++) {
      const b = new Uint8Array(Math.floor(rnd() * 96));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length >= 4 && rnd() < 0.7) {
        b[2] = b.length >> 8;
        b[3] = b.length & 0xff;
        b[0] = 1 + Math.floor(rnd() * 14);
      }
      checkInput(ppid, b, counts);
    }
    result.set(ppid, counts);
  }
  return result;
}
