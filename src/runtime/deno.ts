/**
 * The Deno adapter: the Runtime contract on Deno.listen, Deno.serve, Deno.Command and Deno's
 * file API, with node-host.ts (node:fs, node:child_process) for plugins' files and commands
 * and node-process.ts (node:child_process) for daemon mode.
 * It moves bytes and respects backpressure; it knows nothing of NBD. It declares only the
 * slice of the Deno API it uses, so it type-checks without Deno's own definitions.
 */

import { asError } from "../api/errors.ts";
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
import { nodeHost } from "./node-host.ts";
import { stdinPeer } from "./stdin-peer.ts";
import { daemonize, daemonReady, outputOpen } from "./node-process.ts";
import { nodeTlsSupport } from "./starttls.ts";

/** What this file uses of the Deno namespace (lib.deno.ns.d.ts has the full story). */
interface DenoApi {
  readonly args: readonly string[];
  readonly pid: number;
  /** A getter: it answers anew each time, so it shows when the parent has died. */
  readonly ppid: number;
  readonly errors: {
    readonly NotFound: new () => Error;
    readonly AddrInUse: new () => Error;
    readonly PermissionDenied: new () => Error;
  };
  readonly stdin: ByteSource;
  readonly stdout: ByteSink & { writeSync(bytes: Uint8Array): number };
  readonly stderr: { writeSync(bytes: Uint8Array): number };
  readonly Command: new (program: string, options: CommandOptions) => {
    spawn(): {
      readonly status: Promise<{ readonly code: number; readonly signal: string | null }>;
    };
  };
  listen(options: { transport: "unix"; path: string }): DenoListener;
  listen(options: { transport: "tcp"; hostname: string; port: number }): DenoListener;
  serve(options: ServeOptions, handler: ServeHandler): { shutdown(): Promise<void> };
  upgradeWebSocket(request: Request): {
    socket: WebSocketLike & { addEventListener(type: "open", listener: () => void): void };
    response: Response;
  };
  cwd(): string;
  /** The user id (Deno has no effective one); null on Windows. */
  uid(): number | null;
  /** The deno executable, to run this program again in the background. */
  execPath(): string;
  /** The `file://` URL of the program Deno runs. */
  readonly mainModule: string;
  exit(code: number): never;
  kill(pid: number, signal: Signal): void;
  addSignalListener(signal: Signal, handler: () => void): void;
  unrefTimer(id: number): void;
  makeTempDir(options: { prefix: string }): Promise<string>;
  remove(path: string, options: { recursive: boolean }): Promise<void>;
  writeTextFile(path: string, text: string): Promise<void>;
}

type Signal = "SIGINT" | "SIGTERM" | "SIGHUP";

interface ServeOptions {
  hostname: string;
  port: number;
  /** Called once bound; without it Deno prints "Listening on …" to stdout. */
  onListen(address: { port: number }): void;
}

type ServeHandler = (
  request: Request,
  info: { remoteAddr: { hostname: string; port: number } },
) => Response;

interface CommandOptions {
  args: string[];
  env: Record<string, string>;
  stdin: "inherit";
  stdout: "inherit";
  stderr: "inherit";
}

/** Deno's reader shape: fills `bytes`, resolving to the count, or null at end of stream. */
interface ByteSource {
  read(bytes: Uint8Array): Promise<number | null>;
}

/** Deno's writer shape: writes some of `bytes` (maybe not all), resolving to the count. */
interface ByteSink {
  write(bytes: Uint8Array): Promise<number>;
}

interface DenoConn extends ByteSource, ByteSink {
  readonly remoteAddr: { readonly hostname?: string; readonly port?: number };
  close(): void;
  setNoDelay?(noDelay: boolean): void;
}

interface DenoListener {
  readonly addr: { readonly port?: number };
  accept(): Promise<DenoConn>;
  close(): void;
}

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

/**
 * Bytes are read into one buffer per connection, reused for every read: the contract lets the
 * runtime reuse a chunk once data() has returned (the codec copies what it has not decoded).
 * Large enough that a 1 MiB write arrives in a few reads, each an op and a callback.
 */
const READ_SIZE = 256 * 1024;

/** Bytes queued for writing before write() reports backpressure (Node's socket buffer is 16 KiB). */
const HIGH_WATER = 64 * 1024;

const SIGNALS: readonly Signal[] = ["SIGINT", "SIGTERM", "SIGHUP"];

/** One connection: a read loop feeding its receiver, and a write queue drained in order. */
class StreamChannel implements Channel {
  readonly peer: string;
  readonly address: PeerAddress | undefined;
  /** Settles once the stream is closed (after close() has flushed, or on failure). */
  readonly closed: Promise<void>;
  private readonly source: ByteSource;
  private readonly sink: ByteSink;
  private readonly shut: () => void;
  private receiver: Receiver | undefined;

  /** Segments still to write, from `head` on; `queued` counts their bytes. */
  private queue: Uint8Array[] = [];
  private head = 0;
  private queued = 0;
  /** Where small replies are joined (gather.ts); made on first use. */
  private staging: Uint8Array | undefined;
  private writing = false;
  private space: Promise<void> | undefined;
  private releaseSpace: (() => void) | undefined;
  /** Told when the queue has emptied: every part queued so far is with the kernel. */
  private written: (() => void)[] = [];

  private paused = false;
  private wake: (() => void) | undefined;
  private closing = false;
  private isClosed = false;
  private ended = false;
  private markClosed!: () => void;

  constructor(
    source: ByteSource,
    sink: ByteSink,
    shut: () => void,
    peer: string,
    address?: PeerAddress,
  ) {
    this.source = source;
    this.sink = sink;
    this.shut = shut;
    this.peer = peer;
    this.address = address;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
  }

  /** Hands the channel to the server, then reads until the end of the stream. */
  start(accept: Accept): void {
    this.receiver = accept(this);
    void this.readLoop();
  }

  /** Every batch's `written` runs once the queue empties, or the write fails, or at once here. */
  readonly confirmsWrites = true;

  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined {
    if (this.closing) {
      written?.(); // dropped: nothing will read these parts
      return undefined;
    }
    // No write loop running: all that was staged is written, so the staging buffer is free.
    const staging = this.writing ? undefined : (this.staging ??= new Uint8Array(STAGING_SIZE));
    this.queued += gather(parts, this.queue, staging);
    if (written) this.written.push(written);
    if (!this.writing) void this.writeLoop();
    if (this.queued <= HIGH_WATER) return undefined;
    this.space ??= new Promise((resolve) => (this.releaseSpace = resolve));
    return this.space;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    if (!this.writing) this.finishClose();
  }

  private async readLoop(): Promise<void> {
    const buffer = new Uint8Array(READ_SIZE);
    try {
      while (!this.isClosed) {
        await this.unpaused();
        if (this.isClosed) break;
        // The rest of a large write payload, when one is coming: the bytes land in place.
        const target = this.receiver!.readBuffer?.() ?? buffer;
        const n = await this.source.read(target);
        if (n === null) break;
        if (n === 0) continue;
        await this.unpaused(); // a read already under way when pause() came is held back
        if (this.ended) return;
        this.receiver!.data(target.subarray(0, n));
      }
      this.end();
    } catch (error) {
      // Our own close() interrupts a pending read: that is an ordinary end.
      this.end(this.isClosed ? undefined : asError(error));
    }
  }

  private async unpaused(): Promise<void> {
    while (this.paused && !this.isClosed) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async writeLoop(): Promise<void> {
    this.writing = true;
    try {
      while (this.head < this.queue.length) {
        const segment = this.queue[this.head];
        const n = await this.sink.write(segment); // may write only part: loop on the rest
        this.queued -= n;
        if (n < segment.length) {
          this.queue[this.head] = segment.subarray(n);
        } else {
          this.queue[this.head++] = EMPTY;
          if (this.head >= 1024) this.compact();
        }
        if (this.queued <= HIGH_WATER) this.release();
      }
    } catch (error) {
      this.fail(asError(error));
    }
    this.queue = [];
    this.head = 0;
    this.queued = 0;
    this.writing = false;
    this.release();
    const written = this.written;
    this.written = [];
    for (const done of written) done();
    if (this.closing) this.finishClose();
  }

  /** Drops the written entries at the front, so a queue that never empties stays small. */
  private compact(): void {
    this.queue.splice(0, this.head);
    this.head = 0;
  }

  private release(): void {
    const release = this.releaseSpace;
    this.space = undefined;
    this.releaseSpace = undefined;
    release?.();
  }

  /** A write failed: the peer is gone, so nothing queued can be sent. */
  private fail(error: Error): void {
    this.closing = true;
    this.end(error);
    this.finishClose();
  }

  private finishClose(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    try {
      this.shut();
    } catch {
      // Already closed by the other side: nothing to release.
    }
    this.wake?.();
    this.markClosed();
  }

  private end(error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.receiver?.end(error);
  }
}

const EMPTY = new Uint8Array(0);

function peerOf(conn: DenoConn, address: ListenAddress): string {
  if (address.kind === "unix") return "unix socket";
  return `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
}

function peerAddressOf(conn: DenoConn, address: ListenAddress): PeerAddress | undefined {
  if (address.kind === "unix") return UNIX_PEER;
  return tcpPeer(conn.remoteAddr.hostname, conn.remoteAddr.port);
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
    if (error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied) {
      throw error;
    }
    return bind("0.0.0.0");
  }
}

/** HTTP on the port; each WebSocket request the check allows becomes one NBD connection. */
async function listenWebSocket(
  { host, port, check }: Extract<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Promise<Listener> {
  const handler: ServeHandler = (request, info) => {
    // The address must be read before upgrading: the request is closed afterwards.
    const { hostname, port } = info.remoteAddr;
    const peer = `${hostname}:${port} (websocket)`;
    const refusal = answerInsteadOfUpgrade(request, peer, check);
    if (refusal) return refusal;
    const from = tcpPeer(hostname, port);
    const { socket, response } = Deno.upgradeWebSocket(request);
    // Deno opens the socket after the response goes out; the greeting must wait for that.
    socket.addEventListener("open", () => acceptWebSocket(accept, socket, peer, from));
    return response;
  };
  let bound!: (port: number) => void;
  const listening = new Promise<number>((resolve) => (bound = resolve));
  const onListen = (address: { port: number }) => bound(address.port);
  const server = bindTcp(host, (hostname) => Deno.serve({ hostname, port, onListen }, handler));
  return { port: await listening, close: () => server.shutdown() };
}

/** Accepts until closed; closing waits for every accepted connection to close too. */
function acceptAll(listener: DenoListener, address: ListenAddress, accept: Accept): Listener {
  const open = new Set<Promise<void>>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      let conn: DenoConn;
      try {
        conn = await listener.accept();
      } catch {
        if (stopped) break;
        await new Promise((resolve) => setTimeout(resolve, 10)); // e.g. out of descriptors
        continue;
      }
      if (address.kind === "tcp") conn.setNoDelay?.(true);
      const from = peerAddressOf(conn, address);
      const channel = new StreamChannel(
        conn,
        conn,
        () => conn.close(),
        peerOf(conn, address),
        from,
      );
      open.add(channel.closed);
      void channel.closed.then(() => open.delete(channel.closed));
      channel.start(accept);
    }
  })();
  return {
    unixSocket: address.kind === "unix" ? address.path : undefined,
    port: address.kind === "tcp" ? listener.addr.port : undefined,
    async close() {
      stopped = true;
      listener.close();
      await loop;
      await Promise.all(open);
    },
  };
}

const encoder = new TextEncoder();

function writeAllSync(out: { writeSync(bytes: Uint8Array): number }, text: string): void {
  const bytes = encoder.encode(text);
  for (let done = 0; done < bytes.length;) done += out.writeSync(bytes.subarray(done));
}

/** `file://` URL of an absolute path, each segment escaped (a "#" or "%" in a name survives). */
function fileUrl(path: string): string {
  return new URL(path.split("/").map(encodeURIComponent).join("/"), "file:///").href;
}

export function createDenoRuntime(): Runtime {
  return {
    name: "deno",
    args: Deno.args,
    pid: Deno.pid,
    cwd: () => Deno.cwd(),

    listen(address, accept) {
      // Deno binds synchronously: a bind error thrown here becomes the promise's rejection.
      return new Promise((resolve) => {
        if (address.kind === "websocket") {
          return resolve(listenWebSocket(address, accept));
        }
        const listener = address.kind === "unix"
          ? Deno.listen({ transport: "unix", path: address.path })
          : bindTcp(
            address.host,
            (hostname) => Deno.listen({ transport: "tcp", hostname, port: address.port }),
          );
        resolve(acceptAll(listener, address, accept));
      });
    },

    serveStdio(accept) {
      // stdin and stdout stay open: the process exits right after, and closing stdin under a
      // pending read is not needed for the client to see the end.
      const channel = new StreamChannel(Deno.stdin, Deno.stdout, () => {}, "stdin", stdinPeer());
      channel.start(accept);
      return channel.closed;
    },

    async runShell(command, env) {
      let child;
      try {
        child = new Deno.Command("/bin/sh", {
          args: ["-c", command],
          env, // added to Deno's own environment
          stdin: "inherit",
          stdout: "inherit",
          stderr: "inherit",
        }).spawn();
      } catch {
        return { status: 127 };
      }
      // Deno reports a command killed by a signal as a shell does: 128 + signal number.
      const { code, signal } = await child.status;
      return signal === null ? { status: code } : { status: code, signal: code - 128 };
    },

    makeTempDir: () => Deno.makeTempDir({ prefix: "nbdts" }),
    async removePath(path) {
      try {
        await Deno.remove(path, { recursive: true });
      } catch (error) {
        if (!(error instanceof Deno.errors.NotFound)) throw error;
      }
    },
    writeTextFile: (path, text) => Deno.writeTextFile(path, text),

    onShutdownSignal(handler) {
      // A listener replaces the default action, so a repeated signal while stopping does not
      // kill the process; main() ignores the repeats, as it does on Node and Bun.
      for (const signal of SIGNALS) Deno.addSignalListener(signal, () => handler(signal));
    },

    exitWithParent() {
      const parent = Deno.ppid;
      const timer = setInterval(() => {
        if (Deno.ppid !== parent) Deno.kill(Deno.pid, "SIGTERM");
      }, 1000);
      Deno.unrefTimer(Number(timer));
    },

    daemonize: (keepStderr) =>
      daemonize([
        Deno.execPath(),
        "run",
        "-A",
        "--quiet",
        decodeURIComponent(new URL(Deno.mainModule).pathname),
        ...Deno.args,
      ], keepStderr),
    daemonReady: () => daemonReady((text) => writeAllSync(Deno.stdout, text)),

    // Plugins' files and commands go through node:fs and node:child_process, which this
    // runtime implements; only sockets need its native API for speed.
    host: nodeHost,
    // STARTTLS through Deno's node:tls, which is rustls: it has no pre-shared keys, and it
    // takes a `crl` but never checks a client certificate against it.
    tls: nodeTlsSupport(
      "--tls-psk cannot be used on Deno: its TLS (rustls, behind node:tls) has no pre-shared " +
        "keys. Run nbdts under Node for PSK, or use certificates (--tls-certificates).",
      "ca-crl.pem cannot be checked on Deno: its TLS (rustls, behind node:tls) ignores " +
        "revocation lists, so --tls-verify-peer would let revoked clients in. Run nbdts under " +
        "Node or Bun, or remove ca-crl.pem.",
    ),
    isRoot: () => Deno.uid() === 0,

    importModule(path) {
      const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
      return import(fileUrl(absolute)); // Deno runs a .ts plugin as it is
    },
    stdout: (text) => void (outputOpen("stdout") && writeAllSync(Deno.stdout, text)),
    stderr: (text) => void (outputOpen("stderr") && writeAllSync(Deno.stderr, text)),
    exit: (code) => Deno.exit(code),
  };
}
