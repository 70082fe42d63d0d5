// Tells whether a range of linear memory is all zero: a v128 scan, and its scalar twin that the
// tests hold it to.
//
// isZero ORs four 16-byte lanes per step, so one branch covers 64 bytes:
//
//   ptr ──▶ │ v0: 16 bytes │ v1: 16 bytes │ v2: 16 bytes │ v3: 16 bytes │ ...
//           └──────────── or ─────────────────────────────────────────────┘ any_true? → false
//
// then single v128 blocks, then bytes. Unaligned loads are fine in WASM; pages are aligned anyway.

/** True when the `length` bytes at `ptr` are all zero (v128 SIMD). */
export function isZero(ptr: usize, length: usize): bool {
  const end = ptr + length;
  const wide = ptr + (length & ~(<usize>63));
  while (ptr < wide) {
    const any = v128.or(
      v128.or(v128.load(ptr), v128.load(ptr, 16)),
      v128.or(v128.load(ptr, 32), v128.load(ptr, 48)),
    );
    if (v128.any_true(any)) return false;
    ptr += 64;
  }
  const blocks = ptr + ((end - ptr) & ~(<usize>15));
  for (; ptr < blocks; ptr += 16) if (v128.any_true(v128.load(ptr))) return false;
  for (; ptr < end; ptr++) if (load<u8>(ptr) != 0) return false;
  return true;
}

/** The same answer as isZero without SIMD: u64 words, then bytes. */
export function isZeroScalar(ptr: usize, length: usize): bool {
  const end = ptr + length;
  const words = ptr + (length & ~(<usize>7));
  for (; ptr < words; ptr += 8) if (load<u64>(ptr) != 0) return false;
  for (; ptr < end; ptr++) if (load<u8>(ptr) != 0) return false;
  return true;
}
