/**
 * command=/arg=: the nbd plugin starts the server it proxies to, handing it a listening socket by
 * socket activation (PluginHost.startActivated), as nbdkit's does through libnbd. The program is
 * stopped when the plugin unloads.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import type { ActivatedCommand, PluginHost } from "../../io.ts";

export type ActivatedServer = ActivatedCommand;

export async function startCommand(
  host: PluginHost | undefined,
  argv: readonly string[],
): Promise<ActivatedServer> {
  if (!host?.startActivated) {
    throw new ConfigError("command: this server gives built-in plugins no way to run programs");
  }
  try {
    return await host.startActivated(argv);
  } catch (error) {
    throw new ConfigError(`command: ${argv[0]}: ${messageOf(error)}`);
  }
}
