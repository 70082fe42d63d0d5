/**
 * A TCP port on 127.0.0.1 that nobody listens on now, for a test that must name a port before
 * starting what listens on it (a private Ceph gateway, a browser page's server).
 */

import { createServer } from "node:net";

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
