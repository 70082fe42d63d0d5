/**
 * The Bun adapter: the Runtime contract on Bun.listen, Bun.serve, Bun.spawn and Bun.stdin, with
 * node:fs and node:process where Bun has no API of its own (temporary directories, recursive
 * removal, signals, stdout) and node-host.ts for plugins' files and commands. It moves bytes
 * and respects backpressure; it knows nothing of NBD. It declares only the slice of the Bun
 * API it uses, so it type-checks without bun-types.
 */

import { asError } from "../api/errors.ts";
import { busyPoll } from "./busy-poll.ts";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import process from "node:process";
import type {
  Accept,
  Channel,
  ListenAddress,
  Listener,
  PeerAddress,
  Receiver,
  Runtime,
} from "../io.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { acceptWebSocket, type WebSocketLike } from "../embed/websocket.ts";
import { answerInsteadOfUpgrade } from "./websocket-gate.ts";
import { gather, STAGING_SIZE } from "./gather.ts";
import { GcNudge } from "./gc-nudge.ts";
import { nodeHost } from "./node-host.ts";
import { releaseChunk } from "./release-chunk.ts";
import { stdinPeer } from "./stdin-peer.ts";
import {
  daemonize,
  daemonReady,
  exitWithParent,
  onShutdownSignal,
  outputOpen,
} from "./node-process.ts";
import { nodeTlsSupport } from "./starttls.ts";

/** What this file uses of the Bun global (bun-types has the full story). */
interface BunApi {
  listen(options: ListenOptions): BunListener;
  serve(options: ServeOptions): BunHttpServer;
  spawn(options: {
    cmd: string[];
    env: Record<string, string | undefined>;
    stdio: ["inherit", "inherit", "inherit"];
  }): { readonly exited: Promise<number>; readonly signalCode: string | null };
  pathToFileURL(path: string): URL;
  write(path: string, text: string): Promise<number>;
  /** Asks for a collection; `force` runs it synchronously. */
  gc(force: boolean): void;
  readonly stdin: { stream(): ReadableStream<Uint8Array> };
}

type ListenOptions = ({ unix: string } | { hostname: string; port: number }) & {
  socket: SocketHandlers;
};

/** Handlers are shared by every socket of a listener; each socket's own state is `data`. */
interface SocketHandlers {
  binaryType: "uint8array";
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
}

interface BunSocket {
  data: SocketChannel | undefined;
  readonly remoteAddress?: string;
  readonly remotePort?: number;
  /** Unbuffered: returns the bytes the kernel took (maybe fewer), or -1 once closed. */
  write(bytes: Uint8Array): number;
  /** Sends FIN; Bun then closes the socket without waiting for the peer. */
  end(): void;
  pause(): void;
  resume(): void;
  setNoDelay(noDelay: boolean): boolean;
}

interface BunListener {
  readonly port?: number;
  stop(closeActiveConnections?: boolean): void;
}

interface ServeOptions {
  hostname: string;
  port: number;
  fetch(request: Request, server: BunHttpServer): Response | undefined;
  websocket: {
    open(socket: BunWebSocket): void;
    message(socket: BunWebSocket, message: string | Uint8Array): void;
    close(socket: BunWebSocket): void;
  };
}

interface BunHttpServer {
  readonly port: number;
  /** Answers the request with 101 and opens a WebSocket carrying `data`; false if not asked. */
  upgrade(request: Request, options: { data: WebSocketShim }): boolean;
  requestIP(request: Request): { address: string; port: number } | null;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}

interface BunWebSocket {
  readonly data: WebSocketShim;
  send(data: Uint8Array): number;
  close(code?: number, reason?: string): void;
  getBufferedAmount(): number;
}

const Bun = (globalThis as unknown as { Bun: BunApi }).Bun;

/** One for the process: the garbage of every connection adds up. */
const gcNudge = new GcNudge(() => Bun.gc(false));

/**
 * Hands a chunk Bun gave us to `receiver`, then frees it: the array is ours alone, and Bun's
 * collector would leave it (up to 512 KiB) in memory long after the session has decoded it.
 */
function deliver(receiver: Receiver | undefined, chunk: Uint8Array): void {
  receiver?.data(chunk);
  gcNudge.moved(chunk.length);
  releaseChunk(chunk);
}

/**
 * One connection. Bytes the kernel did not take wait, as views, in `queue` until Bun calls
 * drain; while anything waits, write() returns a promise that settles when the queue empties.
 */
class SocketChannel implements Channel {
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  readonly closed: Promise<void>;
  receiver: Receiver | undefined;
  private readonly socket: BunSocket;
  private queue: Uint8Array[] = [];
  private head = 0;
  /** Where small replies are joined (gather.ts); made on first use. */
  private staging: Uint8Array | undefined;
  private space: Promise<void> | undefined;
  private releaseSpace: (() => void) | undefined;
  /** Told when the queue has emptied: every part queued so far is with the kernel. */
  private written: (() => void)[] = [];
  private closing = false;
  private shutDown = false;
  private gone = false;
  private ended = false;
  private markClosed!: () => void;

  constructor(socket: BunSocket, peer: string, address: PeerAddress | undefined) {
    this.socket = socket;
    this.peer = peer;
    this.address = address;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Every batch's `written` runs once the queue empties, or the socket is lost, or at once here. */
  readonly confirmsWrites = true;

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    if (this.closing || this.gone) {
      written?.(); // dropped: nothing will read these parts
      return undefined;
    }
    const waiting = this.head < this.queue.length;
    // Nothing queued: the kernel has taken all that was staged, so the staging buffer is free.
    const staging = waiting ? undefined : (this.staging ??= new Uint8Array(STAGING_SIZE));
    gcNudge.moved(gather(parts, this.queue, staging));
    if (written) this.written.push(written);
    if (!waiting) this.flush(); // otherwise drain will come, and order must be kept
    if (this.head === this.queue.length) return undefined;
    this.space ??= new Promise((resolve) => (this.releaseSpace = resolve));
    return this.space;
  }

  pause(): void {
    if (!this.gone) this.socket.pause();
  }

  resume(): void {
    if (!this.gone) this.socket.resume();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (this.head === this.queue.length) this.shut();
  }

  /** Writes queued segments until the kernel takes less than offered; the rest waits. */
  flush(): void {
    while (this.head < this.queue.length) {
      const segment = this.queue[this.head];
      const n = this.socket.write(segment);
      if (n < 0) return this.lost();
      if (n < segment.length) {
        this.queue[this.head] = segment.subarray(n);
        return;
      }
      this.queue[this.head++] = EMPTY;
    }
    this.queue = [];
    this.head = 0;
    this.release();
    if (this.closing) this.shut();
  }

  /** Bun closed the socket (either side, or an error): nothing queued can be sent now. */
  lost(error?: Error): void {
    this.gone = true;
    this.queue = [];
    this.head = 0;
    this.release();
    this.end(error);
    this.markClosed();
  }

  end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.receiver?.end(error);
  }

  private shut(): void {
    if (this.gone || this.shutDown) return;
    this.shutDown = true;
    this.socket.end(); // everything was handed to the kernel: FIN, then close
  }

  /** Called when the queue is empty (all written, or the socket is gone). */
  private release(): void {
    const release = this.releaseSpace;
    this.space = undefined;
    this.releaseSpace = undefined;
    release?.();
    const written = this.written;
    this.written = [];
    for (const done of written) done();
  }
}

const EMPTY = new Uint8Array(0);

function handlers(
  address: ListenAddress,
  accept: Accept,
  open: Set<Promise<void>>,
): SocketHandlers {
  return {
    binaryType: "uint8array",
    open(socket) {
      let peer = "unix socket";
      let from: PeerAddress | undefined = UNIX_PEER;
      if (address.kind === "tcp") {
        socket.setNoDelay(true);
        peer = `${socket.remoteAddress}:${socket.remotePort}`;
        from = tcpPeer(socket.remoteAddress, socket.remotePort);
      }
      const channel = new SocketChannel(socket, peer, from);
      socket.data = channel;
      open.add(channel.closed);
      void channel.closed.then(() => open.delete(channel.closed));
      channel.receiver = accept(channel);
    },
    // Bun hands each data call a fresh array of its own: free it as soon as it is decoded.
    data(socket, chunk) {
      deliver(socket.data?.receiver, chunk);
      busyPoll();
    },
    drain: (socket) => socket.data?.flush(),
    end: (socket) => socket.data?.end(),
    close: (socket, error) => socket.data?.lost(error),
    error: (socket, error) => socket.data?.end(error),
  };
}

/**
 * Binds `host`, or every address when none is named as nbdkit does: "::" takes IPv4 too, and
 * "0.0.0.0" is the fallback where IPv6 is missing. A port in use or forbidden fails at once.
 */
function bindTcp<T>(host: string | undefined, bind: (hostname: string) => T): T {
  if (host !== undefined) return bind(host);
  try {
    return bind("::");
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE" || code === "EACCES") throw error;
    return bind("0.0.0.0");
  }
}

/** Bun's errors say only "Failed to listen at …": add the reason, as Node and Deno give it. */
function explained(bind: () => BunListener): BunListener {
  try {
    return bind();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof Error && code) error.message += ` (${code})`;
    throw error;
  }
}

/** Listens on a Unix socket or TCP; closing waits for live connections, as Node's does. */
function listenSocket(address: ListenAddress, accept: Accept): Listener {
  const open = new Set<Promise<void>>();
  const socket = handlers(address, accept, open);
  if (address.kind === "unix") {
    const listener = explained(() => Bun.listen({ unix: address.path, socket }));
    return { unixSocket: address.path, close: () => stop(listener, open) };
  }
  const port = address.port;
  const bind = (hostname: string) => explained(() => Bun.listen({ hostname, port, socket }));
  const listener = bindTcp(address.host, bind);
  return { port: listener.port, close: () => stop(listener, open) };
}

async function stop(listener: BunListener, open: Set<Promise<void>>): Promise<void> {
  listener.stop(false); // live connections go on until the server closes each
  await Promise.all(open);
}

/** Bun's ServerWebSocket seen as the standard WebSocket that acceptWebSocket expects. */
class WebSocketShim implements WebSocketLike {
  binaryType = "arraybuffer";
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  socket: BunWebSocket | undefined;
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

/** HTTP on the port; each WebSocket request the check allows becomes one NBD connection. */
function listenWebSocket(
  { host, port, check }: Extract<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Listener {
  const server = bindTcp(host, (hostname) =>
    Bun.serve({
      hostname,
      port,
      fetch(request, server) {
        const ip = server.requestIP(request);
        const peer = `${ip?.address}:${ip?.port} (websocket)`;
        const refusal = answerInsteadOfUpgrade(request, peer, check);
        if (refusal) return refusal;
        const shim = new WebSocketShim(peer, tcpPeer(ip?.address, ip?.port));
        if (server.upgrade(request, { data: shim })) return undefined;
        return new Response("Cannot upgrade to a WebSocket\n", { status: 400 });
      },
      websocket: {
        open(socket) {
          socket.data.socket = socket;
          acceptWebSocket(accept, socket.data, socket.data.peer, socket.data.address);
        },
        message: (socket, message) => socket.data.message(message),
        close: (socket) => socket.data.closed(),
      },
    }));
  return { port: server.port, close: () => Promise.resolve(server.stop(false)) };
}

/** Serves stdin and stdout as one connection; settles once close() has flushed stdout. */
function serveStdio(accept: Accept): Promise<void> {
  return new Promise((resolveServed) => {
    const reader = Bun.stdin.stream().getReader();
    let paused = false;
    let wake: (() => void) | undefined;
    let closing = false;
    const channel: Channel = {
      peer: "stdin",
      address: stdinPeer(),
      write(parts) {
        let ok = true;
        for (const part of parts) ok = process.stdout.write(part);
        return ok ? undefined : new Promise((r) => process.stdout.once("drain", () => r()));
      },
      pause: () => void (paused = true),
      resume() {
        paused = false;
        wake?.();
      },
      close() {
        if (closing) return;
        closing = true;
        wake?.();
        // The callback runs once this empty write, and so every earlier one, is flushed.
        process.stdout.write(EMPTY, () => resolveServed());
      },
    };
    const receiver = accept(channel);
    const unpaused = async () => {
      while (paused && !closing) await new Promise<void>((resolve) => (wake = resolve));
    };
    void (async () => {
      try {
        for (;;) {
          await unpaused();
          if (closing) return;
          const { done, value } = await reader.read();
          if (done) break;
          await unpaused();
          if (closing) return;
          deliver(receiver, value);
        }
        receiver.end();
      } catch (error) {
        receiver.end(asError(error));
      }
    })();
  });
}

export function createBunRuntime(): Runtime {
  return {
    name: "bun",
    args: process.argv.slice(2),
    pid: process.pid,
    cwd: () => process.cwd(),

    listen(address, accept) {
      // Bun binds synchronously: a bind error thrown here becomes the promise's rejection.
      return new Promise((resolve) => {
        if (address.kind === "websocket") {
          resolve(listenWebSocket(address, accept));
        } else resolve(listenSocket(address, accept));
      });
    },

    serveStdio,

    async runShell(command, env) {
      let child;
      try {
        child = Bun.spawn({
          cmd: ["/bin/sh", "-c", command],
          env: { ...process.env, ...env },
          stdio: ["inherit", "inherit", "inherit"],
        });
      } catch {
        return { status: 127 };
      }
      // Bun reports a command killed by a signal as a shell does: 128 + signal number.
      const status = await child.exited;
      return child.signalCode === null ? { status } : { status, signal: status - 128 };
    },

    makeTempDir: () => mkdtemp(`${tmpdir()}/nbdts`),
    removePath: (path) => rm(path, { recursive: true, force: true }),
    writeTextFile: async (path, text) => void (await Bun.write(path, text)),

    // Bun implements Node's process: signals and parent watching are shared with Node.
    onShutdownSignal,
    exitWithParent,
    // Bun's argv[1] is the script it runs.
    daemonize: (keepStderr) => daemonize([process.execPath, ...process.argv.slice(1)], keepStderr),
    daemonReady: () => daemonReady((text) => void process.stdout.write(text)),

    // Plugins' files and commands go through node:fs and node:child_process, which this
    // runtime implements; only sockets need its native API for speed.
    host: nodeHost,
    // STARTTLS through Bun's node:tls (BoringSSL), which ignores pskCallback.
    tls: nodeTlsSupport(
      "--tls-psk cannot be used on Bun: its node:tls does not implement pre-shared keys " +
        "(pskCallback). Run nbdts under Node for PSK, or use certificates (--tls-certificates).",
    ),
    isRoot: () => process.geteuid?.() === 0,

    importModule(path) {
      const absolute = path.startsWith("/") ? path : `${process.cwd()}/${path}`;
      return import(Bun.pathToFileURL(absolute).href); // Bun runs a .ts plugin as it is
    },
    stdout: (text) => void (outputOpen("stdout") && process.stdout.write(text)),
    stderr: (text) => void (outputOpen("stderr") && process.stderr.write(text)),
    exit: (code) => process.exit(code),
  };
}
