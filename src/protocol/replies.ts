/**
 * Encoders of transmission replies into buffers the caller owns: simple replies, structured
 * chunk headers and the fixed chunk payloads (OFFSET_DATA prefix, OFFSET_HOLE, ERROR,
 * BLOCK_STATUS). Each returns the number of bytes written; none allocates except where noted.
 */

import { MAGIC, REPLY_FLAG, REPLY_TYPE } from "./constants.ts";
import type { Request } from "./codec.ts";
import type { Offset } from "../api/plugin.ts";
import {
  BLOCK_STATUS,
  CHUNK,
  ERROR_CHUNK,
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

/** A structured chunk header at `at` announcing `length` payload bytes. */
export function encodeChunkHeader(
  buf: Uint8Array,
  at: number,
  req: Request,
  flags: number,
  type: number,
  length: number,
): number {
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

/** The header and offset of a final OFFSET_DATA chunk carrying `length` data bytes. */
export function encodeOffsetDataPrefix(buf: Uint8Array, at: number, req: Request, length: number) {
  const type = REPLY_TYPE.OFFSET_DATA;
  encodeChunkHeader(buf, at, req, REPLY_FLAG.DONE, type, OFFSET_DATA.size + length);
  setU64(buf, at + CHUNK.size, req.offset);
  return OFFSET_DATA_PREFIX;
}

/** A final OFFSET_HOLE chunk: `size` bytes at the request offset read as zero. */
export function encodeOffsetHole(buf: Uint8Array, at: number, req: Request, size: number) {
  encodeChunkHeader(buf, at, req, REPLY_FLAG.DONE, REPLY_TYPE.OFFSET_HOLE, OFFSET_HOLE.size);
  setU64(buf, at + CHUNK.size, req.offset);
  setU32(buf, at + CHUNK.size + OFFSET_HOLE.holeSize, size);
  return CHUNK.size + OFFSET_HOLE.size;
}

export const OFFSET_HOLE_REPLY_SIZE = CHUNK.size + OFFSET_HOLE.size;

const encoder = new TextEncoder();

/** A final ERROR chunk with a message for humans (allocates: errors are not the hot path). */
export function encodeErrorChunk(req: Request, error: number, message: string): Uint8Array {
  const text = encoder.encode(message).subarray(0, 4096);
  const buf = new Uint8Array(CHUNK.size + ERROR_CHUNK.size + text.length);
  const type = REPLY_TYPE.ERROR;
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, type, ERROR_CHUNK.size + text.length);
  setU32(buf, CHUNK.size, error);
  setU16(buf, CHUNK.size + ERROR_CHUNK.messageLength, text.length);
  buf.set(text, CHUNK.size + ERROR_CHUNK.size);
  return buf;
}

/** A final ERROR_OFFSET chunk: the data from `offset` on (within the request) is bad. */
export function encodeErrorOffsetChunk(
  req: Request,
  error: number,
  message: string,
  offset: Offset,
): Uint8Array {
  const text = encoder.encode(message).subarray(0, 4096);
  const payload = ERROR_CHUNK.size + text.length + 8;
  const buf = new Uint8Array(CHUNK.size + payload);
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, REPLY_TYPE.ERROR_OFFSET, payload);
  setU32(buf, CHUNK.size, error);
  setU16(buf, CHUNK.size + ERROR_CHUNK.messageLength, text.length);
  buf.set(text, CHUNK.size + ERROR_CHUNK.size);
  setU64(buf, CHUNK.size + ERROR_CHUNK.size + text.length, offset);
  return buf;
}

/** A final BLOCK_STATUS chunk for one context: descriptors as (length, status) pairs. */
export function encodeBlockStatus(
  req: Request,
  contextId: number,
  lengths: readonly number[],
  statuses: readonly number[],
): Uint8Array {
  const payload = BLOCK_STATUS.size + BLOCK_STATUS.descriptor * lengths.length;
  const buf = new Uint8Array(CHUNK.size + payload);
  encodeChunkHeader(buf, 0, req, REPLY_FLAG.DONE, REPLY_TYPE.BLOCK_STATUS, payload);
  setU32(buf, CHUNK.size, contextId);
  let at = CHUNK.size + BLOCK_STATUS.size;
  for (let i = 0; i < lengths.length; i++) {
    setU32(buf, at, lengths[i]);
    setU32(buf, at + 4, statuses[i]);
    at += BLOCK_STATUS.descriptor;
  }
  return buf;
}
