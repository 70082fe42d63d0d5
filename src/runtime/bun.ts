/**
 * The Bun adapter: the Runtime contract on Bun.listen, Bun.serve, Bun.spawn and Bun.stdin, with
 * node:fs and node:process where Bun has no API of its own (temporary directories, recursive
 * removal, signals, stdout) and node-host.ts for plugins' files and commands. It moves bytes
 * and respects backpressure; it knows nothing of NBD. It declares only the slice of the Bun
 * API it uses (bun-api.ts), so it type-checks without bun-types.
 */

import { busyPoll } from "./busy-poll.ts";
import { mkdtemp, rm } from "node:fs/promises";
import process from "node:process";
import type { Accept, ListenAddress, Listener, PeerAddress, Receiver, Runtime } from "../io.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { acceptWebSocket } from "../embed/websocket.ts";
import { tcpBinder } from "./bind-tcp.ts";
import type { BunApi, BunListener, SocketHandlers } from "./bun-api.ts";
import { serveStdio } from "./bun-stdio.ts";
import { WebSocketShim } from "./bun-websocket.ts";
import { answerInsteadOfUpgrade } from "./websocket-gate.ts";
import { GcNudge } from "./gc-nudge.ts";
import { createNodeHost } from "./node-host.ts";
import { bunLibc } from "./bun-libc.ts";
import { bunSpawn } from "./bun-spawn.ts";
import { releaseChunk } from "./release-chunk.ts";
import { SocketChannel } from "./socket-channel.ts";
import {
  daemonize,
  daemonReady,
  dieBySignal,
  exitWithParent,
  onSignal,
  outputOpen,
  programPath,
} from "./node-process.ts";
import { nodeTlsSupport } from "./starttls.ts";
import { bunDiagnostics, locatedError } from "./source-location.ts";

const Bun = (globalThis as unknown as { Bun: BunApi<SocketChannel, WebSocketShim> }).Bun;

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
function explained(bind: () => BunListener): BunListener {
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
  const socket = handlers(address, accept, open);
  if (address.kind === "inherited") {
    const listener = explained(() => Bun.listen({ fd: address.fd, socket }));
    return { close: () => stop(listener, open) };
  }
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

export function createBunRuntime(): Runtime {
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
    serveStdio: (accept) => serveStdio(accept, Bun.stdin.stream(), deliver),

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

    makeTempDir: () => mkdtemp("/tmp/nbdts"),
    removePath: (path) => rm(path, { recursive: true, force: true }),
    writeTextFile: async (path, text) => void (await Bun.write(path, text)),

    // Bun implements Node's process: signals and parent watching are shared with Node.
    onSignal,
    dieBySignal,
    exitWithParent,
    // Bun's argv[1] is the script it runs.
    daemonize: (keepStderr, keepStdin) =>
      daemonize([process.execPath, ...process.argv.slice(1)], keepStderr, keepStdin),
    daemonReady: () => daemonReady((text) => void process.stdout.write(text)),

    // Plugins' files and commands go through node:fs and node:child_process, which this
    // runtime implements; sockets, and the programs the sh and eval plugins start for each
    // request, use its native API for speed. libc, through bun:ffi, finds and punches holes in
    // files.
    host: createNodeHost(bunLibc, bunSpawn((options) => Bun.spawn(options))),
    // STARTTLS through Bun's node:tls (BoringSSL), which ignores pskCallback.
    tls: nodeTlsSupport(
      "--tls-psk cannot be used on Bun: its node:tls does not implement pre-shared keys " +
        "(pskCallback). Run nbdts under Node for PSK, or use certificates (--tls-certificates).",
    ),
    isRoot: () => process.geteuid?.() === 0,

    async importModule(path) {
      const absolute = path.startsWith("/") ? path : `${process.cwd()}/${path}`;
      try {
        return await import(Bun.pathToFileURL(absolute).href); // Bun runs a .ts plugin as it is
      } catch (error) {
        // Bun says only "3 errors building …": its BuildMessages say where.
        const diagnostics = bunDiagnostics(error);
        throw diagnostics.length > 0 ? locatedError(diagnostics, process.cwd()) : error;
      }
    },
    stdout: (text) => void (outputOpen("stdout") && process.stdout.write(text)),
    stderr: (text) => void (outputOpen("stderr") && process.stderr.write(text)),
    exit: (code) => process.exit(code),
  };
}
