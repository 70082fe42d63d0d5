/**
 * The fua filter (man nbdkit-fua-filter): changes how Forced Unit Access is offered and served.
 * `fuamode=none` (the default) offers no FUA; `emulate` offers it and serves it with a flush
 * after the write; `native` offers it and passes it on; `force` makes every write, trim and
 * zero FUA and drops flushes (which then have nothing left to do); `pass` changes nothing;
 * `discard` offers it and drops it, flushes too: fast and unsafe.
 *
 * nbdkit 1.32.5 refuses `fuamode=none` ("unknown fuamode 'none'"), which its manual documents;
 * it is taken here. Its refusal of `native` over a layer without FUA names the mode 'emulate';
 * here it names the mode given.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { FLAG, FUA_MODE, type Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { chosenMode } from "./mode.ts";

const MODES = ["none", "emulate", "native", "force", "pass", "discard"] as const;
type Mode = (typeof MODES)[number];

export function createFuaFilter(): Filter {
  let mode: Mode = "none";
  return {
    name: "fua",
    longname: "nbdts fua filter",
    version: VERSION,
    configHelp: "fuamode=<MODE>       One of 'none' (default), 'emulate', 'native',\n" +
      "                       'force', 'pass'.",

    config(next, key, value) {
      if (key === "fuamode") mode = chosenMode(MODES, key, value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      /** What a write-like request's flags become on their way down. */
      const add = mode === "force" ? FLAG.FUA : 0;
      const drop = mode === "discard" || mode === "emulate" ? FLAG.FUA : 0;
      const ownsFlush = mode === "force" || mode === "discard";
      return {
        async prepare(readonly) {
          if (!readonly) await checkBelow(below, mode);
        },
        canFlush: () => ownsFlush || below.canFlush(),
        canFua() {
          if (mode === "none") return FUA_MODE.NONE;
          if (mode === "emulate") return FUA_MODE.EMULATE;
          return mode === "pass" ? below.canFua() : FUA_MODE.NATIVE;
        },
        writeAt(buf, offset, flags) {
          if (mode === "emulate" && flags & FLAG.FUA) return writeThenFlush(below, buf, offset);
          return below.writeAt(buf, offset, (flags | add) & ~drop);
        },
        trim(count, offset, flags) {
          if (mode === "emulate" && flags & FLAG.FUA) {
            return thenFlush(below, below.trim(count, offset, flags & ~FLAG.FUA));
          }
          return below.trim(count, offset, (flags | add) & ~drop);
        },
        zero(count, offset, flags) {
          if (mode === "emulate" && flags & FLAG.FUA) {
            return thenFlush(below, below.zero(count, offset, flags & ~FLAG.FUA));
          }
          return below.zero(count, offset, (flags | add) & ~drop);
        },
        // force: every write was FUA already; discard: flushes are what it throws away.
        flush: (flags) => ownsFlush ? undefined : below.flush(flags),
      };
    },
  };
}

/** The modes that lean on the layer below refuse an export it cannot serve them on. */
async function checkBelow(below: NextHandle, mode: Mode): Promise<void> {
  if (mode === "emulate" && !(await below.canFlush())) {
    throw new NbdError(ERRNO.EINVAL, "fuamode 'emulate' requires plugin flush support");
  }
  if ((mode === "native" || mode === "force") && await below.canFua() === FUA_MODE.NONE) {
    throw new NbdError(ERRNO.EINVAL, `fuamode '${mode}' requires plugin fua support`);
  }
}

async function writeThenFlush(below: NextHandle, buf: Uint8Array, offset: Offset) {
  await below.writeAt(buf, offset, 0);
  await below.flush(0);
}

async function thenFlush(below: NextHandle, done: unknown): Promise<void> {
  await done;
  await below.flush(0);
}
