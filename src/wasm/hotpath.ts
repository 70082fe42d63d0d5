/**
 * Instantiates the hot path WebAssembly module (assembly/index.ts) from its embedded bytes,
 * synchronously and without a file system; each call makes an independent instance (a shard).
 *
 * Each instance gets its memory at full size from the start (untouched memory costs no RAM on
 * any of our runtimes), so it never grows, and a view of it never goes stale: write payloads
 * can be received straight into it. Where the runtime will not reserve that much, the memory
 * starts small and grows, and `fixed` says so: then `heap()` re-takes its view after a growth,
 * and no view may be kept across calls that may grow it.
 */

import { hotpathWasmBytes } from "../../build/hotpath-wasm.ts";

/** Bytes per data page; assembly/layout.ts holds the same number and createHotpath checks it. */
export const PAGE_SIZE = 4096;

/** How pageFor treats a missing page (assembly/layout.ts MODE_*). */
export const PAGE_MODE = {
  /** Answer 0 for a page that reads as zero. */
  LOOKUP: 0,
  /** Create the page, zero-filled. */
  CREATE: 1,
  /** Create the page with undefined content: the caller overwrites all of it. */
  OVERWRITE: 2,
} as const;

/** The most memory one instance may have: 65535 WASM pages, so addresses fit in a u32. */
export const MAX_SHARD_BYTES = 65535 * 65536;

/**
 * The module's exports. Pointers come back as signed i32: take `>>> 0` of any pointer that may
 * be 2 GiB or more. Booleans come back as 0 or 1. Page indices are exact f64 numbers.
 */
export interface HotpathExports {
  init(maxWasmPages: number): void;
  pageSize(): number;
  allocatedPages(): number;
  /** Bytes of memory used so far (pages, directory, free blocks); beyond it memory is untouched. */
  memoryBytes(): number;
  pageFor(page: number, mode: number): number;
  pageRun(page: number, ptr: number, maxPages: number): number;
  /** Frees the pages of a just-written run that are now all zero; answers how many. */
  afterWrite(page: number, ptr: number, from: number, length: number): number;
  /** Creates (or finds) and pins a run of pages for a payload received in place; 0: cannot. */
  placeRun(page: number, count: number): number;
  /** Pins a run of existing pages that lie in line (pageRun) for a reply sent from them; 0: cannot. */
  pinPages(page: number, count: number): number;
  /** Unpins a placed or pinned run, then frees its pages left all zero (as afterWrite). */
  settleRun(page: number, ptr: number, from: number, length: number): number;
  zeroInPage(page: number, from: number, length: number): void;
  freePages(first: number, end: number): void;
  presenceEnd(start: number, limit: number): number;
  scratch(length: number): number;
  isZero(ptr: number, length: number): number;
  isZeroScalar(ptr: number, length: number): number;
}

export interface Hotpath {
  readonly exports: HotpathExports;
  readonly memory: WebAssembly.Memory;
  /** True when memory has its full size and never grows: views of it stay valid. */
  readonly fixed: boolean;
  /** A byte view of linear memory; unless `fixed`, valid until the next call that may grow it. */
  heap(): Uint8Array;
}

export interface HotpathOptions {
  /** Most bytes of linear memory this instance may grow to (rounded down to 64 KiB). */
  maxBytes?: number;
}

let compiled: WebAssembly.Module | undefined;

/** The compiled module, compiled once per program run, when the first instance is made. */
function hotpathModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(hotpathWasmBytes());
  return compiled;
}

/** A new instance with its own memory; throws RangeError when the runtime refuses one. */
export function createHotpath(options: HotpathOptions = {}): Hotpath {
  const maxBytes = Math.min(options.maxBytes ?? MAX_SHARD_BYTES, MAX_SHARD_BYTES);
  const pages = Math.max(1, Math.floor(maxBytes / 65536));
  let memory: WebAssembly.Memory;
  let fixed = true;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    memory = new WebAssembly.Memory({ initial: 1, maximum: pages });
    fixed = false;
  }
  const instance = new WebAssembly.Instance(hotpathModule(), { env: { memory } });
  const exports = instance.exports as unknown as HotpathExports;
  if (exports.pageSize() !== PAGE_SIZE) {
    throw new Error(
      `Cannot use the hot path module: page size ${exports.pageSize()}, not ${PAGE_SIZE}`,
    );
  }
  exports.init(pages);
  let view = new Uint8Array(memory.buffer);
  return {
    exports,
    memory,
    fixed,
    heap() {
      // memory.grow detaches the old buffer, and a view of a detached buffer has length 0:
      // cheaper to test than fetching memory.buffer on every call.
      if (view.length === 0) view = new Uint8Array(memory.buffer);
      return view;
    },
  };
}
