/**
 * Listening on a socket this process inherited as a file descriptor (socket activation) through
 * node:net, for Node, and for Deno, whose Deno.listen takes no descriptor (Bun.listen takes one).
 * Whether the socket is Unix or TCP is learnt from each connection. It never binds or unlinks.
 */

import { createServer, type Socket } from "node:net";
import type { Listener, PeerAddress } from "../io.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";

/** Given each connection, accepted paused (pauseOnConnect), with its peer for logs and rules. */
export type Connected = (socket: Socket, peer: string, address: PeerAddress | undefined) => void;

/**
 * Listens on descriptor `fd`; rejects when it is not a listening socket (not open, a file). A
 * Unix client has no remote address: that is how the two kinds are told apart.
 */
export function listenInherited(fd: number, connected: Connected): Promise<Listener> {
  const server = createServer({ allowHalfOpen: false, pauseOnConnect: true }, (socket) => {
    const { remoteAddress, remotePort } = socket;
    if (remoteAddress === undefined) connected(socket, "unix socket", UNIX_PEER);
    else connected(socket, `${remoteAddress}:${remotePort}`, tcpPeer(remoteAddress, remotePort));
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen({ fd }, () => {
      server.off("error", reject);
      const bound = server.address();
      resolve({
        unixSocket: typeof bound === "string" ? bound : undefined,
        port: typeof bound === "object" && bound?.port ? bound.port : undefined,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
  });
}
