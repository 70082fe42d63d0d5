/**
 * Connecting by URI: parses it (uri.ts), opens the transport it names — TCP or a Unix socket
 * through the runtime's Connect, a WebSocket through a WebSocket class — and runs the handshake.
 * Resolves to an NbdClient ready for requests, or rejects saying what failed.
 */

import type { Channel, ClientTlsCredentials, Connect, ConnectTarget, Receiver } from "../io.ts";
import type { ListedExport } from "../protocol/client-messages.ts";
import { NbdClient } from "./client.ts";
import { type HandshakeOptions, listExports, negotiate } from "./handshake.ts";
import { Link } from "./link.ts";
import { type NbdTarget, parseNbdUri } from "./uri.ts";
import { connectWebSocket, type WebSocketClass } from "./websocket-transport.ts";

export interface ConnectOptions extends Omit<HandshakeOptions, "tls"> {
  /**
   * STARTTLS: "require" (what an nbds URI means), "on" (TLS if the server agrees), "off"; by
   * default "on" when `tls` credentials are given, else "off".
   */
  tlsMode?: "off" | "on" | "require";
  /** Credentials for STARTTLS; by default the system's CAs, checking the server's name. */
  tls?: Partial<ClientTlsCredentials>;
  /** Opens TCP and Unix connections (nbdts/client gives the runtime's on Node, Deno and Bun). */
  connect?: Connect;
  /**
   * The WebSocket class for nbd+ws URIs; by default `connect`'s WebSocket, else the global one.
   */
  WebSocket?: WebSocketClass;
}

/** Opens the transport the target names, with `link` receiving its bytes. */
async function open(target: NbdTarget, link: Link, options: ConnectOptions): Promise<void> {
  const global = (globalThis as { WebSocket?: WebSocketClass }).WebSocket;
  // A WebSocket class given, or no connector: the WebSocket opens here; else the connector's.
  const WebSocket = options.WebSocket ?? (options.connect ? undefined : global);
  if (target.kind === "websocket" && WebSocket !== undefined) {
    link.attach(await connectWebSocket(WebSocket, target.url, link));
    return;
  }
  if (options.connect !== undefined) {
    const startTls = target.kind !== "websocket" && tlsOf(target, options).mode !== "off";
    link.attach(await options.connect(transportOf(target, startTls), link));
    return;
  }
  throw new Error(
    `Cannot connect to ${target.kind === "unix" ? "a Unix socket" : target.kind}: no connector ` +
      "(import the client from nbdts/client on Node, Deno or Bun, or pass options.connect)",
  );
}

/**
 * Where the target's transport is, as a runtime's Connect takes it, with STARTTLS to come if
 * `startTls`. The target's own `tls` (an nbds URI) is not passed on: NBD's TLS is STARTTLS, never
 * TLS from the first byte.
 */
export function transportOf(target: NbdTarget, startTls = false): ConnectTarget {
  const tls = startTls ? "starttls" : undefined;
  switch (target.kind) {
    case "tcp":
      return { kind: "tcp", host: target.host, port: target.port, tls };
    case "unix":
      return { kind: "unix", path: target.path, tls };
    default:
      return { kind: "websocket", url: target.url };
  }
}

/** The STARTTLS mode and credentials: an nbds URI requires TLS; the server's name is checked. */
function tlsOf(
  target: NbdTarget,
  options: ConnectOptions,
): { mode: "off" | "on" | "require"; credentials: ClientTlsCredentials } {
  const mode = target.tls ? "require" : options.tlsMode ?? (options.tls ? "on" : "off");
  const serverName = target.kind === "tcp" ? target.host : "localhost";
  return { mode, credentials: { verifyPeer: true, serverName, ...options.tls } };
}

function targetOf(uri: string | NbdTarget): NbdTarget {
  return typeof uri === "string" ? parseNbdUri(uri) : uri;
}

/** Connects to the export a URI names and negotiates; the URI's export name is the default. */
export async function connect(
  uri: string | NbdTarget,
  options: ConnectOptions = {},
): Promise<NbdClient> {
  const target = targetOf(uri);
  const link = new Link();
  await open(target, link, options);
  try {
    const tls = target.kind === "websocket" ? undefined : tlsOf(target, options);
    const agreement = await negotiate(link, { exportName: target.exportName, ...options, tls });
    return new NbdClient(link, agreement);
  } catch (error) {
    link.close();
    throw error;
  }
}

/** The exports the server at `uri` lists (NBD_OPT_LIST). */
export async function list(
  uri: string | NbdTarget,
  options: ConnectOptions = {},
): Promise<ListedExport[]> {
  const link = new Link();
  const target = targetOf(uri);
  await open(target, link, options);
  try {
    return await listExports(
      link,
      target.kind === "websocket" ? undefined : tlsOf(target, options),
    );
  } finally {
    link.close();
  }
}

/**
 * A server that dialed us (a web page serving a disk, over a WebSocket it opened): the receiver
 * for its bytes, and the client once the handshake over `channel` is done.
 */
export function clientOver(
  channel: Channel,
  options: Omit<HandshakeOptions, "tls"> = {},
): { receiver: Receiver; client: Promise<NbdClient> } {
  const link = new Link();
  link.attach(channel);
  const client = negotiate(link, options).then(
    (agreement) => new NbdClient(link, agreement),
    (error) => {
      link.close();
      throw error;
    },
  );
  return { receiver: link, client };
}
