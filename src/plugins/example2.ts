/**
 * example2 (man nbdkit-example2-plugin): serves one file, read-only. Read it after example1 for
 * what a real plugin adds: a required parameter checked in configComplete(), a handle with
 * per-connection state (an open file) released in close(), and errors reported with an errno.
 *
 * The core does not give plugins the file system (it must run where there is none), so the
 * factory is handed a FileAccess. The command line's built-in example2 gets none yet and says
 * so when given a file; an embedding program can pass its own.
 */

import { debug } from "../api/debug.ts";
import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import type { PluginHost, ReadableFile } from "../io.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";

/** The file system calls example2 needs: part of what the runtime gives plugins. */
export type FileAccess = Pick<PluginHost, "realpath" | "openReadOnly">;

export function createExample2Plugin(files?: FileAccess): Plugin {
  let filename: string | undefined;
  // Debug flags, set by -D example2.FLAG=N before load(). For ordinary debugging use debug()
  // alone: its lines print with -v.
  const debugFlags = { extra: 0 };

  return {
    name: "example2",
    version: VERSION,
    configHelp: "file=<FILENAME>     (required) The filename to serve.",

    debugFlags,

    // Extra key=value lines for `--dump-plugin`.
    dumpPlugin: () => ["example2_extra=hello"],

    // Called once for each key=value on the command line, in order.
    async config(key, value) {
      if (key !== "file") throw new ConfigError(`unknown parameter '${key}'`);
      if (!files) {
        throw new ConfigError(
          "cannot open files: this server gives built-in plugins no file access",
        );
      }
      // Made absolute now: a relative name would mean something else if the server changed
      // directory later (nbdkit-plugin(3), "FILENAMES AND PATHS").
      try {
        filename = await files.realpath(value);
      } catch (error) {
        throw new ConfigError(`realpath: ${value}: ${messageOf(error)}`);
      }
    },

    // Called after the last config(): the place to insist on required parameters.
    configComplete() {
      if (filename === undefined) {
        throw new ConfigError(
          "you must supply the file=<FILENAME> parameter after the plugin name on the command line",
        );
      }
    },

    // Serial requests would do for a file read at explicit offsets, but nbdkit's example keeps
    // the safest model for people who copy it without reading the documentation.
    threadModel: () => THREAD_MODEL.SERIALIZE_ALL_REQUESTS,

    // Each connection opens the file for itself. The disk is read-only because the handle has
    // no writeAt, so the readonly flag can be ignored.
    async open() {
      const path = filename!;
      let file: ReadableFile;
      try {
        file = await files!.openReadOnly(path);
      } catch (error) {
        throw new NbdError(ERRNO.EIO, `open: ${path}: ${messageOf(error)}`);
      }
      return {
        // Asked again per connection, so a file that grew between connections is seen whole.
        async getSize() {
          const size = await file.size();
          // A contrived use of a debug flag, as nbdkit's example2 has: -D example2.extra=1.
          if (debugFlags.extra) debug(`extra debugging: statbuf.st_size = ${size}`);
          return size;
        },

        // A read may return fewer bytes than asked: keep going until the buffer is full.
        async readAt(buf, offset) {
          let at = offset as number; // a file below 2^53 bytes: always a number
          for (let done = 0; done < buf.length;) {
            const n = await file.read(buf.subarray(done), at);
            if (n === 0) throw new NbdError(ERRNO.EIO, "pread: unexpected end of file");
            done += n;
            at += n;
          }
        },

        // The connection is gone: release what open() took.
        close: () => file.close(),
      };
    },
  };
}
