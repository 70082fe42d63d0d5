/**
 * `nbdts/client` on Node, Deno and Bun: the client of src/client.ts with this runtime's
 * transports (node-connect.ts): TCP and Unix sockets on node:net, and WebSockets for nbd+ws.
 * @module
 */

import * as client from "../client.ts";
import { connectSocket } from "./node-connect.ts";

export * from "../client.ts";

/** Connects to the export a URI names (nbd://, nbd+unix://, nbd+ws://…) and negotiates. */
export function connect(
  uri: string | client.NbdTarget,
  options: client.ConnectOptions = {},
): Promise<client.NbdClient> {
  return client.connect(uri, { connect: connectSocket, ...options });
}

/** The exports the server at `uri` lists. */
export function list(
  uri: string | client.NbdTarget,
  options: client.ConnectOptions = {},
): Promise<client.ListedExport[]> {
  return client.list(uri, { connect: connectSocket, ...options });
}
