/**
 * The nozero filter (man nbdkit-nozero-filter): changes how WRITE_ZEROES is offered and served.
 * `zeromode=none` (the default) takes it off the export, `emulate` has the server write zeroes
 * through the layer below's writes, `notrim` passes zeroes on without letting them punch holes,
 * `plugin` passes them on untouched. `fastzeromode` says what a fast zero does: `default` (the
 * layer below decides; with `emulate`, fails at once), `none` (not offered), `slow` (offered,
 * always fails with ENOTSUP), `ignore` (offered, done slowly).
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { type Filter, ZERO_MODE } from "../api/filter.ts";
import { FLAG } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { chosenMode } from "./mode.ts";

const ZERO_MODES = ["none", "emulate", "notrim", "plugin"] as const;
type NozeroMode = (typeof ZERO_MODES)[number];
const FAST_ZERO_MODES = ["default", "none", "slow", "ignore"] as const;
type FastZeroMode = (typeof FAST_ZERO_MODES)[number];

export function createNozeroFilter(): Filter {
  let zeromode: NozeroMode = "none";
  let fastzeromode: FastZeroMode = "default";
  return {
    name: "nozero",
    longname: "nbdts nozero filter",
    version: VERSION,
    configHelp: "zeromode=<MODE>      One of 'none' (default), 'emulate', 'notrim', 'plugin'.\n" +
      "fastzeromode=<MODE>  One of 'default', 'none', 'slow', 'ignore'.",

    config(next, key, value) {
      if (key === "zeromode") zeromode = chosenMode(ZERO_MODES, key, value);
      else if (key === "fastzeromode") fastzeromode = chosenMode(FAST_ZERO_MODES, key, value);
      else return next(key, value);
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const passesOn = zeromode === "notrim" || zeromode === "plugin";
      return {
        async prepare(readonly) {
          // Read-only, the filter changes nothing; else the modes that pass zeroes on need them.
          if (readonly || !passesOn) return;
          if (await below.zeroMode() === ZERO_MODE.NONE) {
            throw new NbdError(ERRNO.EINVAL, `zeromode '${zeromode}' requires plugin zero support`);
          }
        },
        canZero() {
          if (zeromode === "none") return ZERO_MODE.NONE;
          if (zeromode === "emulate") return ZERO_MODE.EMULATE;
          return below.zeroMode();
        },
        canFastZero() {
          if (zeromode === "none") return false;
          if (zeromode !== "emulate" && fastzeromode === "default") return below.canFastZero();
          return fastzeromode !== "none";
        },
        // Only called with `notrim` or `plugin`: otherwise the server never asks this layer.
        zero(count, offset, flags) {
          if (flags & FLAG.FAST_ZERO) {
            if (fastzeromode === "slow") return Promise.reject(slowFastZero());
            if (fastzeromode === "ignore") flags &= ~FLAG.FAST_ZERO;
          }
          if (zeromode === "notrim") flags &= ~FLAG.MAY_TRIM;
          return below.zero(count, offset, flags);
        },
      };
    },
  };
}

function slowFastZero(): NbdError {
  return new NbdError(ERRNO.ENOTSUP, "fast zero refused: fastzeromode=slow");
}
