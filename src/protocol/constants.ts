/**
 * Every NBD magic, flag, option, reply type, command and error value, as `as const` objects.
 * Values follow doc/proto.md of NetworkBlockDevice/nbd and nbdkit's nbd-protocol.h; nothing
 * else in the code base spells one of these numbers.
 */

/** "NBDMAGIC", then "IHAVEOPT": the greeting, and the prefix of each option request. */
export const MAGIC = {
  NBDMAGIC_HI: 0x4e42444d,
  NBDMAGIC_LO: 0x41474943,
  IHAVEOPT_HI: 0x49484156,
  IHAVEOPT_LO: 0x454f5054,
  /** cliserv_magic 0x0000420281861253, after NBDMAGIC in the oldstyle greeting instead. */
  OLDSTYLE_HI: 0x00004202,
  OLDSTYLE_LO: 0x81861253,
  /** Option reply magic 0x0003e889045565a9, as two u32 halves. */
  REP_HI: 0x0003e889,
  REP_LO: 0x045565a9,
  REQUEST: 0x25609513,
  /** The 32-byte request header, once NBD_OPT_EXTENDED_HEADERS was acknowledged. */
  EXTENDED_REQUEST: 0x21e41c71,
  SIMPLE_REPLY: 0x67446698,
  STRUCTURED_REPLY: 0x668e33ef,
  /** The 32-byte reply chunk header, once NBD_OPT_EXTENDED_HEADERS was acknowledged. */
  EXTENDED_REPLY: 0x6e8a278c,
} as const;

/** Handshake flags (server, u16) and the matching client flags (u32). */
export const HANDSHAKE_FLAG = {
  FIXED_NEWSTYLE: 1 << 0,
  NO_ZEROES: 1 << 1,
} as const;

/** Transmission flags (u16, per export). */
export const TX_FLAG = {
  HAS_FLAGS: 1 << 0,
  READ_ONLY: 1 << 1,
  SEND_FLUSH: 1 << 2,
  SEND_FUA: 1 << 3,
  ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5,
  SEND_WRITE_ZEROES: 1 << 6,
  SEND_DF: 1 << 7,
  CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9,
  SEND_CACHE: 1 << 10,
  SEND_FAST_ZERO: 1 << 11,
  /** BLOCK_STATUS takes a payload naming the contexts to report (extended headers only). */
  BLOCK_STATUS_PAYLOAD: 1 << 12,
} as const;

/** Option codes (u32). */
export const OPT = {
  EXPORT_NAME: 1,
  ABORT: 2,
  LIST: 3,
  PEEK_EXPORT: 4,
  STARTTLS: 5,
  INFO: 6,
  GO: 7,
  STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9,
  SET_META_CONTEXT: 10,
  EXTENDED_HEADERS: 11,
} as const;

/** Option reply types (u32); errors have bit 31 set. */
export const REP = {
  ACK: 1,
  SERVER: 2,
  INFO: 3,
  META_CONTEXT: 4,
  ERR_UNSUP: 0x80000001,
  ERR_POLICY: 0x80000002,
  ERR_INVALID: 0x80000003,
  ERR_PLATFORM: 0x80000004,
  ERR_TLS_REQD: 0x80000005,
  ERR_UNKNOWN: 0x80000006,
  ERR_SHUTDOWN: 0x80000007,
  ERR_BLOCK_SIZE_REQD: 0x80000008,
  ERR_TOO_BIG: 0x80000009,
  /** Extended headers are needed, or (to STRUCTURED_REPLY) already in use. */
  ERR_EXT_HEADER_REQD: 0x8000000a,
} as const;

/** Information types in INFO/GO requests and NBD_REP_INFO replies (u16). */
export const INFO = {
  EXPORT: 0,
  NAME: 1,
  DESCRIPTION: 2,
  BLOCK_SIZE: 3,
} as const;

/** Command types (u16). */
export const CMD = {
  READ: 0,
  WRITE: 1,
  DISC: 2,
  FLUSH: 3,
  TRIM: 4,
  CACHE: 5,
  WRITE_ZEROES: 6,
  BLOCK_STATUS: 7,
} as const;

/** Command flags (u16). */
export const CMD_FLAG = {
  FUA: 1 << 0,
  NO_HOLE: 1 << 1,
  DF: 1 << 2,
  REQ_ONE: 1 << 3,
  FAST_ZERO: 1 << 4,
  /** Extended headers only: the length is that of a payload following the header. */
  PAYLOAD_LEN: 1 << 5,
} as const;

/** Every command flag of compact requests; any other bit gets EINVAL. */
export const CMD_FLAG_KNOWN = 0x1f;

/** Every command flag of extended requests: PAYLOAD_LEN too. */
export const CMD_FLAG_KNOWN_EXTENDED = 0x3f;

/** Structured reply flags (u16). */
export const REPLY_FLAG = {
  DONE: 1 << 0,
} as const;

/** Structured reply chunk types (u16); errors have bit 15 set. */
export const REPLY_TYPE = {
  NONE: 0,
  OFFSET_DATA: 1,
  OFFSET_HOLE: 2,
  BLOCK_STATUS: 5,
  /** Block status with 64-bit lengths and statuses: the only kind once extended headers are on. */
  BLOCK_STATUS_EXT: 6,
  ERROR: 0x8001,
  ERROR_OFFSET: 0x8002,
} as const;

/** Error values on the wire (u32). */
export const NBD_ERR = {
  SUCCESS: 0,
  EPERM: 1,
  EIO: 5,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSPC: 28,
  EOVERFLOW: 75,
  ENOTSUP: 95,
  ESHUTDOWN: 108,
} as const;

/** base:allocation status bits. */
export const STATE = {
  HOLE: 1 << 0,
  ZERO: 1 << 1,
} as const;

export const BASE_ALLOCATION = "base:allocation";

/** Context id given to base:allocation by SET_META_CONTEXT (nbdkit uses 1 too). */
export const BASE_ALLOCATION_ID = 1;

/** The name of a constant in one of the tables above, for logs: nameOf(CMD, 6) = "WRITE_ZEROES". */
export function nameOf(table: Readonly<Record<string, number>>, value: number): string {
  for (const [name, v] of Object.entries(table)) if (v === value) return name;
  return `unknown (${value})`;
}
