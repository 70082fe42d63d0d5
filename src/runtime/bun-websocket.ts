/**
 * Bun's ServerWebSocket seen as the standard WebSocket that acceptWebSocket (embed/websocket.ts)
 * expects: Bun gives a WebSocket's events to its server's handlers, which pass them on here.
 */

import type { PeerAddress } from "../io.ts";
import type { WebSocketLike } from "../embed/websocket.ts";
import type { BunWebSocket } from "./bun-api.ts";

/** One WebSocket: made before the upgrade, kept as its `data`, given the socket once open. */
export class WebSocketShim implements WebSocketLike {
  binaryType = "arraybuffer";
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  socket: BunWebSocket<WebSocketShim> | undefined;
  private readonly onMessage: ((event: { data: unknown }) => void)[] = [];
  private readonly onClose: (() => void)[] = [];

  constructor(peer: string, address: PeerAddress | undefined) {
    this.peer = peer;
    this.address = address;
  }

  get bufferedAmount(): number {
    return this.socket?.getBufferedAmount() ?? 0;
  }

  /** Handed over from Bun's open handler, so always open (1). */
  readonly readyState = 1;

  send(data: Uint8Array): void {
    this.socket?.send(data);
  }

  close(code?: number, reason?: string): void {
    this.socket?.close(code, reason);
  }

  addEventListener(
    type: "open" | "message" | "close" | "error",
    listener: (event: { data: unknown }) => void,
  ): void {
    if (type === "message") this.onMessage.push(listener);
    else if (type !== "open") this.onClose.push(listener as () => void);
  }

  /** Called by the server's handlers. */
  message(data: unknown): void {
    for (const listener of this.onMessage) listener({ data });
  }

  closed(): void {
    for (const listener of this.onClose) listener();
  }
}
