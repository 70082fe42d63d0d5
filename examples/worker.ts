/**
 * NBD from a Worker-style fetch handler: every WebSocket upgrade request becomes one NBD
 * connection to a 64 MiB RAM disk. Runs as is with `deno serve examples/worker.ts`; on
 * Cloudflare Workers the same handler uses WebSocketPair. Clients reach it over WebSocket
 * (binary messages carry the NBD byte stream), e.g. through a TCP-to-WebSocket bridge.
 */

import { createMemoryPlugin, createServer, type UpgradePolicy } from "../src/edge.ts";
import { webSocketHandler } from "./websocket-handler.ts";

const nbd = await createServer(createMemoryPlugin(), { params: { size: "64M" } });

/**
 * Web pages allowed to open the disk: none but this one. Any page a user visits could otherwise
 * read and write it; programs (no Origin header) are always served.
 */
const policy: UpgradePolicy = { allowOrigins: ["https://app.example"] };

export default { fetch: webSocketHandler(nbd, policy) };
