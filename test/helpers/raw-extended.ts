/**
 * Extended headers (NBD_OPT_EXTENDED_HEADERS) by hand on a RawConnection, for the interop tests
 * that send what real clients never would: the option itself, 32-byte requests with 64-bit
 * lengths and PAYLOAD_LEN payloads, and reading back extended reply chunks. Restates the wire
 * values it needs from the spec's extension-ext-header text, as raw-nbd.ts does, and never
 * imports src/: the server under test may be qemu-nbd.
 */

import { bytes, goData, type RawConnection, REP, u16, u32, u64 } from "./raw-nbd.ts";

/** Values from the spec's extension-ext-header text. */
export const EXT = {
  OPT_EXTENDED_HEADERS: 11,
  OPT_SET_META_CONTEXT: 10,
  OPT_STRUCTURED_REPLY: 8,
  REQUEST_MAGIC: 0x21e41c71,
  REPLY_MAGIC: 0x6e8a278c,
  CMD_BLOCK_STATUS: 7,
  FLAG_PAYLOAD_LEN: 1 << 5,
  REPLY_NONE: 0,
  REPLY_OFFSET_DATA: 1,
  REPLY_OFFSET_HOLE: 2,
  REPLY_BLOCK_STATUS_EXT: 6,
  REPLY_ERROR: 0x8001,
  REPLY_FLAG_DONE: 1,
  REP_META_CONTEXT: 4,
  TX_FLAG_BLOCK_STATUS_PAYLOAD: 1 << 12,
} as const;

export interface ExtendedFields {
  readonly flags?: number;
  readonly type: number;
  readonly cookie?: bigint;
  readonly offset?: bigint | number;
  /** The header's 64-bit length: the effect length, or with PAYLOAD_LEN the payload's. */
  readonly length?: bigint | number;
}

/** A 32-byte extended request header, followed by `payload`. */
export function extendedRequest(
  fields: ExtendedFields,
  payload: Uint8Array = new Uint8Array(),
): Uint8Array {
  return bytes(
    u32(EXT.REQUEST_MAGIC),
    u16(fields.flags ?? 0),
    u16(fields.type),
    u64(fields.cookie ?? 1n),
    u64(fields.offset ?? 0),
    u64(fields.length ?? payload.length),
    payload,
  );
}

/** SET_META_CONTEXT's data: export name, then the queries. */
export function metaContextData(name: string, queries: readonly string[]): Uint8Array {
  const text = (s: string) => new TextEncoder().encode(s);
  return bytes(
    u32(text(name).length),
    name,
    u32(queries.length),
    ...queries.flatMap((q) => [u32(text(q).length), text(q)]),
  );
}

/** One extended reply chunk: its header fields and payload. */
export interface ExtendedChunk {
  readonly magic: number;
  readonly flags: number;
  readonly type: number;
  readonly cookie: bigint;
  readonly offset: bigint;
  readonly payload: Uint8Array;
}

const view = (data: Uint8Array) => new DataView(data.buffer, data.byteOffset, data.byteLength);

/**
 * Reads one extended chunk; a payload longer than `maxPayload` throws before it is read (so a
 * test can bound what it accepts from the server).
 */
export async function readExtendedChunk(
  connection: RawConnection,
  maxPayload = 64 * 1024 * 1024,
  timeoutMs = 5_000,
): Promise<ExtendedChunk> {
  const header = view(await connection.read(32, timeoutMs));
  const length = header.getBigUint64(24);
  if (length > BigInt(maxPayload)) {
    throw new Error(`Reply chunk of ${length} bytes, over the ${maxPayload} accepted`);
  }
  return {
    magic: header.getUint32(0),
    flags: header.getUint16(4),
    type: header.getUint16(6),
    cookie: header.getBigUint64(8),
    offset: header.getBigUint64(16),
    payload: await connection.read(Number(length), timeoutMs),
  };
}

/** An ERROR chunk's error value. */
export function chunkError(chunk: ExtendedChunk): number {
  return chunk.type === EXT.REPLY_ERROR ? view(chunk.payload).getUint32(0) : 0;
}

/** A BLOCK_STATUS_EXT payload: context id, descriptor count and the (length, status) pairs. */
export function blockStatusExt(
  payload: Uint8Array,
): { id: number; count: number; descriptors: { length: bigint; status: bigint }[] } {
  const fields = view(payload);
  const descriptors: { length: bigint; status: bigint }[] = [];
  for (let at = 8; at + 16 <= payload.length; at += 16) {
    descriptors.push({ length: fields.getBigUint64(at), status: fields.getBigUint64(at + 8) });
  }
  return { id: fields.getUint32(0), count: fields.getUint32(4), descriptors };
}

/**
 * After the greeting: EXTENDED_HEADERS (which must be acknowledged), SET_META_CONTEXT
 * base:allocation when asked, then GO. Returns base:allocation's context id (0 when not asked)
 * and the transmission flags.
 */
export async function goExtended(
  connection: RawConnection,
  options: { baseAllocation?: boolean } = {},
): Promise<{ contextId: number; flags: number }> {
  const eh = await connection.exchange(EXT.OPT_EXTENDED_HEADERS);
  if (eh.at(-1)!.type !== REP.ACK) {
    throw new Error(`EXTENDED_HEADERS answered 0x${eh.at(-1)!.type.toString(16)}, not ACK`);
  }
  let contextId = 0;
  if (options.baseAllocation) {
    const replies = await connection.exchange(
      EXT.OPT_SET_META_CONTEXT,
      metaContextData("", ["base:allocation"]),
    );
    const context = replies.find((reply) => reply.type === EXT.REP_META_CONTEXT);
    if (!context) throw new Error("SET_META_CONTEXT chose no context");
    contextId = view(context.data).getUint32(0);
  }
  const go = await connection.exchange(7, goData(""));
  if (go.at(-1)!.type !== REP.ACK) {
    throw new Error(`GO answered 0x${go.at(-1)!.type.toString(16)}, not ACK`);
  }
  const info = go.find((reply) => reply.type === REP.INFO && view(reply.data).getUint16(0) === 0);
  if (!info) throw new Error("GO answered without NBD_INFO_EXPORT");
  return { contextId, flags: view(info.data).getUint16(10) };
}
