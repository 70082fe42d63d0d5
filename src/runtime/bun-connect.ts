/**
 * The client side's Connect on Bun for plain TCP and Unix sockets: Bun.connect's own sockets as
 * a SocketChannel (socket-channel.ts), as bun.ts serves the sockets it accepts. Bun's node:net
 * over the same sockets cost the nbd plugin a tenth to a fifth more CPU per byte read (1 MiB
 * reads through it: 280-350 against 360-420 ms of its CPU per GiB). A WebSocket, or a connection
 * that will turn to TLS (node:tls wraps a node:net socket), goes to `fallback`: node-connect.ts.
 * It knows nothing of NBD.
 */

import type { Channel, Connect, ConnectTarget, Receiver } from "../io.ts";
import type { BunApi } from "./bun-api.ts";
import type { GcNudge } from "./gc-nudge.ts";
import { releaseChunk } from "./release-chunk.ts";
import { SocketChannel } from "./socket-channel.ts";

type PlainTarget = Exclude<ConnectTarget, { kind: "websocket" }>;

export function bunConnect(
  bun: Pick<BunApi<SocketChannel, unknown>, "connect">,
  gcNudge: GcNudge,
  fallback: Connect,
): Connect {
  return (target, receiver) =>
    target.kind === "websocket" || target.startTls
      ? fallback(target, receiver)
      : connectPlain(bun, gcNudge, target, receiver);
}

function connectPlain(
  bun: Pick<BunApi<SocketChannel, unknown>, "connect">,
  gcNudge: GcNudge,
  target: PlainTarget,
  receiver: Receiver,
): Promise<Channel> {
  const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
  const address = target.kind === "unix"
    ? { unix: target.path }
    : { hostname: target.host, port: target.port };
  return new Promise((resolve, reject) => {
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    bun.connect({
      ...address,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          if (target.kind === "tcp") socket.setNoDelay(true);
          const channel = new SocketChannel(socket, where, undefined, gcNudge);
          channel.receiver = receiver;
          socket.data = channel;
          resolve(channel);
        },
        // Each read comes as a fresh array of Bun's: decoded (the codec copies what it keeps),
        // then freed at once rather than left to the collector (release-chunk.ts).
        data(_socket, chunk) {
          receiver.data(chunk);
          gcNudge.moved(chunk.length);
          releaseChunk(chunk);
        },
        drain: (socket) => socket.data?.flush(),
        end: (socket) => socket.data?.end(),
        close: (socket, error) => socket.data?.lost(error),
        error: (socket, error) => socket.data?.end(error),
        connectError: (_socket, error) => refused(error),
      },
    }).catch(refused);
  });
}
