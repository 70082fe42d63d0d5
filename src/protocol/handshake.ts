/**
 * Bytes of the handshake: the newstyle greeting, option replies and their payloads, the parsers
 * of INFO/GO and META_CONTEXT option data, and the oldstyle greeting. Pure functions: what to answer is decided in
 * negotiation.ts. Parsers return undefined for malformed data (the caller answers ERR_INVALID)
 * and tell `tooLong` of a string over LIMITS.MAX_STRING, so the caller can log that limit.
 */

import { LIMITS } from "./limits.ts";
import { HANDSHAKE_FLAG, INFO, MAGIC } from "./constants.ts";
import {
  EXPORT_NAME_REPLY,
  getU16,
  getU32,
  GREETING,
  INFO_BLOCK_SIZE,
  INFO_EXPORT,
  OLDSTYLE_GREETING,
  OPTION_REPLY,
  setU16,
  setU32,
  setU64,
} from "./layout.ts";
import type { Offset } from "../api/plugin.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** The handshake flags the greeting advertises: FIXED_NEWSTYLE and NO_ZEROES. */
export const SERVER_FLAGS = HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES;

/** The 18-byte fixed-newstyle greeting, advertising SERVER_FLAGS. */
export function encodeGreeting(): Uint8Array {
  const buf = new Uint8Array(GREETING.size);
  setU32(buf, 0, MAGIC.NBDMAGIC_HI);
  setU32(buf, 4, MAGIC.NBDMAGIC_LO);
  setU32(buf, 8, MAGIC.IHAVEOPT_HI);
  setU32(buf, 12, MAGIC.IHAVEOPT_LO);
  setU16(buf, GREETING.flags, SERVER_FLAGS);
  return buf;
}

/**
 * The oldstyle greeting (the spec's "Oldstyle negotiation"): the whole handshake, with the one
 * export's size and transmission flags; global flags are zero and 124 zero bytes end it.
 */
export function encodeOldstyleGreeting(size: Offset, flags: number): Uint8Array {
  const buf = new Uint8Array(OLDSTYLE_GREETING.size);
  setU32(buf, 0, MAGIC.NBDMAGIC_HI);
  setU32(buf, 4, MAGIC.NBDMAGIC_LO);
  setU32(buf, OLDSTYLE_GREETING.magic, MAGIC.OLDSTYLE_HI);
  setU32(buf, OLDSTYLE_GREETING.magic + 4, MAGIC.OLDSTYLE_LO);
  setU64(buf, OLDSTYLE_GREETING.exportSize, size);
  setU16(buf, OLDSTYLE_GREETING.flags, flags);
  return buf;
}

/** One option reply: header plus `data` (empty for ACK and errors). */
export function encodeOptionReply(option: number, type: number, data?: Uint8Array): Uint8Array {
  const length = data?.length ?? 0;
  const buf = new Uint8Array(OPTION_REPLY.size + length);
  setU32(buf, OPTION_REPLY.magic, MAGIC.REP_HI);
  setU32(buf, OPTION_REPLY.magic + 4, MAGIC.REP_LO);
  setU32(buf, OPTION_REPLY.option, option);
  setU32(buf, OPTION_REPLY.type, type);
  setU32(buf, OPTION_REPLY.length, length);
  if (data) buf.set(data, OPTION_REPLY.size);
  return buf;
}

/**
 * The type of an option reply without payload (ACK or an error), or undefined for any other
 * reply: nbdkit logs each of those ("replying to NBD_OPT_GO with NBD_REP_ACK").
 */
export function bareReplyType(reply: Uint8Array): number | undefined {
  const bare = reply.length === OPTION_REPLY.size &&
    getU32(reply, OPTION_REPLY.magic) === MAGIC.REP_HI &&
    getU32(reply, OPTION_REPLY.magic + 4) === MAGIC.REP_LO;
  return bare ? getU32(reply, OPTION_REPLY.type) : undefined;
}

/** The reply to NBD_OPT_EXPORT_NAME: size and flags, then 124 zeroes unless NO_ZEROES. */
export function encodeExportNameReply(size: Offset, flags: number, noZeroes: boolean): Uint8Array {
  const buf = new Uint8Array(EXPORT_NAME_REPLY.size + (noZeroes ? 0 : EXPORT_NAME_REPLY.zeroes));
  setU64(buf, EXPORT_NAME_REPLY.exportSize, size);
  setU16(buf, EXPORT_NAME_REPLY.flags, flags);
  return buf;
}

/** NBD_REP_INFO payload of NBD_INFO_EXPORT. */
export function encodeInfoExport(size: Offset, flags: number): Uint8Array {
  const buf = new Uint8Array(INFO_EXPORT.size);
  setU16(buf, 0, INFO.EXPORT);
  setU64(buf, INFO_EXPORT.exportSize, size);
  setU16(buf, INFO_EXPORT.flags, flags);
  return buf;
}

/** NBD_REP_INFO payload of NBD_INFO_NAME or NBD_INFO_DESCRIPTION. */
export function encodeInfoString(type: number, text: string): Uint8Array {
  const bytes = encoder.encode(text);
  const buf = new Uint8Array(2 + bytes.length);
  setU16(buf, 0, type);
  buf.set(bytes, 2);
  return buf;
}

/** NBD_REP_INFO payload of NBD_INFO_BLOCK_SIZE. */
export function encodeInfoBlockSize(minimum: number, preferred: number, maximum: number) {
  const buf = new Uint8Array(INFO_BLOCK_SIZE.size);
  setU16(buf, 0, INFO.BLOCK_SIZE);
  setU32(buf, INFO_BLOCK_SIZE.minimum, minimum);
  setU32(buf, INFO_BLOCK_SIZE.preferred, preferred);
  setU32(buf, INFO_BLOCK_SIZE.maximum, maximum);
  return buf;
}

/** NBD_REP_SERVER payload: u32 name length, name, then the description with no length. */
export function encodeServerReply(name: string, description = ""): Uint8Array {
  const nameBytes = encoder.encode(name);
  const descriptionBytes = encoder.encode(description);
  const buf = new Uint8Array(4 + nameBytes.length + descriptionBytes.length);
  setU32(buf, 0, nameBytes.length);
  buf.set(nameBytes, 4);
  buf.set(descriptionBytes, 4 + nameBytes.length);
  return buf;
}

/** NBD_REP_META_CONTEXT payload: u32 context id, then the context name. */
export function encodeMetaContextReply(id: number, name: string): Uint8Array {
  const nameBytes = encoder.encode(name);
  const buf = new Uint8Array(4 + nameBytes.length);
  setU32(buf, 0, id);
  buf.set(nameBytes, 4);
  return buf;
}

/** A string field as the spec allows it: valid UTF-8, no NUL, at most 4096 bytes. */
export function decodeString(bytes: Uint8Array): string | undefined {
  if (bytes.length > LIMITS.MAX_STRING || bytes.includes(0)) return undefined;
  try {
    return decoder.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Told of each well-framed string that is over LIMITS.MAX_STRING: what it is, its length. */
export type TooLong = (what: string, length: number) => void;

const ignore: TooLong = () => {};

/** A framed string field; undefined (after telling `tooLong` if that is why) when invalid. */
function stringField(bytes: Uint8Array, what: string, tooLong: TooLong): string | undefined {
  if (bytes.length > LIMITS.MAX_STRING) tooLong(what, bytes.length);
  return decodeString(bytes);
}

/** INFO/GO data: u32 name length, name, u16 count, count × u16 info types. */
export function parseInfoRequest(
  data: Uint8Array,
  tooLong: TooLong = ignore,
): { name: string; infos: number[] } | undefined {
  if (data.length < 6) return undefined;
  const nameLength = getU32(data, 0);
  if (nameLength > data.length - 6) return undefined;
  const count = getU16(data, 4 + nameLength);
  if (data.length !== 6 + nameLength + 2 * count) return undefined;
  const name = stringField(data.subarray(4, 4 + nameLength), "export name", tooLong);
  if (name === undefined) return undefined;
  const infos: number[] = [];
  for (let i = 0; i < count; i++) infos.push(getU16(data, 6 + nameLength + 2 * i));
  return { name, infos };
}

/** The query count of LIST/SET_META_CONTEXT data, read before parsing the queries. */
export function metaContextQueryCount(data: Uint8Array): number | undefined {
  if (data.length < 8) return undefined;
  const nameLength = getU32(data, 0);
  return nameLength > data.length - 8 ? undefined : getU32(data, 4 + nameLength);
}

/**
 * LIST/SET_META_CONTEXT data: u32 name length, name, u32 query count, then each query as u32
 * length + string. Trailing bytes after the last query are ignored, as nbdkit does.
 */
export function parseMetaContextRequest(
  data: Uint8Array,
  tooLong: TooLong = ignore,
): { name: string; queries: string[] } | undefined {
  if (data.length < 8) return undefined;
  const nameLength = getU32(data, 0);
  if (nameLength > data.length - 8) return undefined;
  const name = stringField(data.subarray(4, 4 + nameLength), "export name", tooLong);
  if (name === undefined) return undefined;
  const count = getU32(data, 4 + nameLength);
  const queries: string[] = [];
  let at = 8 + nameLength;
  for (let i = 0; i < count; i++) {
    if (data.length - at < 4) return undefined;
    const length = getU32(data, at);
    at += 4;
    if (length > data.length - at) return undefined;
    const query = stringField(data.subarray(at, at + length), "meta-context query", tooLong);
    if (query === undefined) return undefined;
    queries.push(query);
    at += length;
  }
  return { name, queries };
}
