/**
 * `nbdts/client` on Node and Deno: the client of src/client.ts with this runtime's transports
 * (node-connect.ts): TCP and Unix sockets on node:net, STARTTLS over node:tls, and WebSockets
 * for nbd+ws. The TLS files an nbds URI's query names are read here (node:fs). Bun's entry,
 * bun-client.ts, is this with Bun's own sockets.
 * @module
 */

import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import * as client from "../client.ts";
import { connectSocket } from "./node-connect.ts";

export * from "../client.ts";

/** A file's bytes, or undefined when it does not exist. */
async function readIfThere(path: string): Promise<Uint8Array | undefined> {
  try {
    return await readFile(path);
  } catch (error) {
    if ((error as { code?: string }).code === "ENOENT") return undefined;
    throw error;
  }
}

/** `connect` and `list` over one runtime's sockets. */
export interface SocketClient {
  connect(
    uri: string | client.NbdTarget,
    options?: client.ConnectOptions,
  ): Promise<client.NbdClient>;
  list(
    uri: string | client.NbdTarget,
    options?: client.ConnectOptions,
  ): Promise<client.ListedExport[]>;
}

/**
 * `connect` and `list` over `sockets` (node:net's here; bun-client.ts gives Bun's own), with
 * the TLS files an nbds URI names read first.
 */
export function clientOver(sockets: client.Connect): SocketClient {
  /** The target, and options with these sockets and the URI's TLS files read. */
  async function withRuntime(
    uri: string | client.NbdTarget,
    options: client.ConnectOptions,
  ): Promise<[client.NbdTarget, client.ConnectOptions]> {
    const target = typeof uri === "string" ? client.parseNbdUri(uri) : uri;
    const query = target.tlsQuery;
    const tls = options.tls ??
      (query && await client.loadClientCredentials(query, readIfThere, userInfo().username));
    return [target, { connect: sockets, ...options, tls }];
  }
  return {
    connect: async (uri, options = {}) =>
      await client.connect(...(await withRuntime(uri, options))),
    list: async (uri, options = {}) => await client.list(...(await withRuntime(uri, options))),
  };
}

const ours: SocketClient = clientOver(connectSocket);

/**
 * Connects to the export a URI names (nbd://, nbds://, nbd+unix://, nbd+ws://…) and negotiates;
 * an nbds URI's tls-certificates, tls-verify-peer, tls-psk-file and tls-username are libnbd's.
 */
export const connect: SocketClient["connect"] = ours.connect;

/** The exports the server at `uri` lists. */
export const list: SocketClient["list"] = ours.list;
