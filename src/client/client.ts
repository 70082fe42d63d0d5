/**
 * An NBD client on one connection, after the handshake: pread, pwrite, zero, trim, flush, cache
 * and blockStatus, each with the command flags of the spec (CMD_FLAG), many in flight at once,
 * their replies in any order. With extended headers, requests have 32-byte headers: zero, trim,
 * cache and blockStatus may then cover 2^32 bytes or more, a WRITE carries PAYLOAD_LEN, and a
 * BLOCK_STATUS names its one context in a payload where the server takes one. A refused request
 * rejects with NbdError and the server's errno; the connection goes on. disconnect() waits for
 * the requests in flight, then sends DISC and closes.
 */

import type { Offset } from "../api/plugin.ts";
import { BASE_ALLOCATION, CMD, CMD_FLAG, nameOf, TX_FLAG } from "../protocol/constants.ts";
import {
  encodeBlockStatusPayload,
  encodeRequest,
  requestHeaderSize,
} from "../protocol/client-messages.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { Agreement, BlockSizes } from "./handshake.ts";
import type { Link } from "./link.ts";
import type { BlockStatusExtent, Pending } from "./replies.ts";

export type { BlockSizes, BlockStatusExtent };

/** The largest length a compact request header carries (32 bits). */
const MAX_COMPACT_LENGTH = 0xffffffff;

export class NbdClient {
  /** The export's name, as asked for. */
  readonly exportName: string;
  /** Its size in bytes (a bigint only past 2^53). */
  readonly size: Offset;
  /** Its transmission flags (TX_FLAG bits), as the server sent them. */
  readonly flags: number;
  readonly structuredReplies: boolean;
  /** Extended headers were agreed: 64-bit lengths in every request. */
  readonly extendedHeaders: boolean;
  /** Meta contexts the server agreed to, by name, with their ids. */
  readonly metaContexts: ReadonlyMap<string, number>;
  readonly blockSizes: BlockSizes | undefined;
  readonly description: string | undefined;
  /** Settles once the connection is gone. */
  readonly closed: Promise<void>;
  private readonly link: Link;
  private disconnecting: Promise<void> | undefined;

  constructor(link: Link, agreement: Agreement) {
    this.link = link;
    this.exportName = agreement.exportName;
    this.size = agreement.size;
    this.flags = agreement.flags;
    this.structuredReplies = agreement.structuredReplies;
    this.extendedHeaders = agreement.extendedHeaders;
    this.metaContexts = agreement.metaContexts;
    this.blockSizes = agreement.blockSizes;
    this.description = agreement.description;
    this.closed = link.closed;
  }

  get readOnly(): boolean {
    return (this.flags & TX_FLAG.READ_ONLY) !== 0;
  }
  get canFlush(): boolean {
    return (this.flags & TX_FLAG.SEND_FLUSH) !== 0;
  }
  get canFua(): boolean {
    return (this.flags & TX_FLAG.SEND_FUA) !== 0;
  }
  get canTrim(): boolean {
    return (this.flags & TX_FLAG.SEND_TRIM) !== 0;
  }
  get canZero(): boolean {
    return (this.flags & TX_FLAG.SEND_WRITE_ZEROES) !== 0;
  }
  get canFastZero(): boolean {
    return (this.flags & TX_FLAG.SEND_FAST_ZERO) !== 0;
  }
  get canCache(): boolean {
    return (this.flags & TX_FLAG.SEND_CACHE) !== 0;
  }
  get canDf(): boolean {
    return (this.flags & TX_FLAG.SEND_DF) !== 0;
  }
  get canMultiConn(): boolean {
    return (this.flags & TX_FLAG.CAN_MULTI_CONN) !== 0;
  }
  get isRotational(): boolean {
    return (this.flags & TX_FLAG.ROTATIONAL) !== 0;
  }
  /** Whether blockStatus() can be asked: base:allocation was agreed. */
  get canBlockStatus(): boolean {
    return this.metaContexts.has(BASE_ALLOCATION);
  }

  /** Fills `buffer` with the bytes at `offset` (holes read as zeroes). */
  pread(buffer: Uint8Array, offset: Offset, flags = 0): Promise<void> {
    return this.request(CMD.READ, flags, offset, buffer.length, { buffer });
  }

  /** `count` bytes at `offset`, in a new buffer. */
  async read(count: number, offset: Offset, flags = 0): Promise<Uint8Array> {
    const buffer = new Uint8Array(count);
    await this.pread(buffer, offset, flags);
    return buffer;
  }

  /**
   * Writes `data` at `offset`; keep it unchanged until the promise settles. With extended
   * headers the length is the payload's, which PAYLOAD_LEN says.
   */
  pwrite(data: Uint8Array, offset: Offset, flags = 0): Promise<void> {
    const withPayload = this.extendedHeaders ? flags | CMD_FLAG.PAYLOAD_LEN : flags;
    return this.request(CMD.WRITE, withPayload, offset, data.length, {}, data);
  }

  /**
   * Makes `count` bytes at `offset` read as zeroes (WRITE_ZEROES; flags NO_HOLE, FAST_ZERO,
   * FUA). Like trim, cache and blockStatus, `count` may pass 2^32 - 1 only with extended headers.
   */
  zero(count: Offset, offset: Offset, flags = 0): Promise<void> {
    return this.request(CMD.WRITE_ZEROES, flags, offset, count, {});
  }

  /** Discards `count` bytes at `offset` (advisory). */
  trim(count: Offset, offset: Offset, flags = 0): Promise<void> {
    return this.request(CMD.TRIM, flags, offset, count, {});
  }

  /** Makes every completed write durable. */
  flush(flags = 0): Promise<void> {
    return this.request(CMD.FLUSH, flags, 0, 0, {});
  }

  /** Asks the server to prefetch `count` bytes at `offset` (advisory). */
  cache(count: Offset, offset: Offset, flags = 0): Promise<void> {
    return this.request(CMD.CACHE, flags, offset, count, {});
  }

  /**
   * The status of `count` bytes at `offset` in one meta context agreed at connect time
   * (base:allocation by default: STATE.HOLE, STATE.ZERO), as extents from `offset` on; the
   * server may describe less than asked, or (without REQ_ONE) more. Where the server takes a
   * payload (extended headers and NBD_FLAG_BLOCK_STATUS_PAYLOAD), the request names this one
   * context, so the server reports no other.
   */
  async blockStatus(
    count: Offset,
    offset: Offset,
    flags = 0,
    context: string = BASE_ALLOCATION,
  ): Promise<BlockStatusExtent[]> {
    const contextId = this.metaContexts.get(context);
    if (contextId === undefined) {
      throw new ConnectionClosedError(
        `Cannot ask for block status: the server did not agree to ${context}`,
      );
    }
    const state: { extents?: BlockStatusExtent[] } = {};
    const filtered = this.extendedHeaders && (this.flags & TX_FLAG.BLOCK_STATUS_PAYLOAD) !== 0;
    const payload = filtered ? encodeBlockStatusPayload(count, [contextId]) : undefined;
    const withPayload = filtered ? flags | CMD_FLAG.PAYLOAD_LEN : flags;
    await this.request(CMD.BLOCK_STATUS, withPayload, offset, count, { contextId }, payload, state);
    return state.extents ?? [];
  }

  /** Waits for every request in flight, sends DISC and closes the connection. */
  disconnect(): Promise<void> {
    return this.disconnecting ??= (async () => {
      while (this.link.inFlight.size > 0 && !this.link.isClosed) {
        await Promise.race([this.idle(), this.link.closed]);
      }
      if (!this.link.isClosed) {
        const header = new Uint8Array(requestHeaderSize(this.extendedHeaders));
        const disc = { flags: 0, type: CMD.DISC, cookieHi: 0, cookieLo: 0, offset: 0, length: 0 };
        encodeRequest(header, 0, disc, this.extendedHeaders);
        await this.link.send([header]).catch(() => {});
      }
      this.link.close();
    })();
  }

  private idlers: (() => void)[] = [];

  private idle(): Promise<void> {
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  /**
   * Sends one request of `length` (the effect length; a payload's own length goes in the header
   * with PAYLOAD_LEN) and settles with its reply.
   */
  private request(
    type: number,
    flags: number,
    offset: Offset,
    length: Offset,
    extra: { buffer?: Uint8Array; contextId?: number },
    payload?: Uint8Array,
    state?: { extents?: BlockStatusExtent[] },
  ): Promise<void> {
    if (this.disconnecting || this.link.isClosed) {
      return Promise.reject(new ConnectionClosedError());
    }
    if (!this.extendedHeaders && !(typeof length === "number" && length <= MAX_COMPACT_LENGTH)) {
      return Promise.reject(
        new RangeError(
          `Cannot send ${nameOf(CMD, type)} of ${length} bytes: over ${MAX_COMPACT_LENGTH} ` +
            "in one request, and the server did not agree to extended headers",
        ),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        type,
        offset,
        length,
        ...extra,
        resolve: () => {
          if (state) state.extents = pending.extents;
          this.settled();
          resolve();
        },
        reject: (error) => {
          this.settled();
          reject(error);
        },
      };
      const cookieLo = this.link.inFlight.add(pending);
      const header = new Uint8Array(requestHeaderSize(this.extendedHeaders));
      const wireLength = payload?.length ?? length; // a WRITE's data, or BLOCK_STATUS's ids
      const fields = { flags, type, cookieHi: 0, cookieLo, offset, length: wireLength };
      encodeRequest(header, 0, fields, this.extendedHeaders);
      this.link.send(payload ? [header, payload] : [header]).catch(reject);
    });
  }

  private settled(): void {
    if (this.link.inFlight.size > 0) return;
    const idlers = this.idlers;
    this.idlers = [];
    for (const wake of idlers) wake();
  }
}
