/**
 * The sans-I/O decoder of one NBD connection, client to server: fed received chunks, it hands
 * back one event at a time (client flags, an option with its data, a request with its payload).
 * It never touches a socket, a timer or a plugin, and it bounds everything it buffers (the
 * bounds are in src/protocol/limits.ts): option data at 64 MiB, write payloads at the maximum payload;
 * larger write payloads up to the skip limit are read and thrown away, anything beyond, and
 * any longer option, ends the connection with a LimitError.
 *
 * Contract with its caller (session.ts): a chunk given to receive() stays unchanged until the
 * caller is done decoding for now; then detach() copies whatever of it is still unread, so the
 * runtime may reuse its buffer. received-bytes.ts keeps those bytes; this file decodes them.
 */

import { ProtocolError } from "../api/errors.ts";
import { DEFAULT_LIMITS, LimitError, LIMITS, type Limits } from "./limits.ts";
import { CMD, CMD_FLAG, MAGIC } from "./constants.ts";
import { CLIENT_FLAGS, EXTENDED_REQUEST, getU32, OPTION_REQUEST, REQUEST } from "./layout.ts";
import { decodeRequestHeader, type Request } from "./request-header.ts";
import { decodeBlockStatusPayload, MAX_BLOCK_STATUS_PAYLOAD } from "./block-status-payload.ts";
import { ReceivedBytes } from "./received-bytes.ts";

export type { Request } from "./request-header.ts";

export type Event =
  | { kind: "need-data" }
  | { kind: "client-flags"; flags: number }
  | { kind: "option"; option: number; data: Uint8Array }
  | { kind: "request"; request: Request }
  | { kind: "closed" };

export type Phase = "client-flags" | "options" | "transmission";

const NEED_DATA: Event = { kind: "need-data" };
const CLOSED: Event = { kind: "closed" };

/**
 * Where a write payload is put: a fresh buffer, a reused one from a pool, or room the plugin
 * offers in its own storage (`request` says where the bytes go).
 */
export type Allocate = (size: number, request: Request) => Uint8Array;

const fresh: Allocate = (size) => new Uint8Array(size);

export class Codec {
  private phase: Phase = "client-flags";
  /** Requests come with 32-byte extended headers (NBD_OPT_EXTENDED_HEADERS was agreed). */
  private extended = false;
  private readonly allocate: Allocate;
  private readonly limits: Limits;
  /** Received bytes not yet decoded. */
  private readonly input = new ReceivedBytes();
  /** Option data or write payload being filled, and the event it completes. */
  private body: Uint8Array | undefined;
  private bodyFilled = 0;
  private bodyEvent: Event | undefined;
  /** Run once the body is complete (a BLOCK_STATUS payload is decoded then). */
  private payloadEnd: (() => void) | undefined;
  /** Bytes of an oversized write payload still to throw away. */
  private skipping = 0;
  private skipEvent: Event | undefined;

  constructor(allocate: Allocate = fresh, limits: Limits = DEFAULT_LIMITS) {
    this.allocate = allocate;
    this.limits = limits;
  }

  /** Stores a received chunk; an empty chunk means the peer closed its side. */
  receive(chunk: Uint8Array): void {
    this.input.receive(chunk);
  }

  /**
   * Copies the bytes not yet decoded out of the received chunks, so the runtime may reuse
   * them. Costs nothing when everything was decoded, the usual case.
   */
  detach(): void {
    this.input.detach();
  }

  /**
   * Hands over every received byte not yet decoded and forgets it (h11's trailing_data): at
   * STARTTLS these bytes belong to the TLS stream, so none of them may ever become an option.
   * Called between options, when no option data is half-read.
   */
  takeUnconsumed(): Uint8Array {
    if (this.body !== undefined || this.skipping > 0) {
      throw new ProtocolError("cannot switch protocols in the middle of a message");
    }
    return this.input.takeAll();
  }

  /**
   * The unfilled rest of the payload being received, for a runtime that can read the next bytes
   * straight into it (it then passes receive() a view of what it read there, and no copy is
   * made). Undefined unless at least `min` bytes of it are still to come and no received bytes
   * wait: reading into it then never takes bytes that belong after it.
   */
  payloadRemainder(min: number): Uint8Array | undefined {
    const body = this.body;
    if (body === undefined || !this.input.isEmpty()) return undefined;
    return body.length - this.bodyFilled >= min ? body.subarray(this.bodyFilled) : undefined;
  }

  /**
   * Switches what the following bytes are: options after client flags, requests after GO,
   * with extended headers when `extended` (once NBD_OPT_EXTENDED_HEADERS was acknowledged).
   */
  setPhase(phase: Phase, extended = false): void {
    this.phase = phase;
    this.extended = extended;
  }

  /** Decodes at most one event. Throws ProtocolError when the client broke the stream. */
  next(): Event {
    if (this.body !== undefined) return this.fillBody();
    if (this.skipping > 0) return this.skip();
    switch (this.phase) {
      case "client-flags": {
        const bytes = this.input.readFixed(CLIENT_FLAGS.size);
        if (bytes === undefined) return this.starved();
        return { kind: "client-flags", flags: getU32(bytes, 0) };
      }
      case "options":
        return this.nextOption();
      case "transmission":
        return this.extended ? this.nextExtendedRequest() : this.nextRequest();
    }
  }

  private nextOption(): Event {
    const header = this.input.readFixed(OPTION_REQUEST.size);
    if (header === undefined) return this.starved();
    if (
      getU32(header, OPTION_REQUEST.magic) !== MAGIC.IHAVEOPT_HI ||
      getU32(header, OPTION_REQUEST.magic + 4) !== MAGIC.IHAVEOPT_LO
    ) {
      throw new ProtocolError("option request has a bad magic");
    }
    const option = getU32(header, OPTION_REQUEST.option);
    const length = getU32(header, OPTION_REQUEST.length);
    if (length > LIMITS.MAX_OPTION_DATA) {
      throw new LimitError({
        limit: "MAX_OPTION_DATA",
        value: LIMITS.MAX_OPTION_DATA,
        what: `option ${option} with ${length} bytes of data`,
        outcome: "connection closed",
      });
    }
    const data = new Uint8Array(length);
    const event: Event = { kind: "option", option, data };
    return this.startBody(data, event);
  }

  private nextRequest(): Event {
    const header = this.input.readFixed(REQUEST.size);
    if (header === undefined) return this.starved();
    if (getU32(header, REQUEST.magic) !== MAGIC.REQUEST) {
      throw new ProtocolError("request has a bad magic");
    }
    const request = decodeRequestHeader(header);
    const length = request.length as number;
    const event: Event = { kind: "request", request };
    if (request.type !== CMD.WRITE || length === 0) return event;
    return this.startPayload(request, length, event);
  }

  /**
   * A 32-byte extended request: with PAYLOAD_LEN a payload of `length` bytes follows, kept for
   * WRITE (and for BLOCK_STATUS, whose payload names contexts), read and thrown away for any
   * other command, which then fails validation. Without it, nothing follows, except after a
   * WRITE: the spec says a WRITE MUST set PAYLOAD_LEN, yet qemu 10's client leaves it out and
   * sends the payload, which qemu-nbd reads all the same; so do we.
   */
  private nextExtendedRequest(): Event {
    const header = this.input.readFixed(EXTENDED_REQUEST.size);
    if (header === undefined) return this.starved();
    if (getU32(header, EXTENDED_REQUEST.magic) !== MAGIC.EXTENDED_REQUEST) {
      throw new ProtocolError("extended request has a bad magic");
    }
    const request = decodeRequestHeader(header, true);
    const event: Event = { kind: "request", request };
    const length = request.length;
    const isWrite = request.type === CMD.WRITE;
    if (!(isWrite || request.flags & CMD_FLAG.PAYLOAD_LEN) || length === 0) return event;
    if (typeof length !== "number" || length > this.limits.skipLimit) {
      throw new LimitError({
        limit: "skipLimit",
        value: this.limits.skipLimit,
        what: `payload of ${length} bytes, too large to skip`,
        outcome: "connection closed",
      });
    }
    if (isWrite) return this.startPayload(request, length, event);
    if (request.type === CMD.BLOCK_STATUS && length <= MAX_BLOCK_STATUS_PAYLOAD) {
      const body = new Uint8Array(length);
      this.payloadEnd = () => {
        const decoded = decodeBlockStatusPayload(body);
        if (decoded === undefined) return; // malformed: contextIds stays unset, EINVAL
        request.length = decoded.length;
        request.contextIds = decoded.contextIds;
      };
      return this.startBody(body, event);
    }
    // No payload form this server serves: consumed, so the stream stays in step, then EINVAL.
    this.skipping = length;
    this.skipEvent = event;
    return this.skip();
  }

  /** A WRITE's payload: received, or read and thrown away when over the maximum payload. */
  private startPayload(request: Request, length: number, event: Event): Event {
    if (length > this.limits.skipLimit) {
      throw new LimitError({
        limit: "skipLimit",
        value: this.limits.skipLimit,
        what: `WRITE of ${length} bytes, too large to skip`,
        outcome: "connection closed",
      });
    }
    if (length > this.limits.maxPayload) {
      request.payloadDropped = true;
      this.skipping = length;
      this.skipEvent = event;
      return this.skip();
    }
    request.payload = this.allocate(length, request);
    return this.startBody(request.payload, event);
  }

  private startBody(body: Uint8Array, event: Event): Event {
    if (body.length === 0) return event;
    this.body = body;
    this.bodyFilled = 0;
    this.bodyEvent = event;
    return this.fillBody();
  }

  /** Fills the body with what was received (ReceivedBytes.fill copies each byte at most once). */
  private fillBody(): Event {
    const body = this.body!;
    this.bodyFilled = this.input.fill(body, this.bodyFilled);
    if (this.bodyFilled < body.length) return this.starved();
    const event = this.bodyEvent!;
    this.body = undefined;
    this.bodyEvent = undefined;
    if (this.payloadEnd !== undefined) {
      this.payloadEnd();
      this.payloadEnd = undefined;
    }
    return event;
  }

  private skip(): Event {
    this.skipping = this.input.skip(this.skipping);
    if (this.skipping > 0) return this.starved();
    const event = this.skipEvent!;
    this.skipEvent = undefined;
    return event;
  }

  /** Out of bytes: the end of the stream if the peer closed, else wait for more. */
  private starved(): Event {
    if (!this.input.ended) return NEED_DATA;
    const midMessage = this.input.inHeader() || this.body !== undefined || this.skipping > 0;
    if (midMessage) throw new ProtocolError("connection closed in the middle of a message");
    return CLOSED;
  }
}
