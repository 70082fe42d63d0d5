/**
 * The split plugin (nbdkit-split-plugin): `file=` given once or more, the files joined end to
 * end into one disk, in command-line order. Each connection opens them all (read-write unless
 * -r, as nbdkit opens them: a file that cannot be written fails the open) and sizes them once; a
 * request that crosses from one file into the next is split between them. Extents come from
 * each file's holes where the runtime can find them (Deno and Bun), else each file is data.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import {
  CACHE_MODE,
  type ExtentSink,
  FLAG,
  type Handle,
  type Plugin,
  THREAD_MODEL,
} from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { DiskFile, PluginHost } from "../io.ts";
import { reportExtents, type SeekableFile } from "./file/extents.ts";

/** One file of the disk: where it starts and how long it is. */
interface Part {
  readonly file: DiskFile;
  readonly path: string;
  readonly start: number;
  readonly size: number;
}

type SplitHost = Required<Pick<PluginHost, "realpath" | "openFile">>;

function splitHost(host: PluginHost | undefined): SplitHost {
  if (!host?.openFile) {
    throw new ConfigError("cannot open files: this server gives built-in plugins no file access");
  }
  return host as SplitHost;
}

/** The part holding byte `offset` (one that is not empty), by binary search. */
function partAt(parts: readonly Part[], offset: number): Part {
  let low = 0;
  let high = parts.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const part = parts[middle];
    if (offset < part.start) high = middle - 1;
    else if (offset >= part.start + part.size) low = middle + 1;
    else return part;
  }
  throw new NbdError(ERRNO.EIO, `offset ${offset} is in none of the files`);
}

/**
 * Calls `each(part, offsetInPart, start, length)` for the pieces of [offset, offset+count), one
 * per file they fall in.
 */
async function forEachPiece(
  parts: readonly Part[],
  count: number,
  offset: number,
  each: (part: Part, at: number, done: number, length: number) => Promise<void> | void,
): Promise<void> {
  for (let done = 0; done < count;) {
    const part = partAt(parts, offset + done);
    const at = offset + done - part.start;
    const length = Math.min(part.size - at, count - done);
    await each(part, at, done, length);
    done += length;
  }
}

/** A failed file call as an NbdError, in nbdkit's words ("pread: reason"). */
function failed(call: string, error: unknown): NbdError {
  return error instanceof NbdError
    ? error
    : new NbdError(ERRNO.EIO, `${call}: ${messageOf(error)}`);
}

/** The handle over the non-empty `parts`; `files` are all that were opened, to close. */
function splitHandle(parts: readonly Part[], files: readonly DiskFile[], size: number): Handle {
  return {
    getSize: () => size,
    async readAt(buf, offset) {
      await forEachPiece(parts, buf.length, offset as number, async (part, at, done, length) => {
        for (let moved = 0; moved < length;) {
          const n = await part.file.read(buf.subarray(done + moved, done + length), at + moved)
            .catch((error) => Promise.reject(failed("pread", error)));
          if (n === 0) throw new NbdError(ERRNO.EIO, "pread: unexpected end of file");
          moved += n;
        }
      });
    },
    async writeAt(buf, offset) {
      await forEachPiece(parts, buf.length, offset as number, async (part, at, done, length) => {
        for (let moved = 0; moved < length;) {
          moved += await part.file.write(buf.subarray(done + moved, done + length), at + moved)
            .catch((error) => Promise.reject(failed("pwrite", error)));
        }
      });
    },
    // nbdkit advises the kernel to read ahead (posix_fadvise), which no runtime offers: the
    // request, advisory, succeeds doing nothing.
    canCache: () => CACHE_MODE.NATIVE,
    cache() {},
    canExtents: () => true,
    async extents(count, offset, flags, sink: ExtentSink) {
      const reqOne = (flags & FLAG.REQ_ONE) !== 0;
      await forEachPiece(parts, count, offset as number, (part, at, _done, length) => {
        const shifted: ExtentSink = {
          add: (start, extent, type) => sink.add(part.start + Number(start), extent, type),
        };
        if (part.file.nextData && part.file.nextHole) {
          try {
            reportExtents(part.file as SeekableFile, length, at, reqOne, shifted);
          } catch (error) {
            throw failed("lseek", error);
          }
        } else shifted.add(at, length, 0);
      });
    },
    async close() {
      await Promise.all(files.map((file) => file.close().catch(() => {})));
    },
  };
}

export function createSplitPlugin(host?: PluginHost): Plugin {
  const paths: string[] = [];
  return {
    name: "split",
    version: VERSION,
    magicConfigKey: "file",
    configHelp: "file=<FILENAME>  (required) File(s) to serve.",

    async config(key, value) {
      if (key !== "file") throw new ConfigError(`unknown parameter '${key}'`);
      try {
        paths.push(await splitHost(host).realpath(value));
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError(`realpath: ${value}: ${messageOf(error)}`);
      }
    },

    // As nbdkit's: requests of one connection one at a time (its lseek calls share a lock).
    threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS,

    async open(readonly) {
      const parts: Part[] = [];
      const opened: DiskFile[] = [];
      try {
        let start = 0;
        for (const path of paths) {
          const file = await splitHost(host).openFile(path, readonly).catch((error) =>
            Promise.reject(new NbdError(ERRNO.EIO, `open: ${path}: ${messageOf(error)}`))
          );
          opened.push(file);
          if (!readonly && file.readonly) {
            throw new NbdError(ERRNO.EPERM, `open: ${path}: Permission denied`);
          }
          const size = await file.size();
          if (size > 0) parts.push({ file, path, start, size });
          start += size;
        }
        return splitHandle(parts, opened, start);
      } catch (error) {
        await Promise.all(opened.map((file) => file.close().catch(() => {})));
        throw error;
      }
    },
  };
}
