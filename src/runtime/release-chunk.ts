/**
 * Frees a large received chunk the moment its receiver is done with it, for runtimes (Bun) that
 * hand each read to JavaScript as a fresh array of its own and leave it to the garbage collector.
 *
 * Bun copies every read (up to 512 KiB) into a new array. Left to the collector, which lags far
 * behind a fast writer, these arrays pile up (hundreds of MiB of peak RSS) and each new one is
 * fresh memory the kernel must fault in and later unmap. Detaching the array's buffer with
 * `transfer(0)` frees its memory at once, so the allocator hands the same warm memory to the
 * next read. Allowed by the Receiver contract: once data() has returned, the receiver keeps no
 * view of the chunk (the session copies what it has not decoded).
 */

/** Chunks smaller than this are left to the collector: their memory is cheap to get. */
export const RELEASE_MIN = 64 * 1024;

/** ES2024's ArrayBuffer.prototype.transfer, where the runtime has it (Bun, Deno; not Node 20). */
interface Transferable {
  transfer?(newLength: number): ArrayBuffer;
}

/**
 * Detaches `chunk`'s buffer if the chunk is large and is the whole of its buffer (so nothing
 * else can be looking at that memory); true if it did. The chunk reads as empty afterwards.
 */
export function releaseChunk(chunk: Uint8Array): boolean {
  if (chunk.length < RELEASE_MIN || chunk.byteOffset !== 0) return false;
  const buffer = chunk.buffer as ArrayBuffer & Transferable;
  if (buffer.byteLength !== chunk.length || buffer.transfer === undefined) return false;
  buffer.transfer(0);
  return true;
}
