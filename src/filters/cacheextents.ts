/**
 * The cacheextents filter (man nbdkit-cacheextents-filter): remembers the last block status
 * answer of the layer below, for every connection, and answers a request that starts inside it
 * from memory. A miss asks below for as much as it will tell (REQ_ONE dropped); any write,
 * trim or zero forgets the answer. It helps clients that walk a disk one extent at a time
 * (qemu-img) over a plugin slow to answer but able to answer for a long range at once.
 */

import type { Filter, NextHandle } from "../api/filter.ts";
import { Extents } from "../api/extents.ts";
import { toOffset } from "../api/parse.ts";
import { type ExtentSink, FLAG, type Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/** The last answer, shared by every connection, and how many changes forgot one. */
interface Remembered {
  answer: Extents | undefined;
  changes: number;
}

/** A write, trim or zero: what block status said may no longer be so. */
function forget(remembered: Remembered): void {
  remembered.answer = undefined;
  remembered.changes++;
}

export function createCacheextentsFilter(): Filter {
  const remembered: Remembered = { answer: undefined, changes: 0 };
  return {
    name: "cacheextents",
    longname: "nbdts cacheextents filter",
    version: VERSION,

    unload() {
      remembered.answer = undefined;
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      return {
        writeAt(buf, offset, flags) {
          forget(remembered);
          return below.writeAt(buf, offset, flags);
        },
        trim(count, offset, flags) {
          forget(remembered);
          return below.trim(count, offset, flags);
        },
        zero(count, offset, flags) {
          forget(remembered);
          return below.zero(count, offset, flags);
        },
        extents: (count, offset, flags, sink) =>
          cachedExtents(remembered, below, count, offset, flags, sink),
      };
    },
  };
}

async function cachedExtents(
  remembered: Remembered,
  below: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
  sink: ExtentSink,
): Promise<void> {
  const at = BigInt(offset);
  let answer = remembered.answer;
  if (answer === undefined || at < answer.starts[0] || at >= answer.ends[answer.count - 1]) {
    const changes = remembered.changes;
    answer = new Extents(offset, await below.getSize());
    await below.extents(count, offset, flags & ~FLAG.REQ_ONE, answer);
    // Kept unless a change came while below was answering: then it may be out of date.
    if (answer.count > 0 && remembered.changes === changes) remembered.answer = answer;
  }
  for (let i = 0; i < answer.count; i++) {
    const start = answer.starts[i];
    sink.add(toOffset(start), toOffset(answer.ends[i] - start), answer.types[i]);
  }
}
