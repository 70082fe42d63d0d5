/**
 * websocket-listen=: the nbd plugin's server dials in instead of being dialed: the plugin listens
 * for WebSockets, and a web page serving a disk (examples/browser/serve.html) connects and speaks
 * NBD as the server. The latest such server is the one every client of nbdts reaches; clients that
 * come before any has connected wait for one. Web pages are let in only from the origins listed
 * (websocket-origin=), as nbdts's own --websocket listener lets them in.
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import type { NbdClient } from "../../client/client.ts";
import { clientOver } from "../../client/connect.ts";
import type { Listener, PluginHost, UpgradeCheck } from "../../io.ts";
import { logError } from "../../api/error-log.ts";
import { parseHostPort } from "../../api/listen-address.ts";

/** Where to listen: "[HOST:]PORT", as nbdkit's -i and -p would say it. */
export function parseListenAddress(text: string): { host?: string; port: number } {
  const address = parseHostPort(text);
  if (address === undefined) {
    throw new ConfigError(`websocket-listen: cannot parse '${text}': expected [HOST:]PORT`);
  }
  return address;
}

/** Web pages from `origins` only ("*": any); programs, which send no Origin, always. */
function originCheck(origins: readonly string[]): UpgradeCheck {
  return (origin, _host, peer) => {
    if (origin === undefined || origins.includes("*") || origins.includes(origin)) return undefined;
    const reason = `Origin "${origin}" is not allowed`;
    logError(`websocket-listen: refused ${peer}: ${reason} (allow it with websocket-origin=)`);
    return reason;
  };
}

export class DialIn {
  private current: NbdClient | undefined;
  private waiters: ((client: NbdClient) => void)[] = [];
  private listener: Listener | undefined;

  async listen(
    host: PluginHost | undefined,
    address: { host?: string; port: number },
    origins: readonly string[],
  ): Promise<void> {
    if (!host?.listen) {
      throw new ConfigError("websocket-listen: this server gives built-in plugins no listener");
    }
    const check = originCheck(origins);
    this.listener = await host.listen(
      { kind: "websocket", ...address, check },
      (channel) => {
        const { receiver, client } = clientOver(channel);
        client.then((connected) => this.arrived(connected), (error) => {
          logError(`websocket-listen: ${channel.peer}: ${messageOf(error)}`);
        });
        return receiver;
      },
    );
  }

  /** The port actually listened on (for -p 0 style tests and logs). */
  get port(): number | undefined {
    return this.listener?.port;
  }

  /** The server connected now, or the next one to connect. */
  next(): Promise<NbdClient> {
    if (this.current) return Promise.resolve(this.current);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async close(): Promise<void> {
    await this.current?.disconnect();
    await this.listener?.close();
  }

  private arrived(client: NbdClient): void {
    this.current = client;
    void client.closed.then(() => {
      if (this.current === client) this.current = undefined;
    });
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake(client);
  }
}
