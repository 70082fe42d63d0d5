/**
 * The nbd plugin's TLS to its server, as nbdkit's: tls=off|on|require (require, required and
 * force all require; any other boolean is on or off), tls-certificates=DIR, tls-verify=BOOL,
 * tls-username=NAME, tls-psk=FILE. Without tls=, any tls-*= turns TLS on, else it is off; an
 * nbds URI requires it. The files are read once, at configuration, through the PluginHost.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import { parseBool } from "../../api/parse.ts";
import type { ClientTlsCredentials, PluginHost } from "../../io.ts";
import { loadClientCredentials } from "../../client/tls-files.ts";
import type { UriTls } from "../../client/uri.ts";

export type TlsMode = "off" | "on" | "require";

export class TlsParams {
  private mode: TlsMode | undefined;
  private settings: { -readonly [K in keyof UriTls]: UriTls[K] } = {};

  /** Takes a tls key; false for any other key. */
  config(key: string, value: string): boolean {
    switch (key) {
      case "tls":
        this.mode = /^(require|required|force)$/i.test(value)
          ? "require"
          : parseBool(value)
          ? "on"
          : "off";
        return true;
      case "tls-certificates":
        this.settings.certificates = value;
        return true;
      case "tls-verify":
        this.settings.verifyPeer = parseBool(value);
        return true;
      case "tls-username":
        this.settings.username = value;
        return true;
      case "tls-psk":
        this.settings.pskFile = value;
        return true;
      default:
        return false;
    }
  }

  /** The mode in force (`required` by an nbds URI) and the credentials read from the files. */
  async settle(
    host: PluginHost | undefined,
    required: boolean,
  ): Promise<{ mode: TlsMode; credentials?: Partial<ClientTlsCredentials> }> {
    const named = Object.values(this.settings).some((value) => value !== undefined);
    const mode = required ? "require" : this.mode ?? (named ? "on" : "off");
    if (mode === "off") return { mode };
    const read = async (path: string) => {
      if (!host) throw new ConfigError("tls: this server gives built-in plugins no files");
      try {
        return await host.readFile(path, 0, undefined);
      } catch {
        return undefined; // missing: loadClientCredentials says which file
      }
    };
    const user = host?.getEnv("USER") ?? host?.getEnv("LOGNAME") ?? "";
    try {
      return { mode, credentials: await loadClientCredentials(this.settings, read, user) };
    } catch (error) {
      throw new ConfigError(`tls: ${messageOf(error)}`);
    }
  }
}
