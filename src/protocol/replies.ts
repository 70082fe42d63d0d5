/**
 * Encoders of transmission replies into buffers the caller owns: simple replies, structured
 * chunk headers (compact, or extended once NBD_OPT_EXTENDED_HEADERS was agreed) and the fixed
 * chunk payloads (OFFSET_DATA prefix, OFFSET_HOLE, NONE, ERROR, ERROR_OFFSET). Each returns the
 * number of bytes written; none allocates except where noted. BLOCK_STATUS replies are in
 * block-status-reply.ts.
 */

import { MAGIC, REPLY_FLAG, REPLY_TYPE } from "./constants.ts";
import type { Request } from "./codec.ts";
import type { Offset } from "../api/plugin.ts";
import {
  CHUNK,
  ERROR_CHUNK,
  EXTENDED_CHUNK,
  OFFSET_DATA,
  OFFSET_HOLE,
  setU16,
  setU32,
  setU64,
  SIMPLE_REPLY,
} from "./layout.ts";

/** A simple reply header at `at`: magic, error, cookie. Read data, if any, follows it. */
export function encodeSimpleReply(buf: Uint8Array, at: number, req: Request, error: number) {
  setU32(buf, at + SIMPLE_REPLY.magic, MAGIC.SIMPLE_REPLY);
  setU32(buf, at + SIMPLE_REPLY.error, error);
  setU32(buf, at + SIMPLE_REPLY.cookie, req.cookieHi);
  setU32(buf, at + SIMPLE_REPLY.cookie + 4, req.cookieLo);
  return SIMPLE_REPLY.size;
}

/** The size of a chunk header: 32 bytes with extended headers, else 20. */
export function chunkHeaderSize(extended: boolean): number {
  return extended ? EXTENDED_CHUNK.size : CHUNK.size;
}

/**
 * A chunk header at `at` announcing `length` payload bytes: compact, or extended (which also
 * carries the request's offset, whatever the chunk says).
 */
export function encodeChunkHeader(
  buf: Uint8Array,
  at: number,
  req: Request,
  flags: number,
  type: number,
  length: number,
  extended = false,
): number {
  if (extended) {
    setU32(buf, at + EXTENDED_CHUNK.magic, MAGIC.EXTENDED_REPLY);
    setU16(buf, at + EXTENDED_CHUNK.flags, flags);
    setU16(buf, at + EXTENDED_CHUNK.type, type);
    setU32(buf, at + EXTENDED_CHUNK.cookie, req.cookieHi);
    setU32(buf, at + EXTENDED_CHUNK.cookie + 4, req.cookieLo);
    setU64(buf, at + EXTENDED_CHUNK.offset, req.offset);
    setU64(buf, at + EXTENDED_CHUNK.length, length);
    return EXTENDED_CHUNK.size;
  }
  setU32(buf, at + CHUNK.magic, MAGIC.STRUCTURED_REPLY);
  setU16(buf, at + CHUNK.flags, flags);
  setU16(buf, at + CHUNK.type, type);
  setU32(buf, at + CHUNK.cookie, req.cookieHi);
  setU32(buf, at + CHUNK.cookie + 4, req.cookieLo);
  setU32(buf, at + CHUNK.length, length);
  return CHUNK.size;
}

/** Bytes in front of the data of a final OFFSET_DATA chunk: header and u64 offset. */
export const OFFSET_DATA_PREFIX = CHUNK.size + OFFSET_DATA.size;
export const EXTENDED_OFFSET_DATA_PREFIX = EXTENDED_CHUNK.size + OFFSET_DATA.size;

/** The header and offset of a final OFFSET_DATA chunk carrying `length` data bytes. */
export function encodeOffsetDataPrefix(
  buf: Uint8Array,
  at: number,
  req: Request,
  length: number,
  extended = false,
) {
  const type = REPLY_TYPE.OFFSET_DATA;
  const header = encodeChunkHeader(
    buf,
    at,
    req,
    REPLY_FLAG.DONE,
    type,
    OFFSET_DATA.size + length,
    extended,
  );
  setU64(buf, at + header, req.offset);
  return header + OFFSET_DATA.size;
}

/** A final OFFSET_HOLE chunk: `size` bytes at the request offset read as zero. */
export function encodeOffsetHole(
  buf: Uint8Array,
  at: number,
  req: Request,
  size: number,
  extended = false,
) {
  const type = REPLY_TYPE.OFFSET_HOLE;
  const header = encodeChunkHeader(buf, at, req, REPLY_FLAG.DONE, type, OFFSET_HOLE.size, extended);
  setU64(buf, at + header, req.offset);
  setU32(buf, at + header + OFFSET_HOLE.holeSize, size);
  return header + OFFSET_HOLE.size;
}

export const OFFSET_HOLE_REPLY_SIZE = CHUNK.size + OFFSET_HOLE.size;
export const EXTENDED_OFFSET_HOLE_REPLY_SIZE = EXTENDED_CHUNK.size + OFFSET_HOLE.size;

/**
 * A final NONE chunk, the whole reply to a request that succeeded without data once extended
 * headers forbid simple replies.
 */
export function encodeNoneChunk(buf: Uint8Array, at: number, req: Request): number {
  return encodeChunkHeader(buf, at, req, REPLY_FLAG.DONE, REPLY_TYPE.NONE, 0, true);
}

const encoder = new TextEncoder();

/** A final ERROR chunk with a message for humans (allocates: errors are not the hot path). */
export function encodeErrorChunk(
  req: Request,
  error: number,
  message: string,
  extended = false,
): Uint8Array {
  const text = encoder.encode(message).subarray(0, 4096);
  const header = chunkHeaderSize(extended);
  const buf = new Uint8Array(header + ERROR_CHUNK.size + text.length);
  const type = REPLY_TYPE.ERROR;
  const length = ERROR_CHUNK.size + text.length;
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, type, length, extended);
  setU32(buf, header, error);
  setU16(buf, header + ERROR_CHUNK.messageLength, text.length);
  buf.set(text, header + ERROR_CHUNK.size);
  return buf;
}

/** A final ERROR_OFFSET chunk: the data from `offset` on (within the request) is bad. */
export function encodeErrorOffsetChunk(
  req: Request,
  error: number,
  message: string,
  offset: Offset,
  extended = false,
): Uint8Array {
  const text = encoder.encode(message).subarray(0, 4096);
  const payload = ERROR_CHUNK.size + text.length + 8;
  const header = chunkHeaderSize(extended);
  const buf = new Uint8Array(header + payload);
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, REPLY_TYPE.ERROR_OFFSET, payload, extended);
  setU32(buf, header, error);
  setU16(buf, header + ERROR_CHUNK.messageLength, text.length);
  buf.set(text, header + ERROR_CHUNK.size);
  setU64(buf, header + ERROR_CHUNK.size + text.length, offset);
  return buf;
}
