/**
 * The client side's Connect on node:net, which Node, Deno and Bun all implement: a TCP or Unix
 * connection as a Channel (node-socket.ts), its bytes fed to the receiver. It knows nothing of NBD.
 */

import { connect as netConnect, type Socket } from "node:net";
import type { Connect } from "../io.ts";
import { feed, socketChannel } from "./node-socket.ts";

export const connectSocket: Connect = (target, receiver) =>
  new Promise((resolve, reject) => {
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
      feed(socket, receiver);
      resolve(channel);
    });
  });
