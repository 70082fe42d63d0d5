/**
 * One connection, from greeting to close: feeds received bytes to the codec, answers options
 * through option-phase.ts (upgrading to TLS on STARTTLS), then validates each request and hands
 * it to transmission.ts, which runs it and queues its reply. Requests run concurrently (replies
 * may overtake each other) unless the plugin's thread model asks for one at a time. Reading
 * pauses while too much is in flight or the output is full, so a client cannot make the server
 * buffer without bound; every other bound (limits.ts) is logged with the peer when a client
 * goes over it.
 */

import { BufferPool } from "./buffer-pool.ts";
import { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { messageOf, ProtocolError } from "../api/errors.ts";
import type { Channel, Receiver } from "../io.ts";
import { LimitError } from "../protocol/limits.ts";
import { LimitWatch } from "./limit-watch.ts";
import type { Lock } from "./lock.ts";
import { type AfterOption, OptionPhase } from "./option-phase.ts";
import { Output } from "./output.ts";
import { Codec, type Request } from "../protocol/codec.ts";
import { CMD, NBD_ERR } from "../protocol/constants.ts";
import { encodeGreeting, SERVER_FLAGS } from "../protocol/handshake.ts";
import type { Transmission } from "./transmission.ts";
import { validateRequest } from "./validate.ts";

const END_OF_STREAM = new Uint8Array(0);

/**
 * Smallest rest of a payload worth reading into directly: below it, one ordinary read that also
 * takes the next requests' headers beats a read that stops at the payload's end.
 */
const READ_IN_PLACE_MIN = 16 * 1024;

export class Session implements Receiver {
  /** Read replies and write payloads reuse this connection's buffers. */
  private readonly pool = new BufferPool();
  private readonly codec: Codec;
  private readonly output: Output;
  /** Answers options until GO. */
  private readonly options: OptionPhase;
  /** Set at GO: runs requests and writes their replies. */
  private transmission: Transmission | undefined;
  /** Serializes this connection's requests when the thread model says so. */
  private readonly serial: Lock | undefined;
  private inFlight = 0;
  private bytesInFlight = 0;
  private idle: (() => void) | undefined;
  /** Not started, or an option or serialized request is running: decode nothing meanwhile. */
  private busy = true;
  private paused = false;
  private finished = false;
  private readonly watch: LimitWatch;
  /** This connection's lines in the server log. */
  readonly log: ConnectionLog;
  /** Settles when the connection is fully closed and the plugin handle released. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  private readonly ctx: ServerContext;
  private readonly channel: Channel;

  constructor(ctx: ServerContext, channel: Channel, id: number) {
    this.ctx = ctx;
    this.channel = channel;
    this.codec = new Codec(
      (size, request) => this.transmission?.payloadBuffer(size, request) ?? this.pool.take(size),
      ctx.limits,
    );
    this.output = new Output(channel, () => this.pump(), this.pool);
    this.log = new ConnectionLog(ctx.log, ctx.pluginName, id);
    this.watch = new LimitWatch(ctx, this.log.where, channel.peer);
    this.options = new OptionPhase({
      ctx,
      channel,
      codec: this.codec,
      output: this.output,
      pool: this.pool,
      watch: this.watch,
      log: this.log,
      closed: () => this.finished,
      disconnect: () => void this.finish(),
    });
    this.serial = ctx.serialLock();
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  /** Greets the client; bytes received before this wait in the codec. */
  start(): void {
    if (this.finished) return; // closed while it waited for its turn
    this.watch.startDeadline(() => void this.finish());
    if (this.ctx.oldstyle) return void this.proceed(this.options.oldstyle()); // greets at once
    this.log.debug(`newstyle negotiation: flags: global 0x${SERVER_FLAGS.toString(16)}`);
    this.output.push(encodeGreeting());
    this.busy = false;
    this.pump();
  }

  /** The server is stopping: finish what is running, then close. */
  shutdown(): Promise<void> {
    void this.finish();
    return this.done;
  }

  data(chunk: Uint8Array): void {
    if (chunk.length === 0) return; // end() alone means end of stream
    this.codec.receive(chunk);
    this.pump();
    // The runtime may reuse the chunk once this returns: keep a copy of what is still unread.
    this.codec.detach();
  }

  /** The rest of a large write payload, for a runtime that can read straight into it. */
  readBuffer(): Uint8Array | undefined {
    return this.codec.payloadRemainder(READ_IN_PLACE_MIN);
  }

  end(error?: Error): void {
    if (error) {
      // The connection failed: no reply can reach the client, so requests it sent but we have
      // not started are dropped, as nbdkit stops at its first failed write (STATUS_DEAD).
      this.log.debug(`connection error: ${error.message}`);
      return void this.finish();
    }
    this.codec.receive(END_OF_STREAM);
    this.pump();
  }

  /** Decodes and handles events until more bytes are needed or something must finish first. */
  private pump(): void {
    // While an option or a serialized request runs, nothing is decoded: stop the runtime
    // reading too, or a client could make the codec hold bytes without bound.
    if (this.busy && !this.finished) return this.pause();
    while (!this.busy && !this.finished) {
      if (this.watch.tooMuchInFlight(this.inFlight, this.bytesInFlight)) return this.pause();
      if (this.output.backlogged) this.output.flush();
      if (this.output.full) return this.pause();
      let event;
      try {
        event = this.codec.next();
      } catch (error) {
        return this.fail(error);
      }
      switch (event.kind) {
        case "need-data":
          return this.resume();
        case "closed":
          this.log.debug("client closed input socket, closing connection");
          return void this.finish();
        case "client-flags": {
          const flags = `0x${event.flags.toString(16)}`;
          this.log.debug(`newstyle negotiation: client flags: ${flags}`);
          if (!this.options.begin(event.flags)) {
            return this.fail(new ProtocolError(`client requested unexpected flags ${flags}`));
          }
          break;
        }
        case "option":
          this.busy = true;
          this.pause(); // options are answered one at a time: read nothing more meanwhile
          void this.option(event.option, event.data);
          return;
        case "request":
          this.request(event.request);
          break;
      }
    }
  }

  private pause(): void {
    if (!this.paused) {
      this.paused = true;
      this.channel.pause();
    }
  }

  private resume(): void {
    if (this.paused) {
      this.paused = false;
      this.channel.resume();
    }
  }

  /** Runs one option (option-phase.ts); reading stays paused until it is done. */
  private option(option: number, data: Uint8Array): Promise<void> {
    return this.proceed(this.options.run(option, data));
  }

  /** Goes on as an option (or the oldstyle handshake) says, once it is done. */
  private async proceed(step: Promise<AfterOption>): Promise<void> {
    let next;
    try {
      next = await step;
    } catch (error) {
      // negotiate() answers every failure it expects; anything else (a failed TLS handshake
      // too) ends this connection only.
      return this.fail(error);
    }
    if (next === "close") return this.finish();
    if (next === "closed") return;
    if (next !== "options") this.transmission = next;
    this.busy = false;
    this.pump();
  }

  private request(req: Request): void {
    if (req.type === CMD.DISC) {
      this.log.debug("client sent NBD_CMD_DISC, closing connection");
      void this.finish();
      return;
    }
    const transmission = this.transmission!;
    let error = validateRequest(req, transmission.validation);
    if (error === NBD_ERR.SUCCESS && req.payloadDropped) error = NBD_ERR.ENOMEM;
    if (error === NBD_ERR.ENOMEM) this.watch.payloadRefused(req);
    if (error !== NBD_ERR.SUCCESS) return transmission.replyError(req, error, "invalid request");

    // Validated: a READ or WRITE is at most the maximum payload, so its length is a number.
    // A BLOCK_STATUS counts as the most its extents may hold (BLOCK_STATUS_BYTES_PER_EXTENT).
    const bytes = req.type === CMD.READ || req.type === CMD.WRITE
      ? req.length as number
      : req.type === CMD.BLOCK_STATUS
      ? transmission.blockStatusHold
      : 0;
    this.inFlight++;
    this.bytesInFlight += bytes;
    if (this.serial) {
      this.busy = true;
      this.pause();
      this.serial.run(() => transmission.execute(req)).then(() => {
        this.busy = false;
        this.settle(bytes);
        this.pump();
      });
      return;
    }
    const running = transmission.execute(req);
    // A synchronous answer is settled here, and pump's loop goes on to the next request.
    if (!running) return this.settle(bytes);
    running.then(() => {
      this.settle(bytes);
      this.pump();
    });
  }

  /** A request's reply is queued: it no longer counts against the in-flight limits. */
  private settle(bytes: number): void {
    this.inFlight--;
    this.bytesInFlight -= bytes;
    if (this.inFlight === 0) this.idle?.();
  }

  private fail(error: unknown): void {
    if (error instanceof LimitError) this.watch.hit(error.hit);
    else this.log.error(messageOf(error));
    void this.finish();
  }

  /**
   * Ends the connection: stop reading, let running requests finish and send their replies
   * (NBD_CMD_DISC promises that), then close the socket and the plugin handle.
   */
  private async finish(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.watch.stopDeadline();
    this.busy = true;
    this.pause(); // nothing more is read: a client still sending cannot make us buffer it
    this.pool.release(); // a request may hang for ever: keep no idle buffers meanwhile
    if (this.inFlight > 0) await new Promise<void>((resolve) => (this.idle = resolve));
    try {
      await this.output.drained();
    } catch {
      // The peer is gone: nothing left to tell it.
    }
    // As nbdkit: the filters' finalize, then the socket, then the handles.
    await this.ctx.finalizeBackend(this.transmission?.backend, this.log);
    this.channel.close();
    await this.ctx.closeBackend(this.transmission?.backend, this.log);
    this.log.debug("connection closed");
    this.resolveDone();
  }
}
