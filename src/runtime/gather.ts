/**
 * Write batching shared by the Deno and Bun adapters, whose writes cost one call each (no
 * writev): runs of small parts are joined into one array (copied once), large parts are queued
 * as they are, so a turn's many small replies cost one write and a 1 MiB reply no copy.
 */

/** Parts smaller than this are joined; a joined array grows to at most JOIN_LIMIT. */
const SMALL_PART = 16 * 1024;
const JOIN_LIMIT = 64 * 1024;

/** Size of an adapter's staging buffer (see gather): a deep queue's 4 KiB reads in one write. */
export const STAGING_SIZE = 256 * 1024;

/**
 * Appends `parts` to `queue` as described above; returns the byte count. The first run joined
 * goes into `staging` when one is given (up to its length), not into a new array: a fresh array
 * costs an allocation and, on Bun, page faults on every turn. The caller passes `staging` only
 * when nothing of it is still queued or being written.
 */
export function gather(
  parts: readonly Uint8Array[],
  queue: Uint8Array[],
  staging?: Uint8Array,
): number {
  let total = 0;
  let spare = staging;
  for (let i = 0; i < parts.length;) {
    const limit = spare ? Math.max(spare.length, JOIN_LIMIT) : JOIN_LIMIT;
    let end = i;
    let size = 0;
    while (
      end < parts.length && parts[end].length < SMALL_PART && size + parts[end].length <= limit
    ) {
      size += parts[end++].length;
    }
    if (end - i <= 1) {
      const part = parts[i++];
      if (part.length > 0) queue.push(part);
      total += part.length;
      continue;
    }
    const joined = spare && size <= spare.length ? spare.subarray(0, size) : new Uint8Array(size);
    if (joined.buffer === spare?.buffer) spare = undefined;
    for (let at = 0; i < end; i++) {
      joined.set(parts[i], at);
      at += parts[i].length;
    }
    queue.push(joined);
    total += size;
  }
  return total;
}
