/**
 * `nbdts/client` on Bun: client-sockets.ts with Bun's own TCP and Unix sockets (bun-connect.ts)
 * in place of node:net's, which stay for STARTTLS and WebSockets.
 * @module
 */

import type { BunApi } from "./bun-api.ts";
import { bunConnect } from "./bun-connect.ts";
import { clientOver, type SocketClient } from "./client-sockets.ts";
import { GcNudge } from "./gc-nudge.ts";
import { connectSocket } from "./node-connect.ts";
import type { SocketChannel } from "./socket-channel.ts";

export * from "../client.ts";

const Bun = (globalThis as unknown as { Bun: BunApi<SocketChannel, unknown> }).Bun;

const ours: SocketClient = clientOver(
  bunConnect(Bun, new GcNudge(() => Bun.gc(false)), connectSocket),
);

/**
 * Connects to the export a URI names (nbd://, nbds://, nbd+unix://, nbd+ws://…) and negotiates;
 * an nbds URI's tls-certificates, tls-verify-peer, tls-psk-file and tls-username are libnbd's.
 */
export const connect: SocketClient["connect"] = ours.connect;

/** The exports the server at `uri` lists. */
export const list: SocketClient["list"] = ours.list;
