/**
 * Write batching shared by the Deno and Bun adapters, whose writes cost one call each (no
 * writev): runs of small parts are joined into one array (copied once), large parts are queued
 * as they are, so a turn's many small replies cost one write and a 1 MiB reply no copy.
 */

/** Parts smaller than this are joined; a joined array grows to at most JOIN_LIMIT. */
const SMALL_PART = 16 * 1024;
const JOIN_LIMIT = 64 * 1024;

/** Appends `parts` to `queue` as described above; returns the byte count. */
export function gather(parts: readonly Uint8Array[], queue: Uint8Array[]): number {
  let total = 0;
  for (let i = 0; i < parts.length;) {
    let end = i;
    let size = 0;
    while (
      end < parts.length && parts[end].length < SMALL_PART &&
      size + parts[end].length <= JOIN_LIMIT
    ) {
      size += parts[end++].length;
    }
    if (end - i <= 1) {
      const part = parts[i++];
      if (part.length > 0) queue.push(part);
      total += part.length;
      continue;
    }
    const joined = new Uint8Array(size);
    for (let at = 0; i < end; i++) {
      joined.set(parts[i], at);
      at += parts[i].length;
    }
    queue.push(joined);
    total += size;
  }
  return total;
}
