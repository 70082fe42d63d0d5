/**
 * One connection's transmission phase, after GO: runs each valid request on the backend and
 * queues its reply (simple, or structured chunks when negotiated, or only extended chunks with
 * extended headers), receiving WRITE payloads where the plugin offers room. session.ts decides
 * when a request may run; this file runs it.
 */

import type { Backend } from "../backend/backend.ts";
import type { BufferPool } from "./buffer-pool.ts";
import { DisconnectError, errnoOf, messageOf, NbdError } from "../api/errors.ts";
import { wireError } from "../protocol/wire-error.ts";
import { blockStatusHold, blockStatusReply } from "./block-status.ts";
import type { ConnectionLog } from "./connection-log.ts";
import { requestLine } from "./debug-lines.ts";
import type { Output } from "./output.ts";
import { checkReadResult, isThenable } from "../backend/plugin-answers.ts";
import type { Offset, ReadViews } from "../api/plugin.ts";
import type { Request } from "../protocol/codec.ts";
import { CMD, CMD_FLAG, NBD_ERR } from "../protocol/constants.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import { SIMPLE_REPLY } from "../protocol/layout.ts";
import {
  encodeErrorChunk,
  encodeErrorOffsetChunk,
  encodeNoneChunk,
  encodeOffsetDataPrefix,
  encodeOffsetHole,
  encodeSimpleReply,
  EXTENDED_OFFSET_DATA_PREFIX,
  EXTENDED_OFFSET_HOLE_REPLY_SIZE,
  OFFSET_DATA_PREFIX,
  OFFSET_HOLE_REPLY_SIZE,
} from "../protocol/replies.ts";
import { EXTENDED_CHUNK } from "../protocol/layout.ts";
import { validateRequest, type ValidationContext } from "./validate.ts";
import { isAllZero } from "../api/zero.ts";

/** What a connection's transmission phase needs, fixed at GO. */
export interface TransmissionSetup {
  readonly backend: Backend;
  /** Nothing validation looks at changes once transmission starts: built once, at GO. */
  readonly validation: ValidationContext;
  readonly structuredReplies: boolean;
  /** Every reply is an extended chunk (NBD_OPT_EXTENDED_HEADERS): never a simple reply. */
  readonly extendedHeaders: boolean;
  readonly output: Output;
  /** The connection's pool: read replies and write payloads reuse its buffers. */
  readonly pool: BufferPool;
  /** The connection's lines in the server log. */
  readonly log: ConnectionLog;
  /** Ends the connection: a callback threw DisconnectError. */
  readonly disconnect: () => void;
}

export class Transmission {
  readonly backend: Backend;
  readonly validation: ValidationContext;
  /** READ and BLOCK_STATUS are answered with chunks: structured replies or extended headers. */
  private readonly structuredReplies: boolean;
  private readonly extended: boolean;
  private readonly output: Output;
  private readonly pool: BufferPool;
  private readonly log: ConnectionLog;
  /** Copied from the log: one line per request (-v, nbdkit.backend.datapath). */
  private readonly datapath: boolean;
  private readonly disconnect: () => void;
  /** Bytes in front of a READ's data in its reply buffer: the simple or structured header. */
  private readonly readPrefix: number;
  /** Payloads received into the plugin's own storage: never handed to the pool. */
  private readonly lent = new Set<Uint8Array>();
  /** What a BLOCK_STATUS counts against the bytes in flight until its reply is queued. */
  readonly blockStatusHold: number;

  constructor(setup: TransmissionSetup) {
    this.backend = setup.backend;
    this.validation = setup.validation;
    this.extended = setup.extendedHeaders;
    this.structuredReplies = setup.structuredReplies || this.extended;
    this.output = setup.output;
    this.pool = setup.pool;
    this.log = setup.log;
    this.datapath = setup.log.datapath;
    this.disconnect = setup.disconnect;
    this.blockStatusHold = blockStatusHold(this.extended);
    this.readPrefix = this.extended
      ? EXTENDED_OFFSET_DATA_PREFIX
      : this.structuredReplies
      ? OFFSET_DATA_PREFIX
      : SIMPLE_REPLY.size;
  }

  /**
   * Runs one valid request and queues its reply; never throws. A plugin that answers
   * synchronously gets its reply queued before this returns, with no promise made (undefined);
   * otherwise the promise settles once the reply is queued.
   */
  execute(req: Request): Promise<void> | undefined {
    if (this.datapath) this.log.debug(requestLine(this.log.layer, req));
    let running: void | PromiseLike<void>;
    try {
      running = this.run(req);
    } catch (error) {
      this.replyFailure(req, error);
      return undefined;
    }
    if (!isThenable(running)) return undefined;
    return Promise.resolve(running).then(undefined, (error) => this.replyFailure(req, error));
  }

  /** Calls the backend for one request; replies on success, throws or rejects on failure. */
  private run(req: Request): void | PromiseLike<void> {
    const backend = this.backend;
    const fua = (req.flags & CMD_FLAG.FUA) !== 0;
    switch (req.type) {
      case CMD.READ:
        return this.read(req);
      case CMD.WRITE:
        return this.write(req, fua);
      case CMD.TRIM:
        return this.acknowledge(req, backend.trim(req.length, req.offset, fua));
      case CMD.FLUSH:
        return this.acknowledge(req, backend.flush());
      case CMD.BLOCK_STATUS:
        return this.blockStatus(req);
      case CMD.CACHE:
        return this.acknowledge(req, backend.cache(req.length, req.offset));
      case CMD.WRITE_ZEROES: {
        const mayTrim = (req.flags & CMD_FLAG.NO_HOLE) === 0;
        const fast = (req.flags & CMD_FLAG.FAST_ZERO) !== 0;
        return this.acknowledge(req, backend.zero(req.length, req.offset, mayTrim, fua, fast));
      }
    }
  }

  /** Replies success once `running` is done: at once when the plugin answered synchronously. */
  private acknowledge(req: Request, running: unknown): void | PromiseLike<void> {
    if (!isThenable(running)) return this.replySuccess(req);
    return Promise.resolve(running).then(() => this.replySuccess(req));
  }

  /** Success without data: a simple reply, or with extended headers a NONE chunk. */
  private replySuccess(req: Request): void {
    if (!this.extended) return this.replySimple(req, NBD_ERR.SUCCESS);
    const output = this.output;
    const at = output.reserve(EXTENDED_CHUNK.size); // first: it may renew output.arena
    encodeNoneChunk(output.arena, at, req);
  }

  /** A simple reply, encoded among the output's small replies. */
  private replySimple(req: Request, error: number): void {
    const output = this.output;
    const at = output.reserve(SIMPLE_REPLY.size); // first: it may renew output.arena
    encodeSimpleReply(output.arena, at, req, error);
  }

  private write(req: Request, fua: boolean): void | PromiseLike<void> {
    const payload = req.payload!;
    let running;
    try {
      running = this.backend.writeAt(payload, req.offset, fua);
    } catch (error) {
      this.returnPayload(payload);
      throw error;
    }
    if (!isThenable(running)) {
      this.returnPayload(payload);
      return this.replySuccess(req);
    }
    return Promise.resolve(running).then(() => {
      this.returnPayload(payload);
      this.replySuccess(req);
    }, (error) => {
      this.returnPayload(payload);
      throw error;
    });
  }

  /** Plugins may not keep a payload past the call; the plugin's own room stays its own. */
  private returnPayload(payload: Uint8Array): void {
    if (!this.lent.delete(payload)) this.pool.give(payload);
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
  private read(req: Request): void | PromiseLike<void> {
    const length = req.length as number; // validated: at most the maximum payload
    const lent = this.output.canLend ? this.backend.readViews(length, req.offset) : undefined;
    if (lent) return this.sendViews(req, lent);
    // The header goes in front of the data in the same pooled buffer: one write, no copy.
    const buf = this.pool.take(this.readPrefix + (req.length as number)); // ≤ maxPayload
    const data = buf.subarray(this.readPrefix);
    let answer;
    try {
      answer = this.backend.readAt(data, req.offset);
    } catch (error) {
      this.pool.give(buf);
      throw error;
    }
    if (!isThenable(answer)) return this.replyRead(req, buf, data, answer);
    return Promise.resolve(answer).then(
      (value) => this.replyRead(req, buf, data, value),
      (error) => {
        this.pool.give(buf);
        throw error;
      },
    );
  }

  /** Sends what readAt put in `data` (`buf` after the header's room), given its answer. */
  private replyRead(req: Request, buf: Uint8Array, data: Uint8Array, answer: unknown): void {
    try {
      checkReadResult(answer, data);
    } catch (error) {
      this.pool.give(buf);
      throw error;
    }
    if (this.structuredReplies && isAllZero(data)) {
      this.pool.give(buf);
      return this.replyHole(req);
    }
    this.encodeReadHeader(buf, 0, req);
    this.output.pushPooled(buf);
  }

  /** The header in front of a READ's data: a simple reply, or an OFFSET_DATA chunk's start. */
  private encodeReadHeader(buf: Uint8Array, at: number, req: Request): void {
    if (this.structuredReplies) {
      encodeOffsetDataPrefix(buf, at, req, req.length as number, this.extended);
    } else encodeSimpleReply(buf, at, req, NBD_ERR.SUCCESS);
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
    const output = this.output;
    const at = output.reserve(this.readPrefix); // the header, among the small replies
    this.encodeReadHeader(output.arena, at, req);
    output.pushLent(lent.views, lent);
  }

  /** An all-zero READ with structured replies: one OFFSET_HOLE chunk instead of the data. */
  private replyHole(req: Request): void {
    const output = this.output;
    const extended = this.extended;
    const at = output.reserve(extended ? EXTENDED_OFFSET_HOLE_REPLY_SIZE : OFFSET_HOLE_REPLY_SIZE);
    encodeOffsetHole(output.arena, at, req, req.length as number, extended);
  }

  private async blockStatus(req: Request): Promise<void> {
    this.output.push(await blockStatusReply(this.backend, req, this.extended));
  }

  /**
   * A plugin failure: logged (connection-log.ts), and its errno on the wire. A DisconnectError
   * gets no reply: the connection ends instead (nbdkit_disconnect).
   */
  private replyFailure(req: Request, error: unknown): void {
    const message = messageOf(error);
    if (error instanceof DisconnectError) {
      this.log.error(message);
      return this.disconnect();
    }
    const errno = errnoOf(error);
    this.log.failed(req, error, errno);
    const wire = wireError(errno, req.flags);
    const at = error instanceof NbdError ? error.offset : undefined;
    if (this.structuredReplies && req.type === CMD.READ && at !== undefined && within(req, at)) {
      return this.output.push(encodeErrorOffsetChunk(req, wire, message, at, this.extended));
    }
    this.replyError(req, wire, message);
  }

  /**
   * Structured replies carry errors of READ and BLOCK_STATUS as chunks, the rest as simple
   * replies; with extended headers every error is a chunk.
   */
  replyError(req: Request, error: number, message: string): void {
    const chunked = this.extended || req.type === CMD.READ || req.type === CMD.BLOCK_STATUS;
    if (this.structuredReplies && chunked) {
      return this.output.push(encodeErrorChunk(req, error, message, this.extended));
    }
    this.replySimple(req, error);
  }
}

/** Whether `offset` lies inside the request's range. */
function within(req: Request, offset: Offset): boolean {
  return compareOffsets(offset, req.offset) >= 0 &&
    compareOffsets(offset, addOffset(req.offset, req.length)) < 0;
}
