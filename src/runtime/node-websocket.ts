/**
 * --websocket on Node: HTTP on the port (node:http), each request the check allows upgraded to
 * a WebSocket (ws) carrying NBD. node.ts imports this file only for --websocket, so a server
 * without it loads neither node:http nor ws.
 */

import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { WebSocketServer } from "ws";
import type { Accept, ListenAddress, Listener } from "../io.ts";
import { acceptWebSocket, type WebSocketLike } from "../embed/websocket.ts";
import { tcpPeer } from "./peer.ts";
import { listening } from "./node-listening.ts";

export function listenWebSocket(
  address: Extract<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Promise<Listener> {
  const http = createHttpServer((_request, response) => {
    response.writeHead(426, { "content-type": "text/plain" }).end("NBD over WebSocket only\n");
  });
  const peerOf = ({ socket }: IncomingMessage) =>
    `${socket.remoteAddress}:${socket.remotePort} (websocket)`;
  const verifyClient = (
    { req }: { req: IncomingMessage },
    decide: (ok: boolean, status?: number, message?: string) => void,
  ) => {
    const refusal = address.check(req.headers.origin, req.headers.host, peerOf(req));
    if (refusal === undefined) decide(true);
    else decide(false, 403, `Forbidden: ${refusal}`);
  };
  const wss = new WebSocketServer({ server: http, verifyClient });
  // It repeats the HTTP server's errors, which listening() reports ("cannot listen: …").
  wss.on("error", () => {});
  wss.on("connection", (ws, request) => {
    const { remoteAddress, remotePort } = request.socket;
    const from = tcpPeer(remoteAddress, remotePort);
    acceptWebSocket(accept, ws as unknown as WebSocketLike, peerOf(request), from);
  });
  return listening(http, address);
}
