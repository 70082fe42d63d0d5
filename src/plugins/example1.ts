/**
 * example1 (man nbdkit-example1-plugin): the smallest useful plugin. It serves, read-only and
 * from memory, a 100 MB disk image holding a boot sector with one empty Linux partition.
 *
 * Start reading here to learn the plugin API. A plugin is a factory returning an object with a
 * `name` and an `open()`; open() returns a handle for one connection, and a handle needs only
 * `getSize()` and `readAt()`. Everything left out gets nbdkit's default: without `writeAt` the
 * disk is read-only, without `extents` it is all data, and so on (see src/api/plugin.ts).
 */

import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/** The disk's size: 100 MB, as in nbdkit. */
const SIZE = 100 * 1024 * 1024;

/**
 * The first sector, a DOS master boot record. Its parts, by offset:
 *
 *   0x000  boot code: copies itself away, finds the active partition, loads and jumps to it
 *   0x1b8  disk signature
 *   0x1be  partition 1: type 0x83 (Linux), first sector 128, 204545 sectors long
 *   0x1fe  boot signature 55 aa, which marks the sector as a boot record
 */
function bootSector(): Uint8Array {
  const sector = new Uint8Array(512);
  sector.set(
    hex(
      "fab800108ed0bc00b0b800008ed88ec0fbbe007cbf0006b90002f3a4ea21060000bebe073804750b" +
        "83c61081fefe0775f3eb16b402b001bb007cb2808a74018b4c02cd13ea007c0000ebfe",
    ),
    0x000,
  );
  sector.set(hex("e15b0200"), 0x1b8);
  // status, first sector as CHS, type, last sector as CHS, first sector, sector count
  sector.set(hex("00" + "020300" + "83" + "bc310c" + "80000000" + "011f0300"), 0x1be);
  sector.set(hex("55aa"), 0x1fe);
  return sector;
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(text.match(/../g)!, (pair) => parseInt(pair, 16));
}

export function createExample1Plugin(): Plugin {
  // All connections serve the same content, so it lives in the plugin, not in each handle.
  let data = new Uint8Array(0);

  return {
    name: "example1",
    version: VERSION,

    // load() runs once, before anything else: the place to set up shared data. (100 MB of
    // zeroes costs almost nothing until written: the system hands out zero pages lazily.)
    load() {
      data = new Uint8Array(SIZE);
      data.set(bootSector());
    },

    // Any concurrency would be safe here (reads do not change anything), but nbdkit's example
    // keeps the safest model for people who copy it without reading the documentation.
    threadModel: () => THREAD_MODEL.SERIALIZE_ALL_REQUESTS,

    // A read-only plugin can ignore the readonly flag, and this one has no per-connection
    // state, so every handle is the same few functions.
    open: () => ({
      getSize: () => data.length,

      // The server has already checked that the request lies within getSize(), so this need
      // not. A disk below 2^53 bytes always gets `number` offsets.
      readAt(buf, offset) {
        const start = offset as number;
        buf.set(data.subarray(start, start + buf.length));
      },
    }),
  };
}
