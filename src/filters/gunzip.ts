/**
 * Expands the gzip data of the layer below into a file, as nbdkit's gzip filter does once for
 * all connections: the compressed bytes are read in 4 MiB pieces (nbdkit's), pass through the
 * runtime's DecompressionStream("gzip"), and are written out in 4 MiB pieces. What the stream
 * does with bytes after the first member is the runtime's (see README, Filters).
 */

import { ERRNO, messageOf, NbdError } from "../api/errors.ts";
import type { NextHandle } from "../api/filter.ts";
import type { DiskFile } from "../io.ts";

/** The piece size for reading the compressed data and writing the expansion. */
const PIECE = 4 * 1024 * 1024;

/**
 * Expands the `compressedSize` bytes below into `file` from offset 0; resolves to the size of
 * the expansion. A failing read below rejects with its own error, bad data with nbdkit's
 * "gzip: inflate: …".
 */
export async function gunzipInto(
  below: NextHandle,
  compressedSize: number,
  file: DiskFile,
): Promise<number> {
  const stream = new DecompressionStream("gzip");
  const [pumped, stored] = await Promise.allSettled([
    pump(below, compressedSize, stream.writable.getWriter()),
    store(stream.readable.getReader(), file),
  ]);
  if (pumped.status === "rejected") throw pumped.reason;
  if (stored.status === "rejected") {
    throw new NbdError(ERRNO.EIO, `gzip: inflate: ${messageOf(stored.reason)}`);
  }
  return stored.value;
}

/** Feeds the compressed bytes in; a stream that fails stops it quietly (store says why). */
async function pump(
  below: NextHandle,
  compressedSize: number,
  writer: WritableStreamDefaultWriter<BufferSource>,
): Promise<void> {
  for (let offset = 0; offset < compressedSize; offset += PIECE) {
    // A fresh piece each time: the stream may still hold the one before.
    const piece = new Uint8Array(Math.min(PIECE, compressedSize - offset));
    try {
      await below.readAt(piece, offset);
    } catch (error) {
      await writer.abort(error).catch(() => {});
      throw error;
    }
    try {
      await writer.write(piece);
    } catch {
      return;
    }
  }
  await writer.close().catch(() => {});
}

/** Writes what comes out into `file`, gathered into pieces; resolves to how much came. */
async function store(reader: ReadableStreamDefaultReader<Uint8Array>, file: DiskFile) {
  const piece = new Uint8Array(PIECE);
  let filled = 0;
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    for (let taken = 0; taken < value.length;) {
      const n = Math.min(piece.length - filled, value.length - taken);
      piece.set(value.subarray(taken, taken + n), filled);
      filled += n;
      taken += n;
      if (filled === piece.length) {
        await writeAll(file, piece, size);
        size += filled;
        filled = 0;
      }
    }
  }
  await writeAll(file, piece.subarray(0, filled), size);
  return size + filled;
}

async function writeAll(file: DiskFile, bytes: Uint8Array, offset: number): Promise<void> {
  for (let done = 0; done < bytes.length;) {
    done += await file.write(bytes.subarray(done), offset + done);
  }
}
