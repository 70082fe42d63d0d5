/**
 * A Channel over a byte stream read with `read(buf)` and written with `write(bytes)`, which may
 * write only part (Deno's connections, stdin and stdout): an ordered write queue with
 * backpressure, and a read loop that pause() holds. It knows nothing of NBD or of any runtime.
 */

import { asError } from "../api/errors.ts";
import type { Accept, Channel, PeerAddress, Receiver } from "../io.ts";
import { gather, STAGING_SIZE } from "./gather.ts";

/** Deno's reader shape: fills `bytes`, resolving to the count, or null at end of stream. */
export interface ByteSource {
  read(bytes: Uint8Array): Promise<number | null>;
}

/** Deno's writer shape: writes some of `bytes` (maybe not all), resolving to the count. */
export interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

/**
 * Bytes are read into one buffer per connection, reused for every read: the contract lets the
 * runtime reuse a chunk once data() has returned (the codec copies what it has not decoded).
 * Large enough that a 1 MiB write arrives in a few reads, each an op and a callback.
 */
const READ_SIZE = 256 * 1024;

/** Bytes queued for writing before write() reports backpressure (Node's socket buffer is 16 KiB). */
const HIGH_WATER = 64 * 1024;

/** One connection: a read loop feeding its receiver, and a write queue drained in order. */
export class StreamChannel implements Channel {
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  /** Settles once the stream is closed (after close() has flushed, or on failure). */
  readonly closed: Promise<void>;
  private readonly source: ByteSource;
  private readonly sink: ByteSink;
  private readonly shut: () => void;
  private receiver: Receiver | undefined;

  /** Segments still to write, from `head` on; `queued` counts their bytes. */
  private queue: Uint8Array[] = [];
  private head = 0;
  private queued = 0;
  /** Where small replies are joined (gather.ts); made on first use. */
  private staging: Uint8Array | undefined;
  private writing = false;
  private space: Promise<void> | undefined;
  private releaseSpace: (() => void) | undefined;
  /** Told when the queue has emptied: every part queued so far is with the kernel. */
  private written: (() => void)[] = [];

  private paused = false;
  private wake: (() => void) | undefined;
  private closing = false;
  private isClosed = false;
  private ended = false;
  private markClosed!: () => void;

  constructor(
    source: ByteSource,
    sink: ByteSink,
    shut: () => void,
    peer: string,
    address?: PeerAddress,
  ) {
    this.source = source;
    this.sink = sink;
    this.shut = shut;
    this.peer = peer;
    this.address = address;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Hands the channel to the server, then reads until the end of the stream. */
  start(accept: Accept): void {
    this.receiver = accept(this);
    void this.readLoop();
  }

  /** Every batch's `written` runs once the queue empties, or the write fails, or at once here. */
  readonly confirmsWrites = true;

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    if (this.closing) {
      written?.(); // dropped: nothing will read these parts
      return undefined;
    }
    // No write loop running: all that was staged is written, so the staging buffer is free.
    const staging = this.writing ? undefined : (this.staging ??= new Uint8Array(STAGING_SIZE));
    this.queued += gather(parts, this.queue, staging);
    if (written) this.written.push(written);
    if (!this.writing) void this.writeLoop();
    if (this.queued <= HIGH_WATER) return undefined;
    this.space ??= new Promise((resolve) => (this.releaseSpace = resolve));
    return this.space;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.writing) this.finishClose();
  }

  private async readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!this.isClosed) {
        await this.unpaused();
        if (this.isClosed) break;
        // The rest of a large write payload, when one is coming: the bytes land in place.
        const target = this.receiver!.readBuffer?.() ?? buffer;
        const n = await this.source.read(target);
        if (n === null) break;
        if (n === 0) continue;
        await this.unpaused(); // a read already under way when pause() came is held back
        if (this.ended) return;
        this.receiver!.data(target.subarray(0, n));
      }
      this.end();
    } catch (error) {
      // Our own close() interrupts a pending read: that is an ordinary end.
      this.end(this.isClosed ? undefined : asError(error));
    }
  }

  private async unpaused(): Promise<void> {
    while (this.paused && !this.isClosed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.head < this.queue.length) {
        const segment = this.queue[this.head];
        const n = await this.sink.write(segment); // may write only part: loop on the rest
        this.queued -= n;
        if (n < segment.length) {
          this.queue[this.head] = segment.subarray(n);
        } else {
          this.queue[this.head++] = EMPTY;
          if (this.head >= 1024) this.compact();
        }
        if (this.queued <= HIGH_WATER) this.release();
      }
    } catch (error) {
      this.fail(asError(error));
    }
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.writing = false;
    this.release();
    const written = this.written;
    this.written = [];
    for (const done of written) done();
    if (this.closing) this.finishClose();
  }

  /** Drops the written entries at the front, so a queue that never empties stays small. */
  private compact(): void {
    this.queue.splice(0, this.head);
    this.head = 0;
  }

  private release(): void {
    const release = this.releaseSpace;
    this.space = undefined;
    this.releaseSpace = undefined;
    release?.();
  }

  /** A write failed: the peer is gone, so nothing queued can be sent. */
  private fail(error: Error): void {
    this.closing = true;
    this.end(error);
    this.finishClose();
  }

  private finishClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.shut();
    } catch {
      // Already closed by the other side: nothing to release.
    }
    this.wake?.();
    this.markClosed();
  }

  private end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.receiver?.end(error);
  }
}

const EMPTY = new Uint8Array(0);
