/**
 * Writes an evaluated layout into the plugin's allocator, clipped to the disk size. Only
 * non-zero data is written: an all-zero 4 KiB piece (the sparse allocator's page) is skipped,
 * so a pattern made from a sparse group does not fill the disk with zero pages. The total is
 * checked against LIMITS.storedBytes before the first byte is written.
 *
 * Extents must then be nbdkit's, which stored the data step by step: its sparse allocator holds
 * each 32 KiB page a top-level write touched, even with zeroes (extents: ZERO, not a hole), and
 * looks at the whole of the disk's last page, bytes past the end included. So the top-level
 * steps are replayed first (a write as zeroes, which leaves exactly those pages), and with
 * allocator=sparse the data is kept to the end of that last page.
 */

import type { Allocator } from "../../allocators/allocator.ts";
import { toOffset } from "../../api/parse.ts";
import { ConfigError } from "../../api/errors.ts";
import { isAllZero } from "../../api/zero.ts";
import { NBDKIT_PAGE_SIZE } from "../../allocators/zero-pages.ts";
import type { Layout, Run, Step } from "./layout.ts";
import { LIMITS } from "./limits.ts";

/** Bytes written per call; a pattern shorter than this is laid out in a block this long. */
const BLOCK = 1 << 16;
/** The sparse allocator's page size: zero pieces this long, so aligned, are not written. */
const PIECE = 4096;
const BIG_PAGE = BigInt(NBDKIT_PAGE_SIZE);
/** Bytes zeroed per call when replaying a step. */
const ZERO_CHUNK = 2 ** 40;
const ZEROES = new Uint8Array(BLOCK);

export function storeLayout(layout: Layout, store: Allocator, size: bigint): void {
  const kept = store.kind === "sparse" ? (size + BIG_PAGE - 1n) / BIG_PAGE * BIG_PAGE : size;
  replaySteps(layout.steps ?? [], store, kept);
  const clipped: Run[] = [];
  let total = 0n;
  for (const run of layout.runs) {
    if (run.at >= kept) break;
    const end = run.at + run.length;
    const length = end > kept ? kept - run.at : run.length;
    total += length;
    if (total > BigInt(LIMITS.storedBytes)) {
      throw new ConfigError(
        `data parameter: more than ${LIMITS.storedBytes} bytes of data to store` +
          (size > BigInt(LIMITS.storedBytes) ? "; size= can truncate the disk" : ""),
      );
    }
    clipped.push({ ...run, length });
  }
  const zeroPatterns = new WeakMap<Uint8Array, boolean>();
  for (const run of clipped) {
    let zero = zeroPatterns.get(run.pattern);
    if (zero === undefined) zeroPatterns.set(run.pattern, zero = isAllZero(run.pattern));
    if (!zero) writeRun(store, run);
  }
}

/**
 * Leaves allocated, with zeroes, the pages nbdkit's last step on them allocated: writes as
 * zeroes, zeroes as zero(). Before the first write nothing is allocated, so nothing to free.
 */
function replaySteps(steps: readonly Step[], store: Allocator, kept: bigint): void {
  const first = steps.findIndex((step) => step.write);
  if (first < 0) return;
  for (const step of steps.slice(first)) {
    if (step.at >= kept) continue;
    const end = step.at + step.length < kept ? step.at + step.length : kept;
    const chunk = BigInt(step.write ? BLOCK : ZERO_CHUNK);
    for (let at = step.at; at < end; at += chunk) {
      const n = Number(end - at < chunk ? end - at : chunk);
      if (step.write) store.write(ZEROES.subarray(0, n), toOffset(at));
      else store.zero(n, toOffset(at));
    }
  }
}

/** Writes one run (at most LIMITS.storedBytes long) block by block. */
function writeRun(store: Allocator, run: Run): void {
  const { pattern } = run;
  const length = Number(run.length);
  if (pattern.length >= BLOCK || pattern.length === length) {
    // The pattern itself, piece by piece from the phase, wrapping round.
    for (let done = 0, from = run.phase; done < length;) {
      const n = Math.min(pattern.length - from, length - done, BLOCK);
      writeNonZero(store, pattern.subarray(from, from + n), run.at + BigInt(done));
      done += n;
      from = (from + n) % pattern.length;
    }
    return;
  }
  // A short pattern: lay whole periods into one block, which then repeats unchanged.
  const periods = Math.max(1, Math.floor(BLOCK / pattern.length));
  const block = new Uint8Array(Math.min(periods * pattern.length, length));
  for (let at = 0, from = run.phase; at < block.length; from = 0) {
    const n = Math.min(pattern.length - from, block.length - at);
    block.set(pattern.subarray(from, from + n), at);
    at += n;
  }
  for (let done = 0; done < length; done += block.length) {
    const n = Math.min(block.length, length - done);
    writeNonZero(store, block.subarray(0, n), run.at + BigInt(done));
  }
}

/** Writes `bytes` at `at`, leaving out the page-aligned pieces that are all zero. */
function writeNonZero(store: Allocator, bytes: Uint8Array, at: bigint): void {
  let start = -1; // first byte of the pending non-zero stretch
  let end = PIECE - Number(at % BigInt(PIECE)); // end of the first piece
  for (let from = 0; from < bytes.length; from = end, end += PIECE) {
    const zero = isAllZero(bytes.subarray(from, Math.min(end, bytes.length)));
    if (!zero && start < 0) start = from;
    if (zero && start >= 0) {
      store.write(bytes.subarray(start, from), toOffset(at + BigInt(start)));
      start = -1;
    }
  }
  if (start >= 0) store.write(bytes.subarray(start), toOffset(at + BigInt(start)));
}
