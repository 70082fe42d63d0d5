/**
 * Offsets and sizes of every fixed NBD wire structure, and the big-endian helpers that read and
 * write them. A u64 travels as two u32 halves; it becomes a `number` when exact (below 2^53) and
 * a `bigint` only past that, so no request on a real disk allocates a BigInt.
 */

import type { Offset } from "../api/plugin.ts";

/** Server greeting: "NBDMAGIC", "IHAVEOPT", u16 handshake flags. */
export const GREETING = { size: 18, flags: 16 } as const;

/**
 * Oldstyle greeting, the whole handshake: "NBDMAGIC", u64 cliserv_magic, u64 export size, u16
 * global flags (none), u16 transmission flags, 124 zero bytes.
 */
export const OLDSTYLE_GREETING = {
  size: 152,
  magic: 8,
  exportSize: 16,
  globalFlags: 24,
  flags: 26,
} as const;

/** Client flags: one u32 after the greeting. */
export const CLIENT_FLAGS = { size: 4 } as const;

/** Option request: u64 IHAVEOPT, u32 option, u32 data length, data. */
export const OPTION_REQUEST = { size: 16, magic: 0, option: 8, length: 12 } as const;

/** Option reply: u64 reply magic, u32 option, u32 reply type, u32 data length, data. */
export const OPTION_REPLY = { size: 20, magic: 0, option: 8, type: 12, length: 16 } as const;

/** Reply to NBD_OPT_EXPORT_NAME: u64 size, u16 transmission flags, 124 zero bytes (unless NO_ZEROES). */
export const EXPORT_NAME_REPLY = { size: 10, zeroes: 124, exportSize: 0, flags: 8 } as const;

/** NBD_REP_INFO payloads: u16 info type first. */
export const INFO_EXPORT = { size: 12, exportSize: 2, flags: 10 } as const;
export const INFO_BLOCK_SIZE = { size: 14, minimum: 2, preferred: 6, maximum: 10 } as const;

/** Request header: u32 magic, u16 flags, u16 type, u64 cookie, u64 offset, u32 length. */
export const REQUEST = {
  size: 28,
  magic: 0,
  flags: 4,
  type: 6,
  cookie: 8,
  offset: 16,
  length: 24,
} as const;

/**
 * Extended request header (after NBD_OPT_EXTENDED_HEADERS): u32 magic, u16 flags, u16 type,
 * u64 cookie, u64 offset, u64 length. The length is a payload's when the flags hold
 * PAYLOAD_LEN, else the effect length of a command that carries no payload.
 */
export const EXTENDED_REQUEST = { ...REQUEST, size: 32 } as const;

/** Simple reply: u32 magic, u32 error, u64 cookie, then read data. */
export const SIMPLE_REPLY = { size: 16, magic: 0, error: 4, cookie: 8 } as const;

/** Structured reply chunk: u32 magic, u16 flags, u16 type, u64 cookie, u32 payload length. */
export const CHUNK = { size: 20, magic: 0, flags: 4, type: 6, cookie: 8, length: 16 } as const;

/**
 * Extended reply chunk: u32 magic, u16 flags, u16 type, u64 cookie, u64 offset (the request's,
 * whatever the chunk), u64 payload length: field for field the extended request's layout.
 */
export const EXTENDED_CHUNK = EXTENDED_REQUEST;

/** Chunk payloads: OFFSET_DATA is u64 offset + data; OFFSET_HOLE u64 offset + u32 size. */
export const OFFSET_DATA = { size: 8 } as const;
export const OFFSET_HOLE = { size: 12, holeSize: 8 } as const;
/** ERROR: u32 error, u16 message length, message. */
export const ERROR_CHUNK = { size: 6, messageLength: 4 } as const;
/** BLOCK_STATUS: u32 context id, then descriptors of u32 length + u32 status flags. */
export const BLOCK_STATUS = { size: 4, descriptor: 8 } as const;
/**
 * BLOCK_STATUS_EXT: u32 context id, u32 descriptor count, then descriptors of u64 length + u64
 * status flags.
 */
export const BLOCK_STATUS_EXT = { size: 8, count: 4, descriptor: 16 } as const;
/**
 * The payload of a BLOCK_STATUS with PAYLOAD_LEN (NBD_FLAG_BLOCK_STATUS_PAYLOAD): u64 effect
 * length, then the u32 ids of the contexts to report, at least one.
 */
export const BLOCK_STATUS_PAYLOAD = { size: 8, id: 4 } as const;

export function getU16(buf: Uint8Array, at: number): number {
  return (buf[at] << 8) | buf[at + 1];
}

export function getU32(buf: Uint8Array, at: number): number {
  return ((buf[at] << 24) | (buf[at + 1] << 16) | (buf[at + 2] << 8) | buf[at + 3]) >>> 0;
}

/** Reads a u64 exactly: a number below 2^53, else a bigint. */
export function getU64(buf: Uint8Array, at: number): Offset {
  const hi = getU32(buf, at);
  const lo = getU32(buf, at + 4);
  if (hi < 0x200000) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function setU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value;
}

export function setU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

/** Writes a u64 from an exact number or bigint (0 ≤ value < 2^64). */
export function setU64(buf: Uint8Array, at: number, value: Offset): void {
  if (typeof value === "number") {
    setU32(buf, at, Math.floor(value / 0x100000000));
    setU32(buf, at + 4, value >>> 0);
  } else {
    setU32(buf, at, Number(value >> 32n));
    setU32(buf, at + 4, Number(value & 0xffffffffn));
  }
}

/** The difference b - a of two exact offsets, clamped to at most `limit` (a number). */
export function distance(a: Offset, b: Offset, limit: number): number {
  if (typeof a === "number" && typeof b === "number") return Math.min(b - a, limit);
  const d = BigInt(b) - BigInt(a);
  return d > BigInt(limit) ? limit : Number(d);
}
