/**
 * The bytes the codec (codec.ts) has received and not yet decoded, handed out in the three ways
 * it asks for them: a fixed-size header, a body to fill, or a count to throw away.
 *
 * Chunks are the runtime's own, borrowed: detach() copies what is unread of them before the
 * runtime may reuse them, so each byte is copied at most once. A header split across chunks is
 * gathered in a small buffer of our own.
 */

import { EXTENDED_REQUEST } from "./layout.ts";

export class ReceivedBytes {
  /** Received chunks not yet consumed; the first is read from `position`. */
  private readonly chunks: Uint8Array[] = [];
  /** How many of the first chunks are our own copies (detach() made them), not borrowed. */
  private owned = 0;
  private position = 0;
  /** The peer closed its side: set by receive(), read by the codec. */
  ended = false;
  /**
   * A fixed-size header split across chunks is gathered here (owned, so chunks can be reused):
   * room for the largest, an extended request header.
   */
  private readonly partial = new Uint8Array(EXTENDED_REQUEST.size);
  private partialLength = 0;

  /** Stores a received chunk; an empty chunk means the peer closed its side. */
  receive(chunk: Uint8Array): void {
    if (chunk.length === 0) this.ended = true;
    else this.chunks.push(chunk);
  }

  /** Whether no received byte waits to be decoded. */
  isEmpty(): boolean {
    return this.chunks.length === 0;
  }

  /** Whether part of a fixed-size header has arrived, but not all of it. */
  inHeader(): boolean {
    return this.partialLength > 0;
  }

  /**
   * Copies the bytes not yet decoded out of the received chunks, so the runtime may reuse
   * them. Costs nothing when everything was decoded, the usual case.
   */
  detach(): void {
    if (this.owned === this.chunks.length) return;
    if (this.owned === 0) {
      this.chunks[0] = this.chunks[0].slice(this.position);
      this.position = 0;
      this.owned = 1;
    }
    // Only chunks received since the last detach are copied: each byte is copied at most once.
    for (let i = this.owned; i < this.chunks.length; i++) this.chunks[i] = this.chunks[i].slice();
    this.owned = this.chunks.length;
  }

  /** Hands over every received byte not yet decoded, in one buffer, and forgets it. */
  takeAll(): Uint8Array {
    let size = this.partialLength - this.position;
    for (const chunk of this.chunks) size += chunk.length;
    const out = new Uint8Array(size);
    out.set(this.partial.subarray(0, this.partialLength));
    let at = this.partialLength;
    for (const [i, chunk] of this.chunks.entries()) {
      const rest = i === 0 ? chunk.subarray(this.position) : chunk;
      out.set(rest, at);
      at += rest.length;
    }
    this.chunks.length = 0;
    this.owned = 0;
    this.position = 0;
    this.partialLength = 0;
    return out;
  }

  /** `size` contiguous bytes, as a view of the chunk when possible; undefined if not all here. */
  readFixed(size: number): Uint8Array | undefined {
    if (this.partialLength === 0 && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      if (chunk.length - this.position >= size) {
        const view = chunk.subarray(this.position, this.position + size);
        this.consume(size);
        return view;
      }
    }
    while (this.partialLength < size && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(chunk.length - this.position, size - this.partialLength);
      this.partial.set(chunk.subarray(this.position, this.position + n), this.partialLength);
      this.partialLength += n;
      this.consume(n);
    }
    if (this.partialLength < size) return undefined;
    this.partialLength = 0;
    return this.partial.subarray(0, size);
  }

  /**
   * Copies received bytes straight into `body` from `filled` on, and answers how far it is
   * filled now: each payload byte is copied once, or not at all when the runtime read it into
   * the body already (Codec.payloadRemainder).
   */
  fill(body: Uint8Array, filled: number): number {
    while (filled < body.length && this.chunks.length > 0) {
      const chunk = this.chunks[0];
      const n = Math.min(chunk.length - this.position, body.length - filled);
      // Offsets first: on Bun, asking a fresh chunk for its buffer costs an allocation.
      const inPlace = chunk.byteOffset + this.position === body.byteOffset + filled &&
        chunk.buffer === body.buffer;
      if (!inPlace) body.set(chunk.subarray(this.position, this.position + n), filled);
      filled += n;
      this.consume(n);
    }
    return filled;
  }

  /** Throws away up to `count` received bytes; answers how many are still to come. */
  skip(count: number): number {
    while (count > 0 && this.chunks.length > 0) {
      const n = Math.min(this.chunks[0].length - this.position, count);
      count -= n;
      this.consume(n);
    }
    return count;
  }

  private consume(n: number): void {
    this.position += n;
    if (this.position === this.chunks[0].length) {
      this.chunks.shift();
      if (this.owned > 0) this.owned--;
      this.position = 0;
    }
  }
}
