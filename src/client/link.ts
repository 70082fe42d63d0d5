/**
 * One client connection's byte stream: received bytes go through the reply codec, and each
 * event goes to the handshake while it runs (a queue it awaits) or, in transmission, to the
 * requests in flight. It sends what it is given, in order. No NBD decisions are made here.
 */

import { asError, ProtocolError } from "../api/errors.ts";
import type { Channel, ClientTlsCredentials, Receiver } from "../io.ts";
import { ReplyCodec, type ReplyEvent } from "../protocol/reply-codec.ts";
import { ConnectionClosedError } from "./errors.ts";
import { InFlight } from "./replies.ts";

/** The largest option reply or non-data chunk accepted (BLOCK_STATUS replies can be long). */
const MAX_CHUNK = 64 * 1024 * 1024;

/** Read data still to come worth reading in place rather than through the runtime's buffer. */
const READ_INTO_MIN = 64 * 1024;

export class Link implements Receiver {
  readonly inFlight: InFlight = new InFlight();
  private readonly codec = new ReplyCodec(this.inFlight, MAX_CHUNK);
  private channel: Channel | undefined;
  /** Handshake events not yet taken, and the taker waiting for the next one. */
  private readonly queue: ReplyEvent[] = [];
  private waiter: ((event: ReplyEvent | Error) => void) | undefined;
  private transmitting = false;
  /** Why the link is gone, once it is. */
  private failure: Error | undefined;
  private markClosed!: () => void;
  /** Settles once the connection is gone (closed by either side, or broken). */
  readonly closed: Promise<void> = new Promise((resolve) => (this.markClosed = resolve));
  /** Set while the channel asks writers to wait (backpressure). */
  private space: Promise<void> | undefined;

  /** Attaches the channel once the transport has connected. */
  attach(channel: Channel): void {
    this.channel = channel;
  }

  get codecForPhase(): ReplyCodec {
    return this.codec;
  }

  /** Sends parts in order; resolves when the channel can take more. */
  async send(parts: Uint8Array[]): Promise<void> {
    if (this.failure) throw this.failure;
    while (this.space) await this.space;
    const wait = this.channel!.write(parts);
    if (wait) {
      this.space = wait.then(() => (this.space = undefined));
    }
  }

  /** The next handshake event (greeting, option reply, export reply). */
  nextEvent(): Promise<ReplyEvent> {
    const event = this.queue.shift();
    if (event) return Promise.resolve(event);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = (next) => (next instanceof Error ? reject(next) : resolve(next));
    });
  }

  /** From now on replies go to the requests in flight, as extended chunks when `extended`. */
  startTransmission(extended = false): void {
    this.codec.setPhase("transmission", false, extended);
    this.transmitting = true;
  }

  /** STARTTLS was agreed: the channel turns into TLS; no clear byte may be left unread. */
  async upgrade(credentials: ClientTlsCredentials): Promise<void> {
    if (this.codec.takeUnconsumed().length > 0) {
      throw new ConnectionClosedError("Cannot start TLS: the server sent bytes after its ACK");
    }
    if (!this.channel?.startTlsClient) {
      throw new ConnectionClosedError("Cannot start TLS: this connection cannot be upgraded");
    }
    await this.channel.startTlsClient(credentials);
  }

  get isClosed(): boolean {
    return this.failure !== undefined;
  }

  /** Where the runtime may read the rest of a large READ reply: straight into its buffer. */
  readBuffer(): Uint8Array | undefined {
    return this.codec.payloadRemainder(READ_INTO_MIN);
  }

  data(chunk: Uint8Array): void {
    this.codec.receive(chunk);
    this.drain();
    this.codec.detach();
  }

  end(error?: Error): void {
    this.codec.receive(new Uint8Array(0));
    this.drain();
    this.fail(error ?? new ConnectionClosedError("The server closed the connection"));
  }

  /** Closes the connection; requests still in flight fail. */
  close(): void {
    this.channel?.close();
    this.fail(new ConnectionClosedError());
  }

  private drain(): void {
    if (this.failure) return;
    try {
      for (;;) {
        const event = this.codec.next();
        if (event.kind === "need-data") return;
        if (event.kind === "closed") {
          return this.fail(new ConnectionClosedError("The server closed the connection"));
        }
        if (this.transmitting && (event.kind === "simple" || event.kind === "chunk")) {
          this.inFlight.apply(event);
        } else if (this.transmitting) {
          throw new ProtocolError(`the server sent a ${event.kind} message in transmission`);
        } else this.deliver(event);
      }
    } catch (error) {
      this.fail(asError(error));
      this.channel?.close();
    }
  }

  private deliver(event: ReplyEvent): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter(event);
    else this.queue.push(event);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error instanceof ProtocolError
      ? new ConnectionClosedError(`The connection to the server broke: ${error.message}`)
      : error;
    this.inFlight.failAll(this.failure);
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.(this.failure);
    this.markClosed();
  }
}
