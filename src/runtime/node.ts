/**
 * The Node adapter: the Runtime contract on node:net, node:child_process and node:fs. It moves
 * bytes and respects backpressure; it knows nothing of NBD.
 */

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type IncomingMessage } from "node:http";
import { createServer, type Server as NetServer, type Socket } from "node:net";
import { constants } from "node:os";
import { WebSocketServer } from "ws";
import type { Accept, Channel, ListenAddress, Listener, PeerAddress, Runtime } from "../io.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { acceptWebSocket, type WebSocketLike } from "../embed/websocket.ts";
import { nodeHost } from "./node-host.ts";
import { serveSocket } from "./node-socket.ts";
import { nodeTlsSupport } from "./starttls.ts";
import { stdinPeer } from "./stdin-peer.ts";
import { readInto } from "./node-read-into.ts";
import { busyPoll } from "./busy-poll.ts";
import { listenInherited } from "./node-inherited.ts";
import { importModule } from "./node-import.ts";
import {
  daemonize,
  daemonReady,
  dieBySignal,
  exitWithParent,
  onSignal,
  outputOpen,
  programPath,
  writeStdout,
} from "./node-process.ts";

/**
 * Each connection's own read buffer, reused for every read that does not go straight into a
 * write payload: the contract lets the runtime reuse a chunk once data() has returned.
 */
const READ_SIZE = 256 * 1024;

/**
 * Wires a connected socket to the server: bytes in go to its receiver, read straight into the
 * receiver's buffers where Node allows it, with busy polling after each; errors end it.
 */
function attach(
  socket: Socket,
  accept: Accept,
  peer: string,
  address: PeerAddress | undefined,
): void {
  serveSocket(socket, accept, peer, address, (receiver) => {
    const buffer = new Uint8Array(READ_SIZE);
    const next = () => receiver.readBuffer?.() ?? buffer;
    return readInto(socket, next, (chunk) => {
      receiver.data(chunk);
      busyPoll();
    });
  });
}

/** HTTP on the port, each request the check allows upgraded to a WebSocket carrying NBD. */
function listenWebSocket(
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

function listening(
  server: NetServer,
  address: Exclude<ListenAddress, { kind: "inherited" }>,
): Promise<Listener> {
  return new Promise((resolvePromise, reject) => {
    server.once("error", reject);
    const ready = () => {
      server.off("error", reject);
      const bound = server.address();
      resolvePromise({
        unixSocket: address.kind === "unix" ? address.path : undefined,
        port: typeof bound === "object" && bound ? bound.port : undefined,
        close: () => new Promise((done) => server.close(() => done())),
      });
    };
    if (address.kind === "unix") server.listen(address.path, ready);
    else server.listen(address.port, address.host, ready);
  });
}

export function createNodeRuntime(): Runtime {
  return {
    name: "node",
    // Node gives the script as it was started, links kept: "/usr/local/bin/nbdkit".
    programPath: programPath(process.argv[1] ?? "nbdts"),
    args: process.argv.slice(2),
    pid: process.pid,
    getEnv: (name) => process.env[name],
    unsetEnv: (name) => void delete process.env[name],
    cwd: () => process.cwd(),

    listen(address, accept) {
      if (address.kind === "websocket") return listenWebSocket(address, accept);
      if (address.kind === "inherited") {
        return listenInherited(
          address.fd,
          (socket, peer, from) => attach(socket, accept, peer, from),
        );
      }
      const server = createServer({ allowHalfOpen: false, pauseOnConnect: true }, (socket) => {
        if (address.kind === "unix") return attach(socket, accept, "unix socket", UNIX_PEER);
        const { remoteAddress, remotePort } = socket;
        attach(
          socket,
          accept,
          `${remoteAddress}:${remotePort}`,
          tcpPeer(remoteAddress, remotePort),
        );
      });
      return listening(server, address);
    },

    serveStdio(accept) {
      return new Promise((resolvePromise) => {
        const channel: Channel = {
          peer: "stdin",
          address: stdinPeer(),
          write: writeStdout,
          pause: () => process.stdin.pause(),
          resume: () => process.stdin.resume(),
          close: () => {
            process.stdin.destroy();
            process.stdout.end(() => resolvePromise());
          },
        };
        const receiver = accept(channel);
        process.stdin.on("data", (chunk: Uint8Array) => receiver.data(chunk));
        process.stdin.on("end", () => receiver.end());
        process.stdin.on("error", (error) => receiver.end(error));
      });
    },

    runShell(command, env) {
      return new Promise((resolvePromise) => {
        const child = spawn("/bin/sh", ["-c", command], {
          stdio: "inherit",
          env: { ...process.env, ...env },
        });
        child.on("error", () => resolvePromise({ status: 127 }));
        child.on("exit", (code, name) => {
          // A command killed by a signal exits like a shell reports it: 128 + signal number.
          const signal = name ? constants.signals[name] ?? 0 : undefined;
          resolvePromise(
            signal === undefined ? { status: code ?? 1 } : { status: 128 + signal, signal },
          );
        });
      });
    },

    makeTempDir: () => mkdtemp("/tmp/nbdts"),
    removePath: (path) => rm(path, { recursive: true, force: true }),
    writeTextFile: (path, text) => writeFile(path, text),

    onSignal,
    dieBySignal,
    exitWithParent,
    daemonize: (keepStderr, keepStdin) =>
      daemonize(
        [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        keepStderr,
        keepStdin,
      ),
    daemonReady: () => daemonReady((text) => void process.stdout.write(text)),

    host: nodeHost,
    tls: nodeTlsSupport(),
    isRoot: () => process.geteuid?.() === 0,
    importModule,
    stdout: (text) => void (outputOpen("stdout") && process.stdout.write(text)),
    stderr: (text) => void (outputOpen("stderr") && process.stderr.write(text)),
    exit: (code) => process.exit(code),
  };
}
