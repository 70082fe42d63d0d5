/**
 * NBD from a Worker-style fetch handler: every WebSocket upgrade request becomes one NBD
 * connection to a 64 MiB RAM disk. Runs as is with `deno serve examples/worker.ts`; on
 * Cloudflare Workers the same handler uses WebSocketPair. Clients reach it over WebSocket
 * (binary messages carry the NBD byte stream), e.g. through a TCP-to-WebSocket bridge.
 */

import {
  createMemoryPlugin,
  createServer,
  refuseUpgrade,
  serveWebSocket,
  type UpgradePolicy,
  type WebSocketLike,
} from "../src/edge.ts";

const nbd = await createServer(createMemoryPlugin(), { params: { size: "64M" } });

/**
 * Web pages allowed to open the disk: none but this one. Any page a user visits could otherwise
 * read and write it; programs (no Origin header) are always served.
 */
const policy: UpgradePolicy = { allowOrigins: ["https://app.example"] };

/** The two ways edge runtimes hand over a WebSocket; whichever this one has is used. */
interface EdgeGlobals {
  Deno?: { upgradeWebSocket(request: Request): { socket: WebSocketLike; response: Response } };
  WebSocketPair?: new () => { 0: WebSocketLike; 1: WebSocketLike & { accept(): void } };
}

function upgrade(request: Request): { socket: WebSocketLike; response: Response } {
  const globals = globalThis as EdgeGlobals;
  if (globals.Deno) return globals.Deno.upgradeWebSocket(request);
  if (globals.WebSocketPair) {
    const pair = new globals.WebSocketPair();
    pair[1].accept();
    const init = { status: 101, webSocket: pair[0] } as ResponseInit;
    return { socket: pair[1], response: new Response(null, init) };
  }
  throw new Error("this runtime cannot upgrade a request to a WebSocket");
}

export default {
  fetch(request: Request): Response {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("NBD over WebSocket only\n", { status: 426 });
    }
    const refusal = refuseUpgrade(request, policy); // 403 for a page not on the list
    if (refusal) return refusal;
    const peer = request.headers.get("x-forwarded-for") ?? "worker"; // read before upgrading
    const { socket, response } = upgrade(request);
    serveWebSocket(nbd, socket, { peer });
    return response;
  },
};
