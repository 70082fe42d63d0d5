/**
 * A Channel over a socket whose write() takes at once what the kernel accepts (Bun's): bytes it
 * did not take wait, in order, until the socket drains. It knows nothing of NBD or of any runtime.
 */

import type { Channel, PeerAddress, Receiver } from "../io.ts";
import { gather, STAGING_SIZE } from "./gather.ts";
import type { GcNudge } from "./gc-nudge.ts";

/** The socket's side of the bargain; its owner calls flush() on drain and lost() on close. */
export interface NonBlockingSocket {
  /** Unbuffered: returns the bytes the kernel took (maybe fewer), or -1 once closed. */
  write(bytes: Uint8Array): number;
  /** Sends FIN; the socket then closes without waiting for the peer (as Bun's does). */
  end(): void;
  pause(): void;
  resume(): void;
}

/**
 * One connection. Bytes the kernel did not take wait, as views, in `queue` until the socket
 * drains; while anything waits, write() returns a promise that settles when the queue empties.
 */
export class SocketChannel implements Channel {
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  readonly closed: Promise<void>;
  receiver: Receiver | undefined;
  private readonly socket: NonBlockingSocket;
  /** Counts the bytes written, for the runtime's collector (gc-nudge.ts). */
  private readonly gcNudge: GcNudge;
  private queue: Uint8Array[] = [];
  private head = 0;
  /** Where small replies are joined (gather.ts); made on first use. */
  private staging: Uint8Array | undefined;
  private space: Promise<void> | undefined;
  private releaseSpace: (() => void) | undefined;
  /** Told when the queue has emptied: every part queued so far is with the kernel. */
  private written: (() => void)[] = [];
  private closing = false;
  private shutDown = false;
  private gone = false;
  private ended = false;
  private markClosed!: () => void;

  constructor(
    socket: NonBlockingSocket,
    peer: string,
    address: PeerAddress | undefined,
    gcNudge: GcNudge,
  ) {
    this.socket = socket;
    this.gcNudge = gcNudge;
    this.peer = peer;
    this.address = address;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Every batch's `written` runs once the queue empties, or the socket is lost, or at once here. */
  readonly confirmsWrites = true;

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    if (this.closing || this.gone) {
      written?.(); // dropped: nothing will read these parts
      return undefined;
    }
    const waiting = this.head < this.queue.length;
    // Nothing queued: the kernel has taken all that was staged, so the staging buffer is free.
    const staging = waiting ? undefined : (this.staging ??= new Uint8Array(STAGING_SIZE));
    this.gcNudge.moved(gather(parts, this.queue, staging));
    if (written) this.written.push(written);
    if (!waiting) this.flush(); // otherwise drain will come, and order must be kept
    if (this.head === this.queue.length) return undefined;
    this.space ??= new Promise((resolve) => (this.releaseSpace = resolve));
    return this.space;
  }

  pause(): void {
    if (!this.gone) this.socket.pause();
  }

  resume(): void {
    if (!this.gone) this.socket.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.head === this.queue.length) this.shut();
  }

  /** Writes queued segments until the kernel takes less than offered; the rest waits. */
  flush(): void {
    while (this.head < this.queue.length) {
      const segment = this.queue[this.head];
      const n = this.socket.write(segment);
      if (n < 0) return this.lost();
      if (n < segment.length) {
        this.queue[this.head] = segment.subarray(n);
        return;
      }
      this.queue[this.head++] = EMPTY;
    }
    this.queue = [];
    this.head = 0;
    this.release();
    if (this.closing) this.shut();
  }

  /** The socket closed (either side, or an error): nothing queued can be sent now. */
  lost(error?: Error): void {
    this.gone = true;
    this.queue = [];
    this.head = 0;
    this.release();
    this.end(error);
    this.markClosed();
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.receiver?.end(error);
  }

  private shut(): void {
    if (this.gone || this.shutDown) return;
    this.shutDown = true;
    this.socket.end(); // everything was handed to the kernel: FIN, then close
  }

  /** Called when the queue is empty (all written, or the socket is gone). */
  private release(): void {
    const release = this.releaseSpace;
    this.space = undefined;
    this.releaseSpace = undefined;
    release?.();
    const written = this.written;
    this.written = [];
    for (const done of written) done();
  }
}

const EMPTY = new Uint8Array(0);
