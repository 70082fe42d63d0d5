/**
 * NBD over a WebSocket, for every runtime alike: each binary message carries more bytes of the
 * NBD stream in either direction. Runtimes accept the WebSocket; this file speaks through it.
 */

import type { Accept, PeerAddress } from "../io.ts";
import { LIMITS } from "../protocol/limits.ts";

/** The part of the WebSocket interface that serving needs (browsers, Deno, Bun, Workers). */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  /** 0 while still connecting (an edge runtime's upgrade completes after the handler returns). */
  readonly readyState: number;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  addEventListener(type: "open" | "close" | "error", listener: () => void): void;
}

const CONNECTING = 0;
/** The close code for a policy violation (RFC 6455, 7.4.1). */
const POLICY_VIOLATION = 1008;

const WEBSOCKET_HIGH_WATER = LIMITS.WEBSOCKET_HIGH_WATER;

/** Closes a WebSocket refused by policy (1008), once it is open, without a byte of NBD. */
export function refuseWebSocket(socket: WebSocketLike): void {
  const close = () => socket.close(POLICY_VIOLATION, "origin or host not allowed");
  if (socket.readyState === CONNECTING) socket.addEventListener("open", close);
  else close();
}

/**
 * Hands one WebSocket to a server as an NBD connection: binary messages are the byte stream.
 * A WebSocket cannot stop the peer sending, so pausing is not possible here; writes wait while
 * more than a few MiB are queued, polling bufferedAmount (WebSockets have no drain event).
 */
export function acceptWebSocket(
  accept: Accept,
  socket: WebSocketLike,
  peer: string,
  address?: PeerAddress,
): void {
  socket.binaryType = "arraybuffer";
  // Nothing may be sent before the socket is open, and the greeting is sent on accept.
  if (socket.readyState === CONNECTING) {
    socket.addEventListener("open", () => serve(accept, socket, peer, address));
  } else {
    serve(accept, socket, peer, address);
  }
}

function serve(accept: Accept, socket: WebSocketLike, peer: string, address?: PeerAddress): void {
  const drained = () =>
    new Promise<void>((resolve) => {
      const check = () =>
        socket.bufferedAmount < WEBSOCKET_HIGH_WATER ? resolve() : setTimeout(check, 1);
      check();
    });
  const receiver = accept({
    peer,
    address,
    write(parts) {
      for (const part of parts) socket.send(part);
      return socket.bufferedAmount >= WEBSOCKET_HIGH_WATER ? drained() : undefined;
    },
    pause() {},
    resume() {},
    close: () => socket.close(1000, "NBD connection closed"),
  });
  socket.addEventListener("message", (event) => {
    const data = event.data;
    if (data instanceof ArrayBuffer) receiver.data(new Uint8Array(data));
    else if (ArrayBuffer.isView(data)) {
      receiver.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    }
  });
  let ended = false;
  const end = () => {
    if (!ended) receiver.end();
    ended = true;
  };
  socket.addEventListener("close", end);
  socket.addEventListener("error", end);
}
