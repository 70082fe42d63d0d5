/**
 * Whether a buffer holds only zero bytes, in plain TypeScript for buffers outside WASM memory
 * (a read reply about to go out as OFFSET_HOLE). It exits at the first non-zero word, so data
 * costs almost nothing; only all-zero buffers are scanned to the end.
 */

export function isAllZero(buf: Uint8Array): boolean {
  let at = 0;
  const end = buf.length;
  // The first bytes one by one: data nearly always ends the check here, before any word view
  // is made. Then bytes up to a 4-byte boundary, whole words, and the tail.
  for (const head = Math.min(end, 16); at < head;) if (buf[at++] !== 0) return false;
  while (at < end && (buf.byteOffset + at) & 3) if (buf[at++] !== 0) return false;
  const words = (end - at) >>> 2;
  if (words > 0) {
    const view = new Uint32Array(buf.buffer, buf.byteOffset + at, words);
    const groups = words & ~3;
    let i = 0;
    for (; i < groups; i += 4) {
      if ((view[i] | view[i + 1] | view[i + 2] | view[i + 3]) !== 0) return false;
    }
    for (; i < words; i++) if (view[i] !== 0) return false;
    at += words * 4;
  }
  while (at < end) if (buf[at++] !== 0) return false;
  return true;
}
