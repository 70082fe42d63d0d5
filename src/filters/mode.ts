/** A parameter naming one of a few modes, read as nbdkit's filters read theirs. */

import { ConfigError } from "../api/errors.ts";

/** `value` when it is one of `modes`, else nbdkit's "unknown KEY 'VALUE'" refusal. */
export function chosenMode<T extends string>(modes: readonly T[], key: string, value: string): T {
  if ((modes as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`unknown ${key} '${value}'`);
}
