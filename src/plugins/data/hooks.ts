/**
 * What the data plugin needs from the world outside the core, given to createDataPlugin by
 * whoever knows the runtime: file contents for <FILE, a shell for <(SCRIPT), the environment
 * for $VAR. Each is optional; one that is missing makes the construct fail with a ConfigError
 * saying it is not available here. It never reads a file, runs a command or looks a variable up itself.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import type { CommandResult } from "../../io.ts";
import type { MaybePromise } from "../../api/plugin.ts";

export type { CommandResult };

export interface DataHooks {
  /**
   * The bytes of file `path` (relative to the server's working directory) from byte `offset`:
   * `length` bytes, fewer at end of file, or all the rest when `length` is undefined. Reading
   * must not be unbounded when `length` is given: `</dev/urandom[:512]` reads 512 bytes.
   * Throw an Error whose message says why it failed ("No such file or directory").
   */
  readFile?(path: string, offset: number, length: number | undefined): MaybePromise<Uint8Array>;
  /**
   * Runs `script` with /bin/sh and collects its standard output. With `limit`, stop reading
   * after that many bytes and close the pipe, as `<(yes)[:512]` expects.
   */
  runCommand?(script: string, limit: number | undefined): MaybePromise<CommandResult>;
  /** The environment variable `name`, for $VAR when no plugin parameter has that name. */
  getEnv?(name: string): string | undefined;
}

/** The hooks with every function present: the missing ones refuse. */
export interface Sources {
  readFile(path: string, offset: number, length: number | undefined): Promise<Uint8Array>;
  runCommand(script: string, limit: number | undefined): Promise<CommandResult>;
  getEnv(name: string): string | undefined;
}

export function toSources(hooks: DataHooks): Sources {
  return {
    async readFile(path, offset, length) {
      if (!hooks.readFile) {
        throw new ConfigError(`<${path}: reading files is not available here`);
      }
      try {
        const bytes = await hooks.readFile(path, offset, length);
        return length !== undefined && bytes.length > length ? bytes.subarray(0, length) : bytes;
      } catch (error) {
        throw asConfigError(error, path);
      }
    },
    async runCommand(script, limit) {
      if (!hooks.runCommand) {
        throw new ConfigError(`<(${script}): running commands is not available here`);
      }
      try {
        return await hooks.runCommand(script, limit);
      } catch (error) {
        throw asConfigError(error, `<(${script})`);
      }
    },
    getEnv: (name) => hooks.getEnv?.(name),
  };
}

function asConfigError(error: unknown, what: string): ConfigError {
  if (error instanceof ConfigError) return error;
  return new ConfigError(`${what}: ${messageOf(error)}`);
}
