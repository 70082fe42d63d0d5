/**
 * A node:net socket seen through the core's contract: its Channel, and its events fed to a
 * Receiver. Node's connections use it from the start; on every runtime, a connection that
 * STARTTLS turned into a node:tls socket (Deno and Bun implement node:tls too) uses it after,
 * and so do Deno's connections on an inherited socket (node-inherited.ts).
 */

import type { Socket } from "node:net";
import type { Accept, Channel, PeerAddress, Receiver } from "../io.ts";

/** Bytes queued on a socket before the session stops reading (backpressure). */
const WRITE_HIGH_WATER = 4 * 1024 * 1024;

/** The Channel of a connected socket: writes batched with cork, a few MiB of backpressure. */
export function socketChannel(socket: Socket, peer: string, address?: PeerAddress): Channel {
  let drain: Promise<void> | undefined;
  return {
    peer,
    address,
    // Node calls each write's callback, with an error if the socket is destroyed or ended first.
    confirmsWrites: true,
    write(parts, written) {
      if (socket.destroyed || parts.length === 0) {
        written?.(); // nothing will read these parts
        return undefined;
      }
      if (parts.length > 1) socket.cork();
      const last = parts.length - 1;
      // Node keeps each part until the kernel has it; the last one's callback says all are out.
      for (let i = 0; i < last; i++) socket.write(parts[i]);
      socket.write(parts[last], written && (() => written()));
      if (parts.length > 1) socket.uncork();
      // Node asks for a drain past 16 KiB, which would stop reading after every 1 MiB reply
      // and leave the client idle; a few MiB queued keeps the pipe full and memory bounded.
      if (socket.writableLength < WRITE_HIGH_WATER) return undefined;
      drain ??= new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          drain = undefined;
          resolve();
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
      return drain;
    },
    pause: () => socket.pause(),
    resume: () => socket.resume(),
    // Flush, then close both directions: a peer that never closes its side must not keep the
    // connection (and so the listener's close) alive.
    close: () => void socket.end(() => socket.destroy()),
  };
}

/** Hands the socket's received bytes to `receiver`, and its end, error or close once. */
export function feed(socket: Socket, receiver: Receiver, readsElsewhere = false): void {
  let ended = false;
  const end = (error?: Error) => {
    if (ended) return;
    ended = true;
    receiver.end(error);
  };
  // Unless the bytes already arrive another way (node-read-into.ts).
  if (!readsElsewhere) socket.on("data", (chunk: Uint8Array) => receiver.data(chunk));
  socket.on("end", () => end());
  socket.on("error", (error) => end(error));
  socket.on("close", () => end());
}

/**
 * Serves a socket accepted paused (pauseOnConnect): its Channel goes to `accept`, its bytes to
 * the receiver. `readsInto`, if given, may take over reading (node-read-into.ts) and says so.
 */
export function serveSocket(
  socket: Socket,
  accept: Accept,
  peer: string,
  address: PeerAddress | undefined,
  readsInto?: (receiver: Receiver) => boolean,
): void {
  socket.setNoDelay?.(true);
  const receiver = accept(socketChannel(socket, peer, address));
  feed(socket, receiver, readsInto?.(receiver) ?? false);
  socket.resume(); // only now, so that no read came before the receiver was there
}
