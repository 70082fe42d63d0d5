/**
 * Plugin parameters, the words after the plugin name: each is `key=value` when the text before
 * its first '=' is a valid config key, else a bare value; resolveParams then gives bare values
 * their key as nbdkit's main() does (the plugin's magic config key, or "script").
 */

import { ConfigError } from "../api/errors.ts";
import { isConfigKey } from "../load/config-key.ts";

/** One parameter word as typed: `key` is missing for a bare value. */
export interface RawParam {
  readonly key?: string;
  readonly value: string;
}

/** A parameter ready for the plugin's config(key, value). */
export interface Param {
  readonly key: string;
  readonly value: string;
}

/** The key nbdkit gives a first bare value when the plugin has no magic config key. */
export const SCRIPT_KEY = "script";

/**
 * Splits one word: "size=1G" is key "size"; "1G", "=5", "_a=5" and "1 2 = 3" are bare values,
 * because "", "_a" and "1 2 " are not config keys. Only the first '=' splits.
 */
export function splitParam(word: string): RawParam {
  const equals = word.indexOf("=");
  if (equals >= 0) {
    const key = word.slice(0, equals);
    if (isConfigKey(key)) return { key, value: word.slice(equals + 1) };
  }
  return { value: word };
}

/**
 * Gives every parameter a key, in order. With a magic config key, each bare value gets it
 * (`memory 1G` is `size=1G`). Without one, only a bare value in first position is allowed and
 * becomes `script=…` (`nbdkit perl foo.pl`); any other bare value is an error.
 */
export function resolveParams(
  params: readonly RawParam[],
  magicConfigKey: string | undefined,
  pluginName: string,
): Param[] {
  return params.map(({ key, value }, index) => {
    if (key !== undefined) return { key, value };
    if (magicConfigKey !== undefined) return { key: magicConfigKey, value };
    if (index === 0) return { key: SCRIPT_KEY, value };
    throw new ConfigError(
      `expecting key=value on the command line but got: ${value} ` +
        `(plugin '${pluginName}' has no magic config key)`,
    );
  });
}
