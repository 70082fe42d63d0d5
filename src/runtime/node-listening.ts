/**
 * A Listener for a node:net server (or node:http's, which is one) once it listens on a Unix
 * socket or a TCP port; it rejects with the server's error when it cannot.
 */

import type { Server as NetServer } from "node:net";
import type { ListenAddress, Listener } from "../io.ts";

export function listening(
  server: NetServer,
  address: Exclude<ListenAddress, { kind: "inherited" }>,
): Promise<Listener> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      const bound = server.address();
      resolvePromise({
        unixSocket: address.kind === "unix" ? address.path : undefined,
        port: typeof bound === "object" && bound ? bound.port : undefined,
        close: () => new Promise((done) => server.close(() => done())),
      });
    };
    if (address.kind === "unix") server.listen(address.path, ready);
    else server.listen(address.port, address.host, ready);
  });
}
