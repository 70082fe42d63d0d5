/**
 * The stats filter's live counters (statslisten=), kept as requests end: per kind of request
 * the requests that succeeded, those that failed, their bytes, and a histogram of how long the
 * successful ones took below the filter; and the connections opened and still open. Counting
 * costs no allocation: every number lives in a typed array made at start-up. This file only
 * counts; stats-exposition.ts writes the numbers out.
 */

/**
 * The latency histogram's upper bounds in seconds, 10 µs to 10 s, each with its `le` label as
 * Prometheus's Go client writes it (OpenMetrics wants "1.0", not "1", for whole numbers).
 */
export const LATENCY_BUCKETS: readonly (readonly [seconds: number, label: string])[] = [
  [0.00001, "1e-05"],
  [0.000025, "2.5e-05"],
  [0.00005, "5e-05"],
  [0.0001, "0.0001"],
  [0.00025, "0.00025"],
  [0.0005, "0.0005"],
  [0.001, "0.001"],
  [0.0025, "0.0025"],
  [0.005, "0.005"],
  [0.01, "0.01"],
  [0.025, "0.025"],
  [0.05, "0.05"],
  [0.1, "0.1"],
  [0.25, "0.25"],
  [0.5, "0.5"],
  [1, "1.0"],
  [2.5, "2.5"],
  [5, "5.0"],
  [10, "10.0"],
];

/** Slots per kind: one per bound, and one past the last (only counted in +Inf). */
const SLOTS = LATENCY_BUCKETS.length + 1;

export class LiveStats {
  /** The kinds of request, in order: the `op` label of every sample. */
  readonly kinds: readonly string[];
  readonly requests: Float64Array;
  readonly errors: Float64Array;
  readonly bytes: Float64Array;
  /** Seconds spent in the successful requests, summed. */
  readonly seconds: Float64Array;
  /** Per kind, SLOTS counts: requests that took at most that bound and more than the one before. */
  readonly slots: Float64Array;
  connectionsOpened = 0;
  connectionsActive = 0;

  constructor(kinds: readonly string[]) {
    this.kinds = kinds;
    this.requests = new Float64Array(kinds.length);
    this.errors = new Float64Array(kinds.length);
    this.bytes = new Float64Array(kinds.length);
    this.seconds = new Float64Array(kinds.length);
    this.slots = new Float64Array(kinds.length * SLOTS);
  }

  /** A request of `kind` succeeded, moving `bytes` in `seconds`. */
  succeeded(kind: number, bytes: number, seconds: number): void {
    this.requests[kind]++;
    this.bytes[kind] += bytes;
    this.seconds[kind] += seconds;
    let slot = 0;
    while (slot < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[slot][0]) slot++;
    this.slots[kind * SLOTS + slot]++;
  }

  /** A request of `kind` failed. */
  failed(kind: number): void {
    this.errors[kind]++;
  }

  /** `kind`'s histogram as Prometheus counts it: per bound, the requests within it, +Inf last. */
  cumulative(kind: number): number[] {
    const counts: number[] = [];
    let count = 0;
    for (let slot = 0; slot < SLOTS; slot++) counts.push(count += this.slots[kind * SLOTS + slot]);
    return counts;
  }
}
