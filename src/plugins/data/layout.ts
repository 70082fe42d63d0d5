/**
 * A sparse byte layout: what an expression evaluates to, as a size and a sorted list of runs
 * of data, never a buffer of the whole. A run repeats a pattern, so `("ab")*2^60` is one run
 * and slicing or repeating a layout shifts runs instead of copying bytes. Layouts and their
 * patterns are immutable once made: names share them freely.
 *
 *   layout.size ───────────────────────────────────────────────────────────────▶
 *   │ run ─────────────┐     │ run ─┐                  (gaps read as zeroes)
 *   at     pattern[phase], pattern[phase+1] …, wrapping round the pattern
 */

import { ConfigError } from "../../api/errors.ts";
import { type Budget, checkOffset, LIMITS } from "./limits.ts";

/** `length` bytes at `at`: byte i is pattern[(phase + i) % pattern.length]. */
export interface Run {
  readonly at: bigint;
  readonly length: bigint;
  readonly pattern: Uint8Array;
  readonly phase: number;
}

/** Runs sorted by `at`, never overlapping, never empty, all inside [0, size). */
export interface Layout {
  readonly size: bigint;
  readonly runs: readonly Run[];
  /** What the scope did to nbdkit's allocator, in order (the top level's is stored: store.ts). */
  readonly steps?: readonly Step[];
}

/**
 * One step of a scope as nbdkit's evaluate takes it, for what its sparse allocator then holds
 * besides the bytes: a write (a byte, string, file or script) allocates every page it touches,
 * zeroes included; a zero (a fill of zeroes) and a copy (a group, repeat, slice or name, which
 * nbdkit blits in) free each page they leave all zero. A fill of another byte leaves data and
 * needs no step.
 */
export interface Step {
  readonly write: boolean;
  readonly at: bigint;
  readonly length: bigint;
}

/** More copies than this, of a group no longer than LIMITS.patternBytes, become one pattern. */
const COPIES_BEFORE_PATTERN = 4096n;

export function runEnd(run: Run): bigint {
  return run.at + run.length;
}

/** The part of `run` inside [from, to), moved by `shift`; both bounds inside the run. */
export function trimRun(run: Run, from: bigint, to: bigint, shift = 0n): Run {
  const skipped = from - run.at;
  const period = run.pattern.length;
  const phase = skipped === 0n
    ? run.phase
    : (run.phase + Number(skipped % BigInt(period))) % period;
  return { at: from + shift, length: to - from, pattern: run.pattern, phase };
}

/** The index of the first run ending after `offset` (runs.length when none does). */
export function firstRunAfter(runs: readonly Run[], offset: bigint): number {
  let lo = 0;
  let hi = runs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (runEnd(runs[mid]) > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bytes [start, end) of a layout as a layout of its own; 0 <= start <= end <= size. */
export function sliceLayout(layout: Layout, start: bigint, end: bigint, budget: Budget): Layout {
  const runs: Run[] = [];
  const { runs: source } = layout;
  for (let i = firstRunAfter(source, start); i < source.length && source[i].at < end; i++) {
    const run = source[i];
    const from = run.at > start ? run.at : start;
    const to = runEnd(run) < end ? runEnd(run) : end;
    runs.push(trimRun(run, from, to, -start));
  }
  budget.spendRuns(runs.length);
  return { size: end - start, runs };
}

/** A layout `count` times over, one copy after another. */
export function repeatLayout(layout: Layout, count: bigint, budget: Budget): Layout {
  const period = layout.size;
  const size = checkOffset(period * count);
  const { runs } = layout;
  if (runs.length === 0 || count === 0n) return { size, runs: [] };

  // One run filling the group with whole periods of its pattern simply goes on.
  const only = runs[0];
  if (
    runs.length === 1 && only.at === 0n && only.length === period &&
    period % BigInt(only.pattern.length) === 0n
  ) {
    return { size, runs: [{ at: 0n, length: size, pattern: only.pattern, phase: only.phase }] };
  }

  const copies = BigInt(runs.length) * count;
  if (copies > COPIES_BEFORE_PATTERN && period <= BigInt(LIMITS.patternBytes)) {
    const pattern = materialise(layout, budget);
    return { size, runs: [{ at: 0n, length: size, pattern, phase: 0 }] };
  }
  if (copies > BigInt(LIMITS.runs)) {
    throw new ConfigError(
      `data parameter: repeat makes ${copies} pieces of data, more than ${LIMITS.runs}`,
    );
  }
  budget.spendRuns(Number(copies));
  const out: Run[] = [];
  for (let base = 0n; base < size; base += period) {
    for (const run of runs) {
      out.push({ at: run.at + base, length: run.length, pattern: run.pattern, phase: run.phase });
    }
  }
  return { size, runs: out };
}

/** Every byte of a (small) layout, gaps as zeroes. */
export function materialise(layout: Layout, budget: Budget): Uint8Array {
  const size = Number(layout.size);
  budget.spendBytes(size);
  const bytes = new Uint8Array(size);
  for (const run of layout.runs) copyRun(run, bytes, Number(run.at), Number(run.length));
  return bytes;
}

/** Copies the first `count` bytes of `run` into `dest` at `destAt`. */
export function copyRun(run: Run, dest: Uint8Array, destAt: number, count: number): void {
  const { pattern } = run;
  let from = run.phase;
  for (let done = 0; done < count; from = 0) {
    const n = Math.min(pattern.length - from, count - done);
    dest.set(pattern.subarray(from, from + n), destAt + done);
    done += n;
  }
}
