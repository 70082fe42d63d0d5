/**
 * The client side's Connect for Node, Deno and Bun: TCP (TLS too) and Unix sockets on node:net
 * and node:tls, which all three implement, as a Channel (node-socket.ts) feeding the receiver,
 * with abort() destroying the socket; WebSocket URLs through the runtime's WebSocket, or the
 * `ws` package's on Node 20, which has none. Deno and Bun take their native sockets for TCP
 * (deno-connect.ts, bun-connect.ts) and this for the rest. It knows nothing of NBD or HTTP.
 */

import { connect as netConnect, isIP, type Socket } from "node:net";
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

/** A socket of node:net, or of node:tls checking the server's certificate, being connected. */
async function openSocket(target: Exclude<ConnectTarget, { kind: "websocket" }>) {
  if (target.kind === "unix") return netConnect(target.path);
  const { host, port } = target;
  if (!target.tls) return netConnect(port, host);
  const { connect } = await import("node:tls");
  return connect({ host, port, servername: isIP(host) ? undefined : host });
}

async function connectNet(
  target: Exclude<ConnectTarget, { kind: "websocket" }>,
  receiver: Receiver,
): Promise<Channel> {
  const socket: Socket = await openSocket(target);
  const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
  const tls = target.kind === "tcp" && target.tls === true;
  return new Promise((resolve, reject) => {
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    socket.once("error", refused);
    socket.once(tls ? "secureConnect" : "connect", () => {
      socket.off("error", refused);
      if (target.kind === "tcp") socket.setNoDelay(true);
      const channel: Channel = { ...socketChannel(socket, where), abort: () => socket.destroy() };
      // The rest of a large READ reply (or HTTP body) is read straight into the caller's buffer
      // where the runtime allows it (node-read-into.ts), other bytes into one reused buffer; a
      // TLS socket's bytes come decrypted, as 'data'.
      const buffer = new Uint8Array(READ_SIZE);
      const next = () => receiver.readBuffer?.() ?? buffer;
      const reads = !tls && readInto(socket, next, (chunk) => receiver.data(chunk));
      feed(socket, receiver, reads);
      resolve(channel);
    });
  });
}

export const connectSocket: Connect = async (target, receiver) =>
  target.kind === "websocket"
    ? connectWebSocket(await webSocketClass(), target.url, receiver)
    : connectNet(target, receiver);
