/**
 * A client connection carried in WebSocket binary messages (the nbd+ws URI), over any
 * WebSocket class: the browser's, Deno's and Bun's global one, or the `ws` package's on Node.
 * A WebSocket cannot stop its peer sending, so pause() is not possible; writes wait while a few
 * MiB are queued, polling bufferedAmount, as the server's side does (embed/websocket.ts).
 */

import type { Channel, Receiver } from "../io.ts";

/** What a client needs of a WebSocket. */
export interface ClientWebSocket {
  binaryType: string;
  readonly bufferedAmount: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "open" | "close" | "error", listener: (event: unknown) => void): void;
}

/** A WebSocket class: `new WebSocket(url)`. */
export type WebSocketClass = new (url: string) => ClientWebSocket;

/** Bytes queued in the WebSocket before writers wait. */
const HIGH_WATER = 4 * 1024 * 1024;

/** Opens `url` and resolves to the Channel once the WebSocket is open. */
export function connectWebSocket(
  WebSocket: WebSocketClass,
  url: string,
  receiver: Receiver,
): Promise<Channel> {
  const socket = new WebSocket(url);
  socket.binaryType = "arraybuffer";
  return new Promise((resolve, reject) => {
    let open = false;
    let ended = false;
    const end = (error?: Error) => {
      if (ended) return;
      ended = true;
      receiver.end(error);
    };
    socket.addEventListener("open", () => {
      open = true;
      resolve(channelOf(socket, url));
    });
    socket.addEventListener("message", (event) => {
      const data = event.data;
      if (data instanceof ArrayBuffer) receiver.data(new Uint8Array(data));
      else if (ArrayBuffer.isView(data)) {
        receiver.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      }
    });
    socket.addEventListener("error", () => {
      if (!open) reject(new Error(`Cannot connect to ${url}: the WebSocket failed to open`));
      else end(new Error(`The WebSocket to ${url} failed`));
    });
    socket.addEventListener("close", () => {
      if (!open) reject(new Error(`Cannot connect to ${url}: the WebSocket was closed`));
      end();
    });
  });
}

function channelOf(socket: ClientWebSocket, url: string): Channel {
  const drained = () =>
    new Promise<void>((resolve) => {
      const check = () => socket.bufferedAmount < HIGH_WATER ? resolve() : setTimeout(check, 1);
      check();
    });
  return {
    peer: url,
    write(parts) {
      for (const part of parts) socket.send(part);
      return socket.bufferedAmount >= HIGH_WATER ? drained() : undefined;
    },
    pause() {},
    resume() {},
    close: () => socket.close(1000, "NBD connection closed"),
  };
}
