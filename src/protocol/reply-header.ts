/**
 * The headers of transmission replies as a client reads them, after their u32 magic: a simple
 * reply (error, cookie), a compact structured chunk (flags, type, cookie, u32 payload length) or
 * an extended chunk (flags, type, cookie, the request's offset, u64 payload length), the only
 * kind a server may send once NBD_OPT_EXTENDED_HEADERS was agreed. reply-codec.ts reads the
 * magic, asks here which layout follows, and decodes it here.
 */

import { ProtocolError } from "../api/errors.ts";
import type { Offset } from "../api/plugin.ts";
import { MAGIC } from "./constants.ts";
import { CHUNK, EXTENDED_CHUNK, getU16, getU32, getU64, SIMPLE_REPLY } from "./layout.ts";

/** A reply's cookie, as the two u32 halves the request carried. */
export interface Cookie {
  cookieHi: number;
  cookieLo: number;
}

/** Which header follows a reply's magic. */
export type ReplyShape = "simple" | "chunk" | "extended";

/** Every reply starts with a u32 magic: the field before a simple reply's error. */
export const REPLY_MAGIC_SIZE = SIMPLE_REPLY.error;

/** Bytes of each header after its magic. */
export const REST_OF_HEADER: Readonly<Record<ReplyShape, number>> = {
  simple: SIMPLE_REPLY.size - REPLY_MAGIC_SIZE,
  chunk: CHUNK.size - REPLY_MAGIC_SIZE,
  extended: EXTENDED_CHUNK.size - REPLY_MAGIC_SIZE,
};

/**
 * The shape a magic announces. With extended headers agreed only extended chunks may come (the
 * spec forbids simple replies and compact chunks then); without, never an extended chunk.
 */
export function replyShape(magic: number, extended: boolean): ReplyShape {
  if (magic === MAGIC.EXTENDED_REPLY) {
    if (extended) return "extended";
    throw new ProtocolError("an extended reply came, but extended headers were not agreed");
  }
  if (magic !== MAGIC.SIMPLE_REPLY && magic !== MAGIC.STRUCTURED_REPLY) {
    throw new ProtocolError("a reply has a bad magic");
  }
  if (extended) {
    throw new ProtocolError("a compact reply came, but extended headers were agreed");
  }
  return magic === MAGIC.SIMPLE_REPLY ? "simple" : "chunk";
}

/** A simple reply after its magic: u32 error, u64 cookie. */
export function decodeSimpleReply(rest: Uint8Array): { cookie: Cookie; error: number } {
  const at = -REPLY_MAGIC_SIZE; // offsets in `rest`, which starts after the magic
  return {
    error: getU32(rest, at + SIMPLE_REPLY.error),
    cookie: {
      cookieHi: getU32(rest, at + SIMPLE_REPLY.cookie),
      cookieLo: getU32(rest, at + SIMPLE_REPLY.cookie + 4),
    },
  };
}

/** What a chunk header says, compact or extended. */
export interface ChunkHeader {
  cookie: Cookie;
  flags: number;
  type: number;
  /** The payload's length: 32 bits in a compact header, 64 (exact) in an extended one. */
  length: Offset;
}

/**
 * A chunk header after its magic. An extended one also echoes the request's offset, which the
 * client does not need: each request is found by its cookie.
 */
export function decodeChunkHeader(rest: Uint8Array, extended: boolean): ChunkHeader {
  // Flags, type and cookie lie at the same offsets in both layouts.
  const at = -REPLY_MAGIC_SIZE; // offsets in `rest`, which starts after the magic
  return {
    flags: getU16(rest, at + CHUNK.flags),
    type: getU16(rest, at + CHUNK.type),
    cookie: {
      cookieHi: getU32(rest, at + CHUNK.cookie),
      cookieLo: getU32(rest, at + CHUNK.cookie + 4),
    },
    length: extended ? getU64(rest, at + EXTENDED_CHUNK.length) : getU32(rest, at + CHUNK.length),
  };
}
