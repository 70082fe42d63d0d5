/**
 * Builds the layout of one scope (a list of expressions) in nbdkit's order: a current offset
 * that writes advance and @ moves, later writes replacing earlier bytes, and a size that is the
 * furthest offset reached. Writing a nested layout replaces its whole extent, gaps included,
 * as nbdkit's blit does: `1 2 3 @0 (@2)` leaves only the 3.
 */

import { ConfigError } from "../../api/errors.ts";
import { firstRunAfter, type Layout, type Run, runEnd, type Step, trimRun } from "./layout.ts";
import { type Budget, checkOffset, LIMITS } from "./limits.ts";

/** One shared single-byte pattern per value, for fills. */
const FILL_PATTERNS = Array.from({ length: 256 }, (_, value) => Uint8Array.of(value));

export class LayoutBuilder {
  readonly #budget: Budget;
  #runs: Run[] = [];
  readonly #steps: Step[] = [];
  #offset = 0n;
  #size = 0n;

  constructor(budget: Budget) {
    this.#budget = budget;
  }

  get offset(): bigint {
    return this.#offset;
  }

  /** Writes `bytes` (never changed afterwards) at the offset and moves past them. */
  writeBytes(bytes: Uint8Array): void {
    const length = BigInt(bytes.length);
    const at = this.#offset;
    this.#replace(at, at + length, [{ at, length, pattern: bytes, phase: 0 }]);
    this.#step(true, at, length);
    this.#moveTo(at + length);
  }

  /** Writes `value` `count` times; zeroes are stored as a gap. */
  writeFill(value: number, count: bigint): void {
    const at = this.#offset;
    const runs = value === 0 || count === 0n
      ? []
      : [{ at, length: count, pattern: FILL_PATTERNS[value], phase: 0 }];
    this.#replace(at, at + count, runs);
    if (value === 0) this.#step(false, at, count);
    this.#moveTo(at + count);
  }

  /** Writes a whole layout over [offset, offset + size) and moves past it. */
  writeLayout(layout: Layout): void {
    const at = this.#offset;
    const runs = layout.runs.map((run) => ({
      at: run.at + at,
      length: run.length,
      pattern: run.pattern,
      phase: run.phase,
    }));
    this.#replace(at, at + layout.size, runs);
    this.#step(false, at, layout.size);
    this.#moveTo(at + layout.size);
  }

  /** @OFFSET */
  moveTo(offset: bigint): void {
    this.#moveTo(offset);
  }

  /** @+N and @-N; nbdkit refuses to move before 0. */
  moveBy(delta: bigint): void {
    if (delta < 0n && -delta > this.#offset) {
      throw new ConfigError(
        `data parameter @${delta} must not be larger than the current offset ${this.#offset}`,
      );
    }
    this.#moveTo(this.#offset + delta);
  }

  /** @^ALIGNMENT (a power of two): up to the next multiple, unless already on one. */
  alignTo(alignment: bigint): void {
    this.#moveTo((this.#offset + alignment - 1n) & ~(alignment - 1n));
  }

  finish(): Layout {
    return { size: this.#size, runs: this.#runs, steps: this.#steps };
  }

  #step(write: boolean, at: bigint, length: bigint): void {
    if (length > 0n) this.#steps.push({ write, at, length });
  }

  #moveTo(offset: bigint): void {
    this.#offset = checkOffset(offset);
    if (offset > this.#size) this.#size = offset;
  }

  /** Replaces whatever lies in [from, to) with `incoming` (sorted, inside that range). */
  #replace(from: bigint, to: bigint, incoming: Run[]): void {
    if (from === to) return;
    checkOffset(to);
    const runs = this.#runs;
    this.#budget.spendRuns(incoming.length);
    const last = runs.at(-1);
    if (last === undefined || runEnd(last) <= from) {
      for (const run of incoming) runs.push(run);
    } else {
      const lo = firstRunAfter(runs, from);
      let hi = lo;
      while (hi < runs.length && runs[hi].at < to) hi++;
      this.#budget.spendRuns(hi - lo);
      const replacement: Run[] = [];
      if (lo < hi && runs[lo].at < from) replacement.push(trimRun(runs[lo], runs[lo].at, from));
      for (const run of incoming) replacement.push(run);
      if (lo < hi && runEnd(runs[hi - 1]) > to) {
        replacement.push(trimRun(runs[hi - 1], to, runEnd(runs[hi - 1])));
      }
      if (hi === runs.length) {
        runs.length = lo;
        for (const run of replacement) runs.push(run);
      } else {
        this.#budget.spendRuns(runs.length - hi);
        this.#runs = runs.slice(0, lo).concat(replacement, runs.slice(hi));
      }
    }
    if (this.#runs.length > LIMITS.runs) {
      throw new ConfigError(`data parameter: more than ${LIMITS.runs} pieces of data`);
    }
  }
}
