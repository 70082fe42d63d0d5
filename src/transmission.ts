/**
 * One connection's transmission phase, after GO: runs each valid request on the backend and
 * queues its reply (simple, or structured chunks when negotiated), receiving WRITE payloads
 * where the plugin offers room. session.ts decides when a request may run; this file runs it.
 */

import type { Backend } from "./backend.ts";
import type { BufferPool } from "./buffer-pool.ts";
import { errnoOf, messageOf, NbdError, wireError } from "./errors.ts";
import { ExtentList } from "./extents.ts";
import type { Log } from "./log.ts";
import type { Output } from "./output.ts";
import { checkReadResult } from "./plugin-answers.ts";
import type { Offset, ReadViews } from "./plugin.ts";
import type { Request } from "./protocol/codec.ts";
import { BASE_ALLOCATION_ID, CMD, CMD_FLAG, NBD_ERR } from "./protocol/constants.ts";
import { addOffset, compareOffsets, SIMPLE_REPLY } from "./protocol/layout.ts";
import {
  encodeBlockStatus,
  encodeErrorChunk,
  encodeErrorOffsetChunk,
  encodeOffsetDataPrefix,
  encodeOffsetHole,
  encodeSimpleReply,
  OFFSET_DATA_PREFIX,
  OFFSET_HOLE_REPLY_SIZE,
} from "./protocol/replies.ts";
import { validateRequest, type ValidationContext } from "./validate.ts";
import { isAllZero } from "./zero.ts";

/** What a connection's transmission phase needs, fixed at GO. */
export interface TransmissionSetup {
  readonly backend: Backend;
  /** Nothing validation looks at changes once transmission starts: built once, at GO. */
  readonly validation: ValidationContext;
  readonly structuredReplies: boolean;
  readonly output: Output;
  /** The connection's pool: read replies and write payloads reuse its buffers. */
  readonly pool: BufferPool;
  readonly log: Log;
  /** The connection's name in logs. */
  readonly where: string;
}

export class Transmission {
  readonly backend: Backend;
  readonly validation: ValidationContext;
  private readonly structuredReplies: boolean;
  private readonly output: Output;
  private readonly pool: BufferPool;
  private readonly log: Log;
  private readonly where: string;
  /** Payloads received into the plugin's own storage: never handed to the pool. */
  private readonly lent = new Set<Uint8Array>();

  constructor(setup: TransmissionSetup) {
    this.backend = setup.backend;
    this.validation = setup.validation;
    this.structuredReplies = setup.structuredReplies;
    this.output = setup.output;
    this.pool = setup.pool;
    this.log = setup.log;
    this.where = setup.where;
  }

  /** Runs one valid request and queues its reply; never throws. */
  async execute(req: Request): Promise<void> {
    const backend = this.backend;
    const fua = (req.flags & CMD_FLAG.FUA) !== 0;
    try {
      switch (req.type) {
        case CMD.READ:
          return await this.read(req);
        case CMD.BLOCK_STATUS:
          return await this.blockStatus(req);
        case CMD.WRITE:
          try {
            await backend.writeAt(req.payload!, req.offset, fua);
          } finally {
            // Plugins may not keep the payload past the call; the plugin's own room is its own.
            if (!this.lent.delete(req.payload!)) this.pool.give(req.payload!);
          }
          break;
        case CMD.FLUSH:
          await backend.flush();
          break;
        case CMD.TRIM:
          await backend.trim(req.length, req.offset, fua);
          break;
        case CMD.CACHE:
          await backend.cache(req.length, req.offset);
          break;
        case CMD.WRITE_ZEROES: {
          const mayTrim = (req.flags & CMD_FLAG.NO_HOLE) === 0;
          const fast = (req.flags & CMD_FLAG.FAST_ZERO) !== 0;
          await backend.zero(req.length, req.offset, mayTrim, fua, fast);
          break;
        }
      }
      const reply = new Uint8Array(SIMPLE_REPLY.size);
      encodeSimpleReply(reply, 0, req, NBD_ERR.SUCCESS);
      this.output.push(reply);
    } catch (error) {
      this.replyFailure(req, error);
    }
  }

  /**
   * Where a WRITE payload is received: in the plugin's own storage when it offers room (asked
   * only for a valid request, since the bytes may show there as they arrive), else a pooled
   * buffer.
   */
  payloadBuffer(size: number, req: Request): Uint8Array {
    const backend = this.backend;
    if (
      backend.handle.payloadBuffer && validateRequest(req, this.validation) === NBD_ERR.SUCCESS
    ) {
      const view = backend.payloadBuffer(size, req.offset);
      if (view) {
        this.lent.add(view);
        return view;
      }
    }
    return this.pool.take(size);
  }

  /**
   * One buffer holds header and data: the plugin fills the data in place; or, when the plugin
   * lends its own bytes (readViews), the header goes out followed by them, never copied.
   */
  private async read(req: Request): Promise<void> {
    const lent = this.output.canLend ? this.backend.readViews(req.length, req.offset) : undefined;
    if (lent) return this.sendViews(req, lent);
    // The header goes in front of the data in the same pooled buffer: one write, no copy.
    const prefix = this.structuredReplies ? OFFSET_DATA_PREFIX : SIMPLE_REPLY.size;
    const buf = this.pool.take(prefix + req.length);
    const data = buf.subarray(prefix);
    try {
      checkReadResult(await this.backend.readAt(data, req.offset), data);
    } catch (error) {
      this.pool.give(buf);
      throw error;
    }
    if (!this.structuredReplies) {
      encodeSimpleReply(buf, 0, req, NBD_ERR.SUCCESS);
    } else if (isAllZero(data)) {
      this.pool.give(buf);
      return this.replyHole(req);
    } else {
      encodeOffsetDataPrefix(buf, 0, req, req.length);
    }
    this.output.pushPooled(buf);
  }

  /**
   * Queues a READ's reply from lent views; the output releases them once written (or dropped).
   * An all-zero READ is one OFFSET_HOLE chunk with structured replies, as from a buffer.
   */
  private sendViews(req: Request, lent: ReadViews): void {
    let hole: boolean;
    try {
      hole = this.structuredReplies && (lent.isAllZero?.() ?? lent.views.every(isAllZero));
    } catch (error) {
      lent.release();
      throw error;
    }
    if (hole) {
      lent.release();
      return this.replyHole(req);
    }
    const header = new Uint8Array(this.structuredReplies ? OFFSET_DATA_PREFIX : SIMPLE_REPLY.size);
    if (this.structuredReplies) encodeOffsetDataPrefix(header, 0, req, req.length);
    else encodeSimpleReply(header, 0, req, NBD_ERR.SUCCESS);
    this.output.pushLent(header, lent.views, lent);
  }

  /** An all-zero READ with structured replies: one OFFSET_HOLE chunk instead of the data. */
  private replyHole(req: Request): void {
    const reply = new Uint8Array(OFFSET_HOLE_REPLY_SIZE);
    encodeOffsetHole(reply, 0, req, req.length);
    this.output.push(reply);
  }

  private async blockStatus(req: Request): Promise<void> {
    const reqOne = (req.flags & CMD_FLAG.REQ_ONE) !== 0;
    const list = new ExtentList(req.offset, this.backend.caps.size);
    await this.backend.extents(req.length, req.offset, reqOne, list);
    if (list.types.length === 0) {
      throw new NbdError("EINVAL", "extents: plugin returned no extents for the requested range");
    }
    const { lengths, statuses } = list.toDescriptors(req.length, reqOne);
    this.output.push(encodeBlockStatus(req, BASE_ALLOCATION_ID, lengths, statuses));
  }

  /** A plugin failure: its errno on the wire; anything that is not an NbdError is logged. */
  private replyFailure(req: Request, error: unknown): void {
    const message = messageOf(error);
    if (error instanceof NbdError) this.log.debug(this.where, message);
    else this.log.error(this.where, message);
    const wire = wireError(errnoOf(error), req.flags);
    const at = error instanceof NbdError ? error.offset : undefined;
    if (this.structuredReplies && req.type === CMD.READ && at !== undefined && within(req, at)) {
      return this.output.push(encodeErrorOffsetChunk(req, wire, message, at));
    }
    this.replyError(req, wire, message);
  }

  /** Structured replies carry errors of READ and BLOCK_STATUS as chunks; the rest are simple. */
  replyError(req: Request, error: number, message: string): void {
    const chunked = req.type === CMD.READ || req.type === CMD.BLOCK_STATUS;
    if (this.structuredReplies && chunked) {
      return this.output.push(encodeErrorChunk(req, error, message));
    }
    const reply = new Uint8Array(SIMPLE_REPLY.size);
    encodeSimpleReply(reply, 0, req, error);
    this.output.push(reply);
  }
}

/** Whether `offset` lies inside the request's range. */
function within(req: Request, offset: Offset): boolean {
  return compareOffsets(offset, req.offset) >= 0 &&
    compareOffsets(offset, addOffset(req.offset, req.length)) < 0;
}
