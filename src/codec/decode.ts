/**
 * Decoding of ASAP and ENRP messages, with RSPLIB 3.4.4's rules for lengths, padding, unknown
 * parameters and error causes.
 *
 * @module
 */

import {
  AsapType,
  EnrpType,
  ErrorCause,
  Limits,
  MessageFlag,
  ParameterType,
  Ppid,
} from "./constants.ts";
import { RSerPoolDecodeError } from "./errors.ts";
import { MessageReader } from "./_reader.ts";
import {
  type DecodeOptions,
  readChecksum,
  readCookie,
  readHandleResolutionOption,
  readOperationError,
  readPeIdentifier,
  readPolicy,
  readPoolElement,
  readPoolHandle,
  readServerInformation,
  readTransport,
} from "./_decode_parameters.ts";
import type {
  AsapMessage,
  EnrpMessage,
  HandleTablePool,
  PoolElementParameter,
  RSerPoolMessage,
  ServerInformation,
  TransportParameter,
} from "./types.ts";

export type { DecodeOptions } from "./_decode_parameters.ts";

const reader = new MessageReader();
const NO_OPTIONS: DecodeOptions = {};

/**
 * Decodes one ASAP (PPID 11) or ENRP (PPID 12) message.
 *
 * Lengths are checked against the input before anything is read; the result holds copies, so
 * `bytes` may be reused afterwards. Transport addresses of link-local scope or below are dropped
 * as RSPLIB drops them (loopback too, unless `options.loopback`).
 *
 * @example Decode RSPLIB's Server Announce
 * ```ts
 * import { decodeMessage } from "./decode.ts";
 * const m = decodeMessage(11, new Uint8Array([0x0a, 0, 0, 8, 0x0a, 0x0b, 0x0c, 0x0d]));
 * if (m.type === "serverAnnounce") console.log(m.registrarIdentifier.toString(16)); // a0b0c0d
 * ```
 *
 * @param ppid The SCTP payload protocol identifier: 11 (ASAP) or 12 (ENRP).
 * @param bytes The message.
 * @param options Address filtering.
 * @returns The message.
 * @throws {RSerPoolDecodeError} For anything that is not a valid message; its `errorCause` is
 * what an RSPLIB registrar answers with.
 */
export function decodeMessage(
  ppid: number,
  bytes: Uint8Array,
  options: DecodeOptions = NO_OPTIONS,
): RSerPoolMessage {
  if (ppid !== Ppid.ASAP && ppid !== Ppid.ENRP) {
    throw new RSerPoolDecodeError(
      ErrorCause.UnrecognizedMessage,
      `PPID ${ppid} is neither ASAP nor ENRP`,
    );
  }
  if (bytes.length < 4) {
    throw new RSerPoolDecodeError(
      ErrorCause.InvalidMessage,
      `${bytes.length} bytes are no message`,
    );
  }
  const length = (bytes[2] << 8) | bytes[3];
  const total = length + ((4 - (length & 3)) & 3);
  if (length < 4 || total > bytes.length) {
    throw new RSerPoolDecodeError(
      ErrorCause.InvalidMessage,
      `length field ${length} does not fit ${bytes.length} bytes`,
    );
  }
  const r = reader;
  r.reset(bytes, total);
  try {
    r.position = 4;
    const type = bytes[0], flags = bytes[1];
    const message = ppid === Ppid.ASAP
      ? decodeAsap(r, type, flags, options)
      : decodeEnrp(r, type, flags, options);
    if (r.position !== total) {
      r.fail(ErrorCause.InvalidMessage, `message ends at ${r.position}, its length says ${total}`);
    }
    return message;
  } catch (e) {
    if (e instanceof RSerPoolDecodeError) throw e;
    // Anything else is a decoder bug; report it as an invalid message rather than crash callers.
    throw new RSerPoolDecodeError(ErrorCause.InvalidMessage, `internal decoder error: ${e}`);
  } finally {
    r.release();
  }
}

function atEnd(r: MessageReader): boolean {
  return r.position >= r.limit;
}

function readPoolElements(
  r: MessageReader,
  into: PoolElementParameter[],
  options: DecodeOptions,
): void {
  while (!atEnd(r)) {
    if (into.length >= Limits.MAX_HANDLE_RESOLUTION_ITEMS) {
      r.fail(ErrorCause.InvalidMessage, "more than 128 pool elements");
    }
    into.push(readPoolElement(r, false, options));
  }
}

function decodeAsap(
  r: MessageReader,
  type: number,
  flags: number,
  options: DecodeOptions,
): AsapMessage {
  switch (type) {
    case AsapType.Registration:
      return {
        type: "registration",
        poolHandle: readPoolHandle(r),
        poolElement: readPoolElement(r, false, options),
      };
    case AsapType.Deregistration:
      return {
        type: "deregistration",
        poolHandle: readPoolHandle(r),
        identifier: readPeIdentifier(r),
      };
    case AsapType.RegistrationResponse: {
      const poolHandle = readPoolHandle(r);
      const identifier = readPeIdentifier(r);
      const error = atEnd(r) ? undefined : readOperationError(r);
      const reject = (flags & MessageFlag.REJECT) !== 0;
      return error === undefined
        ? { type: "registrationResponse", poolHandle, identifier, reject }
        : { type: "registrationResponse", poolHandle, identifier, reject, error };
    }
    case AsapType.DeregistrationResponse: {
      const poolHandle = readPoolHandle(r);
      const identifier = readPeIdentifier(r);
      const error = atEnd(r) ? undefined : readOperationError(r);
      return error === undefined
        ? { type: "deregistrationResponse", poolHandle, identifier }
        : { type: "deregistrationResponse", poolHandle, identifier, error };
    }
    case AsapType.HandleResolution: {
      const poolHandle = readPoolHandle(r);
      if (atEnd(r)) return { type: "handleResolution", poolHandle };
      return { type: "handleResolution", poolHandle, items: readHandleResolutionOption(r) };
    }
    case AsapType.HandleResolutionResponse: {
      const poolHandle = readPoolHandle(r);
      const reject = (flags & MessageFlag.REJECT) !== 0;
      const poolElements: PoolElementParameter[] = [];
      if (!atEnd(r) && (r.peekType() & 0x3fff) === ParameterType.OperationError) {
        const error = readOperationError(r);
        return reject
          ? { type: "handleResolutionResponse", poolHandle, reject, error, poolElements }
          : { type: "handleResolutionResponse", poolHandle, error, poolElements };
      }
      const policy = readPolicy(r);
      readPoolElements(r, poolElements, options);
      return reject
        ? { type: "handleResolutionResponse", poolHandle, reject, policy, poolElements }
        : { type: "handleResolutionResponse", poolHandle, policy, poolElements };
    }
    case AsapType.EndpointKeepAlive: {
      r.need(4, ErrorCause.InvalidMessage, "registrar identifier");
      const registrarIdentifier = r.u32();
      const poolHandle = readPoolHandle(r);
      const home = (flags & MessageFlag.HOME) !== 0;
      if (atEnd(r)) return { type: "endpointKeepAlive", registrarIdentifier, poolHandle, home };
      const identifier = readPeIdentifier(r);
      return { type: "endpointKeepAlive", registrarIdentifier, poolHandle, identifier, home };
    }
    case AsapType.EndpointKeepAliveAck:
      return {
        type: "endpointKeepAliveAck",
        poolHandle: readPoolHandle(r),
        identifier: readPeIdentifier(r),
      };
    case AsapType.EndpointUnreachable:
      return {
        type: "endpointUnreachable",
        poolHandle: readPoolHandle(r),
        identifier: readPeIdentifier(r),
      };
    case AsapType.ServerAnnounce: {
      r.need(4, ErrorCause.InvalidMessage, "registrar identifier");
      const registrarIdentifier = r.u32();
      const transports: TransportParameter[] = [];
      while (!atEnd(r)) {
        if ((r.peekType() & 0x3fff) === ParameterType.ServerInformation) {
          transports.push(readServerInformation(r, options).transport);
        } else {
          transports.push(readTransport(r, options));
        }
      }
      return transports.length === 0
        ? { type: "serverAnnounce", registrarIdentifier }
        : { type: "serverAnnounce", registrarIdentifier, transports };
    }
    case AsapType.Cookie:
      return { type: "cookie", cookie: readCookie(r) };
    case AsapType.CookieEcho:
      return { type: "cookieEcho", cookie: readCookie(r) };
    case AsapType.BusinessCard: {
      const poolHandle = readPoolHandle(r);
      const policy = readPolicy(r);
      const poolElements: PoolElementParameter[] = [];
      readPoolElements(r, poolElements, options);
      if (poolElements.length < 1) r.fail(ErrorCause.InvalidValue, "business card without PE");
      return { type: "businessCard", poolHandle, policy, poolElements };
    }
    case AsapType.Error:
      return { type: "asapError", error: readOperationError(r) };
  }
  r.fail(ErrorCause.UnrecognizedMessage, `unknown ASAP message type 0x${type.toString(16)}`);
}

function readAddressing(r: MessageReader, extra: number): [number, number] {
  r.need(8 + extra, ErrorCause.InvalidValue, "ENRP sender and receiver identifiers");
  return [r.u32(), r.u32()];
}

function decodeEnrp(
  r: MessageReader,
  type: number,
  flags: number,
  options: DecodeOptions,
): EnrpMessage {
  switch (type) {
    case EnrpType.Presence: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      return {
        type: "presence",
        senderIdentifier,
        receiverIdentifier,
        replyRequired: (flags & MessageFlag.REPLY_REQUIRED) !== 0,
        checksum: readChecksum(r),
        serverInformation: readServerInformation(r, options),
      };
    }
    case EnrpType.HandleTableRequest: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      return {
        type: "handleTableRequest",
        senderIdentifier,
        receiverIdentifier,
        ownChildrenOnly: (flags & MessageFlag.OWN_CHILDREN_ONLY) !== 0,
      };
    }
    case EnrpType.HandleTableResponse: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      const reject = (flags & MessageFlag.REJECT) !== 0;
      const pools: HandleTablePool[] = [];
      if (!reject) {
        while (!atEnd(r) && r.peekType() === ParameterType.PoolHandle) {
          const pool: HandleTablePool = { poolHandle: readPoolHandle(r), poolElements: [] };
          while (!atEnd(r) && r.peekType() === ParameterType.PoolElement) {
            pool.poolElements.push(readPoolElement(r, true, options));
          }
          if (pool.poolElements.length === 0) r.fail(ErrorCause.InvalidValue, "pool without PE");
          pools.push(pool);
        }
      }
      return {
        type: "handleTableResponse",
        senderIdentifier,
        receiverIdentifier,
        reject,
        moreToSend: (flags & MessageFlag.MORE_TO_SEND) !== 0,
        pools,
      };
    }
    case EnrpType.HandleUpdate: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 4);
      const action = r.u16();
      r.u16();
      if (action > 1) r.fail(ErrorCause.InvalidValue, `unknown update action ${action}`);
      return {
        type: "handleUpdate",
        senderIdentifier,
        receiverIdentifier,
        action: action === 0 ? "add" : "delete",
        takeoverSuggested: (flags & MessageFlag.TAKEOVER_SUGGESTED) !== 0,
        poolHandle: readPoolHandle(r),
        poolElement: readPoolElement(r, true, options),
      };
    }
    case EnrpType.ListRequest: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      return { type: "listRequest", senderIdentifier, receiverIdentifier };
    }
    case EnrpType.ListResponse: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      const reject = (flags & MessageFlag.REJECT) !== 0;
      const servers: ServerInformation[] = [];
      if (!reject) { while (!atEnd(r)) servers.push(readServerInformation(r, options)); }
      return { type: "listResponse", senderIdentifier, receiverIdentifier, reject, servers };
    }
    case EnrpType.InitTakeover:
    case EnrpType.InitTakeoverAck:
    case EnrpType.TakeoverServer: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 4);
      const targetIdentifier = r.u32();
      const name = type === EnrpType.InitTakeover
        ? "initTakeover"
        : type === EnrpType.InitTakeoverAck
        ? "initTakeoverAck"
        : "takeoverServer";
      return { type: name, senderIdentifier, receiverIdentifier, targetIdentifier };
    }
    case EnrpType.Error: {
      const [senderIdentifier, receiverIdentifier] = readAddressing(r, 0);
      return {
        type: "enrpError",
        senderIdentifier,
        receiverIdentifier,
        error: readOperationError(r),
      };
    }
  }
  r.fail(ErrorCause.UnrecognizedMessage, `unknown ENRP message type 0x${type.toString(16)}`);
}
