/**
 * The reply queue of one connection: replies pushed during a turn leave together in one write
 * (one syscall for many small replies), and the queue reports when the runtime is full so the
 * session stops reading until it drains. Each reply is pushed whole, so replies never interleave.
 * Small replies are encoded straight into an arena (reserve), so they cost no allocation and
 * neighbours leave as one part. Pooled buffers go back to their pool, and lent bytes to their
 * lender, once the runtime says it has written them; lent bytes dropped unwritten go back at once.
 */

import type { BufferPool } from "./buffer-pool.ts";
import type { Channel } from "../io.ts";

/** Replies queued in one turn past which they are written at once (see backlogged). */
const FLUSH_EARLY_AT = 1024 * 1024;
/** Room for small replies: 4096 simple replies to a buffer. */
const ARENA_SIZE = 64 * 1024;

/** Bytes lent to a reply (a plugin's ReadViews): given back once, when no longer needed. */
export interface Loan {
  release(): void;
}

export class Output {
  private queue: Uint8Array[] = [];
  /** Bytes in `queue`, not yet handed to the runtime. */
  private queuedBytes = 0;
  /** Pooled buffers in `queue`, returned to `pool` when their write is done. */
  private recyclable: Uint8Array[] = [];
  /** Loans behind parts in `queue`, released when their write is done. */
  private loans: Loan[] = [];
  private readonly pool: BufferPool | undefined;
  /**
   * Small replies are encoded straight into this buffer (see reserve): no allocation each, and
   * neighbours leave as one part. Never rewritten: a full one is left to the runtime and dropped.
   */
  private arenaBytes = new Uint8Array(ARENA_SIZE);
  private arenaUsed = 0;
  /** Start of the arena's replies not yet in `queue`. */
  private arenaOpen = 0;
  private scheduled = false;
  /** Writes the runtime has not yet taken, and a promise that settles after the latest. */
  private pending = 0;
  private draining: Promise<void> | undefined;
  private closed = false;
  private readonly channel: Channel;
  private readonly onDrain: () => void;

  constructor(channel: Channel, onDrain: () => void, pool?: BufferPool) {
    this.channel = channel;
    this.onDrain = onDrain;
    this.pool = pool;
  }

  /** Queues one reply held in a buffer from the pool, which gets it back once written. */
  pushPooled(reply: Uint8Array): void {
    if (this.closed) return this.pool?.give(reply);
    this.recyclable.push(reply);
    this.push(reply);
  }

  /**
   * Whether a reply may carry lent bytes: only when the runtime says when it has written every
   * batch (Channel.confirmsWrites), or a loan could be given back while still being sent, or never.
   */
  get canLend(): boolean {
    return this.channel.confirmsWrites === true;
  }

  /**
   * Queues `parts` lent by `loan` (released once they are written) right after the small replies
   * reserved so far: the reply's header is the last of those.
   */
  pushLent(parts: readonly Uint8Array[], loan: Loan): void {
    if (this.closed) return loan.release();
    this.loans.push(loan);
    this.push(...parts);
  }

  /** Queues byte arrays that form one reply (or several whole replies). */
  push(...parts: Uint8Array[]): void {
    if (this.closed) return;
    this.seal(); // replies leave in the order they were queued
    for (const part of parts) {
      this.queue.push(part);
      this.queuedBytes += part.length;
    }
    this.schedule();
  }

  /**
   * Queues a small reply of `size` bytes that the caller encodes at once into `arena` at the
   * offset answered (`arena` may be a new buffer after the call).
   */
  reserve(size: number): number {
    if (this.arenaUsed + size > this.arenaBytes.length) {
      this.seal();
      this.arenaBytes = new Uint8Array(ARENA_SIZE);
      this.arenaUsed = this.arenaOpen = 0;
    }
    const at = this.arenaUsed;
    this.arenaUsed += size;
    this.queuedBytes += size;
    this.schedule();
    return at;
  }

  /** Where reserve() made room. */
  get arena(): Uint8Array {
    return this.arenaBytes;
  }

  /** Moves the arena's replies not yet queued into the queue, as one part. */
  private seal(): void {
    if (this.arenaOpen === this.arenaUsed) return;
    this.queue.push(this.arenaBytes.subarray(this.arenaOpen, this.arenaUsed));
    this.arenaOpen = this.arenaUsed;
  }

  private schedule(): void {
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(this.flush);
    }
  }

  /** True while the runtime holds more than it wants: the session should stop reading. */
  get full(): boolean {
    return this.pending > 0;
  }

  /**
   * True once a turn has queued enough to write now rather than at the end of the turn: a
   * synchronous plugin answers a whole chunk of requests in one turn, and their replies must
   * reach the runtime (and its backpressure) before more are made.
   */
  get backlogged(): boolean {
    return this.queuedBytes >= FLUSH_EARLY_AT;
  }

  /** Writes everything queued now, for example before closing. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.closed) return;
    this.seal();
    if (this.queue.length === 0) return;
    const parts = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    const wait = this.channel.write(parts, this.afterWrite());
    if (!wait) return;
    // Every write still waiting counts: reading resumes only when the last has drained.
    this.pending++;
    this.draining = wait.catch(() => {}).then(() => {
      if (--this.pending > 0) return;
      this.draining = undefined;
      this.onDrain();
    });
  };

  /** What to do once the batch about to be written is: give back its buffers and loans. */
  private afterWrite(): (() => void) | undefined {
    const pool = this.pool;
    const buffers = this.recyclable;
    const loans = this.loans;
    const recycles = buffers.length > 0 && pool !== undefined;
    if (!recycles && loans.length === 0) return undefined;
    if (buffers.length > 0) this.recyclable = [];
    if (loans.length > 0) this.loans = [];
    return () => {
      if (recycles) { for (const buffer of buffers) pool.give(buffer); }
      releaseAll(loans);
    };
  }

  /** Settles when everything written so far has been handed to the runtime. */
  async drained(): Promise<void> {
    this.flush();
    while (this.draining) await this.draining;
  }

  /** Drops whatever is still queued: the connection is going away. */
  discard(): void {
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    releaseAll(this.loans);
    this.loans = [];
  }
}

/** Releases each loan; one that throws (a plugin bug) keeps neither the others nor the runtime. */
function releaseAll(loans: readonly Loan[]): void {
  for (const loan of loans) {
    try {
      loan.release();
    } catch {
      // Nothing to tell: the reply went out, and the plugin's release() is documented not to throw.
    }
  }
}
