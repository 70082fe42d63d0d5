/**
 * The client side's Connect for Node, Deno and Bun: TCP and Unix sockets on node:net, which all
 * three implement, as a Channel (node-socket.ts) feeding the receiver; WebSocket URLs through the
 * runtime's WebSocket, or the `ws` package's on Node 20, which has none. It knows nothing of NBD.
 */

import { connect as netConnect, type Socket } from "node:net";
import type { Channel, Connect, ConnectTarget, Receiver } from "../io.ts";
import { connectWebSocket, type WebSocketClass } from "../client.ts";
import { feed, socketChannel } from "./node-socket.ts";
import { readInto } from "./node-read-into.ts";

/** Each connection's own read buffer, for every read that does not go into a READ's buffer. */
const READ_SIZE = 256 * 1024;

/** The runtime's WebSocket class, or ws's where there is none (Node 20). */
export async function webSocketClass(): Promise<WebSocketClass> {
  const own = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  if (own !== undefined) return own;
  const ws = await import("ws");
  return ws.WebSocket as unknown as WebSocketClass;
}

function connectNet(
  target: Exclude<ConnectTarget, { kind: "websocket" }>,
  receiver: Receiver,
): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.kind === "unix"
      ? netConnect(target.path)
      : netConnect(target.port, target.host);
    const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    socket.once("error", refused);
    socket.once("connect", () => {
      socket.off("error", refused);
      if (target.kind === "tcp") socket.setNoDelay(true);
      const channel = socketChannel(socket, where);
      // The rest of a large READ reply is read straight into the caller's buffer where the
      // runtime allows it (node-read-into.ts), other bytes into one reused buffer.
      const buffer = new Uint8Array(READ_SIZE);
      const next = () => receiver.readBuffer?.() ?? buffer;
      feed(socket, receiver, readInto(socket, next, (chunk) => receiver.data(chunk)));
      resolve(channel);
    });
  });
}

export const connectSocket: Connect = async (target, receiver) =>
  target.kind === "websocket"
    ? connectWebSocket(await webSocketClass(), target.url, receiver)
    : connectNet(target, receiver);
