/**
 * The fetch handler of the Worker-style examples: a WebSocket upgrade request, once the policy
 * allows its page, becomes one NBD connection to `server`; anything else gets 426. It upgrades
 * the way the edge runtime at hand offers: Deno.upgradeWebSocket (also under `deno serve`) or
 * Cloudflare's WebSocketPair.
 */

import {
  refuseUpgrade,
  type Server,
  serveWebSocket,
  type UpgradePolicy,
  type WebSocketLike,
} from "../src/edge.ts";

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

/** A Worker's `fetch`, serving NBD over WebSocket from `server`. */
export function webSocketHandler(
  server: Server,
  policy: UpgradePolicy,
): (request: Request) => Response {
  return (request) => {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("NBD over WebSocket only\n", { status: 426 });
    }
    const refusal = refuseUpgrade(request, policy); // 403 for a page not on the list
    if (refusal) return refusal;
    const peer = request.headers.get("x-forwarded-for") ?? "worker"; // read before upgrading
    const { socket, response } = upgrade(request);
    serveWebSocket(server, socket, { peer });
    return response;
  };
}
