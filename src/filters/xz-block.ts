/**
 * Decodes one block of an .xz file with xz-decompress (XZ Embedded compiled to WebAssembly,
 * no native code): the block's bytes are wrapped in a stream of their own (xz-format.ts), so
 * the decoder checks the block header, its data, its check and the index record against it.
 * That build knows the CRC32 and CRC64 checks; a SHA-256 check is taken off the block before
 * decoding and verified here with WebCrypto, and a check of a reserved type is taken off
 * unverified (liblzma, nbdkit's decoder, skips those too). It knows no BCJ or delta filters:
 * such blocks fail with the decoder's error.
 */

import * as xzDecompress from "xz-decompress";
import { ERRNO, messageOf, NbdError } from "../api/errors.ts";
import { logError } from "../api/error-log.ts";
import type { NextHandle } from "../api/filter.ts";
import type { XzBlock } from "./xz-index.ts";
import { checkSize, roundUp4, singleBlockStream } from "./xz-format.ts";

/** The check types XZ Embedded verifies itself: none, CRC32 and CRC64. */
const DECODER_CHECKS: ReadonlySet<number> = new Set([0, 1, 4]);
const SHA256 = 10;

/**
 * The package is CommonJS built by webpack: Bun sees its named export, Node and Deno only the
 * module object as `default`.
 */
const XzReadableStream = xzDecompress.XzReadableStream ??
  (xzDecompress as unknown as { default: typeof xzDecompress }).default.XzReadableStream;

function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/** XZ Embedded's xz_ret codes that the package reports as "error code N", in words. */
const DECODER_ERRORS: Readonly<Record<string, string>> = {
  "3": "out of memory",
  "4": "memory limit reached",
  "5": "not the xz format",
  "6": "unsupported options, such as a BCJ or delta filter",
  "7": "corrupt data",
  "8": "truncated data",
};

function decoderReason(message: string): string {
  const code = /error code (\d+)/.exec(message)?.[1];
  return code && DECODER_ERRORS[code] ? `${DECODER_ERRORS[code]}, error ${code}` : message;
}

/** An EIO failure of the block, logged first, since a failed read says nothing more. */
function blockError(reason: string): NbdError {
  const message = `xz: could not parse block data (${reason})`;
  logError(message);
  return new NbdError(ERRNO.EIO, message);
}

/** Decodes `block` (read from the layer below) into `out`, exactly its uncompressed size. */
export async function decodeBlock(
  below: NextHandle,
  block: XzBlock,
  out: Uint8Array,
): Promise<void> {
  const compressed = new Uint8Array(roundUp4(block.unpaddedSize));
  await below.readAt(compressed, block.compressedOffset);
  if (compressed[0] === 0) {
    const message = "xz: read: unexpected invalid block in file, header[0] = 0";
    logError(message);
    throw new NbdError(ERRNO.EIO, message);
  }
  if (DECODER_CHECKS.has(block.check)) {
    return await decodeStream(singleBlockStream(block.check, compressed, block), block, out);
  }
  // The decoder gets the block with no check; the check's bytes end the block.
  const size = checkSize(block.check);
  const unchecked = compressed.subarray(0, compressed.length - size);
  const record = { ...block, unpaddedSize: block.unpaddedSize - size };
  await decodeStream(singleBlockStream(0, unchecked, record), block, out);
  if (block.check === SHA256) {
    const digest = new Uint8Array(
      await crypto.subtle.digest(
        "SHA-256",
        out.subarray(0, block.uncompressedSize) as Uint8Array<ArrayBuffer>,
      ),
    );
    const expected = compressed.subarray(compressed.length - size);
    if (!digest.every((byte, i) => byte === expected[i])) throw blockError("SHA-256 mismatch");
  }
}

/** Runs the decoder over a whole stream of one block, into `out`. */
async function decodeStream(stream: Uint8Array, block: XzBlock, out: Uint8Array) {
  const reader = new XzReadableStream(streamOf(stream)).getReader();
  let filled = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (filled + value.length > block.uncompressedSize) {
        throw new Error("more data than the index says");
      }
      out.set(value, filled);
      filled += value.length;
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw blockError(decoderReason(messageOf(error)));
  }
  if (filled !== block.uncompressedSize) throw blockError("less data than the index says");
}
