/**
 * Timers that only move when a test says so, for the handshake deadline: `advance(ms)` fires
 * every timer that falls due, in order. Also counts what is pending, so a test can prove a
 * timer was cancelled.
 */

import type { Timers } from "../../src/io.ts";

interface Pending {
  due: number;
  fire: () => void;
}

export class ManualTimers implements Timers {
  now = 0;
  private readonly timers = new Set<Pending>();

  after(ms: number, fire: () => void): () => void {
    const timer = { due: this.now + ms, fire };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  /** Timers started and neither fired nor cancelled. */
  get pending(): number {
    return this.timers.size;
  }

  /** Moves time on by `ms`, firing each timer that falls due on the way. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      const next = [...this.timers].filter((t) => t.due <= until).sort((a, b) => a.due - b.due)[0];
      if (next === undefined) break;
      this.timers.delete(next);
      this.now = next.due;
      next.fire();
    }
    this.now = until;
  }
}
