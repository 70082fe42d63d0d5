/**
 * The reply queue of one connection: replies pushed during a turn leave together in one write
 * (one syscall for many small replies), and the queue reports when the runtime is full so the
 * session stops reading until it drains. Each reply is pushed whole, so replies never interleave.
 * Pooled buffers go back to their pool, and lent bytes to their lender, once the runtime says it
 * has written them; lent bytes dropped unwritten go back at once.
 */

import type { BufferPool } from "./buffer-pool.ts";
import type { Channel } from "./io.ts";

/** Bytes lent to a reply (a plugin's ReadViews): given back once, when no longer needed. */
export interface Loan {
  release(): void;
}

export class Output {
  private queue: Uint8Array[] = [];
  /** Pooled buffers in `queue`, returned to `pool` when their write is done. */
  private recyclable: Uint8Array[] = [];
  /** Loans behind parts in `queue`, released when their write is done. */
  private loans: Loan[] = [];
  private readonly pool: BufferPool | undefined;
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

  /** Queues one reply: `header`, then `parts` lent by `loan`, released once they are written. */
  pushLent(header: Uint8Array, parts: readonly Uint8Array[], loan: Loan): void {
    if (this.closed) return loan.release();
    this.loans.push(loan);
    this.queue.push(header);
    for (const part of parts) this.queue.push(part);
    this.schedule();
  }

  /** Queues byte arrays that form one reply (or several whole replies). */
  push(...parts: Uint8Array[]): void {
    if (this.closed) return;
    for (const part of parts) this.queue.push(part);
    this.schedule();
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

  /** Writes everything queued now, for example before closing. */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.queue.length === 0 || this.closed) return;
    const parts = this.queue;
    this.queue = [];
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
