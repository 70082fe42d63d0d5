/**
 * The client side's Connect on Bun: plain TCP and Unix sockets, and TCP with TLS from the first
 * byte (the curl and S3 plugins' https), on Bun.connect's own sockets as a SocketChannel
 * (socket-channel.ts), as bun.ts serves the sockets it accepts; abort() terminates the socket.
 * With TLS it resolves only once the handshake has checked the server's certificate. Bun's
 * node:net over the same sockets cost the nbd plugin a tenth to a fifth more CPU per byte read
 * (1 MiB reads through it: 280-350 against 360-420 ms of its CPU per GiB). A WebSocket, or a
 * connection that will turn to TLS by STARTTLS (node:tls wraps a node:net socket), goes to
 * `fallback`: node-connect.ts. It knows nothing of NBD or HTTP.
 */

import type { Channel, Connect, ConnectTarget, Receiver } from "../io.ts";
import type { BunApi } from "./bun-api.ts";
import type { GcNudge } from "./gc-nudge.ts";
import { releaseChunk } from "./release-chunk.ts";
import { SocketChannel } from "./socket-channel.ts";
import { withAbort } from "./with-abort.ts";

type OwnTarget = Exclude<ConnectTarget, { kind: "websocket" }>;

export function bunConnect(
  bun: Pick<BunApi<SocketChannel, unknown>, "connect">,
  gcNudge: GcNudge,
  fallback: Connect,
): Connect {
  return (target, receiver) =>
    target.kind === "websocket" || target.tls === "starttls"
      ? fallback(target, receiver)
      : connectOwn(bun, gcNudge, target, receiver);
}

function connectOwn(
  bun: Pick<BunApi<SocketChannel, unknown>, "connect">,
  gcNudge: GcNudge,
  target: OwnTarget,
  receiver: Receiver,
): Promise<Channel> {
  const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
  const tls = target.kind === "tcp" && target.tls === "now";
  const address = target.kind === "unix"
    ? { unix: target.path }
    : { hostname: target.host, port: target.port, tls };
  return new Promise((resolve, reject) => {
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    let opened: SocketChannel | undefined;
    let terminate = () => {};
    const ready = (channel: SocketChannel) => {
      channel.receiver = receiver;
      resolve(withAbort(channel, () => terminate()));
    };
    bun.connect({
      ...address,
      socket: {
        binaryType: "uint8array",
        open(socket) {
          if (target.kind === "tcp") socket.setNoDelay(true);
          terminate = () => socket.terminate();
          opened = new SocketChannel(socket, where, undefined, gcNudge);
          socket.data = opened;
          if (!tls) ready(opened);
        },
        handshake(socket, success, authorizationError) {
          if (!tls) return;
          if (success && !authorizationError && opened) return ready(opened);
          refused(authorizationError ?? new Error("TLS handshake failed"));
          socket.terminate();
        },
        // Each read comes as a fresh array of Bun's: decoded (the codec copies what it keeps),
        // then freed at once rather than left to the collector (release-chunk.ts).
        data(socket, chunk) {
          socket.data?.receiver?.data(chunk);
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
