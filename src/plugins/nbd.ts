/**
 * nbd (man nbdkit-nbd-plugin): serves what another NBD server serves, by proxy. Where that
 * server is comes from exactly one of `[uri=]URI` (nbd, nbd+unix, nbd+ws …), `socket=`,
 * `hostname=`/`port=` or `command=`/`arg=`; `export=`, `dynamic-export=`, `retry=` and `shared=`
 * work as nbdkit's. Each client gets its own connection to that server unless it is shared.
 * Connections come from the runtime's PluginHost; the requests are handle.ts's.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import { parseBool } from "../api/parse.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import type { Plugin } from "../api/plugin.ts";
import { THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { ConnectTarget, PluginHost } from "../io.ts";
import type { NbdClient } from "../client/client.ts";
import { connect, list, transportOf } from "../client/connect.ts";
import { type NbdTarget, parseNbdUri } from "../client/uri.ts";
import { createNbdHandle } from "./nbd/handle.ts";
import { type ActivatedServer, startCommand } from "./nbd/command.ts";
import { NBD_CONFIG_HELP } from "./nbd/params.ts";
import { TlsParams } from "./nbd/tls-params.ts";
import type { ClientTlsCredentials } from "../io.ts";
import { DialIn, parseListenAddress } from "./nbd/websocket-listen.ts";

/** The server's address, with the export name to ask for (decided per connection). */
function targetOf(where: ConnectTarget, exportName: string): NbdTarget {
  return { ...where, exportName, tls: false } as NbdTarget;
}

export function createNbdPlugin(host?: PluginHost): Plugin {
  const given: Partial<Record<"uri" | "socket" | "hostname" | "port" | "export", string>> = {};
  const command: string[] = [];
  const origins: string[] = [];
  let listenAt: { host?: string; port: number } | undefined;
  let dialIn: DialIn | undefined;
  let retry = 0;
  let shared: boolean | undefined;
  let dynamicExport = false;
  const tlsParams = new TlsParams();
  let tls: { mode: "off" | "on" | "require"; credentials?: Partial<ClientTlsCredentials> } = {
    mode: "off",
  };
  let where: ConnectTarget | undefined;
  let exportName = "";
  let sharedClient: NbdClient | undefined;
  let activated: ActivatedServer | undefined;

  function connector() {
    if (!host?.connect) {
      throw new ConfigError("cannot connect: this server gives built-in plugins no sockets");
    }
    return host.connect;
  }

  /** Connects to `name` on the server, trying `retry` more times a second apart (nbdkit's). */
  async function open(name: string): Promise<NbdClient> {
    const target = targetOf(where!, name);
    for (let attempt = 0;; attempt++) {
      try {
        return await connect(target, {
          connect: connector(),
          tlsMode: tls.mode,
          tls: tls.credentials,
        });
      } catch (error) {
        if (attempt >= retry) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  return {
    name: "nbd",
    longname: "nbdkit nbd plugin",
    version: VERSION,
    magicConfigKey: "uri",
    configHelp: NBD_CONFIG_HELP,
    threadModel: () => THREAD_MODEL.PARALLEL,

    config(key, value) {
      switch (key) {
        case "uri":
        case "socket":
        case "hostname":
        case "port":
        case "export":
          given[key] = value;
          return;
        case "command":
        case "arg":
          command.push(value);
          return;
        case "websocket-listen":
          listenAt = parseListenAddress(value);
          return;
        case "websocket-origin":
          origins.push(value);
          return;
        case "retry":
          retry = parseUnsigned("retry", value);
          return;
        case "shared":
          shared = parseBool(value);
          return;
        case "dynamic-export":
          dynamicExport = parseBool(value);
          return;
        default:
          if (tlsParams.config(key, value)) return;
          throw new ConfigError(`unknown parameter '${key}'`);
      }
    },

    async configComplete() {
      const ways = [
        given.socket,
        given.hostname,
        given.uri,
        command.length > 0 || undefined,
        listenAt,
      ].filter((way) => way !== undefined).length;
      if (ways > 1) {
        throw new ConfigError(
          "cannot mix Unix ‘socket’, TCP ‘hostname’/‘port’, ‘vsock’, ‘command’, ‘socket-fd’ " +
            "and ‘uri’ parameters",
        );
      }
      if (ways === 0) {
        throw new ConfigError(
          "exactly one of ‘socket’, ‘hostname’, ‘vsock’, ‘command’, ‘socket-fd’ and ‘uri’ " +
            "parameters must be specified",
        );
      }
      if (given.port !== undefined && given.hostname === undefined) {
        throw new ConfigError("‘port’ parameter should only be used with ‘hostname’ or ‘vsock’");
      }
      let uriExport = "";
      let required = false; // an nbds URI
      if (given.uri !== undefined) {
        let parsed: NbdTarget;
        try {
          parsed = parseNbdUri(given.uri);
        } catch (error) {
          throw new ConfigError(`uri: ${messageOf(error)}`);
        }
        uriExport = parsed.exportName;
        required = parsed.tls;
        where = transportOf(parsed);
      } else if (given.socket !== undefined) {
        where = { kind: "unix", path: given.socket };
      } else if (given.hostname !== undefined) {
        const port = parseUnsigned("port", given.port ?? "10809");
        where = { kind: "tcp", host: given.hostname, port };
      } else shared = true; // command= implies shared, as in nbdkit; so does websocket-listen=
      if (dynamicExport && given.export !== undefined) {
        throw new ConfigError("cannot mix 'dynamic-export' with explicit export name");
      }
      if (dynamicExport && shared) {
        throw new ConfigError("cannot use 'dynamic-export' with shared connection");
      }
      exportName = given.export ?? uriExport;
      tls = await tlsParams.settle(host, required);
    },

    async afterFork() {
      if (listenAt) {
        dialIn = new DialIn();
        await dialIn.listen(host, listenAt, origins);
        return; // the server comes when a web page dials in
      }
      if (command.length > 0) {
        activated = await startCommand(host, command);
        where = activated.target;
      }
      if (shared) sharedClient = await open(exportName);
    },

    async unload() {
      await dialIn?.close();
      await sharedClient?.disconnect();
      activated?.stop();
    },

    dumpPlugin: () => ["libnbd_tls=1", "libnbd_uri=1", "libnbd_vsock=0", "libnbd_dynamic_list=1"],

    async listExports() {
      if (!dynamicExport) return [{ name: "" }];
      const options = { connect: connector(), tlsMode: tls.mode, tls: tls.credentials };
      return (await list(targetOf(where!, ""), options))
        .map(({ name, description }) => ({ name, description: description || undefined }));
    },

    defaultExport: () => (dynamicExport ? "" : exportName),

    async open(readonly, clientExport) {
      if (dialIn) return createNbdHandle(await dialIn.next(), readonly, true);
      if (sharedClient) return createNbdHandle(sharedClient, readonly, true);
      const client = await open(dynamicExport ? clientExport : exportName);
      return createNbdHandle(client, readonly, false);
    },
  };
}
