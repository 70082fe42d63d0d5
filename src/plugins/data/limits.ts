/**
 * The bounds that keep a hostile data expression from hanging or exhausting the server: each
 * is checked where work is done, and crossing one is a ConfigError saying which. nbdkit has
 * none of these; it loops or runs out of memory instead (`(@0x4000000000000000)*2` spins).
 */

import { ConfigError } from "../../api/errors.ts";

export const LIMITS = {
  /** Nesting of ( … ), $VAR expansions and \NAME references, each a recursive call. */
  depth: 1000,
  /** Expression nodes parsed, counting every $VAR expansion anew. */
  nodes: 1 << 18,
  /** Runs (pieces of data at an offset) one layout may hold. */
  runs: 1 << 18,
  /** Runs created, copied or moved over the whole evaluation. */
  work: 1 << 24,
  /** A repeated group this short, when copies would be many, becomes one repeating pattern. */
  patternBytes: 1 << 16,
  /** Bytes copied while evaluating (files, scripts, patterns made from groups). */
  copiedBytes: 2 ** 32,
  /** Bytes of data stored in the disk once evaluated: what the allocator must hold. */
  storedBytes: 2 ** 32,
} as const;

/** Largest offset the evaluator tracks; nbdkit keeps offsets in a uint64_t. */
export const MAX_OFFSET = (1n << 64n) - 1n;

/** Largest disk NBD can describe, 2^63-1 bytes. */
export const MAX_DISK_SIZE = (1n << 63n) - 1n;

/** Work done so far by one evaluation, failing with a ConfigError past LIMITS. */
export class Budget {
  #work = 0;
  #copied = 0;

  /** Counts `runs` runs created or moved. */
  spendRuns(runs: number): void {
    this.#work += runs;
    if (this.#work > LIMITS.work) {
      throw new ConfigError(
        `data parameter: expression too complex: more than ${LIMITS.work} pieces of data to place`,
      );
    }
  }

  /** Counts `bytes` bytes copied. */
  spendBytes(bytes: number): void {
    this.#copied += bytes;
    if (this.#copied > LIMITS.copiedBytes) {
      throw new ConfigError(
        `data parameter: expression too large: more than ${LIMITS.copiedBytes} bytes to copy`,
      );
    }
  }
}

/** Fails when `offset` has left the range nbdkit can address. */
export function checkOffset(offset: bigint): bigint {
  if (offset > MAX_OFFSET) {
    throw new ConfigError(`data parameter: offset ${offset} is past 2^64-1`);
  }
  return offset;
}
