/**
 * Hands -D NAME.FLAG=N to whoever NAME is, as nbdkit's server/debug-flags.c does: a plugin
 * gets the flags it declares in `debugFlags`; a flag it does not declare, or one naming no
 * plugin, only earns the warning nbdkit prints.
 */

import type { DebugFlag } from "./option-values.ts";

/** The server's own -D nbdkit.FLAG flags in nbdkit 1.32: accepted, and nothing to set here. */
const SERVER_FLAGS = ["backend.controlpath", "backend.datapath", "tls.log", "tls.session"];

/** The name nbdkit's server answers to in -D, kept so nbdkit command lines work unchanged. */
export const SERVER_DEBUG_NAME = "nbdkit";

/** nbdkit's C variable for a flag (`NAME_debug_FLAG`, dots as underscores), for warnings. */
function symbolOf(flag: DebugFlag): string {
  return `${flag.name}_debug_${flag.flag}`.replaceAll(".", "_");
}

/**
 * Sets every flag for `name` in `target` (a plugin's `debugFlags`, or undefined when it
 * declares none), marking it in `used`. Returns the warnings for flags `target` lacks (each
 * to be printed after the program's name, as an error line is). Like
 * nbdkit, the flags are applied last-given first, so the first of two equal flags wins.
 */
export function applyDebugFlags(
  flags: readonly DebugFlag[],
  name: string,
  target: Record<string, number> | undefined,
  used: Set<DebugFlag>,
): string[] {
  const warnings: string[] = [];
  for (const flag of [...flags].reverse()) {
    if (used.has(flag) || flag.name !== name) continue;
    used.add(flag);
    const known = name === SERVER_DEBUG_NAME
      ? SERVER_FLAGS.includes(flag.flag)
      : target !== undefined && Object.hasOwn(target, flag.flag);
    if (!known) {
      warnings.push(
        `warning: -D ${name}.${flag.flag}: ${name} does not contain a global variable called ${
          symbolOf(flag)
        }`,
      );
    } else if (target !== undefined) target[flag.flag] = flag.value;
  }
  return warnings;
}

/** nbdkit's warning for each flag that named nothing loaded, last given first. */
export function unusedDebugFlags(flags: readonly DebugFlag[], used: Set<DebugFlag>): string[] {
  return [...flags].reverse().filter((flag) => !used.has(flag)).map((flag) =>
    `warning: debug flag -D ${flag.name}.${flag.flag} was not used`
  );
}
