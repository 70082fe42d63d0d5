/**
 * A filter in one page: serves the disk below from byte `offset=N` on, so a client sees a disk
 * N bytes shorter whose byte 0 is the plugin's byte N (a small nbdkit-offset-filter). It shows
 * the parts of a filter: a config key of its own, passing the others on, and open() returning
 * the handle methods it changes; the rest (flush, can*, …) pass through untouched.
 *
 *   node nbd.js --filter=./examples/offset-filter.ts memory 1M offset=4096
 */

import { ConfigError, type ExtentSink, type Filter, parseSize } from "../src/mod.ts";

export default function createOffsetFilter(): Filter {
  let offset = 0;
  return {
    name: "offset",
    configHelp: "offset=<SIZE>            Bytes of the plugin's disk to skip.",

    config(next, key, value) {
      if (key !== "offset") return next(key, value); // the plugin's, or the next filter's
      offset = Number(parseSize(value));
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const size = Number(await below.getSize());
      if (offset > size) throw new ConfigError(`offset ${offset} is past the disk's end (${size})`);
      const at = (position: number | bigint) => Number(position) + offset;
      return {
        getSize: () => size - offset,
        readAt: (buf, position) => below.readAt(buf, at(position)),
        writeAt: (buf, position, flags) => below.writeAt(buf, at(position), flags),
        zero: (count, position, flags) => below.zero(count, at(position), flags),
        trim: (count, position, flags) => below.trim(count, at(position), flags),
        cache: (count, position, flags) => below.cache(count, at(position), flags),
        extents(count, position, flags, sink) {
          const shifted: ExtentSink = {
            add: (start, length, type) => sink.add(Number(start) - offset, length, type),
          };
          return below.extents(count, at(position), flags, shifted);
        },
      };
    },
  };
}
