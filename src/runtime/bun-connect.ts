/**
 * PluginHost.connect on Bun: TCP and TLS on Bun.connect, with the same SocketChannel as a
 * served connection; abort() terminates the socket. With TLS it resolves only once the
 * handshake has checked the server's certificate. Anything else (Unix sockets, STARTTLS,
 * WebSockets) goes to `others`.
 */

import type { Connect, Receiver } from "../io.ts";
import type { BunApi } from "./bun-api.ts";
import type { GcNudge } from "./gc-nudge.ts";
import { SocketChannel } from "./socket-channel.ts";
import { withAbort } from "./with-abort.ts";

/** How bun.ts hands a received chunk to a receiver (and frees it). */
type Deliver = (receiver: Receiver | undefined, chunk: Uint8Array) => void;

export function bunConnect(
  Bun: BunApi<SocketChannel, unknown>,
  gcNudge: GcNudge,
  deliver: Deliver,
  others: Connect,
): Connect {
  return (target, receiver) => {
    // STARTTLS wraps the socket in node:tls mid-stream, which node-connect.ts does.
    if (target.kind !== "tcp" || target.tls === "starttls") return others(target, receiver);
    const { host: hostname, port } = target;
    const tls = target.tls === "now";
    const where = `${hostname}:${port}`;
    return new Promise((resolve, reject) => {
      const refused = (error: Error) =>
        reject(new Error(`Cannot connect to ${where}: ${error.message}`));
      let opened: SocketChannel | undefined;
      let terminate = () => {};
      const ready = (channel: SocketChannel) => {
        channel.receiver = receiver;
        resolve(withAbort(channel, () => terminate()));
      };
      Bun.connect({
        hostname,
        port,
        tls,
        socket: {
          binaryType: "uint8array",
          open(socket) {
            socket.setNoDelay(true);
            terminate = () => socket.terminate();
            opened = new SocketChannel(socket, where, undefined, gcNudge);
            socket.data = opened;
            if (!tls) ready(opened);
          },
          handshake(socket, success, authorizationError) {
            if (success && !authorizationError && opened) return ready(opened);
            refused(authorizationError ?? new Error("TLS handshake failed"));
            socket.terminate();
          },
          data: (socket, chunk) => deliver(socket.data?.receiver, chunk),
          drain: (socket) => socket.data?.flush(),
          end: (socket) => socket.data?.end(),
          close: (socket, error) => socket.data?.lost(error),
          error: (socket, error) => socket.data?.end(error),
          connectError: (_socket, error) => refused(error),
        },
      }).catch(refused);
    });
  };
}
