/**
 * RSPLIB's own C handlespace (Debian librsplib3 3.4.4, through bench/rsplib_handlespace/) behind
 * the small interface the conformance suite and the differential tests use.
 */
import { PolicyType, type PoolElementParameter } from "../../mod.ts";
import { HandlespaceError } from "../../src/handlespace/mod.ts";
import {
  IPPROTO,
  loadRsplibHandlespace,
  type RsplibHandlespaceSymbols,
} from "../../bench/rsplib_handlespace/load.ts";
import type { HandlespaceLike, SelectionState } from "./_policy_conformance.ts";

const encoder = new TextEncoder();

function bytesOf(handle: Uint8Array | string): Uint8Array {
  return typeof handle === "string" ? encoder.encode(handle) : handle;
}

/** The 16-bit checksum as RSPLIB returns it (host order) turned into the wire value. */
function swap16(v: number): number {
  return ((v & 0xff) << 8) | (v >>> 8);
}

/** Loads the library once; `undefined` (with the reason logged once) when not available. */
export async function rsplibSymbols(): Promise<RsplibHandlespaceSymbols | undefined> {
  const s = await loadRsplibHandlespace();
  if (typeof s === "string") {
    if (!warned) console.warn(`RSPLIB handlespace not available: ${s}`);
    warned = true;
    return undefined;
  }
  return s;
}
let warned = false;

/** One RSPLIB handlespace management instance. */
export class RsplibHandlespace implements HandlespaceLike {
  #s: RsplibHandlespaceSymbols;
  #hs: Deno.PointerValue;
  #out = new Uint32Array(1024);
  #state = new Uint32Array(6);
  #settings = new Uint32Array(7);

  constructor(symbols: RsplibHandlespaceSymbols, home = 0) {
    this.#s = symbols;
    this.#hs = symbols.rsphs_new(home);
  }

  registerPoolElement(
    poolHandle: Uint8Array | string,
    pe: PoolElementParameter,
    options?: { homeRegistrarIdentifier?: number; connection?: number; now?: number },
  ): void {
    const ph = bytesOf(poolHandle);
    const p = pe.policy;
    const settings = this.#settings;
    settings[0] = PolicyType[p.type];
    settings[1] = (p.type === "Priority" ? p.priority ?? p.weight : p.weight) ?? 0;
    settings[2] = p.load ?? 0;
    settings[3] = p.loadDegradation ?? 0;
    settings[4] = p.loadDpf ?? 0;
    settings[5] = p.weightDpf ?? 0;
    settings[6] = p.distance ?? 0;
    const t = pe.userTransport;
    const err = this.#s.rsphs_register(
      this.#hs,
      ph,
      BigInt(ph.length),
      pe.identifier >>> 0,
      (options?.homeRegistrarIdentifier ?? pe.homeRegistrarIdentifier) >>> 0,
      new Uint8Array(settings.buffer),
      IPPROTO[t.protocol],
      t.port,
      t.controlChannel ? 1 : 0,
      options?.connection ?? 0,
      BigInt(Math.round((options?.now ?? 0) * 1000)),
    );
    if (err !== 0) {
      throw new HandlespaceError(err, `Cannot register pool element (RSPLIB)`);
    }
  }

  deregisterPoolElement(poolHandle: Uint8Array | string, identifier: number): boolean {
    const ph = bytesOf(poolHandle);
    return this.#s.rsphs_deregister(this.#hs, ph, BigInt(ph.length), identifier >>> 0) === 0;
  }

  handleResolution(
    poolHandle: Uint8Array | string,
    maxItems = 3,
    options?: { maxIncrement?: number },
  ): { identifier: number }[] | undefined {
    const ph = bytesOf(poolHandle);
    const n = Number(this.#s.rsphs_resolve(
      this.#hs,
      ph,
      BigInt(ph.length),
      BigInt(maxItems),
      BigInt(options?.maxIncrement ?? 0),
      new Uint8Array(this.#out.buffer),
    ));
    if (n < 0) return undefined;
    return Array.from(this.#out.subarray(0, n), (identifier) => ({ identifier }));
  }

  findPoolElement(poolHandle: Uint8Array | string, identifier: number): SelectionState | undefined {
    const ph = bytesOf(poolHandle);
    const st = this.#state;
    const found = this.#s.rsphs_state(
      this.#hs,
      ph,
      BigInt(ph.length),
      identifier >>> 0,
      new Uint8Array(st.buffer),
    );
    if (found === 0) return undefined;
    return {
      identifier: identifier >>> 0,
      seqNumber: st[0],
      roundCounter: st[1],
      virtualCounter: st[2],
      degradation: st[3],
      selectionCounter: st[4],
      homeRegistrarIdentifier: st[5],
    };
  }

  handlespaceChecksum(): number {
    return swap16(this.#s.rsphs_handlespace_checksum(this.#hs));
  }

  ownershipChecksum(): number {
    return swap16(this.#s.rsphs_ownership_checksum(this.#hs));
  }

  get size(): number {
    return Number(this.#s.rsphs_pool_elements(this.#hs));
  }

  get poolCount(): number {
    return Number(this.#s.rsphs_pools(this.#hs));
  }

  dispose(): void {
    if (this.#hs !== null) this.#s.rsphs_free(this.#hs);
    this.#hs = null;
  }
}
