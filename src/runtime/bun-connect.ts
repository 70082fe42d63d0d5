/**
 * PluginHost.connect on Bun.connect: a client connection with the same SocketChannel as a
 * served one, whose close() drops what is queued at once (terminate). With TLS it resolves
 * only once the handshake has checked the server's certificate.
 */

import type { Accept, Channel, ConnectTarget, Receiver } from "../io.ts";
import type { BunApi } from "./bun-api.ts";
import type { GcNudge } from "./gc-nudge.ts";
import { SocketChannel } from "./socket-channel.ts";
import { abortOnClose } from "./abort-on-close.ts";

/** How bun.ts hands a received chunk to a receiver (and frees it). */
type Deliver = (receiver: Receiver | undefined, chunk: Uint8Array) => void;

export function bunConnect(
  Bun: BunApi<SocketChannel, unknown>,
  gcNudge: GcNudge,
  deliver: Deliver,
) {
  return (target: ConnectTarget, accept: Accept): Promise<Channel> =>
    new Promise((resolve, reject) => {
      const { host: hostname, port, tls } = target;
      let opened: SocketChannel | undefined;
      let terminate = () => {};
      const ready = (channel: SocketChannel) => {
        const client = abortOnClose(channel, () => terminate());
        channel.receiver = accept(client);
        resolve(client);
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
            opened = new SocketChannel(socket, `${hostname}:${port}`, undefined, gcNudge);
            socket.data = opened;
            if (!tls) ready(opened);
          },
          handshake(socket, success, authorizationError) {
            if (success && !authorizationError && opened) return ready(opened);
            reject(authorizationError ?? new Error("TLS handshake failed"));
            socket.terminate();
          },
          data: (socket, chunk) => deliver(socket.data?.receiver, chunk),
          drain: (socket) => socket.data?.flush(),
          end: (socket) => socket.data?.end(),
          close: (socket, error) => socket.data?.lost(error),
          error: (socket, error) => socket.data?.end(error),
          connectError: (_socket, error) => reject(error),
        },
      }).catch(reject);
    });
}
