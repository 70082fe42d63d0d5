/**
 * The 32 KiB pages that nbdkit's sparse allocator would hold although every byte in them is
 * zero, so that extents call them ZERO (allocated) rather than HOLE|ZERO, as nbdkit does.
 *
 * nbdkit's common/allocators/sparse.c keeps its disk in 32 KiB pages: a write allocates the
 * pages it touches and keeps them even when it wrote zeroes; a zero or trim frees a page that
 * it leaves all zero. Our pages are 4 KiB and never hold only zeroes, so a 32 KiB page with one
 * of ours in it is data, and one without is a hole unless this set says nbdkit would still
 * hold it. Only writes of zeroes add to the set, so it stays empty, and costs nothing, for
 * ordinary disks. Pages are numbered by byte offset / 32 KiB (below 2^48: exact numbers).
 */

/** nbdkit's sparse allocator page: extents are reported at this granularity. */
export const NBDKIT_PAGE_SIZE = 32768;

/** Sorted, disjoint, non-adjacent runs [starts[i], ends[i]) of page numbers. */
export class ZeroPages {
  readonly starts: number[] = [];
  readonly ends: number[] = [];

  get empty(): boolean {
    return this.starts.length === 0;
  }

  /** The index of the first run ending after `page` (the run holding it, or the next one). */
  indexFrom(page: number): number {
    const ends = this.ends;
    let lo = 0;
    let hi = ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (ends[mid] > page) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Adds pages [first, end), joining the runs they touch. */
  add(first: number, end: number): void {
    if (first >= end) return;
    const { starts, ends } = this;
    const lo = this.indexFrom(first - 1); // a run ending at `first` joins too
    let hi = lo;
    while (hi < starts.length && starts[hi] <= end) hi++;
    if (lo < hi) {
      first = Math.min(first, starts[lo]);
      end = Math.max(end, ends[hi - 1]);
    }
    starts.splice(lo, hi - lo, first);
    ends.splice(lo, hi - lo, end);
  }

  /** Removes pages [first, end), cutting the runs that cross its edges. */
  delete(first: number, end: number): void {
    if (first >= end || this.empty) return;
    const { starts, ends } = this;
    const lo = this.indexFrom(first);
    let hi = lo;
    while (hi < starts.length && starts[hi] < end) hi++;
    if (lo === hi) return;
    const kept: [number, number][] = [];
    if (starts[lo] < first) kept.push([starts[lo], first]);
    if (ends[hi - 1] > end) kept.push([end, ends[hi - 1]]);
    starts.splice(lo, hi - lo, ...kept.map(([start]) => start));
    ends.splice(lo, hi - lo, ...kept.map(([, stop]) => stop));
  }
}
