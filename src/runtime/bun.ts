/**
 * The Bun adapter: the Runtime contract on Bun.listen, Bun.serve, Bun.spawn and Bun.stdin, with
 * node:fs and node:process where Bun has no API of its own (temporary directories, recursive
 * removal, signals, stdout) and node-host.ts for plugins' files and commands. It moves bytes
 * and respects backpressure; it knows nothing of NBD. It declares only the slice of the Bun
 * API it uses (bun-api.ts), so it type-checks without bun-types.
 */

import { busyPoll } from "./busy-poll.ts";
import process from "node:process";
import type {
  Accept,
  HttpAddress,
  HttpHandler,
  ListenAddress,
  Listener,
  PeerAddress,
  PipeState,
  Receiver,
  Runtime,
} from "../io.ts";
import { withPluginListen } from "./host-listen.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { tcpBinder } from "./bind-tcp.ts";
import type { BunApi, BunListener, SocketHandlers } from "./bun-api.ts";
import type { WebSocketShim } from "./bun-websocket.ts";
import { GcNudge } from "./gc-nudge.ts";
import { lazyHost, nodeConnect } from "./lazy-host.ts";
import { bunLibc } from "./bun-libc.ts";
import { bunConnect } from "./bun-connect.ts";
import { releaseChunk } from "./release-chunk.ts";
import { SocketChannel } from "./socket-channel.ts";
import {
  daemonize,
  daemonReady,
  dieBySignal,
  exitWithParent,
  onSignal,
  takeProcessStartEnv,
} from "./node-process.ts";
import { outputOpen, programPath } from "./start-env.ts";
import { tlsSupport } from "./tls-support.ts";
import { importEsm } from "./esm-import.ts";
import { isDirectory, isPipe, pathExists } from "./node-path-checks.ts";
import { makeTempDir, removePath } from "./node-temp-dir.ts";

const Bun = (globalThis as unknown as { Bun: BunApi<SocketChannel, WebSocketShim> }).Bun;

/**
 * The exitwhen filter's pipe, read as a Bun.file stream (Bun's node:net takes no descriptor of
 * a pipe): its end is the other side closing. What comes down it is dropped.
 */
function watchPipe(fd: number): () => PipeState {
  let state: PipeState = "open";
  try {
    if (!isPipe(fd)) return () => "invalid";
    const reader = Bun.file(fd).stream().getReader();
    const drain = (): Promise<void> =>
      reader.read().then(({ done }) => (done ? void (state = "closed") : drain()));
    drain().catch(() => (state = "closed"));
  } catch {
    return () => "invalid";
  }
  return () => state;
}

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

function handlers(
  address: ListenAddress,
  accept: Accept,
  open: Set<Promise<void>>,
): SocketHandlers<SocketChannel> {
  return {
    binaryType: "uint8array",
    open(socket) {
      let peer = "unix socket";
      let from: PeerAddress | undefined = UNIX_PEER;
      // An inherited socket is either: only a TCP client has a remote address.
      const tcp = address.kind === "inherited"
        ? socket.remoteAddress !== undefined
        : address.kind === "tcp";
      if (tcp) {
        socket.setNoDelay(true);
        peer = `${socket.remoteAddress}:${socket.remotePort}`;
        from = tcpPeer(socket.remoteAddress, socket.remotePort);
      }
      const channel = new SocketChannel(socket, peer, from, gcNudge);
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

/** Binds as nbdkit does (bind-tcp.ts); a port in use or forbidden fails at once. */
const bindTcp = tcpBinder((error) => {
  const code = (error as { code?: string }).code;
  return code === "EADDRINUSE" || code === "EACCES";
});

/** Bun's errors say only "Failed to listen at …": add the reason, as Node and Deno give it. */
function explained<T>(bind: () => T): T {
  try {
    return bind();
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (error instanceof Error && code) error.message += ` (${code})`;
    throw error;
  }
}

/**
 * Listens on a Unix socket, on TCP, or on a socket inherited listening (socket activation);
 * closing waits for live connections, as Node's does.
 */
function listenSocket(
  address: Exclude<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Listener {
  const open = new Set<Promise<void>>();
  // Half-open: a client's end of stream must not close the socket under replies still queued
  // (Bun's default then drops them); socket-channel.ts ends it once everything is written.
  const options = { socket: handlers(address, accept, open), allowHalfOpen: true };
  if (address.kind === "inherited") {
    const listener = explained(() => Bun.listen({ fd: address.fd, ...options }));
    return { close: () => stop(listener, open) };
  }
  if (address.kind === "unix") {
    const listener = explained(() => Bun.listen({ unix: address.path, ...options }));
    return { unixSocket: address.path, close: () => stop(listener, open) };
  }
  const port = address.port;
  const bind = (hostname: string) => explained(() => Bun.listen({ hostname, port, ...options }));
  const listener = bindTcp(address.host, bind);
  return { port: listener.port, close: () => stop(listener, open) };
}

async function stop(listener: BunListener, open: Set<Promise<void>>): Promise<void> {
  listener.stop(false); // live connections go on until the server closes each
  await Promise.all(open);
}

/**
 * HTTP on the port; each WebSocket request the check allows becomes one NBD connection. What
 * only WebSockets use is imported here, by a server that listens for them.
 */
async function listenWebSocket(
  { host, port, check }: Extract<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Promise<Listener> {
  const [{ acceptWebSocket }, { answerInsteadOfUpgrade }, { WebSocketShim }] = await Promise.all([
    import("../embed/websocket.ts"),
    import("./websocket-gate.ts"),
    import("./bun-websocket.ts"),
  ]);
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

/**
 * PluginHost.serveHttp: Bun.serve on a TCP port or a Unix socket, each request answered by the
 * handler (fetch-http.ts). Bun leaves a Unix socket behind when it stops: it is removed then.
 */
async function serveHttp(address: HttpAddress, handler: HttpHandler): Promise<Listener> {
  const { fetchHandler } = await import("./fetch-http.ts");
  const fetch = fetchHandler(handler);
  const server = address.kind === "unix"
    ? explained(() => Bun.serve({ unix: address.path, fetch }))
    : bindTcp(
      address.host,
      (hostname) => explained(() => Bun.serve({ hostname, port: address.port, fetch })),
    );
  return {
    port: address.kind === "tcp" ? server.port : undefined,
    unixSocket: address.kind === "unix" ? address.path : undefined,
    async close() {
      await server.stop(true);
      if (address.kind === "unix") await removePath(address.path);
    },
  };
}

export function createBunRuntime(): Runtime {
  return withPluginListen(makeBunRuntime(), serveHttp);
}

function makeBunRuntime(): Runtime {
  takeProcessStartEnv();
  return {
    name: "bun",
    // Bun's argv[1] is the script with links followed: only a wrapper can tell another name.
    programPath: programPath(process.argv[1] ?? "nbdts"),
    args: process.argv.slice(2),
    pid: process.pid,
    getEnv: (name) => process.env[name],
    unsetEnv: (name) => void delete process.env[name],
    cwd: () => process.cwd(),

    listen(address, accept) {
      // Bun binds synchronously: a bind error thrown here becomes the promise's rejection.
      return new Promise((resolve) => {
        if (address.kind === "websocket") {
          resolve(listenWebSocket(address, accept));
        } else resolve(listenSocket(address, accept));
      });
    },
    // -s: imported only when asked for (it reads stdin's socket through node:fs).
    serveStdio: async (accept) =>
      (await import("./bun-stdio.ts")).serveStdio(accept, Bun.stdin.stream(), deliver),

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

    makeTempDir,
    removePath,
    writeTextFile: async (path, text) => void (await Bun.write(path, text)),

    // Bun implements Node's process: signals and parent watching are shared with Node.
    onSignal,
    dieBySignal,
    exitWithParent,
    // Bun's argv[1] is the script it runs.
    daemonize: (keepStderr, keepStdin) =>
      daemonize([process.execPath, ...process.argv.slice(1)], keepStderr, keepStdin),
    daemonReady,

    // Plugins' files and commands go through node:fs and node:child_process, which this
    // runtime implements; sockets (the nbd, curl and S3 plugins': bun-connect.ts), and the programs the
    // sh and eval plugins start for each request, use its native API for speed. libc, through
    // bun:ffi, finds and punches holes in files.
    host: lazyHost(
      async () => {
        const [{ createNodeHost }, { bunSpawn }] = await Promise.all([
          import("./node-host.ts"),
          import("./bun-spawn.ts"),
        ]);
        return createNodeHost(bunLibc, watchPipe, bunSpawn((options) => Bun.spawn(options)));
      },
      {
        getEnv: (name) => process.env[name],
        pathExists,
        connect: bunConnect(Bun, gcNudge, nodeConnect),
      },
    ),
    // STARTTLS through Bun's node:tls (BoringSSL), which ignores pskCallback.
    tls: tlsSupport(
      "--tls-psk cannot be used on Bun: its node:tls does not implement pre-shared keys " +
        "(pskCallback). Run nbdts under Node for PSK, or use certificates (--tls-certificates).",
    ),
    isRoot: () => process.geteuid?.() === 0,
    isDirectory,

    async importModule(path) {
      const absolute = path.startsWith("/") ? path : `${process.cwd()}/${path}`;
      try {
        return await importEsm(Bun.pathToFileURL(absolute).href); // Bun runs a .ts plugin as it is
      } catch (error) {
        // Bun says only "3 errors building …": its BuildMessages say where.
        const { bunDiagnostics, locatedError } = await import("./source-location.ts");
        const diagnostics = bunDiagnostics(error);
        throw diagnostics.length > 0 ? locatedError(diagnostics, process.cwd()) : error;
      }
    },
    stdout: (text) => void (outputOpen("stdout") && process.stdout.write(text)),
    stderr: (text) => void (outputOpen("stderr") && process.stderr.write(text)),
    exit: (code) => process.exit(code),
  };
}
