/**
 * PluginHost.connect on node:net (node:tls for TLS): a client connection whose bytes are read
 * straight into the receiver's buffers through Node's `onread` option (TLS sockets have no such
 * option: their bytes come as 'data'), and whose close() drops what is queued at once.
 */

import { connect as connectTcp, isIP, type Socket } from "node:net";
import type { Accept, Channel, ConnectTarget, Receiver } from "../io.ts";
import { feed, socketChannel } from "./node-socket.ts";
import { abortOnClose } from "./abort-on-close.ts";

/** The connection's own read buffer, for bytes that have no place of their own. */
const READ_SIZE = 64 * 1024;

/** Settles when the socket is connected (TLS: the handshake done), or fails. */
function connected(socket: Socket, event: "connect" | "secureConnect"): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: Error) => {
      socket.off(event, done);
      reject(error);
    };
    const done = () => {
      socket.off("error", failed);
      resolve();
    };
    socket.once(event, done);
    socket.once("error", failed);
  });
}

export async function connectNode(target: ConnectTarget, accept: Accept): Promise<Channel> {
  const { host, port } = target;
  /** Where bytes go, once the connection is handed over (none arrive before a request). */
  const to: { receiver?: Receiver } = {};
  let socket: Socket;
  if (target.tls) {
    const { connect } = await import("node:tls");
    socket = connect({ host, port, servername: isIP(host) ? undefined : host });
    await connected(socket, "secureConnect");
    socket.setNoDelay(true);
  } else {
    const own = new Uint8Array(READ_SIZE);
    socket = connectTcp({
      host,
      port,
      noDelay: true,
      onread: {
        buffer: () => to.receiver?.readBuffer?.() ?? own,
        callback: (count: number, buffer: Uint8Array) => {
          to.receiver?.data(buffer.subarray(0, count));
          return true; // false would pause reading
        },
      },
    });
    await connected(socket, "connect");
  }
  const channel = abortOnClose(socketChannel(socket, `${host}:${port}`), () => socket.destroy());
  to.receiver = accept(channel);
  feed(socket, to.receiver, !target.tls);
  return channel;
}
