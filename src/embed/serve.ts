/**
 * Serving without a command line, for edge runtimes, browsers and programs that embed nbdts:
 * make a Server from a plugin object, then hand it byte streams (a Web Streams pair) or
 * WebSocket connections (each binary message is more bytes of the NBD stream).
 */

import { asError } from "../api/errors.ts";
import { applyParams, finishConfiguration, type Param, pluginStep } from "../backend/configure.ts";
import { buildServer, type ServeOptions } from "../connection/build-server.ts";
import type { PeerAddress, Receiver } from "../io.ts";
import { acceptWebSocket, refuseWebSocket, type WebSocketLike } from "./websocket.ts";
import { upgradeHeaders, type UpgradePolicy, upgradeRefusal } from "./upgrade-policy.ts";
import { Log } from "../api/log.ts";
import type { Plugin } from "../api/plugin.ts";
import type { Server } from "../connection/server.ts";

export type { WebSocketLike };

/**
 * readonly, noStructuredReplies and noExtendedHeaders as -r, --no-sr and --no-extended-headers;
 * maxPayload and handshakeTimeoutMs as in
 * the README's "Limits"; timers to drive the handshake deadline's clock yourself.
 */
export interface EmbedOptions extends ServeOptions {
  /** Plugin parameters, as `key=value` would give them on the command line. */
  params?: Record<string, string> | readonly Param[];
  /** Where error (and with `verbose`, debug) lines go; the console by default. */
  log?: (line: string) => void;
  verbose?: boolean;
}

/** Loads and configures `plugin` as the command line would, and returns a Server for it. */
export async function createServer(plugin: Plugin, options: EmbedOptions = {}): Promise<Server> {
  const params = Array.isArray(options.params)
    ? options.params as readonly Param[]
    : Object.entries(options.params ?? {}).map(([key, value]) => ({ key, value }));
  const log = new Log(options.log ?? ((line) => console.error(line.trimEnd())), options.verbose);
  log.takePluginDebug(plugin.name); // the plugin's debug() lines go to this server's log
  await pluginStep(plugin, () => plugin.load?.());
  await applyParams(plugin, params);
  await finishConfiguration(plugin);
  const server = await buildServer(plugin, options, log);
  await pluginStep(plugin, () => plugin.afterFork?.());
  return server;
}

/** A duplex byte stream, such as a TCP connection in a Worker or a TransformStream pair. */
export interface ByteStream {
  readable: ReadableStream<Uint8Array>;
  writable: WritableStream<Uint8Array>;
}

/**
 * Serves one NBD connection over a Web Streams pair; settles when it has ended. `address`, if
 * known, is where the client is (filters such as ip refuse a client without one).
 */
export async function serveStream(
  server: Server,
  stream: ByteStream,
  peer = "stream",
  address?: PeerAddress,
) {
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  let paused: { promise: Promise<void>; resume: () => void } | undefined;
  const receiver: Receiver = server.accept({
    peer,
    address,
    write(parts) {
      for (const part of parts) writer.write(part).catch(() => {});
      // desiredSize ≤ 0 means the sink's queue is full: wait for it (backpressure).
      return writer.desiredSize !== null && writer.desiredSize <= 0 ? writer.ready : undefined;
    },
    pause() {
      if (paused) return;
      let resume!: () => void;
      const promise = new Promise<void>((r) => (resume = r));
      paused = { promise, resume };
    },
    resume() {
      paused?.resume();
      paused = undefined;
    },
    close() {
      writer.close().catch(() => {});
      reader.cancel().catch(() => {});
    },
  });
  try {
    for (;;) {
      if (paused) await paused.promise;
      const { value, done } = await reader.read();
      if (done) break;
      receiver.data(value);
    }
    receiver.end();
  } catch (error) {
    receiver.end(asError(error));
  }
}

/** How serveWebSocket serves one WebSocket; what it allows is an UpgradePolicy. */
export interface WebSocketServeOptions extends UpgradePolicy {
  /** How the client is named in the log. */
  peer?: string;
  /** Where the client is, as for serveStream. */
  address?: PeerAddress;
  /**
   * The request that was upgraded. A web page's Origin on it must be allowed (`allowOrigins`),
   * else the socket is closed (code 1008) before any NBD byte and the refusal is logged.
   * Absent: nothing is judged, the caller vouches for the client (prefer refuseUpgrade first).
   */
  request?: { headers: { get(name: string): string | null } };
}

/**
 * Serves one NBD connection over a WebSocket whose binary messages carry the byte stream;
 * false when `options.request` was refused. A peer name and address may still be given as
 * the third and fourth arguments, as before options existed.
 */
export function serveWebSocket(
  server: Server,
  socket: WebSocketLike,
  options: WebSocketServeOptions | string = {},
  address?: PeerAddress,
): boolean {
  const { peer = "websocket", ...rest } = typeof options === "string"
    ? { peer: options, address }
    : options;
  if (rest.request !== undefined) {
    const refusal = upgradeRefusal(upgradeHeaders(rest.request), rest);
    if (refusal !== undefined) {
      server.log.error("websocket", `refused ${peer}: ${refusal}`);
      refuseWebSocket(socket);
      return false;
    }
  }
  acceptWebSocket(server.accept, socket, peer, rest.address);
  return true;
}
