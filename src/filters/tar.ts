/**
 * The tar filter (man nbdkit-tar-filter): serves one member of an uncompressed tar archive,
 * `tar-entry=`, for reading and, unless -r, writing in place. The first connection finds the
 * member (tar-headers.ts reads the headers itself, where nbdkit 1.32.5 runs GNU tar, so `tar=`
 * is accepted and unused); every connection then serves that window of the archive, as the
 * offset filter would. `tar-limit=` (from later nbdkit) bounds how far the search reads.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { parseSize } from "../api/parse.ts";
import type { Offset } from "../api/plugin.ts";
import { addOffset } from "../api/offset.ts";
import { VERSION } from "../api/version.ts";
import { findTarMember, TarError, type TarMember } from "./tar-headers.ts";
import { type Window, windowMethods } from "./window.ts";

export function createTarFilter(): Filter {
  let entry: string | undefined;
  let limit = 0;
  let found: Promise<TarMember> | undefined;
  return {
    name: "tar",
    longname: "nbdts tar filter",
    version: VERSION,
    configHelp: "tar-entry=<FILENAME> (required) The path inside the tar file to serve.\n" +
      "tar-limit=<SIZE>     (optional) How far to read looking for it (default: 0, no limit).",

    config(next, key, value) {
      if (key === "tar-entry") {
        if (entry !== undefined) throw new ConfigError("only one tar-entry parameter can be given");
        entry = value;
      } else if (key === "tar-limit") limit = Number(parseSize(value));
      else if (key !== "tar") return next(key, value);
    },

    configComplete(next) {
      if (entry === undefined) {
        throw new ConfigError("you must supply the tar-entry=<FILENAME> parameter");
      }
      return next();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const window: Window = { start: 0, end: 0 };
      let size: Offset = 0;
      return {
        async prepare() {
          found ??= find(below, entry!, limit).catch((error) => {
            found = undefined; // the next connection looks again
            throw error;
          });
          const member = await found;
          window.start = member.offset;
          window.end = addOffset(member.offset, member.size);
          size = member.size;
        },
        async getSize() {
          await below.getSize(); // as nbdkit: the layers below learn their size first
          return size;
        },
        async exportDescription() {
          const base = await below.exportDescription();
          return base === undefined ? undefined : `embedded ${entry} from within tar file: ${base}`;
        },
        ...windowMethods(below, window),
      };
    },
  };
}

async function find(below: NextHandle, entry: string, limit: number): Promise<TarMember> {
  const read = async (count: number, offset: number) => {
    const bytes = new Uint8Array(count);
    await below.readAt(bytes, offset);
    return bytes;
  };
  try {
    return await findTarMember(read, Number(await below.getSize()), entry, limit);
  } catch (error) {
    if (error instanceof TarError) throw new NbdError(ERRNO.EIO, `tar: ${messageOf(error)}`);
    throw error;
  }
}
