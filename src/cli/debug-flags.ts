/**
 * Hands -D NAME.FLAG=N to whoever NAME is, as nbdkit's server/debug-flags.c does: a plugin
 * gets the flags it declares in `debugFlags`, the server (named "nbdkit") its own; a flag
 * nobody declares, or one naming nothing loaded, only earns the warning nbdkit prints.
 */

import type { DebugFlag } from "./option-values.ts";

/**
 * The server's own -D nbdkit.FLAG flags in nbdkit 1.32, with their defaults: the backend ones
 * turn the control-path and request lines of -v off (api/log.ts); the TLS ones are accepted.
 */
export function serverDebugFlags(): Record<string, number> {
  return { "backend.controlpath": 1, "backend.datapath": 1, "tls.log": 0, "tls.session": 0 };
}

/** The name nbdkit's server answers to in -D, kept so nbdkit command lines work unchanged. */
export const SERVER_DEBUG_NAME = "nbdkit";

/** nbdkit's C variable for a flag (`NAME_debug_FLAG`, dots as underscores), for warnings. */
function symbolOf(flag: DebugFlag): string {
  return `${flag.name}_debug_${flag.flag}`.replaceAll(".", "_");
}

/**
 * Sets every flag for `name` in `target` (a plugin's `debugFlags`, or undefined when it
 * declares none; the server's is serverDebugFlags()), marking it in `used`. Returns the
 * warnings for flags `target` lacks (each to be printed after the program's name, as an error
 * line is). Like
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
    if (target === undefined || !Object.hasOwn(target, flag.flag)) {
      warnings.push(
        `warning: -D ${name}.${flag.flag}: ${name} does not contain a global variable called ${
          symbolOf(flag)
        }`,
      );
    } else target[flag.flag] = flag.value;
  }
  return warnings;
}

/** nbdkit's warning for each flag that named nothing loaded, last given first. */
export function unusedDebugFlags(flags: readonly DebugFlag[], used: Set<DebugFlag>): string[] {
  return [...flags].reverse().filter((flag) => !used.has(flag)).map((flag) =>
    `warning: debug flag -D ${flag.name}.${flag.flag} was not used`
  );
}

/** Which kinds of -v lines the server's flags leave on: nbdkit's backend.* flags, 0 is off. */
export function backendSwitches(server: Record<string, number>) {
  return {
    controlpath: server["backend.controlpath"] !== 0,
    datapath: server["backend.datapath"] !== 0,
  };
}
