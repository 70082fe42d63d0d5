/**
 * example4 (man nbdkit-example4-plugin): nbdkit's example of a plugin written in Perl, in
 * TypeScript. One RAM disk of size=<N> bytes, all zeroes at first, shared by every client;
 * it is gone when the server exits. (Read-only in practice, as under nbdkit: see canWrite.)
 *
 * It walks the life of a plugin in order: config() for each parameter, configComplete() to
 * check them, getReady() to allocate, then open() per connection and the handle's calls.
 */

import { ConfigError } from "../api/errors.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/**
 * A number read as Perl's int() reads a string: the decimal number at its start (after any
 * spaces), truncated toward zero; 0 when there is none. So "1M" is 1, not a megabyte: the
 * Perl example leaves size suffixes as an exercise, and so does this one.
 */
function perlInt(text: string): number {
  const match = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/.exec(text);
  return match ? Math.trunc(Number(match[0])) : 0;
}

export function createExample4Plugin(): Plugin {
  let size: number | undefined;
  let disk = new Uint8Array(0);

  return {
    name: "example4",
    version: VERSION,

    dumpPlugin: () => ["example4_extra=hello"],

    // size=<N>, in bytes, is required.
    config(key, value) {
      if (key !== "size") throw new ConfigError(`unknown parameter ${key}`);
      size = perlInt(value);
    },

    // All parameters are in: complain about missing or wrong ones here.
    configComplete() {
      if (size === undefined) throw new ConfigError("size was not set");
    },

    // The last moment an error still reaches the user directly, before the server starts:
    // so the disk is allocated here. (Perl's "\0" x $size makes an empty disk of a negative
    // size, and so does this.)
    getReady() {
      try {
        disk = new Uint8Array(Math.max(size!, 0));
      } catch {
        throw new ConfigError(`cannot allocate a disk of ${size} bytes`);
      }
    },

    // nbdkit runs Perl plugins one request at a time.
    threadModel: () => THREAD_MODEL.SERIALIZE_ALL_REQUESTS,

    // One handle per connection; they all share the disk.
    open: () => ({
      getSize: () => disk.length,

      // Offsets are numbers: a Uint8Array is far smaller than 2^53 bytes.
      readAt(buf, offset) {
        const at = offset as number;
        buf.set(disk.subarray(at, at + buf.length));
      },

      writeAt(buf, offset) {
        disk.set(buf, offset as number);
      },

      // The Perl script writes, but nbdkit (1.32.5, and still 1.33.11) serves it read-only:
      // its Perl plugin decides whether a script can write by looking for a sub named "write",
      // and the script's is called "pwrite". Clients of nbdkit therefore see a read-only disk,
      // and so do ours. Delete this line to get the writable disk the script means to be.
      canWrite: () => false,
    }),
  };
}
