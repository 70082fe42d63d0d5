/**
 * The plugin API: what a plugin author writes. It mirrors the 34 methods of the Rust crate's
 * `nbdkit::Server` trait and nbdkit's C callbacks (man nbdkit-plugin), split as in C: a `Plugin`
 * (loaded once, configured from the command line) opens one `Handle` per connection.
 *
 * Every callback may return a value or a Promise of it. A callback fails one request by
 * throwing `NbdError(errno, message)`; anything else thrown becomes EIO and is logged, and the
 * connection goes on. Every method is optional except `open` and, on the handle, `getSize` and
 * `readAt`; what is missing gets nbdkit's default (see backend.ts).
 *
 * Offsets: a disk smaller than 2^53 bytes only ever sees `number` offsets. A plugin whose
 * `getSize` returns a `bigint` (up to 2^63-1) receives offsets at or past 2^53 as `bigint`.
 *
 * Counts: as in nbdkit, the count given to zero, trim, cache and extents is below 2^32. A
 * client with extended headers may ask for more in one request (up to the disk's size): the
 * server then splits it into calls of at most LARGE_COUNT_PIECE bytes, unless the handle opts
 * in with `largeCounts: true` (typed `Handle<Offset>`): its four calls then receive the whole
 * count, as an `Offset` (a number below 2^53, a bigint past it).
 */

import type { PeerAddress } from "../io.ts";

export type { PeerAddress };

export type MaybePromise<T> = T | Promise<T>;

/** An exact byte offset or size: `number` below 2^53, `bigint` past it. */
export type Offset = number | bigint;

/** Flags passed to writeAt, zero, trim and extents (nbdkit's NBDKIT_FLAG_*). */
export const FLAG = {
  /** zero(): the plugin may punch a hole instead of writing zeroes. */
  MAY_TRIM: 1 << 0,
  /** writeAt/zero/trim: do not return until the data is on stable storage. */
  FUA: 1 << 1,
  /** extents(): the client wants only the first extent. */
  REQ_ONE: 1 << 2,
  /** zero(): fail at once with ENOTSUP unless zeroing is faster than writing. */
  FAST_ZERO: 1 << 3,
} as const;

/** What canFua() answers (nbdkit's NBDKIT_FUA_*). */
export const FUA_MODE = { NONE: 0, EMULATE: 1, NATIVE: 2 } as const;
export type FuaMode = (typeof FUA_MODE)[keyof typeof FUA_MODE];

/** What canCache() answers (nbdkit's NBDKIT_CACHE_*). */
export const CACHE_MODE = { NONE: 0, EMULATE: 1, NATIVE: 2 } as const;
export type CacheMode = (typeof CACHE_MODE)[keyof typeof CACHE_MODE];

/** How much concurrency a plugin allows (nbdkit's NBDKIT_THREAD_MODEL_*). */
export const THREAD_MODEL = {
  SERIALIZE_CONNECTIONS: 0,
  SERIALIZE_ALL_REQUESTS: 1,
  SERIALIZE_REQUESTS: 2,
  PARALLEL: 3,
} as const;
export type ThreadModel = (typeof THREAD_MODEL)[keyof typeof THREAD_MODEL];

/** Extent types for extents() (nbdkit's NBDKIT_EXTENT_*): data is 0. */
export const EXTENT = { DATA: 0, HOLE: 1, ZERO: 2 } as const;

/** Where extents() reports what it knows: nbdkit_add_extent. */
export interface ExtentSink {
  /** Reports [offset, offset+length) as of `type` (EXTENT bits). Extents must be in order. */
  add(offset: Offset, length: Offset, type: number): void;
}

/** Block size constraints of an export (nbdkit's .block_size), sent as NBD_INFO_BLOCK_SIZE. */
export interface BlockSize {
  /** A power of two, 1 to 64 KiB: the smallest unit and alignment. */
  minimum: number;
  /** A power of two, 512 bytes to 32 MiB: the efficient I/O size. */
  preferred: number;
  /** The largest request payload: a multiple of minimum, or 0xffffffff for no limit. */
  maximum: number;
}

/** One entry of an export list (nbdkit_add_export). */
export interface ExportEntry {
  name: string;
  description?: string;
}

/** The bytes of one READ lent by the plugin (Handle.readViews). */
export interface ReadViews {
  /** The bytes in order; their lengths add up to the count asked for. */
  readonly views: readonly Uint8Array[];
  /** Optional: whether every byte is zero, when the plugin can tell faster than a scan. */
  isAllZero?(): boolean;
  /** The server is done with the views; called once. It must not throw. */
  release(): void;
}

/**
 * The largest count a zero, trim or cache call gets when its handle does not opt in to large
 * counts: 2^32 - 64 KiB, below nbdkit's 32-bit counts and a multiple of every minimum block size
 * NBD allows, so that the pieces of an aligned request stay aligned. extents gets at most
 * 2^32 - 1, as a BLOCK_STATUS may be answered for less than it asked.
 */
export const LARGE_COUNT_PIECE = 0xffff0000;

/**
 * One open connection to the plugin: the per-connection half of `nbdkit::Server`. `Count` is
 * what zero, trim, cache and extents receive: `number` (below 2^32, as nbdkit's counts), or,
 * for a handle that sets `largeCounts: true`, `Offset`.
 */
export interface Handle<Count extends Offset = number> {
  /**
   * Opts in to counts of 2^32 and more in zero, trim, cache and extents, which clients with
   * extended headers may send (qemu 8.2 and later, libnbd 1.18 and later): each then comes in
   * one call, as an `Offset`, rather than split by the server into pieces below 2^32.
   */
  readonly largeCounts?: boolean;
  /** Size of the disk in bytes (get_size). */
  getSize(): MaybePromise<Offset>;
  /**
   * Fills all of `buf` with the bytes at `offset` (read_at / pread). Like every buffer the
   * server lends a callback, `buf` is only valid until the call returns or its promise settles:
   * the server reuses it afterwards, so copy what you keep. Return nothing: a READ whose
   * readAt returns a value (say, its data instead of copying it in) fails with EIO.
   */
  readAt(buf: Uint8Array, offset: Offset): MaybePromise<void>;
  /** Writes `buf` at `offset`; `flags` may hold FLAG.FUA (write_at / pwrite). Copy, don't keep. */
  writeAt?(buf: Uint8Array, offset: Offset, flags: number): MaybePromise<void>;
  /**
   * Optional (no nbdkit counterpart), for plugins that keep data in memory: a view of the
   * plugin's own storage where the payload of a coming WRITE of `count` bytes at `offset` may
   * be received in place, saving a copy. The server asks only for valid requests, fills the view
   * as the bytes arrive (so they may show there before the write runs), then calls writeAt with
   * this same view. If the connection ends before the payload is complete, writeAt never comes:
   * close() must let the view go. Return undefined to have the server use its own buffer.
   */
  payloadBuffer?(count: number, offset: Offset): Uint8Array | undefined;
  /**
   * Optional (no nbdkit counterpart), for plugins that keep data in memory: the bytes of a READ
   * of `count` bytes at `offset` as views of the plugin's own storage, sent as they are instead
   * of copied into the server's buffer. Return undefined to have readAt fill a buffer instead.
   * The server calls release() exactly once, when the runtime no longer needs the views (sent,
   * or the connection is gone); until then the views must keep showing this offset's bytes and
   * never another offset's. A write to the same bytes meanwhile may show in the reply: a client
   * with a READ and a WRITE of the same bytes in flight at once gets no order between them in
   * NBD, and bytes of writes acknowledged before the READ was sent are always there.
   */
  readViews?(count: number, offset: Offset): ReadViews | undefined;
  /** Makes `count` bytes at `offset` read as zero; flags MAY_TRIM, FUA, FAST_ZERO. */
  zero?(count: Count, offset: Offset, flags: number): MaybePromise<void>;
  /** Discards `count` bytes at `offset` (advisory); flags FUA. */
  trim?(count: Count, offset: Offset, flags: number): MaybePromise<void>;
  /** Makes every completed write durable. */
  flush?(flags: number): MaybePromise<void>;
  /** Prefetches `count` bytes at `offset` (advisory). */
  cache?(count: Count, offset: Offset, flags: number): MaybePromise<void>;
  /** Reports the allocation of [offset, offset+count) and maybe beyond into `extents`. */
  extents?(count: Count, offset: Offset, flags: number, extents: ExtentSink): MaybePromise<void>;

  canWrite?(): MaybePromise<boolean>;
  canFlush?(): MaybePromise<boolean>;
  /** NATIVE passes FLAG.FUA on; EMULATE flushes after the write; `true` means NATIVE. */
  canFua?(): MaybePromise<FuaMode | boolean>;
  canTrim?(): MaybePromise<boolean>;
  /** Whether zero() is worth calling; false makes the server write zeroes with writeAt. */
  canZero?(): MaybePromise<boolean>;
  canFastZero?(): MaybePromise<boolean>;
  canExtents?(): MaybePromise<boolean>;
  canMultiConn?(): MaybePromise<boolean>;
  /** NATIVE calls cache() (or succeeds at once without it); EMULATE reads; `true` is NATIVE. */
  canCache?(): MaybePromise<CacheMode | boolean>;
  isRotational?(): MaybePromise<boolean>;

  /** A description of the export for NBD_INFO_DESCRIPTION (nbdkit's .export_description). */
  exportDescription?(): MaybePromise<string | undefined>;
  /** Block size constraints; undefined (or all zero) sends none (nbdkit's .block_size). */
  blockSize?(): MaybePromise<BlockSize | undefined>;

  /**
   * The connection is gone (close; Rust runs Drop). Called once every callback on this handle
   * has returned, even if its client left earlier.
   */
  close?(): MaybePromise<void>;
}

/** A plugin: the load-time half of `nbdkit::Server`, and the factory of handles. */
export interface Plugin {
  /** Short name, ASCII letters and digits, starting with a letter. */
  readonly name: string;
  readonly longname?: string;
  readonly version?: string;
  readonly description?: string;
  /** Help for the plugin's parameters, shown by --help. */
  readonly configHelp?: string;
  /** The key a bare value on the command line stands for (`memory 1G` is `size=1G`). */
  readonly magicConfigKey?: string;

  /** Called once when the plugin is loaded, before any config. */
  load?(): MaybePromise<void>;
  /** Called once at exit. */
  unload?(): MaybePromise<void>;
  /**
   * The server has stopped and every connection is closed; called before unload(), and only
   * when the plugin served (nbdkit's .cleanup).
   */
  cleanup?(): MaybePromise<void>;
  /**
   * The plugin's debug flags with their defaults (nbdkit's `NAME_debug_FLAG` variables):
   * `-D NAME.FLAG=N` stores N under FLAG before load(); a FLAG missing here gets nbdkit's
   * warning instead. Read them in callbacks: `if (this.debugFlags.verbose) …`.
   */
  readonly debugFlags?: Record<string, number>;
  /** One `key=value` from the command line, in order. Throw ConfigError/NbdError to refuse. */
  config?(key: string, value: string): MaybePromise<void>;
  /** All parameters are in: check they are complete and consistent. */
  configComplete?(): MaybePromise<void>;
  /** Last chance to fail before the server listens. */
  getReady?(): MaybePromise<void>;
  /**
   * Called after the server forks into the background (and at once when it does not).
   * `forked` says whether nbdkit would have forked by now (daemon mode, or --run, whose
   * command nbdkit runs in a process of its own), so a plugin that logs it can tell as nbdkit's
   * would (nbdts starts a fresh copy instead of forking, and runs --run commands as children).
   */
  afterFork?(forked?: boolean): MaybePromise<void>;
  /** Extra `key=value` lines for --dump-plugin. */
  dumpPlugin?(): MaybePromise<string[] | string | void>;
  /** The concurrency the plugin allows; PARALLEL when missing. */
  threadModel?(): MaybePromise<ThreadModel>;
  /**
   * A client connected; throw to refuse it before any handshake (the client sees the
   * connection close with no greeting). `peer` says where it comes from (nbdkit_peer_name),
   * undefined when the runtime cannot tell.
   */
  preconnect?(readonly: boolean, peer: PeerAddress | undefined): MaybePromise<void>;
  /**
   * The exports NBD_OPT_LIST reports (.list_exports); missing, or answering undefined, the
   * default export alone (nbdkit_use_default_export). `tls` says whether the client asking has
   * switched to TLS (nbdkit's is_tls; the server always says, callers in tests may leave it out
   * for false).
   */
  listExports?(readonly: boolean, tls?: boolean): MaybePromise<ExportEntry[] | undefined>;
  /**
   * The canonical name of the default export "" (.default_export); missing, it is "".
   * Answering undefined refuses clients that ask for the default export. Asked at most once
   * per connection (again after STARTTLS), as nbdkit keeps the answer.
   */
  defaultExport?(readonly: boolean, tls?: boolean): MaybePromise<string | undefined>;
  /**
   * Opens a handle for one connection; `exportName` is the name the client asked for, `tls`
   * whether the connection runs over TLS (nbdkit_is_tls; left out, false), `peer` where it
   * connects from (nbdkit_peer_name; undefined when the runtime cannot tell). Type a handle
   * with `largeCounts: true` as a `Handle<Offset>`.
   */
  open(
    readonly: boolean,
    exportName: string,
    tls?: boolean,
    peer?: PeerAddress,
  ): MaybePromise<Handle>;
}

/** A module that exports a plugin: `export default plugin`, or a factory returning one. */
export type PluginModule = {
  default?: Plugin | (() => Plugin);
  plugin?: Plugin | (() => Plugin);
};
