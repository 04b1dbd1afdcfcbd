/**
 * A growable big-endian byte writer with RSerPool TLV framing (length without padding, value
 * padded to 4 bytes). Internal to the codec.
 *
 * @module
 */

/** Growable buffer that writes network-order integers and TLVs. */
export class MessageWriter {
  #buffer: Uint8Array;
  #view: DataView;
  #offset = 0;

  /** @param size Initial capacity in bytes. */
  constructor(size = 1024) {
    this.#buffer = new Uint8Array(size);
    this.#view = new DataView(this.#buffer.buffer);
  }

  /** Bytes written so far. */
  get length(): number {
    return this.#offset;
  }

  /** Forgets the content; keeps the capacity. */
  reset(): void {
    this.#offset = 0;
  }

  #ensure(extra: number): void {
    const needed = this.#offset + extra;
    if (needed <= this.#buffer.length) return;
    let size = this.#buffer.length;
    while (size < needed) size = Math.ceil(size * 1.5) + 16;
    const grown = new Uint8Array(size);
    grown.set(this.#buffer.subarray(0, this.#offset));
    this.#buffer = grown;
    this.#view = new DataView(grown.buffer);
  }

  /** Appends one byte. */
  u8(value: number): void {
    this.#ensure(1);
    this.#buffer[this.#offset++] = value;
  }

  /** Appends a 16-bit big-endian integer. */
  u16(value: number): void {
    this.#ensure(2);
    this.#view.setUint16(this.#offset, value);
    this.#offset += 2;
  }

  /** Appends a 32-bit big-endian integer. */
  u32(value: number): void {
    this.#ensure(4);
    this.#view.setUint32(this.#offset, value);
    this.#offset += 4;
  }

  /** Appends raw bytes. */
  bytes(data: Uint8Array): void {
    this.#ensure(data.length);
    this.#buffer.set(data, this.#offset);
    this.#offset += data.length;
  }

  /** Overwrites a 16-bit big-endian integer at `at`. */
  setU16(at: number, value: number): void {
    this.#view.setUint16(at, value);
  }

  /** Overwrites a byte at `at`. */
  setU8(at: number, value: number): void {
    this.#buffer[at] = value;
  }

  /** Appends zero bytes up to the next multiple of 4. */
  pad(): void {
    const padding = (4 - (this.#offset & 3)) & 3;
    this.#ensure(padding);
    for (let i = 0; i < padding; i++) this.#buffer[this.#offset++] = 0;
  }

  /**
   * Starts a TLV of `type`.
   *
   * @returns Its start offset, for {@linkcode MessageWriter.endTlv}.
   */
  beginTlv(type: number): number {
    const start = this.#offset;
    this.u16(type);
    this.u16(0);
    return start;
  }

  /** Ends the TLV that started at `start`: writes its length (without padding), then pads. */
  endTlv(start: number): void {
    const length = this.#offset - start;
    if (length > 0xffff) throw new RangeError(`Cannot encode parameter of ${length} bytes`);
    this.#view.setUint16(start + 2, length);
    this.pad();
  }

  /** Copies the content out. */
  toBytes(): Uint8Array {
    return this.#buffer.slice(0, this.#offset);
  }

  /** A view of the content (valid until the next write or reset). */
  view(): Uint8Array {
    return this.#buffer.subarray(0, this.#offset);
  }
}
