// Sizes and shapes of the sparse page store; every other assembly file takes its numbers from here.
//
// A disk of up to 2^63-1 bytes is cut into 4 KiB pages, so a page index is below 2^51 and
// travels through the JS boundary as an f64 without rounding. Pages that were never written, or
// that became all zero, do not exist: they read as zero and cost nothing.
//
// Two-level directory, all of it in this instance's linear memory:
//
//   L1: sorted by region, 16 B each      L2: 512 × u32 = 2 KiB per 2 MiB region in use
//   ┌────────────────────────────────┐       ┌─────────────────────────────┐
//   │ region 0,   used 3,   l2 ────────────▶ │ slot 0     page ptr ─────────▶ 4 KiB page
//   │ region 7,   used 12,  l2 ─▶ …  │       │ slot 1     0: reads as zero │
//   │ region 8,   used 512, l2 ─▶ …  │       │ ...                         │
//   │ ...                            │       │ slot 511   page ptr ─────────▶ 4 KiB page
//   └────────────────────────────────┘       └─────────────────────────────┘
//   entry: region u64, l2 u32, used u32     region = page >> 9, slot = page & 511
//   slot: page address | pins (low 12 bits: write payloads received into it, replies sent from it)
//
// L1 holds only regions with at least one page, in order, so a lookup is a binary search (with a
// hint for sequential I/O, which nearly always hits the same or the next entry) and an extent
// scan jumps over every unused 2 MiB region without looking at it. An L2 whose last page goes
// away is freed and its L1 entry removed, so the directory never holds empty tables.
//
// Cost for a huge sparse disk: each written page costs 4 KiB plus at most one 2 KiB L2 table and
// a 16-byte L1 entry, so 4 MiB scattered as 1024 lone 4 KiB writes over 64 GiB costs about
// 6 MiB, and 1 GiB written densely about 1 GiB + 1 MiB.
//
// One instance holds at most 65535 WASM pages (4 GiB less 64 KiB), so every address and every
// `top + size` fits in a u32. The JS side adds instances (shards) when one is full.

/** Bytes per data page. */
export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;

/**
 * A slot holds a page's address, which is a multiple of PAGE_SIZE, so its low bits are free: they
 * count the pins on the page (see pinRun in directory.ts). A pinned page is never freed.
 */
export const SLOT_PINS: u32 = PAGE_SIZE - 1;

/** Slots per L2 table: 512 × u32 = 2 KiB, covering 2 MiB of the disk. */
export const L2_SHIFT: u32 = 9;
export const L2_SLOTS: u32 = 1 << L2_SHIFT;
export const L2_MASK: u64 = <u64>(L2_SLOTS - 1);

/** Bytes per L1 entry: region (u64), L2 pointer (u32), pages in use (u32). */
export const L1_ENTRY_SHIFT: u32 = 4;
export const L1_REGION: usize = 0;
export const L1_TABLE: usize = 8;
export const L1_USED: usize = 12;

/** Size classes (log2 of bytes) of the blocks the heap hands out. */
export const PAGE_CLASS: u32 = PAGE_SHIFT;
export const L2_CLASS: u32 = L2_SHIFT + 2;
export const L1_MIN_CLASS: u32 = 12;

/** The most WASM pages one instance may use: keeps addresses below 2^32. */
export const MAX_WASM_PAGES: i32 = 65535;

/** pageFor modes: look only; create a zero-filled page; create a page the caller overwrites. */
export const MODE_LOOKUP: u32 = 0;
export const MODE_CREATE: u32 = 1;
export const MODE_OVERWRITE: u32 = 2;
