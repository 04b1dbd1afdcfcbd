/** Seeded generator of hostile datagrams for the monitor fuzz tests. */
import {
  ComponentGroup,
  componentId,
  CspPpid,
  encodeComponentStatusReport,
} from "../../src/csp/mod.ts";

/** A small deterministic PRNG (xorshift32). */
export class Random {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 0x1_0000_0000;
  }
  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** Random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
}

/** Kinds of hostile datagrams, in the order {@linkcode fuzzDatagram} cycles through them. */
export const FUZZ_KINDS = [
  "random",
  "short",
  "long",
  "huge",
  "wrongVersion",
  "wrongType",
  "wrongLength",
  "mutated",
  "forged",
  "final",
] as const;

const VALID = encodeComponentStatusReport({
  senderId: componentId(ComponentGroup.PoolElement, 0xf0f0f0f0),
  senderTimestamp: 1_000_000n,
  reportInterval: 100_000,
  location: "fuzz",
  status: "fuzz",
  associations: [{ receiverId: componentId(ComponentGroup.Registrar, 1), ppid: CspPpid.ASAP }],
});

/**
 * The `i`-th hostile datagram: random bytes, too short, too long (up to the UDP maximum), wrong
 * version, wrong type, association count not matching the size, random byte flips of a valid
 * report, well-formed reports with random ids and texts (control characters included; they
 * report a 0.1 s interval, so the monitor purges them within a second), and final reports.
 */
export function fuzzDatagram(random: Random, i: number): Uint8Array {
  const kind = FUZZ_KINDS[i % FUZZ_KINDS.length];
  switch (kind) {
    case "random":
      return random.bytes(random.int(1200));
    case "short":
      return VALID.slice(0, random.int(288));
    case "long":
      return new Uint8Array([...VALID, ...random.bytes(1 + random.int(2000))]);
    case "huge": {
      // Every 50th "huge" one is as large as a UDP datagram can be.
      const size = i % (50 * FUZZ_KINDS.length) === 3 ? 65507 : 288 + random.int(9000);
      const bytes = random.bytes(size);
      bytes.set(VALID.subarray(0, 288));
      return bytes;
    }
    case "wrongVersion": {
      const bytes = VALID.slice();
      bytes[4 + random.int(4)] ^= 1 + random.int(255);
      return bytes;
    }
    case "wrongType": {
      const bytes = VALID.slice();
      bytes[0] = 2 + random.int(254);
      return bytes;
    }
    case "wrongLength": {
      const bytes = VALID.slice();
      bytes[286] = random.int(256);
      bytes[287] = bytes[286] === 0 ? 2 + random.int(254) : random.int(256);
      return bytes;
    }
    case "mutated": {
      const bytes = VALID.slice();
      for (let k = 0, n = 1 + random.int(10); k < n; k++) {
        bytes[random.int(bytes.length)] = random.int(256);
      }
      return bytes;
    }
    case "forged": {
      const n = random.int(30);
      const bytes = random.bytes(288 + 24 * n);
      bytes[0] = 1;
      bytes[1] = 0;
      bytes.set([0, 0, 2, 0], 4);
      bytes.set([0, 1, 0x86, 0xa0], 24); // report interval 100 000 µs
      bytes[286] = 0;
      bytes[287] = n;
      return bytes;
    }
    default: {
      const bytes = VALID.slice();
      bytes[1] = 1 + random.int(255);
      bytes.set(random.bytes(8), 8);
      return bytes;
    }
  }
}
