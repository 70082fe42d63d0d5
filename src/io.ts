/**
 * Everything the core may ask of a runtime: byte channels for connections, listeners, and the
 * few process services the command line needs. Adapters in src/runtime/ implement it; the core
 * imports only this file, never a runtime.
 */

/**
 * Where a connection comes from, as the socket tells it (what nbdkit's filters learn from
 * nbdkit_peer_name). An IPv4 client of a dual-stack socket is "ipv4", never "::ffff:a.b.c.d";
 * `address` is in canonical text form ("127.0.0.1", "::1"). Unix sockets carry no credentials:
 * no runtime we run on exposes SO_PEERCRED.
 */
export type PeerAddress =
  | { readonly family: "ipv4" | "ipv6"; readonly address: string; readonly port: number }
  | { readonly family: "unix" };

/** One connection's outgoing side, as the runtime gives it. */
export interface Channel {
  /** Who is connected, for logs. */
  readonly peer: string;
  /**
   * Who is connected, for access control (the ip filter). Missing when the runtime cannot
   * tell (a pipe on stdin, a stream handed over without one): such a client is refused by
   * anything that checks, as nbdkit refuses one whose peer name it cannot get.
   */
  readonly address?: PeerAddress;
  /**
   * Writes the parts in order as one batch. Returns undefined when the runtime can take more
   * at once, or a promise that settles when it can (backpressure). `written`, if given, is
   * called once the runtime no longer needs the parts' memory (handed to the system, or the
   * connection is gone), so their buffers can be reused; a runtime that cannot tell never
   * calls it.
   */
  write(parts: Uint8Array[], written?: () => void): Promise<void> | undefined;
  /**
   * True when write() calls `written` once for every batch, whatever happens to it: written,
   * dropped because the connection failed or is closing, or given to write() after that. Only
   * then may parts be memory lent by a plugin (Handle.readViews), which must go back to it once
   * and only once the runtime no longer reads it.
   */
  readonly confirmsWrites?: boolean;
  /** Stops delivering received bytes until resume(). */
  pause(): void;
  resume(): void;
  /** Sends what is queued, then closes. */
  close(): void;
  /**
   * Client connections (PluginHost.connect): closes at once, dropping what is still queued and
   * reading nothing more (into a readBuffer() view either); each `written` is still called. A
   * request that timed out then never waits on a server that stopped reading, and no buffer
   * lent to the runtime is touched after its owner was told the request failed.
   */
  abort?(): void;
  /**
   * STARTTLS, where the runtime can act as a TLS server on this connection. Called with
   * reading paused, after the option's ACK was handed to write(). `early` holds the bytes the
   * client sent after the STARTTLS option: they are the start of the TLS stream (as they are
   * for nbdkit, whose GnuTLS reads them from the socket), never NBD. Resolves once the
   * handshake is done; from then on write() encrypts and the receiver gets decrypted bytes.
   * Rejects when the handshake fails.
   */
  startTls?(early: Uint8Array): Promise<void>;
  /**
   * The client's side of STARTTLS, where the runtime can act as a TLS client on a connection it
   * opened (Connect): called once the server has answered STARTTLS with ACK and no byte follows.
   * Resolves once the handshake is done; from then on write() encrypts and the receiver gets
   * decrypted bytes. Rejects when the handshake fails (a certificate not trusted, say).
   */
  startTlsClient?(credentials: ClientTlsCredentials): Promise<void>;
}

/**
 * What a client checks the server with and proves itself with (libnbd's tls-certificates
 * directory, its tls-psk-file and username), as bytes already read.
 */
export interface ClientTlsCredentials {
  /** PEM of the CAs the server's certificate must chain to; absent: the system's. */
  readonly ca?: Uint8Array;
  /** The client's own certificate and key, for a server that asks for one. */
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
  /** Check the server's certificate and its name (true unless told otherwise). */
  readonly verifyPeer: boolean;
  /** The name the server's certificate must carry: the host connected to. */
  readonly serverName?: string;
  /** A pre-shared key instead of certificates. */
  readonly psk?: { readonly identity: string; readonly key: Uint8Array };
}

/** Where a runtime delivers one connection's received bytes. */
export interface Receiver {
  /** Bytes arrived; they are not reused by the runtime until this returns. */
  data(chunk: Uint8Array): void;
  /**
   * Optional: where the next bytes should be read, when the receiver has a place for them (the
   * rest of a large write payload); undefined means the runtime's own buffer. A runtime that
   * can read into a given buffer asks before each read, reads at most its length into it, and
   * passes data() a view of the part it filled.
   */
  readBuffer?(): Uint8Array | undefined;
  /** The peer closed its side, or the connection failed. */
  end(error?: Error): void;
}

/**
 * The one clock the core uses (the handshake deadline), passed in so tests can drive time.
 * src/timers.ts makes one from the web-standard setTimeout and clearTimeout.
 */
export interface Timers {
  /**
   * Calls `fire` once, `ms` milliseconds from now, unless the returned function is called
   * first. A pending timer must not keep the process alive.
   */
  after(ms: number, fire: () => void): () => void;
}

/**
 * TLS on a connection a client opens. "now": from the first byte (the curl and S3 plugins'
 * https:), the server's certificate checked against the host and the CAs the runtime trusts;
 * connect() resolves once the handshake is done. "starttls": plain at first, and the channel
 * offers startTlsClient() to turn to TLS mid-stream (NBD's STARTTLS, for the nbd plugin and
 * nbdts/client), so the runtime reads it in a way node:tls can take over. Absent: plain.
 */
export type ConnectTls = "now" | "starttls";

/**
 * Where a client connects out to (the nbd plugin, nbdts/client, the curl and S3 plugins): TCP,
 * a Unix socket, or a WebSocket URL (ws:// or wss://) whose binary messages carry the bytes.
 */
export type ConnectTarget =
  | {
    readonly kind: "tcp";
    /** A host name or an address (an IPv6 one without brackets). */
    readonly host: string;
    readonly port: number;
    readonly tls?: ConnectTls;
  }
  | { readonly kind: "unix"; readonly path: string; readonly tls?: "starttls" }
  | { readonly kind: "websocket"; readonly url: string };

/**
 * The client side: opens a connection to `target` and resolves to its Channel once connected;
 * the connection's bytes go to `receiver` from then on. Rejects with the reason it cannot.
 */
export type Connect = (target: ConnectTarget, receiver: Receiver) => Promise<Channel>;

/** The server side of accepting: a new connection gets a receiver for its bytes. */
export type Accept = (channel: Channel) => Receiver;

export interface Listener {
  /** What was bound: a socket path, or the port actually chosen. */
  readonly unixSocket?: string;
  readonly port?: number;
  close(): Promise<void>;
}

export type ListenAddress =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; host?: string; port: number }
  /** HTTP on a TCP port, upgrading each request `check` allows to a WebSocket carrying NBD. */
  | { kind: "websocket"; host?: string; port: number; check: UpgradeCheck }
  /**
   * A socket already listening, inherited as file descriptor `fd` (socket activation: systemd
   * or a libnbd client bound it). Unix or TCP, whichever it is; its path is never unlinked.
   */
  | { kind: "inherited"; fd: number };

/**
 * Asked before each WebSocket upgrade, with the request's Origin and Host headers (undefined
 * when absent) and the peer: the reason to answer 403 instead, or undefined to upgrade.
 */
export type UpgradeCheck = (
  origin: string | undefined,
  host: string | undefined,
  peer: string,
) => string | undefined;

/** What running a shell command for a plugin gave. */
export interface CommandResult {
  /** Its standard output (no more than the limit asked for, if one was). */
  readonly output: Uint8Array;
  /** Its exit status; 0 is success. */
  readonly status: number;
}

/** How a shell command ended (Runtime.runShell). */
export interface ShellEnd {
  readonly status: number;
  /** The signal that killed the shell, if one did. */
  readonly signal?: number;
}

/** An open file a plugin reads. */
export interface ReadableFile {
  /** The file's current size in bytes. */
  size(): Promise<number>;
  /** Reads up to buf.length bytes at `offset`; resolves to how many were read, 0 at the end. */
  read(buf: Uint8Array, offset: number): Promise<number>;
  close(): Promise<void>;
}

/** What a path names, links followed: the file plugin serves only "file" and "block". */
export type FileKind = "file" | "block" | "directory" | "other";

/** An open regular file or block device a plugin reads and, unless `readonly`, writes. */
export interface DiskFile extends ReadableFile {
  /** True when opened read-only: asked to, or the file could not be opened for writing. */
  readonly readonly: boolean;
  readonly kind: "file" | "block";
  /** Writes up to buf.length bytes at `offset`; resolves to how many were written. */
  write(buf: Uint8Array, offset: number): Promise<number>;
  /** Makes completed writes durable (fdatasync). */
  sync(): Promise<void>;
  /*
   * The optional calls below exist only where the runtime reaches them (Linux's fallocate and
   * lseek): a plugin asks whether a method is there before using it. Each fails by throwing an
   * Error whose `code` is the errno name, as Node's system errors carry it: "EOPNOTSUPP" when
   * this file system or device cannot do it, else "EIO", "ENOSPC", "EPERM" and so on.
   */
  /** Frees `count` bytes at `offset`, which then read as zeroes; the size stays (a hole). */
  punchHole?(offset: number, count: number): void | Promise<void>;
  /** Makes `count` bytes at `offset` read as zeroes without writing them (FALLOC_FL_ZERO_RANGE). */
  zeroRange?(offset: number, count: number): void | Promise<void>;
  /** Allocates `count` bytes at `offset` (fallocate mode 0): a hole there becomes zeroes. */
  allocate?(offset: number, count: number): void | Promise<void>;
  /**
   * Where the first byte of data at or after `offset` is (lseek SEEK_DATA), or undefined when
   * only a hole follows up to the end of the file. A file system that keeps no holes reports all
   * data.
   */
  nextData?(offset: number): number | undefined;
  /** Where the first hole at or after `offset` starts (lseek SEEK_HOLE); the end counts as one. */
  nextHole?(offset: number): number;
}

/** A file lines are written to (the log filter's logfile=). */
export interface TextOutput {
  /** Writes `text` at once, before returning, as nbdkit writes and flushes each log line. */
  write(text: string): void;
  close(): void;
}

/** One name in a directory and what it is, links followed ("other" when one dangles). */
export interface DirectoryEntry {
  readonly name: string;
  readonly kind: FileKind;
}

/**
 * The files, commands and environment built-in plugins may use (data's <FILE and <(SCRIPT),
 * example2's file): the core never touches them itself, so it still runs where none exist.
 */
export interface PluginHost {
  /** The absolute path with links resolved; rejects with the reason when it does not exist. */
  realpath(path: string): Promise<string>;
  openReadOnly(path: string): Promise<ReadableFile>;
  /** `length` bytes of a file from `offset` (fewer at its end; all the rest when undefined). */
  readFile(path: string, offset: number, length: number | undefined): Promise<Uint8Array>;
  /** Runs `script` with /bin/sh, collecting stdout; with `limit`, stops reading after it. */
  runCommand(script: string, limit: number | undefined): Promise<CommandResult>;
  getEnv(name: string): string | undefined;
  /** What `path` is; rejects with the reason when it does not exist. */
  fileKind?(path: string): Promise<FileKind>;
  /**
   * Opens a regular file or block device (anything else is refused before opening), for
   * writing unless `readonly`; a file that refuses writing is opened read-only instead.
   */
  openFile?(path: string, readonly: boolean): Promise<DiskFile>;
  /** The names in a directory, without "." and "..". */
  listDirectory?(path: string): Promise<DirectoryEntry[]>;
  /**
   * A new empty file in `directory`, open for reading and writing and already unlinked, as
   * nbdkit's mkostemp and unlink make one: private to this process, gone once closed or when the
   * process exits, however it ends. Rejects with the reason when the directory refuses.
   */
  createTempFile?(directory: string): Promise<DiskFile>;
  /**
   * Whether `path` exists now, or with `readable` whether this process may read it (access(2)
   * with F_OK or R_OK), asked synchronously: a filter switched on and off by a file
   * (cow-on-read=, error-file=, readonly-file=) asks before each request, as nbdkit does.
   */
  pathExists?(path: string, readable?: boolean): boolean;
  /**
   * Opens a file to write lines to: created if missing (mode 0666 less the umask), emptied
   * unless `append`. Rejects with the reason ("No such file or directory").
   */
  openTextOutput?(path: string, append: boolean): Promise<TextOutput>;
  /**
   * Runs `script` with /bin/sh, sharing the server's stdin, stdout and stderr, as system(3)
   * does; resolves to how it ended (status 127 when no shell could start).
   */
  runShell?(script: string): Promise<ShellEnd>;
  /**
   * Watches the read end of a pipe (or socket) the server inherited as descriptor `fd`, for
   * the exitwhen filter: the function it resolves to says "closed" once every write end is
   * closed, "invalid" when `fd` is no pipe or socket the runtime can watch. Unlike nbdkit,
   * which only polls it, the runtime reads the pipe: what is written to it is thrown away.
   */
  watchPipe?(fd: number): Promise<() => PipeState>;
  /**
   * The first line of a file, its newline included, reading nothing past it: a pipe or a
   * terminal (`/dev/fd/N` for an inherited descriptor) is left with the rest of its input, as
   * getline(3) leaves it (nbdkit_read_password with "+FILE" and "-FD"). Rejects with the reason
   * when the file cannot be opened or read.
   */
  readFirstLine?(path: string): Promise<Uint8Array>;
  /**
   * Asks for a password on the terminal, as nbdkit_read_password("-") does: writes `prompt` to
   * stdout, reads one line from stdin with the terminal's echo off, turns echo back on and ends
   * the prompt's line. Answers the line with its newline, or undefined when stdin is not a
   * terminal. Absent where stdin cannot be used (it is the client's connection under -s).
   */
  readPassword?(prompt: string): Promise<Uint8Array | undefined>;
  /**
   * Listens on a Unix socket at `path` (a file there that is no directory is removed first),
   * each connection handed to `accept`; closing the listener removes the socket. For a
   * filter's own control socket (the pause filter's), not for NBD clients.
   */
  listenUnix?(path: string, accept: Accept): Promise<Listener>;
  /**
   * Connects out to another server: the nbd plugin proxies to one, the curl and S3 plugins
   * speak HTTP to theirs. TCP connections read into the receiver's readBuffer() where the
   * runtime can, and offer abort().
   */
  connect?: Connect;
  /**
   * Starts `argv` with a listening socket passed by socket activation (LISTEN_FDS=1, the socket
   * at descriptor 3), as libnbd does for nbdkit's nbd plugin; resolves once it has started.
   */
  startActivated?(argv: readonly string[]): Promise<ActivatedCommand>;
  /**
   * Listens as Runtime.listen does, for a plugin that waits for servers to connect to it (the
   * nbd plugin's websocket-listen=, where a web page serving a disk dials in).
   */
  listen?(address: ListenAddress, accept: Accept): Promise<Listener>;
  /**
   * Serves HTTP/1.1 on a TCP port or a Unix socket, every request answered by `handler`: a
   * filter's own endpoint (the stats filter's live metrics), never NBD. Rejects with the reason
   * when it cannot listen. Closing stops it, drops its idle connections and removes its socket.
   */
  serveHttp?(address: HttpAddress, handler: HttpHandler): Promise<Listener>;
  /**
   * Runs a program (argv[0] is its path or a name looked up on PATH) with `options.stdin` on its
   * standard input (or an empty one), collecting its standard output and error, as nbdkit's sh
   * and eval plugins run scripts. A file without a `#!` line runs under /bin/sh, as glibc's
   * execvp runs it. Rejects, with the errno name as the Error's `code`, when the program cannot
   * be started; see SpawnOptions.signal for stopping one that never ends.
   */
  spawn?(argv: readonly string[], options?: SpawnOptions): Promise<SpawnResult>;
  /**
   * A fresh private directory (mkdtemp) named `prefix` and six random characters: by default
   * in /tmp, whatever $TMPDIR says, as nbdkit's sh plugin makes its $tmpdir.
   */
  makeTempDir?(prefix?: string): Promise<string>;
  /** Writes `data` to a new file (or over an old one) at `path`, then gives it `mode` (0o500). */
  writeFile?(path: string, data: Uint8Array, mode: number): Promise<void>;
  /** Removes a file or a directory with all it holds; a path already gone is no error. */
  removePath?(path: string): Promise<void>;
  /**
   * The process's standard input, read to its end (the sh plugin's inline script, `sh -`).
   * Missing where stdin is not a plugin's to read: with -s it carries the client's connection
   * (nbdkit_stdio_safe).
   */
  readStdin?(): Promise<Uint8Array>;
}

/** How PluginHost.spawn runs a program. */
export interface SpawnOptions {
  /** Written to the program's standard input, which is then closed; without it, stdin is empty. */
  readonly stdin?: Uint8Array;
  /** Variables added to the server's own environment for the program. */
  readonly env?: Readonly<Record<string, string>>;
  /** Standard output past this many bytes is counted but not kept (default: all is kept). */
  readonly stdoutLimit?: number;
  /** Standard error past this many bytes is dropped (default: all is kept). */
  readonly stderrLimit?: number;
  /**
   * Aborting it kills the program and every process it started (it runs in a process group of
   * its own), and the promise rejects with the signal's reason without waiting for them.
   */
  readonly signal?: AbortSignal;
}

/** What a program run by PluginHost.spawn did. */
export interface SpawnResult {
  /** Its exit status; meaningless when `signal` is set. */
  readonly status: number;
  /** The number of the signal that killed it, if one did. */
  readonly signal?: number;
  /** What it wrote to standard output, up to the limit. */
  readonly stdout: Uint8Array;
  /** How many bytes it wrote to standard output in all, kept or not. */
  readonly stdoutLength: number;
  /** What it wrote to standard error, up to the limit. */
  readonly stderr: Uint8Array;
  /** True when it closed its standard input before reading all of `stdin` (EPIPE). */
  readonly stdinRefused?: boolean;
}

/** Where PluginHost.serveHttp listens: a TCP address (every address when `host` is absent). */
export type HttpAddress =
  | { readonly kind: "tcp"; readonly host?: string; readonly port: number }
  | { readonly kind: "unix"; readonly path: string };

/** One HTTP request as serveHttp hands it over; its body is never read. */
export interface HttpRequest {
  /** "GET", "HEAD", "POST" … as the client sent it. */
  readonly method: string;
  /** The path of the request's target, without the query: "/metrics". */
  readonly path: string;
  /** A request header by its lower-case name; undefined when absent. */
  header(name: string): string | undefined;
}

/** What serveHttp sends back; the body goes out as UTF-8, and not at all for HEAD. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Answers one request at once: no HTTP handler of ours waits for anything. */
export type HttpHandler = (request: HttpRequest) => HttpResponse;

/** A program started by PluginHost.startActivated: where to connect, and how to stop it. */
export interface ActivatedCommand {
  readonly target: ConnectTarget;
  /** Sends it SIGTERM and removes its socket's directory. */
  stop(): void;
}

/** What PluginHost.watchPipe tells of a pipe. */
export type PipeState = "open" | "closed" | "invalid";

/** What the server proves itself with (nbdkit's --tls-certificates or --tls-psk). */
export type TlsCredentials = X509Credentials | PskCredentials;

/** The PEM files of a certificate directory, as read (ca-crl.pem is optional). */
export interface X509Credentials {
  readonly kind: "x509";
  readonly ca: Uint8Array;
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
  readonly crl?: Uint8Array;
  /** --tls-verify-peer: a client must present a certificate signed by the CA. */
  readonly verifyPeer: boolean;
}

/** Pre-shared keys by username. */
export interface PskCredentials {
  readonly kind: "psk";
  /** The table, read anew for each handshake, as GnuTLS rereads the key file each time. */
  keys(): Promise<ReadonlyMap<string, Uint8Array>>;
}

/** STARTTLS support of a runtime (nbdkit's "built with GnuTLS"). */
export interface TlsSupport {
  /** Why --tls-psk cannot work on this runtime; absent when pre-shared keys work. */
  readonly pskUnavailable?: string;
  /**
   * Checks the credentials (rejecting when a PEM does not load) and answers what wraps an
   * `accept` so that every channel it is given has a startTls() upgrading with them. The TLS
   * library may be loaded only now, when a server first needs it.
   */
  prepare(credentials: TlsCredentials): Promise<(accept: Accept) => Accept>;
}

/** The signals the program acts on, as nbdkit 1.32.5 does (src/cli/signals.ts says how). */
export type ProcessSignal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT" | "SIGUSR1";

/** The process services main() uses; each adapter supplies them for its runtime. */
export interface Runtime {
  readonly name: string;
  /**
   * The path the program was started as, links not followed: the script as the runtime was
   * given it, or what a wrapper script put in NBDTS_ARGV0. Its last part is the name to answer
   * to ("nbdkit" makes nbdts answer as nbdkit), its directory --dump-config's bindir.
   */
  readonly programPath: string;
  readonly args: readonly string[];
  listen(address: ListenAddress, accept: Accept): Promise<Listener>;
  /** Serves one connection on stdin/stdout (-s); settles when it ends. */
  serveStdio(accept: Accept): Promise<void>;
  /**
   * Runs `command` with /bin/sh -c and extra environment; resolves to its exit status, which
   * is 128+N with `signal` N when a signal killed the shell itself.
   */
  runShell(command: string, env: Record<string, string>): Promise<ShellEnd>;
  /** A fresh private directory in /tmp, whatever $TMPDIR says, as nbdkit's for -U -. */
  makeTempDir(): Promise<string>;
  removePath(path: string): Promise<void>;
  writeTextFile(path: string, text: string): Promise<void>;
  /**
   * Calls `handler` on each ProcessSignal instead of its default action, so that none ends the
   * program by itself (nor starts Node's inspector, as SIGUSR1 would). SIGPIPE stays ignored, as
   * every runtime ignores it already: a write to a closed connection fails with EPIPE.
   */
  onSignal(handler: (signal: ProcessSignal) => void): void;
  /**
   * Ends the process by the default action of `signal`, as if it had never been caught, so that
   * its parent sees it killed by that signal (status 128+N in a shell). Never resolves.
   */
  dieBySignal(signal: ProcessSignal): Promise<never>;
  /** Exits when the parent process exits (--exit-with-parent). */
  exitWithParent(): void;
  /**
   * Daemon mode (nbdkit without -f). In the process the user started, it starts this program
   * again in the background, passes that copy's stdout and stderr through, and resolves to the
   * status to exit with: 0 once the copy calls daemonReady(), else the copy's own status. In
   * the background copy it resolves to "background" at once. With `keepStderr` (-v) the copy
   * writes to our stderr directly and keeps it, as nbdkit keeps stderr when verbose. With
   * `keepStdin` the copy gets our stdin, for a plugin that reads it while it is configured (`sh
   * -`), where nbdkit reads it before going into the background; otherwise its stdin is empty.
   */
  daemonize(keepStderr: boolean, keepStdin?: boolean): Promise<number | "background">;
  /** In the background copy: it is serving, so the starting process exits 0; later output is dropped. */
  daemonReady(): void;
  /** Files, commands and environment for built-in plugins; without it they refuse those. */
  readonly host?: PluginHost;
  /** Present where connections can be upgraded to TLS; without it --tls=on/require fail. */
  readonly tls?: TlsSupport;
  /** Whether the effective user is root: nbdkit then looks for certificates in /etc/pki. */
  isRoot(): boolean;
  /**
   * Whether `path` is a directory (false when it cannot be looked at), asked without loading
   * anything: a certificate directory that is not there is passed over without reading its
   * files through `host`. Absent: every directory is read.
   */
  isDirectory?(path: string): boolean;
  /** Loads a user plugin module by path. */
  importModule(path: string): Promise<unknown>;
  stdout(text: string): void;
  stderr(text: string): void;
  readonly pid: number;
  /** A variable of this process's environment (socket activation's LISTEN_PID, LISTEN_FDS). */
  getEnv(name: string): string | undefined;
  /** Removes a variable from this process's environment, so no child process sees it. */
  unsetEnv(name: string): void;
  /** The current directory, to make relative paths absolute. */
  cwd(): string;
  exit(code: number): never;
}
