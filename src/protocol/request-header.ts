/**
 * A decoded request, and the two headers it is decoded from: compact (28 bytes, 32-bit
 * length) and extended (32 bytes, 64-bit length, after NBD_OPT_EXTENDED_HEADERS). Magic checks
 * and payloads are the codec's.
 */

import type { Offset } from "../api/plugin.ts";
import { EXTENDED_REQUEST, getU16, getU32, getU64, REQUEST } from "./layout.ts";

/** One decoded request. `payload` is the WRITE data (absent when it was too large to keep). */
export interface Request {
  flags: number;
  type: number;
  /** The opaque cookie, kept as two u32 halves and echoed in every reply. */
  cookieHi: number;
  cookieLo: number;
  offset: Offset;
  /**
   * The effect length, or a WRITE's payload length. Compact headers carry 32 bits; extended
   * ones 64 (an exact number below 2^53, a bigint past it), and with PAYLOAD_LEN the payload's
   * length, except for BLOCK_STATUS, whose effect length then comes from its payload.
   */
  length: Offset;
  payload: Uint8Array | undefined;
  /** A WRITE payload over the maximum payload was read and thrown away (nbdkit: ENOMEM). */
  payloadDropped: boolean;
  /**
   * Extended headers only: the context ids a BLOCK_STATUS payload names, once decoded; absent
   * when the request had no payload, or one that is malformed.
   */
  contextIds: number[] | undefined;
}

/**
 * The request in a header whose magic was checked: compact, or extended (same offsets, a u64
 * length where the compact header has a u32).
 */
export function decodeRequestHeader(header: Uint8Array, extended = false): Request {
  return {
    flags: getU16(header, REQUEST.flags),
    type: getU16(header, REQUEST.type),
    cookieHi: getU32(header, REQUEST.cookie),
    cookieLo: getU32(header, REQUEST.cookie + 4),
    offset: getU64(header, REQUEST.offset),
    length: extended ? getU64(header, EXTENDED_REQUEST.length) : getU32(header, REQUEST.length),
    payload: undefined,
    payloadDropped: false,
    contextIds: undefined,
  };
}
