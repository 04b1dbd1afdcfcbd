/**
 * The registrar table of a pool element or pool user (RSPLIB's registrartable.c): static
 * registrars plus registrars heard by announce, which expire after the announce timeout
 * (internal).
 *
 * @module
 */

/**
 * At most this many registrars heard by announce are kept (announces are unauthenticated
 * multicast: spoofed ones must not grow the table without bound); a new one beyond it replaces
 * the one heard longest ago.
 */
export const MAX_ANNOUNCED_REGISTRARS = 64;

/** One known registrar. */
export interface RegistrarEntry {
  /** Identifier (0 while unknown, e.g. for a static entry). */
  identifier: number;
  /** ASAP addresses. */
  addresses: string[];
  /** ASAP SCTP port. */
  port: number;
  /** Configured, never expires. */
  static: boolean;
  /** Expiry time of an announced entry (clock ms). */
  expires: number;
}

function sameEndpoint(a: { addresses: string[]; port: number }, b: RegistrarEntry): boolean {
  return a.port === b.port && a.addresses.some((x) => b.addresses.includes(x));
}

/** Static and announced registrars. */
export class RegistrarTable {
  #entries: RegistrarEntry[] = [];
  #announced = 0;
  #announceTimeout: number;
  #clock: () => number;
  #listeners = new Set<() => void>();

  constructor(
    statics: { addresses: string[]; port: number }[],
    announceTimeout: number,
    clock: () => number,
  ) {
    this.#announceTimeout = announceTimeout;
    this.#clock = clock;
    for (const s of statics) {
      this.#entries.push({
        identifier: 0,
        addresses: [...s.addresses],
        port: s.port,
        static: true,
        expires: Infinity,
      });
    }
  }

  /** Records an announce; returns `true` when the registrar is new. */
  announce(identifier: number, addresses: string[], port: number): boolean {
    const now = this.#clock();
    this.#prune(now);
    const existing = this.#entries.find((e) =>
      (identifier !== 0 && e.identifier === identifier && !e.static) ||
      sameEndpoint({ addresses, port }, e)
    );
    if (existing !== undefined) {
      if (existing.identifier === 0) existing.identifier = identifier;
      if (!existing.static) {
        existing.expires = now + this.#announceTimeout;
        existing.addresses = [...addresses];
        existing.port = port;
      }
      return false;
    }
    if (this.#announced >= MAX_ANNOUNCED_REGISTRARS) this.#dropOldestAnnounced();
    this.#announced++;
    this.#entries.push({
      identifier,
      addresses: [...addresses],
      port,
      static: false,
      expires: now + this.#announceTimeout,
    });
    for (const l of this.#listeners) l();
    return true;
  }

  /** The usable entries (expired announced ones are removed), in table order. */
  entries(): RegistrarEntry[] {
    this.#prune(this.#clock());
    return [...this.#entries];
  }

  /** Number of registrars heard by announce (unexpired ones and those not pruned yet). */
  get announcedCount(): number {
    return this.#announced;
  }

  /** Removes the expired announced entries. */
  #prune(now: number): void {
    if (this.#announced === 0) return;
    const entries = this.#entries;
    let kept = 0;
    for (const e of entries) if (e.static || e.expires >= now) entries[kept++] = e;
    this.#announced -= entries.length - kept;
    entries.length = kept;
  }

  /** Removes the announced entry heard longest ago (the earliest expiry). */
  #dropOldestAnnounced(): void {
    let oldest = -1;
    for (let i = 0; i < this.#entries.length; i++) {
      const e = this.#entries[i];
      if (!e.static && (oldest < 0 || e.expires < this.#entries[oldest].expires)) oldest = i;
    }
    if (oldest < 0) return;
    this.#entries.splice(oldest, 1);
    this.#announced--;
  }

  /** The identifier known for the registrar at this endpoint (0 if unknown). */
  identifierOf(addresses: string[], port: number): number {
    return this.#entries.find((e) => sameEndpoint({ addresses, port }, e))?.identifier ?? 0;
  }

  /** Calls `listener` whenever a new registrar is heard; returns the unsubscribe function. */
  onNew(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
