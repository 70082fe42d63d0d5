/**
 * The client's side of the handshake and of transmission, as bytes: what a client sends (its
 * flags, option requests and their data, request headers compact or extended, a BLOCK_STATUS
 * payload naming contexts) and the parsers of what the server puts in option replies
 * (NBD_REP_SERVER, NBD_REP_INFO, NBD_REP_META_CONTEXT). Pure functions over the layouts of
 * layout.ts; the decoder of the server's stream is reply-codec.ts.
 */

import { INFO, MAGIC } from "./constants.ts";
import {
  BLOCK_STATUS_PAYLOAD,
  EXTENDED_REQUEST,
  getU16,
  getU32,
  getU64,
  INFO_BLOCK_SIZE,
  INFO_EXPORT,
  OPTION_REQUEST,
  REQUEST,
  setU16,
  setU32,
  setU64,
} from "./layout.ts";
import type { Offset } from "../api/plugin.ts";
import type { Request } from "./codec.ts";

/**
 * What a client puts in a request header: a length of 32 bits in a compact header, of 64 in an
 * extended one; the payload, if any, is sent after it.
 */
export type ClientRequest = Omit<Request, "payload" | "payloadDropped" | "contextIds">;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The client flags, one u32 after the greeting. */
export function encodeClientFlags(flags: number): Uint8Array {
  const buf = new Uint8Array(4);
  setU32(buf, 0, flags);
  return buf;
}

/** One option request: IHAVEOPT, the option, the data's length, the data. */
export function encodeOption(option: number, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const buf = new Uint8Array(OPTION_REQUEST.size + data.length);
  setU32(buf, OPTION_REQUEST.magic, MAGIC.IHAVEOPT_HI);
  setU32(buf, OPTION_REQUEST.magic + 4, MAGIC.IHAVEOPT_LO);
  setU32(buf, OPTION_REQUEST.option, option);
  setU32(buf, OPTION_REQUEST.length, data.length);
  buf.set(data, OPTION_REQUEST.size);
  return buf;
}

/** INFO/GO data: u32 name length, name, u16 count, each u16 information type asked for. */
export function encodeInfoRequest(name: string, infos: readonly number[]): Uint8Array {
  const nameBytes = encoder.encode(name);
  const buf = new Uint8Array(4 + nameBytes.length + 2 + 2 * infos.length);
  setU32(buf, 0, nameBytes.length);
  buf.set(nameBytes, 4);
  setU16(buf, 4 + nameBytes.length, infos.length);
  infos.forEach((info, i) => setU16(buf, 6 + nameBytes.length + 2 * i, info));
  return buf;
}

/** LIST/SET_META_CONTEXT data: u32 name length, name, u32 count, each query with its length. */
export function encodeMetaContextRequest(name: string, queries: readonly string[]): Uint8Array {
  const nameBytes = encoder.encode(name);
  const queryBytes = queries.map((query) => encoder.encode(query));
  const size = 8 + nameBytes.length + queryBytes.reduce((sum, q) => sum + 4 + q.length, 0);
  const buf = new Uint8Array(size);
  setU32(buf, 0, nameBytes.length);
  buf.set(nameBytes, 4);
  setU32(buf, 4 + nameBytes.length, queries.length);
  let at = 8 + nameBytes.length;
  for (const query of queryBytes) {
    setU32(buf, at, query.length);
    buf.set(query, at + 4);
    at += 4 + query.length;
  }
  return buf;
}

/** The size of a request header: 32 bytes with extended headers, else 28. */
export function requestHeaderSize(extended: boolean): number {
  return extended ? EXTENDED_REQUEST.size : REQUEST.size;
}

/**
 * A request header at `at` of `buf`: the compact 28-byte one, whose length the caller keeps
 * below 2^32, or once extended headers were agreed the 32-byte one with a 64-bit length (the
 * effect length, or with PAYLOAD_LEN the payload's). The cookie travels as two u32 halves.
 */
export function encodeRequest(
  buf: Uint8Array,
  at: number,
  request: ClientRequest,
  extended = false,
): number {
  setU32(buf, at + REQUEST.magic, extended ? MAGIC.EXTENDED_REQUEST : MAGIC.REQUEST);
  setU16(buf, at + REQUEST.flags, request.flags);
  setU16(buf, at + REQUEST.type, request.type);
  setU32(buf, at + REQUEST.cookie, request.cookieHi);
  setU32(buf, at + REQUEST.cookie + 4, request.cookieLo);
  setU64(buf, at + REQUEST.offset, request.offset);
  if (extended) setU64(buf, at + EXTENDED_REQUEST.length, request.length);
  else setU32(buf, at + REQUEST.length, request.length as number);
  return requestHeaderSize(extended);
}

/**
 * The payload of a BLOCK_STATUS sent with PAYLOAD_LEN, where the server advertised
 * NBD_FLAG_BLOCK_STATUS_PAYLOAD: the effect length, then the ids of the contexts to report.
 */
export function encodeBlockStatusPayload(
  length: Offset,
  contextIds: readonly number[],
): Uint8Array {
  const buf = new Uint8Array(
    BLOCK_STATUS_PAYLOAD.size + BLOCK_STATUS_PAYLOAD.id * contextIds.length,
  );
  setU64(buf, 0, length);
  contextIds.forEach((id, i) =>
    setU32(buf, BLOCK_STATUS_PAYLOAD.size + BLOCK_STATUS_PAYLOAD.id * i, id)
  );
  return buf;
}

/** An export a LIST reply names (NBD_REP_SERVER). */
export interface ListedExport {
  readonly name: string;
  readonly description: string;
}

/** NBD_REP_SERVER: u32 name length, name, then the description up to the end; undefined if bad. */
export function parseServerReply(data: Uint8Array): ListedExport | undefined {
  if (data.length < 4) return undefined;
  const length = getU32(data, 0);
  if (length > data.length - 4) return undefined;
  return {
    name: decoder.decode(data.subarray(4, 4 + length)),
    description: decoder.decode(data.subarray(4 + length)),
  };
}

/** What NBD_REP_INFO replies tell of an export. */
export type InfoReply =
  | { readonly info: typeof INFO.EXPORT; readonly size: Offset; readonly flags: number }
  | { readonly info: typeof INFO.NAME | typeof INFO.DESCRIPTION; readonly text: string }
  | {
    readonly info: typeof INFO.BLOCK_SIZE;
    readonly minimum: number;
    readonly preferred: number;
    readonly maximum: number;
  }
  | { readonly info: "unknown"; readonly type: number };

/** An NBD_REP_INFO payload; undefined when its length does not fit its type. */
export function parseInfoReply(data: Uint8Array): InfoReply | undefined {
  if (data.length < 2) return undefined;
  const type = getU16(data, 0);
  switch (type) {
    case INFO.EXPORT:
      if (data.length !== INFO_EXPORT.size) return undefined;
      return {
        info: INFO.EXPORT,
        size: getU64(data, INFO_EXPORT.exportSize),
        flags: getU16(data, INFO_EXPORT.flags),
      };
    case INFO.NAME:
    case INFO.DESCRIPTION:
      return { info: type, text: decoder.decode(data.subarray(2)) };
    case INFO.BLOCK_SIZE:
      if (data.length !== INFO_BLOCK_SIZE.size) return undefined;
      return {
        info: INFO.BLOCK_SIZE,
        minimum: getU32(data, INFO_BLOCK_SIZE.minimum),
        preferred: getU32(data, INFO_BLOCK_SIZE.preferred),
        maximum: getU32(data, INFO_BLOCK_SIZE.maximum),
      };
    default:
      return { info: "unknown", type };
  }
}

/** NBD_REP_META_CONTEXT: u32 context id, then its name; undefined if too short. */
export function parseMetaContextReply(data: Uint8Array): { id: number; name: string } | undefined {
  if (data.length < 4) return undefined;
  return { id: getU32(data, 0), name: decoder.decode(data.subarray(4)) };
}

/** The message of an option error reply, for humans: the payload as text, if any. */
export function optionErrorText(data: Uint8Array): string {
  return decoder.decode(data);
}
