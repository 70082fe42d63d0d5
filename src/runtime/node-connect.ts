/**
 * The client side's Connect for Node, Deno and Bun: TCP and Unix sockets on node:net, which all
 * three implement, as a Channel (node-socket.ts) feeding the receiver, with abort() destroying
 * the socket; TLS from the first byte (https) or by STARTTLS mid-stream (NBD) on node:tls,
 * loaded only then; WebSocket URLs through the runtime's WebSocket, or the `ws` package's on
 * Node 20, which has none. Deno and Bun take their native sockets for plain TCP and TLS from
 * the first byte (deno-connect.ts, bun-connect.ts) and this for the rest. It knows nothing of
 * NBD or HTTP.
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

/** A socket of node:net, or of node:tls checking the server's certificate, being connected. */
async function openSocket(target: Exclude<ConnectTarget, { kind: "websocket" }>) {
  if (target.kind === "unix") return netConnect(target.path);
  const { host, port } = target;
  if (target.tls !== "now") return netConnect(port, host);
  const { connect } = await import("node:tls");
  return connect({ host, port, servername: isIP(host) ? undefined : host });
}

/** The channel of a connection that may turn to TLS: its calls go to the socket of the moment. */
function upgradable(socket: Socket, where: string, receiver: Receiver): Channel {
  let current = socket;
  let channel = socketChannel(socket, where);
  return {
    peer: where,
    confirmsWrites: true,
    write: (parts, written) => channel.write(parts, written),
    pause: () => channel.pause(),
    resume: () => channel.resume(),
    close: () => channel.close(),
    abort: () => current.destroy(),
    async startTlsClient(credentials) {
      socket.removeAllListeners("data"); // from now on the bytes are TLS records
      current = await secure(socket, credentials);
      channel = socketChannel(current, where);
      feed(current, receiver);
    },
  };
}

async function connectNet(
  target: Exclude<ConnectTarget, { kind: "websocket" }>,
  receiver: Receiver,
): Promise<Channel> {
  const socket: Socket = await openSocket(target);
  const where = target.kind === "unix" ? target.path : `${target.host}:${target.port}`;
  const tls = target.tls;
  return new Promise((resolve, reject) => {
    const refused = (error: Error) =>
      reject(new Error(`Cannot connect to ${where}: ${error.message}`));
    socket.once("error", refused);
    socket.once(tls === "now" ? "secureConnect" : "connect", () => {
      socket.off("error", refused);
      if (target.kind === "tcp") socket.setNoDelay(true);
      if (tls === "starttls") {
        feed(socket, receiver);
        resolve(upgradable(socket, where, receiver));
        return;
      }
      // The rest of a large READ reply (or HTTP body) is read straight into the caller's buffer
      // where the runtime allows it (node-read-into.ts), other bytes into one reused buffer; a
      // TLS socket's bytes come decrypted, as 'data'.
      const buffer = new Uint8Array(READ_SIZE);
      const next = () => receiver.readBuffer?.() ?? buffer;
      const reads = tls === undefined && readInto(socket, next, (chunk) => receiver.data(chunk));
      feed(socket, receiver, reads);
      resolve({ ...socketChannel(socket, where), abort: () => socket.destroy() });
    });
  });
}

export const connectSocket: Connect = async (target, receiver) =>
  target.kind === "websocket"
    ? connectWebSocket(await webSocketClass(), target.url, receiver)
    : connectNet(target, receiver);
