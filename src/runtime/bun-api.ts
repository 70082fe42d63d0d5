/**
 * The slice of the Bun API that bun.ts uses, declared so that the adapter type-checks without
 * bun-types. Types only: nothing here runs.
 */

import type { NonBlockingSocket } from "./socket-channel.ts";

/**
 * What bun.ts uses of the Bun global (bun-types has the full story). `SocketData` and
 * `WebSocketData` are what the adapter keeps on each TCP socket and each WebSocket.
 */
export interface BunApi<SocketData, WebSocketData> {
  listen(options: ListenOptions<SocketData>): BunListener;
  /** Resolves once connected; a failure to connect rejects it (and calls connectError). */
  connect(options: ConnectOptions<SocketData>): Promise<BunSocket<SocketData>>;
  serve(options: ServeOptions<WebSocketData>): BunHttpServer<WebSocketData>;
  spawn(options: {
    cmd: string[];
    env: Record<string, string | undefined>;
    stdio: ["inherit", "inherit", "inherit"];
  }): { readonly exited: Promise<number>; readonly signalCode: string | null };
  spawn(options: BunSpawnOptions): BunPipedChild;
  pathToFileURL(path: string): URL;
  write(path: string, text: string): Promise<number>;
  /** Asks for a collection; `force` runs it synchronously. */
  gc(force: boolean): void;
  readonly stdin: { stream(): ReadableStream<Uint8Array> };
  /** A file by path or descriptor; a pipe's descriptor reads as a stream until its end. */
  file(fd: number): { stream(): ReadableStream<Uint8Array> };
}

/** Bun.spawn with its output piped: `stdin` bytes are written for the program, then closed. */
export type BunSpawn = (options: BunSpawnOptions) => BunPipedChild;

export interface BunSpawnOptions {
  cmd: string[];
  env?: Record<string, string | undefined>;
  stdin: Uint8Array | "ignore";
  stdout: "pipe";
  stderr: "pipe";
}

export interface BunPipedChild {
  readonly pid: number;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly exited: Promise<number>;
  readonly signalCode: string | null;
}

/**
 * `fd`: a socket already listening (socket activation). Bun's own node:net listens on a
 * descriptor this way; its documentation names `fd` only for Bun.connect.
 */
export type ListenOptions<Data> =
  & ({ unix: string } | { hostname: string; port: number } | { fd: number })
  & { socket: SocketHandlers<Data>; allowHalfOpen?: boolean };

/** Handlers are shared by every socket of a listener; each socket's own state is `data`. */
export interface SocketHandlers<Data> {
  binaryType: "uint8array";
  open(socket: BunSocket<Data>): void;
  data(socket: BunSocket<Data>, chunk: Uint8Array): void;
  drain(socket: BunSocket<Data>): void;
  end(socket: BunSocket<Data>): void;
  close(socket: BunSocket<Data>, error?: Error): void;
  error(socket: BunSocket<Data>, error: Error): void;
}

/**
 * Where Bun.connect connects to, and the one socket's handlers; with `tls` (TCP only) the
 * server's certificate is checked against the CAs Bun trusts (handshake tells).
 */
export type ConnectOptions<Data> =
  & ({ unix: string } | { hostname: string; port: number; tls?: boolean })
  & {
    socket: SocketHandlers<Data> & {
      connectError(socket: BunSocket<Data>, error: Error): void;
      handshake?(socket: BunSocket<Data>, success: boolean, authorizationError: Error | null): void;
    };
  };

/** Its write() is unbuffered and its end() sends FIN, as socket-channel.ts expects. */
export interface BunSocket<Data> extends NonBlockingSocket {
  data: Data | undefined;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  setNoDelay(noDelay: boolean): boolean;
  /** Closes at once, dropping what the kernel has not sent. */
  terminate(): void;
}

export interface BunListener {
  readonly port?: number;
  stop(closeActiveConnections?: boolean): void;
}

/** On a TCP port, or on a Unix socket (`unix`); `websocket` only where requests upgrade. */
export type ServeOptions<Data> =
  & ({ hostname: string; port: number } | { unix: string })
  & ServeHandlers<Data>;

export interface ServeHandlers<Data> {
  fetch(request: Request, server: BunHttpServer<Data>): Response | undefined;
  websocket?: {
    open(socket: BunWebSocket<Data>): void;
    message(socket: BunWebSocket<Data>, message: string | Uint8Array): void;
    close(socket: BunWebSocket<Data>): void;
  };
}

export interface BunHttpServer<Data> {
  readonly port: number;
  /** Answers the request with 101 and opens a WebSocket carrying `data`; false if not asked. */
  upgrade(request: Request, options: { data: Data }): boolean;
  requestIP(request: Request): { address: string; port: number } | null;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

export interface BunWebSocket<Data> {
  readonly data: Data;
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}
