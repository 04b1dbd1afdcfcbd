/**
 * The registrar table of a pool element or pool user (RSPLIB's registrartable.c): static
 * registrars plus registrars heard by announce, which expire after the announce timeout
 * (internal).
 *
 * @module
 */

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
    const now = this.#clock();
    this.#entries = this.#entries.filter((e) => e.static || e.expires >= now);
    return [...this.#entries];
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
