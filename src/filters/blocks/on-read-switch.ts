/**
 * The `cow-on-read=` and `cache-on-read=` parameters: a boolean, or an absolute /PATH that
 * turns the behaviour on while that file exists, looked at before each read as nbdkit does (so
 * it can be switched while the server runs). The check is one synchronous access() call.
 */

import { ConfigError } from "../../api/errors.ts";
import { parseBool } from "../../api/parse.ts";
import type { PluginHost } from "../../io.ts";

export class OnReadSwitch {
  readonly #host: PluginHost | undefined;
  #on = false;
  #path: string | undefined;

  constructor(host: PluginHost | undefined) {
    this.#host = host;
  }

  /** Takes the parameter's value; `key` names it in errors. */
  set(key: string, value: string): void {
    if (value.startsWith("/")) {
      if (this.#host?.pathExists === undefined) {
        throw new ConfigError(`${key}=/PATH needs files, which this runtime does not give`);
      }
      this.#path = value;
      return;
    }
    this.#on = parseBool(value);
    this.#path = undefined;
  }

  /** Whether reads are kept now. */
  enabled(): boolean {
    return this.#path === undefined ? this.#on : this.#host!.pathExists!(this.#path);
  }
}
