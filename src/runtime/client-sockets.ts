/**
 * `nbdts/client` on Node, Deno and Bun: the client of src/client.ts with TCP and Unix sockets
 * (node:net, node-connect.ts) and, for nbd+ws URIs, the runtime's WebSocket (the `ws` package's
 * on Node 20, which has none of its own).
 * @module
 */

import * as client from "../client.ts";
import { connectSocket } from "./node-connect.ts";

export * from "../client.ts";

/** The WebSocket class: the runtime's own, or ws's where there is none (Node 20). */
async function webSocketClass(): Promise<client.WebSocketClass> {
  const own = (globalThis as { WebSocket?: client.WebSocketClass }).WebSocket;
  if (own !== undefined) return own;
  const ws = await import("ws");
  return ws.WebSocket as unknown as client.WebSocketClass;
}

/** Options default to this runtime's sockets and WebSocket. */
async function withRuntime(options: client.ConnectOptions): Promise<client.ConnectOptions> {
  return {
    connect: connectSocket,
    WebSocket: options.WebSocket ?? await webSocketClass(),
    ...options,
  };
}

/** Connects to the export a URI names (nbd://, nbd+unix://, nbd+ws://…) and negotiates. */
export async function connect(
  uri: string | client.NbdTarget,
  options: client.ConnectOptions = {},
): Promise<client.NbdClient> {
  return client.connect(uri, await withRuntime(options));
}

/** The exports the server at `uri` lists. */
export async function list(
  uri: string | client.NbdTarget,
  options: client.ConnectOptions = {},
): Promise<client.ListedExport[]> {
  return client.list(uri, await withRuntime(options));
}
