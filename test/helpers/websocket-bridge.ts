/**
 * NBD clients (which speak to sockets) reaching a server that speaks NBD over WebSocket: a Unix
 * socket whose every connection is carried in binary messages of a new WebSocket. Closed when
 * the test that made it finishes.
 */

import { createServer as createNetServer, type Socket } from "node:net";
import { onTestFinished } from "vitest";
import { WebSocket } from "ws";
import { scratchDir } from "./captive.ts";

/** A Unix socket whose connections go to `connect`, and the NBD URI that names it. */
export async function unixBridge(connect: (socket: Socket) => void): Promise<string> {
  const path = `${scratchDir()}/bridge-${Math.random().toString(36).slice(2)}.sock`;
  const sockets: Socket[] = [];
  const net = createNetServer((socket) => {
    sockets.push(socket);
    connect(socket);
  });
  onTestFinished(() => {
    sockets.forEach((socket) => socket.destroy());
    net.close();
  });
  await new Promise<void>((resolve) => net.listen(path, resolve));
  return `nbd+unix:///?socket=${path}`;
}

/** An NBD URI whose every connection is carried in binary messages of a WebSocket to `url`. */
export function webSocketBridge(url: string): Promise<string> {
  return unixBridge((socket) => {
    socket.pause();
    const ws = new WebSocket(url);
    ws.on("open", () => socket.resume());
    socket.on("data", (chunk) => ws.send(chunk));
    ws.on("message", (data) => socket.write(data as Buffer));
    socket.on("close", () => ws.close());
    ws.on("close", () => socket.destroy());
    ws.on("error", () => socket.destroy());
  });
}
