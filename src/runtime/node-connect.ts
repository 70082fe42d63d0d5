/**
 * The client side's Connect for Node, Deno and Bun: TCP and Unix sockets on node:net, which all
 * three implement, as a Channel (node-socket.ts) feeding the receiver, upgraded in place by
 * STARTTLS over node:tls (loaded only then); WebSocket URLs through the runtime's WebSocket, or the
 * `ws` package's on Node 20, which has none. It knows nothing of NBD.
 */

import { connect as netConnect, isIP, type Socket } from "node:net";
import type { Channel, ClientTlsCredentials, Connect, ConnectTarget, Receiver } from "../io.ts";
import { connectWebSocket, type WebSocketClass } from "../client.ts";
import { feed, socketChannel } from "./node-socket.ts";
import { readInto } from "./node-read-into.ts";
import { PSK_CIPHERS } from "./psk-ciphers.ts";

/** Each connection's own read buffer, for every read that does not go into a READ's buffer. */
const READ_SIZE = 256 * 1024;

/** The runtime's WebSocket class, or ws's where there is none (Node 20). */
export async function webSocketClass(): Promise<WebSocketClass> {
  const own = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  if (own !== undefined) return own;
  const ws = await import("ws");
  return ws.WebSocket as unknown as WebSocketClass;
}

/** Wraps the connected `socket` in TLS as a client; resolves to the TLS socket once secure. */
async function secure(socket: Socket, credentials: ClientTlsCredentials): Promise<Socket> {
  const tls = await import("node:tls");
  const { psk, verifyPeer, serverName } = credentials;
  const options = {
    socket,
    ca: credentials.ca && [new TextDecoder().decode(credentials.ca)],
    cert: credentials.cert && new TextDecoder().decode(credentials.cert),
    key: credentials.key && new TextDecoder().decode(credentials.key),
    rejectUnauthorized: verifyPeer,
    // An IP address is checked against the certificate, but is no SNI name.
    servername: serverName && !isIP(serverName) ? serverName : undefined,
    host: serverName,
    ...(psk
      ? {
        ciphers: PSK_CIPHERS,
        checkServerIdentity: () => undefined,
        pskCallback: () => ({ psk: psk.key, identity: psk.identity }),
      }
      : {}),
  };
  return await new Promise((resolve, reject) => {
    const wrapped = tls.connect(options);
    const failed = (error: Error) => reject(new Error(`Cannot start TLS: ${error.message}`));
    wrapped.once("error", failed);
    wrapped.once("secureConnect", () => {
      wrapped.off("error", failed);
      resolve(wrapped);
    });
  });
}

function connectNet(
  target: Exclude<ConnectTarget, { kind: "websocket" }>,
  receiver: Receiver,
): Promise<Channel> {
  return new Promise((resolve, reject) => {
    const socket: Socket = target.kind === "unix"
      ? netConnect(target.path)
      : netConnect(target.port, target.host);
    const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    socket.once("error", refused);
    socket.once("connect", () => {
      socket.off("error", refused);
      if (target.kind === "tcp") socket.setNoDelay(true);
      let current = socketChannel(socket, where);
      // The rest of a large READ reply is read straight into the caller's buffer where the
      // runtime allows it (node-read-into.ts), other bytes into one reused buffer; not on a
      // connection that will turn to TLS, whose records node:tls must read itself.
      const buffer = new Uint8Array(READ_SIZE);
      const next = () => receiver.readBuffer?.() ?? buffer;
      const inPlace = !target.startTls &&
        readInto(socket, next, (chunk) => receiver.data(chunk));
      feed(socket, receiver, inPlace);
      resolve({
        peer: where,
        confirmsWrites: true,
        write: (parts, written) => current.write(parts, written),
        pause: () => current.pause(),
        resume: () => current.resume(),
        close: () => current.close(),
        async startTlsClient(credentials) {
          socket.removeAllListeners("data"); // from now on the bytes are TLS records
          const wrapped = await secure(socket, credentials);
          current = socketChannel(wrapped, where);
          feed(wrapped, receiver);
        },
      });
    });
  });
}

export const connectSocket: Connect = async (target, receiver) =>
  target.kind === "websocket"
    ? connectWebSocket(await webSocketClass(), target.url, receiver)
    : connectNet(target, receiver);
