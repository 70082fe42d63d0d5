/**
 * The Node adapter: the Runtime contract on node:net, node:child_process and node:fs. It moves
 * bytes and respects backpressure; it knows nothing of NBD.
 */

import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer, type Socket } from "node:net";
import { constants } from "node:os";
import type { Accept, Channel, PeerAddress, PluginHost, Runtime } from "../io.ts";
import { withPluginListen } from "./host-listen.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { nodeHost } from "./node-host.ts";
import { serveSocket } from "./node-socket.ts";
import { tlsSupport } from "./tls-support.ts";
import { stdinPeer } from "./stdin-peer.ts";
import { readInto } from "./node-read-into.ts";
import { busyPoll } from "./busy-poll.ts";
import { listenInherited } from "./node-inherited.ts";
import { importModule } from "./node-import.ts";
import { listening } from "./node-listening.ts";
import {
  daemonize,
  daemonReady,
  dieBySignal,
  exitWithParent,
  onSignal,
  takeProcessStartEnv,
  writeStdout,
} from "./node-process.ts";
import { outputOpen, programPath } from "./start-env.ts";
import { isDirectory } from "./node-path-checks.ts";
import { makeTempDir, removePath } from "./node-temp-dir.ts";

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

export function createNodeRuntime(): Runtime {
  // node:http is loaded only by a filter that serves HTTP (the stats filter's statslisten=).
  const serveHttp: PluginHost["serveHttp"] = async (address, handler) =>
    (await import("./node-http.ts")).serveHttp(address, handler);
  return withPluginListen(makeNodeRuntime(), serveHttp);
}

function makeNodeRuntime(): Runtime {
  takeProcessStartEnv();
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
      if (address.kind === "websocket") {
        return import("./node-websocket.ts").then((ws) => ws.listenWebSocket(address, accept));
      }
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

    makeTempDir,
    removePath,
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
    daemonReady,

    host: nodeHost,
    tls: tlsSupport(),
    isRoot: () => process.geteuid?.() === 0,
    isDirectory,
    importModule,
    stdout: (text) => void (outputOpen("stdout") && process.stdout.write(text)),
    stderr: (text) => void (outputOpen("stderr") && process.stderr.write(text)),
    exit: (code) => process.exit(code),
  };
}
