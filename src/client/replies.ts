/**
 * The requests in flight on one connection, and what each reply does to them: a READ's data
 * lands in its buffer (holes are zeroed), block status descriptors are collected (32-bit ones,
 * or 64-bit ones from BLOCK_STATUS_EXT with extended headers), an error chunk or a simple
 * reply's error makes the request fail with the server's errno. Replies may come in any order;
 * each is matched by its cookie. Pure bookkeeping: no I/O.
 */

import { ERRNO, NbdError, ProtocolError } from "../api/errors.ts";
import type { Offset } from "../api/plugin.ts";
import { addOffset, subtractOffset } from "../api/offset.ts";
import { REPLY_FLAG, REPLY_TYPE } from "../protocol/constants.ts";
import {
  BLOCK_STATUS,
  BLOCK_STATUS_EXT,
  ERROR_CHUNK,
  getU16,
  getU32,
  getU64,
  OFFSET_HOLE,
} from "../protocol/layout.ts";
import type { Cookie, ReadTarget, ReplyEvent } from "../protocol/reply-codec.ts";
import { errnoOfWire } from "./errors.ts";

/**
 * One extent of a block status reply: `length` bytes from `offset` with the context's flags.
 * A length is below 2^32 unless extended headers were agreed (then a bigint past 2^53).
 */
export interface BlockStatusExtent {
  readonly offset: Offset;
  readonly length: Offset;
  readonly flags: number;
}

/** A request waiting for its reply. */
export interface Pending {
  readonly type: number;
  readonly offset: Offset;
  /** The effect length: a READ's is its buffer's, below 2^32. */
  readonly length: Offset;
  /** A READ's buffer, `length` bytes. */
  readonly buffer?: Uint8Array;
  /** BLOCK_STATUS: the context whose descriptors are kept, and where. */
  readonly contextId?: number;
  extents?: BlockStatusExtent[];
  /** The first error a chunk reported; the request fails with it once the reply is done. */
  error?: NbdError;
  resolve(): void;
  reject(error: Error): void;
}

const decoder = new TextDecoder();

/** The requests in flight by cookie (the low half: the high half is always 0 here). */
export class InFlight implements ReadTarget {
  private readonly pending = new Map<number, Pending>();
  private nextCookie = 1;

  get size(): number {
    return this.pending.size;
  }

  /** Registers a request and answers its cookie. */
  add(request: Pending): number {
    const cookie = this.nextCookie;
    this.nextCookie = cookie === 0xffffffff ? 1 : cookie + 1;
    this.pending.set(cookie, request);
    return cookie;
  }

  private find(cookie: Cookie): Pending {
    const request = cookie.cookieHi === 0 ? this.pending.get(cookie.cookieLo) : undefined;
    if (request === undefined) {
      throw new ProtocolError(`the server replied to cookie ${cookie.cookieLo}, not in flight`);
    }
    return request;
  }

  simple(cookie: Cookie): Uint8Array | undefined {
    return this.find(cookie).buffer;
  }

  offsetData(cookie: Cookie, offset: Offset, length: number): Uint8Array | undefined {
    const request = this.find(cookie);
    const at = within(request, offset, length);
    return at === undefined ? undefined : request.buffer!.subarray(at, at + length);
  }

  /** Applies one transmission reply; a request whose reply is complete settles. */
  apply(event: Extract<ReplyEvent, { kind: "simple" | "chunk" }>): void {
    const request = this.find(event.cookie);
    if (event.kind === "simple") {
      if (event.error !== 0) request.error ??= wireError(event.error, "");
      return this.settle(event.cookie.cookieLo, request);
    }
    this.chunk(request, event.type, event.payload);
    if (event.flags & REPLY_FLAG.DONE) this.settle(event.cookie.cookieLo, request);
  }

  /** Fails every request in flight (the connection is gone). */
  failAll(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const request of all) request.reject(error);
  }

  private settle(cookie: number, request: Pending): void {
    this.pending.delete(cookie);
    if (request.error) request.reject(request.error);
    else request.resolve();
  }

  private chunk(request: Pending, type: number, payload: Uint8Array): void {
    switch (type) {
      case REPLY_TYPE.NONE:
      case REPLY_TYPE.OFFSET_DATA: // its data is already in place
        return;
      case REPLY_TYPE.OFFSET_HOLE: {
        if (payload.length !== OFFSET_HOLE.size) throw new ProtocolError("bad OFFSET_HOLE chunk");
        const length = getU32(payload, OFFSET_HOLE.holeSize);
        const at = within(request, getU64(payload, 0), length);
        if (at === undefined) throw new ProtocolError("an OFFSET_HOLE chunk is outside its READ");
        request.buffer!.fill(0, at, at + length);
        return;
      }
      case REPLY_TYPE.BLOCK_STATUS:
        return this.blockStatus(request, payload, false);
      case REPLY_TYPE.BLOCK_STATUS_EXT:
        return this.blockStatus(request, payload, true);
      default:
        if (type & 0x8000) return this.error(request, type, payload);
        // An unknown chunk type that is no error may be ignored (the spec, "Structured replies").
        return;
    }
  }

  /**
   * BLOCK_STATUS: u32 context id, then (u32 length, u32 status) descriptors; BLOCK_STATUS_EXT:
   * u32 context id, u32 descriptor count (which must match the payload's length), then (u64
   * length, u64 status) descriptors.
   */
  private blockStatus(request: Pending, payload: Uint8Array, extended: boolean): void {
    const shape = extended ? BLOCK_STATUS_EXT : BLOCK_STATUS;
    const descriptors = payload.length - shape.size;
    if (
      descriptors < 0 || descriptors % shape.descriptor ||
      extended && getU32(payload, BLOCK_STATUS_EXT.count) !== descriptors / shape.descriptor
    ) {
      throw new ProtocolError("a block status chunk has a bad length or descriptor count");
    }
    if (getU32(payload, 0) !== request.contextId) return; // another context's descriptors
    const extents = request.extents ??= [];
    const half = shape.descriptor / 2; // the status follows the length
    let offset = request.offset;
    for (let at = shape.size; at < payload.length; at += shape.descriptor) {
      const length = extended ? getU64(payload, at) : getU32(payload, at);
      const flags = extended ? getU64(payload, at + half) : getU32(payload, at + half);
      if (typeof flags !== "number") {
        throw new ProtocolError(`a block status of ${flags} is past 2^53`);
      }
      extents.push({ offset, length, flags });
      offset = addOffset(offset, length);
    }
  }

  private error(request: Pending, type: number, payload: Uint8Array): void {
    if (payload.length < ERROR_CHUNK.size) throw new ProtocolError("an error chunk is too short");
    const messageLength = getU16(payload, ERROR_CHUNK.messageLength);
    const end = ERROR_CHUNK.size + messageLength;
    if (end > payload.length) throw new ProtocolError("an error chunk's message overflows it");
    const message = decoder.decode(payload.subarray(ERROR_CHUNK.size, end));
    const offset = type === REPLY_TYPE.ERROR_OFFSET && payload.length >= end + 8
      ? getU64(payload, end)
      : undefined;
    request.error ??= wireError(getU32(payload, 0), message, offset);
  }
}

/** The NbdError for a wire error: the server's message when it gave one, else the errno. */
function wireError(code: number, message: string, offset?: Offset): NbdError {
  const errno = code === 0 ? ERRNO.EIO : errnoOfWire(code);
  return new NbdError(errno, message === "" ? `${errno} from the server` : message, offset);
}

/** Where `length` bytes at `offset` start in the READ `request`, if wholly inside it. */
function within(request: Pending, offset: Offset, length: number): number | undefined {
  if (request.buffer === undefined) return undefined;
  const at = subtractOffset(offset, request.offset);
  if (typeof at !== "number" || at < 0 || at + length > request.buffer.length) return undefined;
  return at;
}
