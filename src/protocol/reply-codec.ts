/**
 * The sans-I/O decoder of one NBD connection, server to client: fed received chunks, it hands
 * back one event at a time (the greeting, an option reply, the EXPORT_NAME reply, a simple reply,
 * a structured reply chunk). It never touches a socket or a timer. The data of a READ reply
 * goes straight into the buffer its request named (`ReadTarget`), copied once; other chunk
 * payloads are bounded by `maxChunk` and read into fresh buffers.
 *
 * The same contract as codec.ts with its caller: a chunk given to receive() stays unchanged
 * until the caller is done decoding for now; then detach() copies whatever of it is unread.
 */

import { ProtocolError } from "../api/errors.ts";
import { HANDSHAKE_FLAG, MAGIC, REPLY_TYPE } from "./constants.ts";
import {
  EXPORT_NAME_REPLY,
  getU16,
  getU32,
  getU64,
  GREETING,
  OFFSET_DATA,
  OLDSTYLE_GREETING,
  OPTION_REPLY,
} from "./layout.ts";
import { ReceivedBytes } from "./received-bytes.ts";
import {
  type Cookie,
  decodeChunkHeader,
  decodeSimpleReply,
  REPLY_MAGIC_SIZE,
  replyShape,
  REST_OF_HEADER,
} from "./reply-header.ts";
import type { Offset } from "../api/plugin.ts";

export type { Cookie };

export type ReplyEvent =
  | { kind: "need-data" }
  | { kind: "greeting"; flags: number }
  | { kind: "oldstyle"; size: Offset; flags: number }
  | { kind: "option-reply"; option: number; type: number; data: Uint8Array }
  | { kind: "export"; size: Offset; flags: number }
  /** A simple reply; a READ's data, on success, is already in its target. */
  | { kind: "simple"; cookie: Cookie; error: number }
  /**
   * A structured chunk. OFFSET_DATA's data is already in the target at `offset` (payload holds
   * only the u64 offset); every other type's whole payload is in `payload`.
   */
  | { kind: "chunk"; cookie: Cookie; flags: number; type: number; payload: Uint8Array }
  | { kind: "closed" };

/**
 * Where the data of a READ reply goes: the buffer the request asked to fill, for a cookie and,
 * for OFFSET_DATA, the offset of the chunk (the caller checks it lies inside the request) and
 * its length. Undefined: this cookie is no READ in flight (the stream is then unusable).
 */
export interface ReadTarget {
  simple(cookie: Cookie): Uint8Array | undefined;
  offsetData(cookie: Cookie, offset: Offset, length: number): Uint8Array | undefined;
}

export type ReplyPhase = "greeting" | "options" | "export-name" | "transmission";

const NEED_DATA: ReplyEvent = { kind: "need-data" };
const CLOSED: ReplyEvent = { kind: "closed" };
/** "NBDMAGIC" then 8 bytes that say newstyle (IHAVEOPT) or oldstyle (cliserv_magic). */
const MAGICS = 16;

export class ReplyCodec {
  private phase: ReplyPhase = "greeting";
  private readonly input = new ReceivedBytes();
  private readonly target: ReadTarget;
  private readonly maxChunk: number;
  /** Whether the export reply lacks its 124 zero bytes (NO_ZEROES agreed). */
  private noZeroes = false;
  /** Replies come as extended chunks only (NBD_OPT_EXTENDED_HEADERS was agreed). */
  private extended = false;
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private bodyEvent: ReplyEvent | undefined;
  private skipping = 0;
  private skipEvent: ReplyEvent | undefined;
  /**
   * A message read in two steps whose first step is done: the greeting after its magics
   * (newstyle or oldstyle), a reply after its magic (simple or structured).
   */
  private firstHalf: "newstyle" | "oldstyle" | "simple" | "chunk" | "extended" | undefined;

  constructor(target: ReadTarget, maxChunk: number) {
    this.target = target;
    this.maxChunk = maxChunk;
  }

  receive(chunk: Uint8Array): void {
    this.input.receive(chunk);
  }

  detach(): void {
    this.input.detach();
  }

  /**
   * The unfilled rest of the READ data being received, for a runtime that can read the next
   * bytes straight into it (then passing receive() a view of what it read there: no copy).
   * Undefined unless at least `min` bytes of it are still to come and no received bytes wait.
   */
  payloadRemainder(min: number): Uint8Array | undefined {
    const body = this.body;
    if (body === undefined || this.afterOffset !== undefined || !this.input.isEmpty()) {
      return undefined;
    }
    return body.length - this.bodyFilled >= min ? body.subarray(this.bodyFilled) : undefined;
  }

  /** Bytes received but not decoded, handed over at a STARTTLS switch (they belong to TLS). */
  takeUnconsumed(): Uint8Array {
    return this.input.takeAll();
  }

  /**
   * What the following bytes are: set by the client as it sends EXPORT_NAME or finishes GO,
   * with extended chunks only when `extended` (NBD_OPT_EXTENDED_HEADERS was acknowledged).
   */
  setPhase(phase: ReplyPhase, noZeroes = false, extended = false): void {
    this.phase = phase;
    this.noZeroes = noZeroes;
    this.extended = extended;
  }

  /** Decodes at most one event; throws ProtocolError when the server broke the stream. */
  next(): ReplyEvent {
    if (this.body !== undefined) return this.fillBody();
    if (this.skipping > 0) return this.skip();
    switch (this.phase) {
      case "greeting":
        return this.greeting();
      case "options":
        return this.optionReply();
      case "export-name":
        return this.exportReply();
      case "transmission":
        return this.reply();
    }
  }

  private greeting(): ReplyEvent {
    if (this.firstHalf === undefined) {
      const magics = this.input.readFixed(MAGICS);
      if (magics === undefined) return this.starved();
      if (getU32(magics, 0) !== MAGIC.NBDMAGIC_HI || getU32(magics, 4) !== MAGIC.NBDMAGIC_LO) {
        throw new ProtocolError("the server's greeting has a bad magic: not an NBD server");
      }
      const hi = getU32(magics, 8);
      const lo = getU32(magics, 12);
      if (hi === MAGIC.OLDSTYLE_HI && lo === MAGIC.OLDSTYLE_LO) this.firstHalf = "oldstyle";
      else if (hi === MAGIC.IHAVEOPT_HI && lo === MAGIC.IHAVEOPT_LO) this.firstHalf = "newstyle";
      else throw new ProtocolError("the server's greeting is neither newstyle nor oldstyle");
    }
    if (this.firstHalf === "oldstyle") return this.oldstyleRest();
    const flags = this.input.readFixed(GREETING.size - MAGICS);
    if (flags === undefined) return this.starvedMidMessage();
    this.firstHalf = undefined;
    this.phase = "options";
    return { kind: "greeting", flags: getU16(flags, 0) };
  }

  /** The oldstyle greeting after its magics: u64 size, u16 global flags, u16 flags, 124 zeroes. */
  private oldstyleRest(): ReplyEvent {
    const rest = this.input.readFixed(OLDSTYLE_GREETING.flags + 2 - MAGICS);
    if (rest === undefined) return this.starvedMidMessage();
    const event: ReplyEvent = {
      kind: "oldstyle",
      size: getU64(rest, OLDSTYLE_GREETING.exportSize - MAGICS),
      flags: getU16(rest, OLDSTYLE_GREETING.flags - MAGICS),
    };
    this.firstHalf = undefined;
    this.phase = "transmission";
    return this.startSkip(OLDSTYLE_GREETING.size - OLDSTYLE_GREETING.flags - 2, event);
  }

  private optionReply(): ReplyEvent {
    const header = this.input.readFixed(OPTION_REPLY.size);
    if (header === undefined) return this.starved();
    if (
      getU32(header, OPTION_REPLY.magic) !== MAGIC.REP_HI ||
      getU32(header, OPTION_REPLY.magic + 4) !== MAGIC.REP_LO
    ) {
      throw new ProtocolError("an option reply has a bad magic");
    }
    const option = getU32(header, OPTION_REPLY.option);
    const type = getU32(header, OPTION_REPLY.type);
    const length = getU32(header, OPTION_REPLY.length);
    if (length > this.maxChunk) {
      throw new ProtocolError(`an option reply of ${length} bytes is too large`);
    }
    const data = new Uint8Array(length);
    return this.startBody(data, { kind: "option-reply", option, type, data });
  }

  private exportReply(): ReplyEvent {
    const reply = this.input.readFixed(EXPORT_NAME_REPLY.size);
    if (reply === undefined) return this.starved();
    const event: ReplyEvent = {
      kind: "export",
      size: getU64(reply, EXPORT_NAME_REPLY.exportSize),
      flags: getU16(reply, EXPORT_NAME_REPLY.flags),
    };
    this.phase = "transmission";
    return this.startSkip(this.noZeroes ? 0 : EXPORT_NAME_REPLY.zeroes, event);
  }

  private reply(): ReplyEvent {
    let shape = this.firstHalf;
    if (shape === undefined) {
      const magic = this.input.readFixed(REPLY_MAGIC_SIZE);
      if (magic === undefined) return this.starved();
      shape = this.firstHalf = replyShape(getU32(magic, 0), this.extended);
    }
    return shape === "simple" ? this.simpleReply() : this.chunk(shape as "chunk" | "extended");
  }

  /** A simple reply after its magic: u32 error, u64 cookie, then a READ's data on success. */
  private simpleReply(): ReplyEvent {
    const rest = this.input.readFixed(REST_OF_HEADER.simple);
    if (rest === undefined) return this.starvedMidMessage();
    this.firstHalf = undefined;
    const { cookie, error } = decodeSimpleReply(rest);
    const event: ReplyEvent = { kind: "simple", cookie, error };
    if (error !== 0) return event;
    const data = this.target.simple(cookie);
    return data === undefined || data.length === 0 ? event : this.startBody(data, event);
  }

  /** A structured chunk after its magic, compact or extended, then its payload. */
  private chunk(shape: "chunk" | "extended"): ReplyEvent {
    const rest = this.input.readFixed(REST_OF_HEADER[shape]);
    if (rest === undefined) return this.starvedMidMessage();
    this.firstHalf = undefined;
    const { cookie, flags, type, length } = decodeChunkHeader(rest, shape === "extended");
    if (type === REPLY_TYPE.OFFSET_DATA) return this.offsetData(cookie, flags, length);
    if (typeof length !== "number" || length > this.maxChunk) {
      throw new ProtocolError(`a reply chunk of ${length} bytes is too large`);
    }
    const payload = new Uint8Array(length);
    return this.startBody(payload, { kind: "chunk", cookie, flags, type, payload });
  }

  /** OFFSET_DATA: the u64 offset, then the data straight into the READ's buffer. */
  private offsetData(cookie: Cookie, flags: number, length: Offset): ReplyEvent {
    if (length < OFFSET_DATA.size) {
      throw new ProtocolError("an OFFSET_DATA chunk is shorter than its offset");
    }
    if (typeof length !== "number") {
      throw new ProtocolError(`an OFFSET_DATA chunk of ${length} bytes is larger than any READ`);
    }
    const payload = new Uint8Array(OFFSET_DATA.size);
    const type = REPLY_TYPE.OFFSET_DATA;
    const event: ReplyEvent = { kind: "chunk", cookie, flags, type, payload };
    const dataLength = length - OFFSET_DATA.size;
    this.afterOffset = () => {
      const target = this.target.offsetData(cookie, getU64(payload, 0), dataLength);
      if (target === undefined || target.length !== dataLength) {
        throw new ProtocolError("an OFFSET_DATA chunk answers no READ in flight, or overflows it");
      }
      return this.startBody(target, event);
    };
    return this.startBody(payload, event);
  }

  /** Set while an OFFSET_DATA offset is read: what comes once it is complete. */
  private afterOffset: (() => ReplyEvent) | undefined;

  private startBody(body: Uint8Array, event: ReplyEvent): ReplyEvent {
    if (body.length === 0 && this.afterOffset === undefined) return event;
    this.body = body;
    this.bodyFilled = 0;
    this.bodyEvent = event;
    return this.fillBody();
  }

  private fillBody(): ReplyEvent {
    const body = this.body!;
    this.bodyFilled = this.input.fill(body, this.bodyFilled);
    if (this.bodyFilled < body.length) return this.starvedMidMessage();
    const event = this.bodyEvent!;
    this.body = undefined;
    this.bodyEvent = undefined;
    const after = this.afterOffset;
    if (after !== undefined) {
      this.afterOffset = undefined;
      return after();
    }
    return event;
  }

  private startSkip(count: number, event: ReplyEvent): ReplyEvent {
    if (count === 0) return event;
    this.skipping = count;
    this.skipEvent = event;
    return this.skip();
  }

  private skip(): ReplyEvent {
    this.skipping = this.input.skip(this.skipping);
    if (this.skipping > 0) return this.starvedMidMessage();
    const event = this.skipEvent!;
    this.skipEvent = undefined;
    return event;
  }

  /** Out of bytes between messages: the end if the server closed, else wait. */
  private starved(): ReplyEvent {
    if (!this.input.ended) return NEED_DATA;
    if (this.input.inHeader()) {
      throw new ProtocolError("the server closed the connection in the middle of a message");
    }
    return CLOSED;
  }

  /** Out of bytes inside a message: the server closing now broke it. */
  private starvedMidMessage(): ReplyEvent {
    if (!this.input.ended) return NEED_DATA;
    throw new ProtocolError("the server closed the connection in the middle of a message");
  }

  /** Whether the greeting advertised FIXED_NEWSTYLE (for the caller's checks). */
  static isFixedNewstyle(flags: number): boolean {
    return (flags & HANDSHAKE_FLAG.FIXED_NEWSTYLE) !== 0;
  }
}
