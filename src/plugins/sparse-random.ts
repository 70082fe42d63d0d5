/**
 * The sparse-random plugin (man nbdkit-sparse-random-plugin): a disk shaped like a virtual
 * machine image, runs of random data between runs of holes, for benchmarking copying tools.
 * The same seed gives the same holes and the same bytes as nbdkit's plugin. Writes only check
 * (what a read returns succeeds, anything else is EIO), and only holes may be zeroed or trimmed.
 *
 * Data lives in 4096-byte blocks. A data block is one random non-zero byte repeated, or with
 * random-content=true a fresh random sequence; either is generated from seed + offset when read.
 */

import { parseBool, parseSize } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { ConfigError, ERRNO, NbdError } from "../api/errors.ts";
import {
  CACHE_MODE,
  EXTENT,
  type ExtentSink,
  FLAG,
  type Offset,
  type Plugin,
  THREAD_MODEL,
} from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { parseUint64, scanDouble } from "./lib/c-numbers.ts";
import { fillRandomSequence } from "./lib/random-bytes.ts";
import { BLOCK_SIZE, SparseMap } from "./lib/sparse-map.ts";

export function createSparseRandomPlugin(): Plugin {
  let size = 0n;
  let seed = 0;
  let percent = 10;
  let runLength = 16n * 1024n * 1024n;
  let randomContent = false;
  let map: SparseMap | undefined;

  // Scratch for one block's data. Every call below runs to its end without awaiting, so no
  // two requests ever use it at once, and one buffer serves every connection.
  const block = new Uint8Array(BLOCK_SIZE);

  /**
   * Fills `piece` with bytes [within, within + piece.length) of a data block generated from
   * seed + `at`. nbdkit 1.32 seeds an unaligned first block of a request from the request's
   * own offset, not the block's, so the same block can read differently through a misaligned
   * read; `at` is that offset, and we do the same to serve the same bytes.
   */
  function fillData(piece: Uint8Array, at: number, within: number): void {
    if (!randomContent) {
      // One byte repeated: the low byte of the generator's first output, never zero, so the
      // block never looks like a hole.
      fillRandomSequence(block.subarray(0, 1), seed + at);
      piece.fill(block[0] === 0 ? 1 : block[0]);
    } else {
      fillRandomSequence(block.subarray(0, within + piece.length), seed + at);
      piece.set(block.subarray(within, within + piece.length));
    }
  }

  function readAt(buf: Uint8Array, offset: Offset): void {
    // Offsets are numbers: getReady refuses any disk whose map would not fit, long before 2^53.
    let at = Number(offset);
    for (let done = 0; done < buf.length;) {
      const within = at % BLOCK_SIZE;
      const n = Math.min(BLOCK_SIZE - within, buf.length - done);
      const piece = buf.subarray(done, done + n);
      if (map!.isData(Math.floor(at / BLOCK_SIZE))) fillData(piece, at, within);
      else piece.fill(0);
      done += n;
      at += n;
    }
  }

  return {
    name: "sparse-random",
    version: VERSION,
    magicConfigKey: "size",
    configHelp: "size=<SIZE>  (required) Size of the backing disk\n" +
      "seed=<SEED>             Random number generator seed\n" +
      "percent=<PERCENT>       Percentage of data\n" +
      "runlength=<BYTES>       Expected average run length of data\n" +
      "random-content=true     Fully random content in each block",

    load() {
      // A different disk on each run unless seed= is given (the time in seconds, as nbdkit).
      seed = Math.floor(Date.now() / 1000) >>> 0;
    },

    config(key, value) {
      switch (key) {
        case "seed":
          seed = parseUnsigned("seed", value);
          break;
        case "size":
          size = parseSize(value);
          break;
        case "percent": {
          // Read as C's sscanf("%lf") reads it: "5x" is 5, and "nan" passes the range check
          // (it then draws a disk without data, as nbdkit's does).
          const number = scanDouble(value);
          if (number === undefined || number < 0 || number > 100) {
            throw new ConfigError(`cannot parse percent parameter: ${value}`);
          }
          percent = number;
          break;
        }
        case "runlength":
          // nbdkit 1.32 reads a plain number of bytes here: "16M" is refused despite the manual.
          runLength = parseUint64("runlength", value);
          if (runLength === 0n) throw new ConfigError("runlength parameter must be > 0");
          break;
        case "random-content":
          randomContent = parseBool(value);
          break;
        default:
          throw new ConfigError(`unknown parameter '${key}'`);
      }
    },

    getReady() {
      // Drawn once, before serving: every connection sees the same disk.
      try {
        if (size > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError("too large");
        map = new SparseMap(Number(size), {
          percent,
          runLength: Number(runLength), // rounded to nearest, as C's (double) cast
          seed,
        });
      } catch (error) {
        if (!(error instanceof RangeError)) throw error;
        throw new ConfigError(`cannot allocate the map of data blocks for ${size} bytes`);
      }
    },

    unload() {
      map = undefined;
    },

    threadModel: () => THREAD_MODEL.PARALLEL,

    open() {
      const diskSize = Number(size);
      return {
        getSize: () => diskSize,
        readAt,

        writeAt(buf, offset) {
          const expected = new Uint8Array(buf.length);
          readAt(expected, offset);
          for (let i = 0; i < buf.length; i++) {
            if (buf[i] !== expected[i]) {
              throw new NbdError(ERRNO.EIO, "data written does not match expected");
            }
          }
        },

        // Nothing is stored, so there is nothing to flush; having flush() still matters, as
        // `nbdcopy --flush` needs a disk that accepts flushes.
        flush() {},

        // Zeroing a hole changes nothing, so it succeeds; zeroing data cannot be checked as a
        // write and fails, as does trimming it.
        zero: (count, offset) => checkHoles(count, Number(offset)),
        trim: (count, offset) => checkHoles(count, Number(offset)),

        extents: (count, offset, flags, extents) =>
          reportExtents(count, Number(offset), (flags & FLAG.REQ_ONE) !== 0, extents),

        canMultiConn: () => true, // every connection sees the same disk
        canCache: () => CACHE_MODE.NATIVE, // nothing to prefetch: answered at once
      };
    },
  };

  /** Throws EIO unless every block touched by [offset, offset + count) is a hole. */
  function checkHoles(count: number, offset: number): void {
    const last = Math.floor((offset + count - 1) / BLOCK_SIZE);
    for (let b = Math.floor(offset / BLOCK_SIZE); b <= last; b++) {
      if (map!.isData(b)) throw new NbdError(ERRNO.EIO, "trying to trim or zero non-hole in disk");
    }
  }

  /** One extent per run of blocks in the same state, within [offset, offset + count). */
  function reportExtents(count: number, offset: number, one: boolean, extents: ExtentSink): void {
    const end = offset + count;
    const endBlock = Math.ceil(end / BLOCK_SIZE);
    for (let at = offset; at < end;) {
      const first = Math.floor(at / BLOCK_SIZE);
      const type = map!.isData(first) ? EXTENT.DATA : EXTENT.HOLE | EXTENT.ZERO;
      const runEnd = Math.min(end, map!.runEnd(first, endBlock) * BLOCK_SIZE);
      extents.add(at, runEnd - at, type);
      if (one) return; // the client wants only the first extent
      at = runEnd;
    }
  }
}
