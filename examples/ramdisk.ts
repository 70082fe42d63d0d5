/**
 * A RAM disk in one page: the smallest useful read-write plugin. Unwritten 4 KiB pages read as
 * zero and are reported as holes, so `nbdinfo --map` shows what was written.
 *
 *   node nbd.js ./examples/ramdisk.ts size=64M
 *   deno run -A nbd.ts ./examples/ramdisk.ts 64M       (size is the magic key)
 */

import { ConfigError, EXTENT, type ExtentSink, parseSize, type Plugin } from "../src/mod.ts";

const PAGE = 4096;

export default function createRamdisk(): Plugin {
  let size = 0;
  const pages = new Map<number, Uint8Array>(); // shared by every connection, like nbdkit memory

  /** Calls `visit` for each piece of [offset, offset+length) that lies within one page. */
  function eachPiece(
    length: number,
    offset: number,
    visit: (page: number, at: number, n: number, done: number) => void,
  ) {
    for (let done = 0; done < length;) {
      const at = (offset + done) % PAGE;
      const n = Math.min(PAGE - at, length - done);
      visit(Math.floor((offset + done) / PAGE), at, n, done);
      done += n;
    }
  }

  return {
    name: "ramdisk",
    version: "1.0",
    description: "RAM disk example",
    magicConfigKey: "size",
    configHelp: "size=<SIZE>  (required) Size of the RAM disk",
    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter '${key}'`);
      size = Number(parseSize(value));
      if (!Number.isSafeInteger(size)) throw new ConfigError("size too large for this example");
    },
    configComplete() {
      if (size === 0) throw new ConfigError("you must give size=");
    },
    open: () => {
      // Only whole pages can be dropped; a partial page is zeroed in place.
      const discard = (count: number, offset: number) => {
        eachPiece(count, offset, (page, at, n) => {
          if (n === PAGE) pages.delete(page);
          else pages.get(page)?.fill(0, at, at + n);
        });
      };
      return {
        getSize: () => size,
        readAt(buf: Uint8Array, offset: number) {
          eachPiece(buf.length, offset, (page, at, n, done) => {
            const data = pages.get(page);
            if (data) buf.set(data.subarray(at, at + n), done);
            else buf.fill(0, done, done + n);
          });
        },
        writeAt(buf: Uint8Array, offset: number) {
          eachPiece(buf.length, offset, (page, at, n, done) => {
            let data = pages.get(page);
            if (!data) pages.set(page, data = new Uint8Array(PAGE));
            data.set(buf.subarray(done, done + n), at);
          });
        },
        trim: discard,
        zero: discard,
        flush() {},
        canMultiConn: () => true,
        extents(count: number, offset: number, _flags: number, extents: ExtentSink) {
          const first = Math.floor(offset / PAGE);
          const last = Math.min(Math.ceil((offset + count) / PAGE), Math.ceil(size / PAGE));
          for (let page = first; page < last; page++) {
            const type = pages.has(page) ? EXTENT.DATA : EXTENT.HOLE | EXTENT.ZERO;
            extents.add(page * PAGE, Math.min(PAGE, size - page * PAGE), type);
          }
        },
      };
    },
  };
}
