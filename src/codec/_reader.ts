/**
 * Bounds-checked big-endian reader over one received message, with RSPLIB's TLV walking rules.
 * Every failure throws {@linkcode RSerPoolDecodeError}; no length field is trusted. Internal to
 * the codec.
 *
 * @module
 */

import { ErrorCause, ParameterAction } from "./constants.ts";
import { RSerPoolDecodeError } from "./errors.ts";

/** Causes whose error reply carries the offending parameter (RSPLIB createErrorParameter). */
const CAUSES_WITH_PARAMETER: ReadonlySet<number> = new Set([
  ErrorCause.UnrecognizedParameter,
  ErrorCause.InvalidValues,
  ErrorCause.InvalidValue,
]);

const EMPTY = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY.buffer);

/** Reads one message; reused between messages (decoding is synchronous). */
export class MessageReader {
  #bytes: Uint8Array = EMPTY;
  #view: DataView = EMPTY_VIEW;
  #pos = 0;
  #limit = 0;
  /** Start of the innermost TLV being read (RSPLIB's "offending parameter"), or -1. */
  #current = -1;
  #currentLength = 0;

  /** Starts reading `bytes[0, limit)`. */
  reset(bytes: Uint8Array, limit: number): void {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#pos = 0;
    this.#limit = limit;
    this.#current = -1;
    this.#currentLength = 0;
  }

  /** Drops the reference to the last input. */
  release(): void {
    this.#bytes = EMPTY;
    this.#view = EMPTY_VIEW;
    this.#limit = 0;
  }

  /** Current offset. */
  get position(): number {
    return this.#pos;
  }

  /** Moves the read position (only within what was checked). */
  set position(value: number) {
    this.#pos = value;
  }

  /** End of the readable range. */
  get limit(): number {
    return this.#limit;
  }

  /** Bytes left before the limit. */
  get remaining(): number {
    return this.#limit - this.#pos;
  }

  /** Throws the decode error for `cause`, attaching the offending TLV where RSPLIB does. */
  fail(cause: number, message: string): never {
    let offending: Uint8Array | undefined;
    if (CAUSES_WITH_PARAMETER.has(cause) && this.#current >= 0) {
      offending = this.#bytes.slice(this.#current, this.#current + this.#currentLength);
    }
    throw new RSerPoolDecodeError(cause, message, {
      offendingParameter: offending,
      offset: this.#pos,
    });
  }

  /** Requires `n` more bytes, else fails with `cause`. */
  need(n: number, cause: number, what: string): void {
    if (this.#pos + n > this.#limit) {
      this.fail(cause, `${what} is truncated at offset ${this.#pos}`);
    }
  }

  u8(): number {
    return this.#bytes[this.#pos++];
  }

  u16(): number {
    const v = this.#view.getUint16(this.#pos);
    this.#pos += 2;
    return v;
  }

  u32(): number {
    const v = this.#view.getUint32(this.#pos);
    this.#pos += 4;
    return v;
  }

  /** Copies `n` bytes (the input buffer may be reused by the transport). */
  copy(n: number): Uint8Array {
    const out = this.#bytes.slice(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }

  /** Reads a 16-bit value at an absolute offset (no bounds check; callers checked). */
  peekU16At(offset: number): number {
    return this.#view.getUint16(offset);
  }

  /** The raw byte array (for address formatting without copies). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Type of the next TLV including action bits, or -1 when fewer than 4 bytes are left. */
  peekType(): number {
    return this.#pos + 4 <= this.#limit ? this.#view.getUint16(this.#pos) : -1;
  }

  /**
   * Reads TLV headers until one of `expected` type (any type when `expected` is -1), handling
   * the others by their action bits like RSPLIB: skip, or stop (silently: cause 0x1009; with a
   * report: cause 0x1).
   *
   * @returns The TLV's start offset; its value starts 4 bytes later.
   */
  beginTlv(expected: number, what: string): number {
    for (;;) {
      const start = this.#pos;
      this.#current = start;
      this.#currentLength = 0;
      if (start + 4 > this.#limit) {
        this.fail(ErrorCause.InvalidMessage, `${what} expected at offset ${start}`);
      }
      const type = this.#view.getUint16(start);
      const length = this.#view.getUint16(start + 2);
      if (start + length > this.#limit) {
        this.fail(ErrorCause.InvalidValues, `parameter at offset ${start} exceeds the message`);
      }
      if (length < 4) {
        this.fail(ErrorCause.InvalidValues, `parameter at offset ${start} has length ${length}`);
      }
      this.#currentLength = length;
      this.#pos = start + 4;
      if (expected < 0 || (type & ~ParameterAction.MASK) === expected) return start;
      this.skipUnknown(start, type, length, what);
    }
  }

  /** Applies the action bits of an unexpected parameter: skip it, or fail. */
  skipUnknown(start: number, type: number, length: number, what: string): void {
    const action = type & ParameterAction.MASK;
    const hex = `0x${type.toString(16).padStart(4, "0")}`;
    if (action === ParameterAction.SKIP || action === ParameterAction.SKIP_AND_REPORT) {
      const end = start + length + ((4 - (length & 3)) & 3);
      this.#pos = Math.min(end, this.#limit);
      this.#current = -1;
      return;
    }
    this.#pos = start;
    if (action === ParameterAction.STOP) {
      this.fail(ErrorCause.UnrecognizedParameterSilent, `unexpected parameter ${hex}, ${what}`);
    }
    this.fail(ErrorCause.UnrecognizedParameter, `unexpected parameter ${hex}, ${what}`);
  }

  /** Length of the value of the TLV at `start`. */
  valueLength(start: number): number {
    return this.#view.getUint16(start + 2) - 4;
  }

  /** End of the value of the TLV at `start` (without padding). */
  valueEnd(start: number): number {
    return start + this.#view.getUint16(start + 2);
  }

  /**
   * Finishes the TLV at `start`: skips what was not read and the padding (RSPLIB
   * checkFinishTLV). Reading past its end is an error.
   */
  endTlv(start: number): void {
    const length = this.#view.getUint16(start + 2);
    const end = start + length + ((4 - (length & 3)) & 3);
    if (this.#pos > end) this.fail(ErrorCause.InvalidValues, `parameter at ${start} overran`);
    if (end > this.#limit) {
      this.#pos = this.#limit;
      this.fail(ErrorCause.InvalidValues, `padding of parameter at ${start} is missing`);
    }
    this.#pos = end;
    this.#current = -1;
    this.#currentLength = 0;
  }
}
