/**
 * A token bucket, the rate filter's (nbdkit's filters/rate/bucket.c): tokens (bits) flow in at
 * `rate` per second up to a capacity of `rate` × `capacitySeconds`, and a request takes as many
 * as it moves. Starts full, so a burst up to the capacity passes at once. Pure arithmetic on
 * the times it is given: it never sleeps or reads a clock itself.
 */

export class Bucket {
  /** Bits per second; 0 means no limit. */
  rate: number;
  private readonly capacitySeconds: number;
  private capacity: number;
  private level: number;
  /** When tokens were last added, in microseconds. */
  private last: number;

  constructor(rate: number, capacitySeconds: number, nowUsecs: number) {
    this.rate = rate;
    this.capacitySeconds = capacitySeconds;
    this.capacity = Math.trunc(rate * capacitySeconds);
    this.level = this.capacity;
    this.last = nowUsecs;
  }

  /** A new rate (from a rate file); the capacity follows it. Returns the old rate. */
  adjust(rate: number): number {
    const old = this.rate;
    this.rate = rate;
    this.capacity = Math.trunc(rate * this.capacitySeconds);
    if (this.level > this.capacity) this.level = this.capacity;
    return old;
  }

  /**
   * Takes up to `bits` tokens at time `nowUsecs`: returns 0 when all were there, else the bits
   * still owed; `wait` then holds the microseconds until that many have flowed in.
   */
  take(bits: number, nowUsecs: number, wait: { usecs: number }): number {
    if (this.rate === 0) return 0;
    const elapsed = Math.max(0, nowUsecs - this.last);
    const added = Math.min(Math.trunc((this.rate * elapsed) / 1e6), this.capacity - this.level);
    this.level += added;
    this.last = nowUsecs;
    if (this.level >= bits) {
      this.level -= bits;
      return 0;
    }
    const owed = bits - this.level;
    this.level = 0;
    wait.usecs = Math.trunc((owed * 1e6) / this.rate);
    return owed;
  }
}
