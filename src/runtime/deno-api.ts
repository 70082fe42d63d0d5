/**
 * The slice of the Deno API that deno.ts uses, declared so that the adapter type-checks without
 * Deno's own definitions. Types only: nothing here runs.
 */

import type { WebSocketLike } from "../embed/websocket.ts";
import type { ByteSink, ByteSource } from "./stream-channel.ts";

/** What deno.ts uses of the Deno namespace (lib.deno.ns.d.ts has the full story). */
export interface DenoApi {
  readonly args: readonly string[];
  readonly pid: number;
  /** A getter: it answers anew each time, so it shows when the parent has died. */
  readonly ppid: number;
  readonly env: { get(name: string): string | undefined; delete(name: string): void };
  readonly build: { readonly os: string };
  readonly errors: {
    readonly NotFound: new () => Error;
    readonly AddrInUse: new () => Error;
    readonly PermissionDenied: new () => Error;
  };
  readonly stdin: ByteSource;
  readonly stdout: ByteSink & { writeSync(bytes: Uint8Array): number };
  readonly stderr: { writeSync(bytes: Uint8Array): number };
  readonly Command: new (program: string, options: CommandOptions) => {
    spawn(): ChildProcess;
  };
  listen(options: { transport: "unix"; path: string }): DenoListener;
  listen(options: { transport: "tcp"; hostname: string; port: number }): DenoListener;
  serve(options: ServeOptions, handler: ServeHandler): { shutdown(): Promise<void> };
  serve(options: ServeUnixOptions, handler: ServeHandler): { shutdown(): Promise<void> };
  connect(options: { transport: "tcp"; hostname: string; port: number }): Promise<DenoConn>;
  /** A TLS client connection, checked against the CAs Deno trusts. */
  connectTls(options: { hostname: string; port: number }): Promise<DenoConn & DenoTls>;
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
  kill(pid: number, signal: Signal | "SIGKILL"): void;
  addSignalListener(signal: Signal, handler: () => void): void;
  removeSignalListener(signal: Signal, handler: () => void): void;
  /** Foreign functions (needs --allow-ffi, which -A gives): here only libc's signal(). */
  dlopen(path: string, symbols: LibcSymbols): { symbols: { signal(n: number, to: null): unknown } };
  unrefTimer(id: number): void;
  makeTempDirSync(options: { dir?: string; prefix: string }): string;
  statSync(path: string): DenoFileInfo;
  /** Opens a file; here only to learn whether it may be read, then closed at once. */
  openSync(path: string, options: { read: true }): { close(): void };
  gid(): number | null;
  removeSync(path: string, options: { recursive: boolean }): void;
  writeTextFile(path: string, text: string): Promise<void>;
}

/** The part of Deno.FileInfo used here (mode, uid, gid are null on Windows). */
export interface DenoFileInfo {
  readonly isFile: boolean;
  readonly isDirectory: boolean;
  readonly mode: number | null;
  readonly uid: number | null;
  readonly gid: number | null;
}

export type Signal = "SIGINT" | "SIGTERM" | "SIGHUP" | "SIGQUIT" | "SIGUSR1";

/** libc's `signal(int, void (*)(int))`, as Deno.dlopen describes a foreign function. */
export interface LibcSymbols {
  signal: { parameters: ["i32", "pointer"]; result: "pointer" };
}

export interface ServeOptions {
  hostname: string;
  port: number;
  /** Called once bound; without it Deno prints "Listening on …" to stdout. */
  onListen(address: { port: number }): void;
}

/** Deno.serve on a Unix socket. */
export interface ServeUnixOptions {
  transport: "unix";
  path: string;
  /** As ServeOptions' (without it Deno prints "Listening on …"). */
  onListen(address: { path: string }): void;
}

export type ServeHandler = (
  request: Request,
  info: { remoteAddr: { hostname: string; port: number } },
) => Response;

export interface CommandOptions {
  args: string[];
  /** Added to Deno's own environment, or all of it with `clearEnv`. */
  env?: Record<string, string>;
  clearEnv?: boolean;
  stdin: "inherit" | "piped" | "null";
  stdout: "inherit" | "piped";
  stderr: "inherit" | "piped";
}

/** A started Command; the streams exist where "piped" was asked for. */
export interface ChildProcess {
  readonly pid: number;
  readonly stdin: WritableStream<Uint8Array>;
  readonly stdout: ReadableStream<Uint8Array>;
  readonly stderr: ReadableStream<Uint8Array>;
  readonly status: Promise<{ readonly code: number; readonly signal: string | null }>;
}

export interface DenoConn extends ByteSource, ByteSink {
  readonly remoteAddr: { readonly hostname?: string; readonly port?: number };
  close(): void;
  setNoDelay?(noDelay: boolean): void;
}

/** What a TLS connection adds: its handshake, done on first use unless awaited here. */
export interface DenoTls {
  handshake(): Promise<unknown>;
}

export interface DenoListener {
  readonly addr: { readonly port?: number };
  accept(): Promise<DenoConn>;
  close(): void;
}
