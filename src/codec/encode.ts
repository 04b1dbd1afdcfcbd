/**
 * Encoding of ASAP and ENRP messages, byte for byte as RSPLIB 3.4.4's message creator writes
 * them.
 *
 * @module
 */

import {
  AsapType,
  EnrpType,
  Limits,
  MessageFlag,
  ParameterAction,
  ParameterType,
  TransportUse,
  UpdateAction,
} from "./constants.ts";
import { MessageWriter } from "./_writer.ts";
import { POLICY_FIELDS, PolicyType, type PoolPolicy } from "./policy_types.ts";
import type {
  OperationError,
  PoolElementParameter,
  RSerPoolMessage,
  ServerInformation,
  TransportParameter,
} from "./types.ts";
import { ipv4Of, parseIpAddress } from "../net/ip_address.ts";

const shared = new MessageWriter(2048);

/**
 * Encodes a message. The header's length covers the whole message; every parameter is padded to
 * 4 bytes, exactly as RSPLIB writes them.
 *
 * @example Encode a Handle Resolution that asks for 3 PEs
 * ```ts
 * import { encodeMessage } from "./encode.ts";
 * import { poolHandle } from "./pool_handle.ts";
 * const bytes = encodeMessage({ type: "handleResolution", poolHandle: poolHandle("EchoPool"), items: 3 });
 * console.log(bytes.length); // 24
 * ```
 *
 * @param message The message.
 * @returns A new byte array.
 * @throws {RangeError} A field is out of range (a pool handle longer than 32 bytes, too many
 * addresses, a number that does not fit its field, ...).
 * @throws {TypeError} An address is not an IP address.
 */
export function encodeMessage(message: RSerPoolMessage): Uint8Array {
  shared.reset();
  encodeMessageInto(message, shared);
  return shared.toBytes();
}

/**
 * Encodes a message into a writer (for callers that reuse one writer).
 *
 * @param message The message.
 * @param w The writer; the message is appended.
 */
export function encodeMessageInto(message: RSerPoolMessage, w: MessageWriter): void {
  const start = w.length;
  const header = (type: number, flags: number) => {
    w.u8(type);
    w.u8(flags);
    w.u16(0);
  };
  switch (message.type) {
    case "registration":
      header(AsapType.Registration, 0);
      writePoolHandle(w, message.poolHandle);
      writePoolElement(w, message.poolElement, false);
      break;
    case "deregistration":
      header(AsapType.Deregistration, 0);
      writePoolHandle(w, message.poolHandle);
      writePeIdentifier(w, message.identifier);
      break;
    case "registrationResponse":
      header(AsapType.RegistrationResponse, message.reject ? MessageFlag.REJECT : 0);
      writePoolHandle(w, message.poolHandle);
      writePeIdentifier(w, message.identifier);
      if (message.error !== undefined) writeOperationError(w, message.error);
      break;
    case "deregistrationResponse":
      header(AsapType.DeregistrationResponse, 0);
      writePoolHandle(w, message.poolHandle);
      writePeIdentifier(w, message.identifier);
      if (message.error !== undefined) writeOperationError(w, message.error);
      break;
    case "handleResolution":
      header(AsapType.HandleResolution, 0);
      writePoolHandle(w, message.poolHandle);
      if (message.items !== undefined) {
        const t = w.beginTlv(ParameterType.HandleResolution | ParameterAction.SKIP);
        w.u32(u32(message.items, "items"));
        w.endTlv(t);
      }
      break;
    case "handleResolutionResponse": {
      header(AsapType.HandleResolutionResponse, message.reject ? MessageFlag.REJECT : 0);
      writePoolHandle(w, message.poolHandle);
      if (message.error !== undefined) {
        writeOperationError(w, message.error);
        break;
      }
      const pes = message.poolElements;
      if (pes.length > Limits.MAX_HANDLE_RESOLUTION_ITEMS) {
        throw new RangeError(`Cannot encode ${pes.length} pool elements: at most 128`);
      }
      const policy = message.policy ?? pes[0]?.policy;
      if (policy === undefined) {
        throw new TypeError("Cannot encode handle resolution response: no policy and no PE");
      }
      writePolicy(w, policy);
      for (const pe of pes) writePoolElement(w, pe, false);
      break;
    }
    case "endpointKeepAlive":
      header(AsapType.EndpointKeepAlive, message.home ? MessageFlag.HOME : 0);
      w.u32(u32(message.registrarIdentifier, "registrar identifier"));
      writePoolHandle(w, message.poolHandle);
      if (message.identifier !== undefined) writePeIdentifier(w, message.identifier);
      break;
    case "endpointKeepAliveAck":
      header(AsapType.EndpointKeepAliveAck, 0);
      writePoolHandle(w, message.poolHandle);
      writePeIdentifier(w, message.identifier);
      break;
    case "endpointUnreachable":
      header(AsapType.EndpointUnreachable, 0);
      writePoolHandle(w, message.poolHandle);
      writePeIdentifier(w, message.identifier);
      break;
    case "serverAnnounce":
      header(AsapType.ServerAnnounce, 0);
      w.u32(u32(message.registrarIdentifier, "registrar identifier"));
      for (const t of message.transports ?? []) writeTransport(w, t);
      break;
    case "cookie":
    case "cookieEcho": {
      header(message.type === "cookie" ? AsapType.Cookie : AsapType.CookieEcho, 0);
      if (message.cookie.length < 1) throw new RangeError("Cannot encode an empty cookie");
      const t = w.beginTlv(ParameterType.Cookie);
      w.bytes(message.cookie);
      w.endTlv(t);
      break;
    }
    case "businessCard":
      header(AsapType.BusinessCard, 0);
      writePoolHandle(w, message.poolHandle);
      writePolicy(w, message.policy);
      for (const pe of message.poolElements) writePoolElement(w, pe, false);
      break;
    case "asapError":
      header(AsapType.Error, 0);
      writeOperationError(w, message.error);
      break;

    case "presence":
      header(EnrpType.Presence, message.replyRequired ? MessageFlag.REPLY_REQUIRED : 0);
      writeAddressing(w, message);
      {
        const t = w.beginTlv(ParameterType.PeChecksum);
        w.u16(u16(message.checksum, "checksum"));
        w.endTlv(t);
      }
      writeServerInformation(w, message.serverInformation);
      break;
    case "handleTableRequest":
      header(
        EnrpType.HandleTableRequest,
        message.ownChildrenOnly ? MessageFlag.OWN_CHILDREN_ONLY : 0,
      );
      writeAddressing(w, message);
      break;
    case "handleTableResponse":
      header(
        EnrpType.HandleTableResponse,
        (message.reject ? MessageFlag.REJECT : 0) |
          (message.moreToSend ? MessageFlag.MORE_TO_SEND : 0),
      );
      writeAddressing(w, message);
      for (const pool of message.pools) {
        writePoolHandle(w, pool.poolHandle);
        for (const pe of pool.poolElements) writePoolElement(w, pe, true);
      }
      break;
    case "handleUpdate":
      header(EnrpType.HandleUpdate, message.takeoverSuggested ? MessageFlag.TAKEOVER_SUGGESTED : 0);
      writeAddressing(w, message);
      w.u16(message.action === "add" ? UpdateAction.ADD_PE : UpdateAction.DEL_PE);
      w.u16(0);
      writePoolHandle(w, message.poolHandle);
      writePoolElement(w, message.poolElement, true);
      break;
    case "listRequest":
      header(EnrpType.ListRequest, 0);
      writeAddressing(w, message);
      break;
    case "listResponse":
      header(EnrpType.ListResponse, message.reject ? MessageFlag.REJECT : 0);
      writeAddressing(w, message);
      for (const server of message.servers) writeServerInformation(w, server);
      break;
    case "initTakeover":
    case "initTakeoverAck":
    case "takeoverServer":
      header(
        message.type === "initTakeover"
          ? EnrpType.InitTakeover
          : message.type === "initTakeoverAck"
          ? EnrpType.InitTakeoverAck
          : EnrpType.TakeoverServer,
        0,
      );
      writeAddressing(w, message);
      w.u32(u32(message.targetIdentifier, "target identifier"));
      break;
    case "enrpError":
      header(EnrpType.Error, 0);
      writeAddressing(w, message);
      writeOperationError(w, message.error);
      break;
    default: {
      const unknown: { type?: unknown } = message;
      throw new TypeError(`Cannot encode message of type "${String(unknown.type)}"`);
    }
  }
  const length = w.length - start;
  if (length > 0xffff) throw new RangeError(`Cannot encode message of ${length} bytes`);
  w.setU16(start + 2, length);
}

/**
 * Encodes one Pool Member Selection Policy parameter (for example as the data of error cause
 * 0x5, "pooling policy inconsistent", which RFC 5354 wants to carry the offending policy).
 *
 * @example
 * ```ts
 * import { encodePolicyParameter } from "./encode.ts";
 * const bytes = encodePolicyParameter({ type: "RoundRobin" });
 * console.log(bytes.length); // 8 (00 08 00 08 00 00 00 01)
 * ```
 *
 * @param policy The policy.
 * @returns The parameter's bytes.
 */
export function encodePolicyParameter(policy: PoolPolicy): Uint8Array {
  const w = new MessageWriter(32);
  writePolicy(w, policy);
  return w.toBytes();
}

function u32(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`Cannot encode ${what} ${value}: not a 32-bit unsigned integer`);
  }
  return value;
}

function u16(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff) {
    throw new RangeError(`Cannot encode ${what} ${value}: not a 16-bit unsigned integer`);
  }
  return value;
}

function writeAddressing(
  w: MessageWriter,
  m: { senderIdentifier: number; receiverIdentifier: number },
): void {
  w.u32(u32(m.senderIdentifier, "sender identifier"));
  w.u32(u32(m.receiverIdentifier, "receiver identifier"));
}

function writePoolHandle(w: MessageWriter, handle: Uint8Array): void {
  if (handle.length < 1 || handle.length > Limits.MAX_POOL_HANDLE_SIZE) {
    throw new RangeError(`Cannot encode pool handle of ${handle.length} bytes: 1 to 32 allowed`);
  }
  const t = w.beginTlv(ParameterType.PoolHandle);
  w.bytes(handle);
  w.endTlv(t);
}

function writePeIdentifier(w: MessageWriter, id: number): void {
  const t = w.beginTlv(ParameterType.PeIdentifier);
  w.u32(u32(id, "PE identifier"));
  w.endTlv(t);
}

function writeOperationError(w: MessageWriter, error: OperationError): void {
  const t = w.beginTlv(ParameterType.OperationError);
  const data = error.data ?? EMPTY;
  w.u16(u16(error.cause, "error cause"));
  w.u16(u16(4 + data.length, "error cause length"));
  w.bytes(data);
  w.endTlv(t);
}

const EMPTY = new Uint8Array(0);

/** Text → bytes, cached: PE addresses repeat in every message of a busy registrar. */
const addressCache = new Map<string, Uint8Array>();

function addressBytes(text: string): Uint8Array {
  let bytes = addressCache.get(text);
  if (bytes === undefined) {
    const parsed = parseIpAddress(text);
    if (parsed === undefined) {
      throw new TypeError(`Cannot encode address "${text}": not an IP address`);
    }
    bytes = ipv4Of(parsed) ?? parsed;
    if (addressCache.size > 4096) addressCache.clear();
    addressCache.set(text, bytes);
  }
  return bytes;
}

const TRANSPORT_TYPES = {
  sctp: ParameterType.SctpTransport,
  tcp: ParameterType.TcpTransport,
  udp: ParameterType.UdpTransport,
} as const;

function writeTransport(w: MessageWriter, t: TransportParameter): void {
  const type = TRANSPORT_TYPES[t.protocol];
  if (type === undefined) throw new TypeError(`Cannot encode transport protocol "${t.protocol}"`);
  const count = t.addresses.length;
  if (count < 1 || count > Limits.MAX_TRANSPORT_ADDRESSES || (t.protocol !== "sctp" && count > 1)) {
    throw new RangeError(`Cannot encode ${t.protocol} transport with ${count} addresses`);
  }
  const tlv = w.beginTlv(type);
  w.u16(u16(t.port, "port"));
  w.u16(
    t.protocol !== "udp" && t.controlChannel
      ? TransportUse.DATA_PLUS_CONTROL
      : TransportUse.DATA_ONLY,
  );
  for (const address of t.addresses) {
    const bytes = addressBytes(address);
    const a = w.beginTlv(
      bytes.length === 4 ? ParameterType.IPv4Address : ParameterType.IPv6Address,
    );
    w.bytes(bytes);
    w.endTlv(a);
  }
  w.endTlv(tlv);
}

function writePolicy(w: MessageWriter, policy: PoolPolicy): void {
  const code = PolicyType[policy.type];
  if (code === undefined) throw new TypeError(`Cannot encode policy "${policy.type}"`);
  const t = w.beginTlv(ParameterType.PoolMemberSelectionPolicy);
  w.u32(code);
  for (const field of POLICY_FIELDS[policy.type]) w.u32(u32(policy[field] ?? 0, field));
  w.endTlv(t);
}

function writePoolElement(w: MessageWriter, pe: PoolElementParameter, registrator: boolean): void {
  const t = w.beginTlv(ParameterType.PoolElement);
  w.u32(u32(pe.identifier, "PE identifier"));
  w.u32(u32(pe.homeRegistrarIdentifier, "home registrar identifier"));
  w.u32(u32(pe.registrationLife, "registration life"));
  writeTransport(w, pe.userTransport);
  writePolicy(w, pe.policy);
  if (registrator) {
    if (pe.registratorTransport === undefined) {
      throw new TypeError("Cannot encode ENRP pool element without registrator transport");
    }
    writeTransport(w, pe.registratorTransport);
  }
  w.endTlv(t);
}

function writeServerInformation(w: MessageWriter, server: ServerInformation): void {
  const t = w.beginTlv(ParameterType.ServerInformation);
  w.u32(u32(server.registrarIdentifier, "registrar identifier"));
  writeTransport(w, server.transport);
  w.endTlv(t);
}
