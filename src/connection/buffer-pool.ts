/**
 * Reusable buffers for one connection's read replies and write payloads. A fresh 1 MiB
 * Uint8Array costs a zero fill and a page fault per 4 KiB touched; taking one back from here
 * costs nothing. Sizes are rounded up to powers of two from 4 KiB: even a 4 KiB read reply is
 * worth reusing (on Bun each fresh one faulted its pages in again; reusing them took a third
 * off the server's CPU time per 4k read, and 15 % off Node's instructions). Smaller buffers are
 * simply allocated, and the pool keeps at most a few of each size.
 * A reused buffer holds the connection's own earlier bytes: whoever takes one overwrites it.
 */

const SMALLEST = 4 * 1024;
/** Buffers kept per size, and bytes kept in all: enough for a deep queue of requests. */
const KEPT_PER_SIZE = 64;
const KEPT_BYTES = 64 * 1024 * 1024;

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  private keptBytes = 0;
  private released = false;

  /** A buffer of exactly `size` bytes (a view of a pooled one when `size` is large). */
  take(size: number): Uint8Array {
    if (size < SMALLEST) return new Uint8Array(size);
    const capacity = 2 ** Math.ceil(Math.log2(size));
    const buffer = this.free.get(capacity)?.pop();
    if (buffer) {
      this.keptBytes -= capacity;
      return new Uint8Array(buffer, 0, size);
    }
    return new Uint8Array(new ArrayBuffer(capacity), 0, size);
  }

  /** Returns a buffer from take() once nothing uses it any more. */
  give(view: Uint8Array): void {
    const buffer = view.buffer;
    const capacity = buffer.byteLength;
    if (capacity < SMALLEST || !(buffer instanceof ArrayBuffer) || this.released) return;
    if (this.keptBytes + capacity > KEPT_BYTES) return;
    let list = this.free.get(capacity);
    if (!list) this.free.set(capacity, list = []);
    if (list.length >= KEPT_PER_SIZE) return;
    list.push(buffer);
    this.keptBytes += capacity;
  }

  /**
   * The connection is ending: drop every kept buffer and keep none given back from now on, so
   * a connection that lingers (a plugin callback still running after its client left) holds
   * only the buffers its running requests use.
   */
  release(): void {
    this.released = true;
    this.free.clear();
    this.keptBytes = 0;
  }
}
