/**
 * The gzip filter (man nbdkit-gzip-filter): serves the expansion of a gzip-compressed disk,
 * read-only. gzip cannot seek, so the first connection expands the whole disk below into a
 * hidden temporary file in $TMPDIR (default /var/tmp), which every later connection reads; the
 * file is unlinked at once and closed at exit. Extents are not offered, and cache requests are
 * served by reading, as nbdkit's filter does.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import type { Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { expansionAnswers } from "./expansion.ts";
import type { DiskFile, PluginHost } from "../io.ts";
import { gunzipInto } from "./gunzip.ts";

/** nbdkit's LARGE_TMPDIR: where the expansion goes when TMPDIR is not set. */
const DEFAULT_TMPDIR = "/var/tmp";

/** The expanded disk, shared by every connection. */
interface Expansion {
  readonly file: DiskFile;
  readonly size: number;
  /** The size of the compressed disk it came from, checked on each connection. */
  readonly compressedSize: Offset;
}

type TempFiles = Required<Pick<PluginHost, "createTempFile" | "getEnv">>;

export function createGzipFilter(host?: PluginHost): Filter {
  let expansion: Promise<Expansion> | undefined;
  const files = host?.createTempFile ? host as TempFiles : undefined;
  return {
    name: "gzip",
    longname: "nbdts gzip filter",
    version: VERSION,

    load() {
      if (!files) throw new ConfigError("gzip: this runtime offers no temporary files");
    },

    async unload() {
      const done = await expansion?.catch(() => undefined);
      await done?.file.close();
    },

    async open(next, _readonly, exportName) {
      const below = await next(true, exportName);
      let expanded: Expansion | undefined;
      return {
        async prepare() {
          expansion ??= expand(files!, below).catch((error) => {
            expansion = undefined; // the next connection tries again
            throw error;
          });
          expanded = await expansion;
        },
        async getSize() {
          if ((await below.getSize()) !== expanded!.compressedSize) {
            throw new NbdError(
              ERRNO.EIO,
              "plugin size changed unexpectedly: you must restart nbdkit so the gzip filter " +
                "can uncompress the data again",
            );
          }
          return expanded!.size;
        },
        ...expansionAnswers(below, "gzip"),
        readAt: (buf, offset) => readAll(expanded!.file, buf, Number(offset)),
      };
    },
  };
}

/** Expands the disk below into a new temporary file. */
async function expand(files: TempFiles, below: NextHandle): Promise<Expansion> {
  const compressedSize = await below.getSize();
  const directory = files.getEnv("TMPDIR") ?? DEFAULT_TMPDIR;
  const file = await files.createTempFile(directory).catch((error) => {
    throw new NbdError(ERRNO.EIO, `mkostemp: ${directory}: ${messageOf(error)}`);
  });
  try {
    const size = await gunzipInto(below, Number(compressedSize), file);
    return { file, size, compressedSize };
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Fills `buf` from `offset` of the expansion. */
async function readAll(file: DiskFile, buf: Uint8Array, offset: number): Promise<void> {
  for (let done = 0; done < buf.length;) {
    const n = await file.read(done === 0 ? buf : buf.subarray(done), offset + done);
    if (n === 0) throw new NbdError(ERRNO.EIO, "pread: unexpected end of file");
    done += n;
  }
}
