/**
 * The Deno adapter: the Runtime contract on Deno.listen, Deno.serve, Deno.Command and Deno's
 * file API, with node-host.ts (node:fs, node:child_process) for plugins' files and commands
 * and node-process.ts (node:child_process) for daemon mode. Those, and every other piece on
 * node:*, are imported only when used: Deno's Node layer costs tens of milliseconds to start,
 * which a server that needs none of it (`memory 1M --run …`) does not pay.
 * It moves bytes and respects backpressure; it knows nothing of NBD. It declares only the
 * slice of the Deno API it uses (deno-api.ts), so it type-checks without Deno's own definitions.
 */

import type { Accept, ListenAddress, Listener, PeerAddress, PluginHost, Runtime } from "../io.ts";
import { withPluginListen } from "./host-listen.ts";
import { tcpPeer, UNIX_PEER } from "./peer.ts";
import { tcpBinder } from "./bind-tcp.ts";
import type { DenoApi, DenoConn, DenoListener, ServeHandler } from "./deno-api.ts";
import { lazyHost, nodeConnect } from "./lazy-host.ts";
import { denoPathExists } from "./deno-path-exists.ts";
import { denoConnect } from "./deno-connect.ts";
import { denoLibc } from "./deno-libc.ts";
import { daemonReady, outputOpen, programPath, startEnv, takeStartEnv } from "./start-env.ts";
import { denoSignals } from "./deno-signals.ts";
import { tlsSupport } from "./tls-support.ts";
import { importEsm } from "./esm-import.ts";
import { StreamChannel } from "./stream-channel.ts";

const Deno = (globalThis as unknown as { Deno: DenoApi }).Deno;

function peerOf(conn: DenoConn, address: ListenAddress): string {
  if (address.kind === "unix") return "unix socket";
  return `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`;
}

function peerAddressOf(conn: DenoConn, address: ListenAddress): PeerAddress | undefined {
  if (address.kind === "unix") return UNIX_PEER;
  return tcpPeer(conn.remoteAddr.hostname, conn.remoteAddr.port);
}

/** Binds as nbdkit does (bind-tcp.ts); a port in use or forbidden fails at once. */
const bindTcp = tcpBinder(
  (error) =>
    error instanceof Deno.errors.AddrInUse || error instanceof Deno.errors.PermissionDenied,
);

/**
 * HTTP on the port; each WebSocket request the check allows becomes one NBD connection. What
 * only WebSockets use is imported here, by a server that listens for them.
 */
async function listenWebSocket(
  { host, port, check }: Extract<ListenAddress, { kind: "websocket" }>,
  accept: Accept,
): Promise<Listener> {
  const [{ acceptWebSocket }, { answerInsteadOfUpgrade }] = await Promise.all([
    import("../embed/websocket.ts"),
    import("./websocket-gate.ts"),
  ]);
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

/**
 * PluginHost.serveHttp: Deno.serve on a TCP port or a Unix socket, each request answered by the
 * handler (fetch-http.ts).
 */
const serveHttp: PluginHost["serveHttp"] = async (address, handler) => {
  const { fetchHandler } = await import("./fetch-http.ts");
  const answer = fetchHandler(handler);
  let bound!: (port?: number) => void;
  const listening = new Promise<number | undefined>((resolve) => (bound = resolve));
  const server = address.kind === "unix"
    ? Deno.serve({ transport: "unix", path: address.path, onListen: () => bound() }, answer)
    : bindTcp(
      address.host,
      (hostname) =>
        Deno.serve({ hostname, port: address.port, onListen: (at) => bound(at.port) }, answer),
    );
  const port = await listening;
  return {
    port,
    unixSocket: address.kind === "unix" ? address.path : undefined,
    close: () => server.shutdown(), // which removes a Unix socket
  };
};

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

/** Listens on an inherited descriptor through node:net, loaded only for socket activation. */
async function listenInheritedFd(fd: number, accept: Accept): Promise<Listener> {
  const [{ listenInherited }, { serveSocket }] = await Promise.all([
    import("./node-inherited.ts"),
    import("./node-socket.ts"),
  ]);
  return listenInherited(fd, (socket, peer, from) => serveSocket(socket, accept, peer, from));
}

export function createDenoRuntime(): Runtime {
  return withPluginListen(makeDenoRuntime(), serveHttp);
}

function makeDenoRuntime(): Runtime {
  takeStartEnv({ get: (name) => Deno.env.get(name), unset: (name) => Deno.env.delete(name) });
  return {
    name: "deno",
    // Deno's main module keeps the path it was started as, links not followed.
    programPath: programPath(decodeURIComponent(new URL(Deno.mainModule).pathname)),
    args: Deno.args,
    pid: Deno.pid,
    getEnv: (name) => Deno.env.get(name),
    unsetEnv: (name) => Deno.env.delete(name),
    cwd: () => Deno.cwd(),

    listen(address, accept) {
      // Deno.listen takes no descriptor: an inherited socket is served through node:net.
      if (address.kind === "inherited") return listenInheritedFd(address.fd, accept);
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

    async serveStdio(accept) {
      // stdin and stdout stay open: the process exits right after, and closing stdin under a
      // pending read is not needed for the client to see the end.
      const { stdinPeer } = await import("./stdin-peer.ts");
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

    // One directory each: done at once, rather than by Deno's thread pool for async file calls
    // (a throw in a promise's executor rejects it).
    makeTempDir: () =>
      new Promise((resolve) => resolve(Deno.makeTempDirSync({ dir: "/tmp", prefix: "nbdts" }))),
    removePath: (path) =>
      new Promise((resolve) => {
        try {
          Deno.removeSync(path, { recursive: true });
        } catch (error) {
          if (!(error instanceof Deno.errors.NotFound)) throw error;
        }
        resolve();
      }),
    writeTextFile: (path, text) => Deno.writeTextFile(path, text),

    ...denoSignals(Deno),

    exitWithParent() {
      const parent = Deno.ppid;
      const timer = setInterval(() => {
        if (Deno.ppid !== parent) Deno.kill(Deno.pid, "SIGTERM");
      }, 1000);
      Deno.unrefTimer(Number(timer));
    },

    async daemonize(keepStderr, keepStdin) {
      // The background copy learns what it is without starting Deno's Node layer.
      if (startEnv().daemonStderr !== undefined) return "background";
      const { daemonize } = await import("./node-process.ts");
      const script = decodeURIComponent(new URL(Deno.mainModule).pathname);
      const argv = [Deno.execPath(), "run", "-A", "--quiet", script, ...Deno.args];
      return daemonize(argv, keepStderr, keepStdin);
    },
    daemonReady: () => daemonReady((text) => writeAllSync(Deno.stdout, text)),

    // Plugins' files and commands go through node:fs and node:child_process, which this
    // runtime implements; sockets, and the programs the sh and eval plugins start for each
    // request, use its native API for speed (Deno.Command). libc, through Deno.dlopen, finds
    // and punches holes in files.
    // Deno's node:fs cannot stat descriptors it did not open: libc's lseek tells a pipe.
    host: lazyHost(
      async () => {
        const [{ createNodeHost }, { watchPipe }, { isPipeByLibc }, { denoSpawn }] = await Promise
          .all([
            import("./node-host.ts"),
            import("./node-pipe-watch.ts"),
            import("./libc-file.ts"),
            import("./deno-spawn.ts"),
          ]);
        const watch = (fd: number) => {
          const libc = denoLibc();
          return watchPipe(fd, libc ? (fd) => isPipeByLibc(libc, fd) : () => true);
        };
        return createNodeHost(denoLibc, watch, denoSpawn(Deno));
      },
      {
        getEnv: (name) => Deno.env.get(name),
        pathExists: denoPathExists(Deno),
        connect: denoConnect(Deno, nodeConnect),
      },
    ),
    // STARTTLS through Deno's node:tls, which is rustls: it has no pre-shared keys, and it
    // takes a `crl` but never checks a client certificate against it.
    tls: tlsSupport(
      "--tls-psk cannot be used on Deno: its TLS (rustls, behind node:tls) has no pre-shared " +
        "keys. Run nbdts under Node for PSK, or use certificates (--tls-certificates).",
      "ca-crl.pem cannot be checked on Deno: its TLS (rustls, behind node:tls) ignores " +
        "revocation lists, so --tls-verify-peer would let revoked clients in. Run nbdts under " +
        "Node or Bun, or remove ca-crl.pem.",
    ),
    isRoot: () => Deno.uid() === 0,
    isDirectory: (path) => statOrNothing(path)?.isDirectory ?? false,

    importModule(path) {
      const absolute = path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
      return importEsm(fileUrl(absolute)); // Deno runs a .ts plugin as it is
    },
    stdout: (text) => void (outputOpen("stdout") && writeAllSync(Deno.stdout, text)),
    stderr: (text) => void (outputOpen("stderr") && writeAllSync(Deno.stderr, text)),
    exit: (code) => Deno.exit(code),
  };
}

/** What stat(2) says of `path` (following links, as access(2) does), or undefined. */
function statOrNothing(path: string): { readonly isDirectory: boolean } | undefined {
  try {
    return Deno.statSync(path);
  } catch {
    return undefined;
  }
}
