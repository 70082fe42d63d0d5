/**
 * The filter API: what a filter author writes, in the spirit of nbdkit-filter(3). A filter
 * sits in front of the next layer (another filter, or the plugin) and may override any plugin
 * method; whatever it leaves out passes straight through. `--filter=A --filter=B PLUGIN` puts
 * A outermost: a client reaches A, A reaches B, B reaches the plugin, and every `key=value`
 * parameter is offered to A first, which hands on (with `next`) the ones it does not take.
 *
 * Load-time callbacks get `next`, the same callback of the layer below, already bound: call it
 * to go on, or don't, to short-cut the chain. A connection's callbacks come from open(): it
 * opens the layer below with `next` and returns the handle methods it overrides (a
 * FilterHandle); every method it does not return is the next layer's. Errors work as in
 * plugins: throw NbdError(errno) to fail one request, ConfigError (or any error) to refuse a
 * parameter or a client.
 *
 * A connection's life, in nbdkit's order (backend.c): open() runs outside in, each filter
 * usually calling `next` first; once every layer is open, prepare() runs inside out (the
 * filter nearest the plugin first, each with the layers below it ready); then the size and
 * capabilities are asked, once each, outside in, and requests flow. At the end finalize()
 * runs outside in (only where prepare succeeded), then close() outside in.
 *
 * Helpers for filters live beside this file: Extents (extents.ts) and the extents of the layer
 * below asked in full or aligned (filter-extents.ts), reads and extents moved between offsets
 * (filter-offsets.ts), exact offset arithmetic (offset.ts).
 */

import type { PeerAddress } from "../io.ts";
import type {
  CacheMode,
  ExportEntry,
  FuaMode,
  Handle,
  MaybePromise,
  Offset,
  ThreadModel,
} from "./plugin.ts";

/**
 * What a filter's canZero answers (nbdkit's NBDKIT_ZERO_*): NONE takes WRITE_ZEROES off the
 * export (only a filter can say so), EMULATE has the server write zeroes through the filter's
 * writeAt, NATIVE calls its zero(). `true` and `false` mean NATIVE and EMULATE, as for plugins.
 */
export const ZERO_MODE = { NONE: 0, EMULATE: 1, NATIVE: 2 } as const;
export type ZeroMode = (typeof ZERO_MODE)[keyof typeof ZERO_MODE];

/**
 * The layer below as one connection sees it (nbdkit's `nbdkit_next`): every Handle method is
 * there, with nbdkit's defaults and emulations already applied, and capabilities asked once
 * and cached. Each can* answer is already combined with what it depends on, as nbdkit's
 * backend does: a layer that cannot write cannot trim, zero or FUA either. Only call writeAt,
 * trim and zero when the matching can* answer allows it (otherwise they fail with EROFS, or
 * for zero with EINVAL when zeroMode() is NONE), FLAG.FAST_ZERO only when canFastZero() is
 * true (else ENOTSUP). zero() never fails with ENOTSUP unless asked to be fast: its fallback
 * to writing zeroes has already happened. payloadBuffer and readViews are not offered: a filter
 * may change where or what a payload writes, or what a read answers; nor is close: the server
 * closes every layer itself, outside in, after finalize. zero, trim, cache and extents take any
 * count up to the layer's size: the server splits it for a layer below that does not take large
 * counts (Handle.largeCounts).
 */
export interface NextHandle extends
  Required<
    Omit<Handle<Offset>, "payloadBuffer" | "readViews" | "close" | "largeCounts">
  > {
  getSize(): MaybePromise<number | bigint>;
  /**
   * NONE, EMULATE or NATIVE. Splitting a FUA request: with NATIVE pass FLAG.FUA on to each
   * piece; with EMULATE, cheaper to pass it on the last piece only (one flush at the end).
   */
  canFua(): MaybePromise<FuaMode>;
  canCache(): MaybePromise<CacheMode>;
  /** Whether the layer below zeroes natively (zeroMode() is NATIVE). */
  canZero(): MaybePromise<boolean>;
  /** nbdkit's next->can_zero: NONE (no WRITE_ZEROES at all), EMULATE or NATIVE. */
  zeroMode(): MaybePromise<ZeroMode>;
}

/**
 * What a filter's open() returns for one connection: the Handle methods it overrides, each
 * closing over the NextHandle that `next` gave it, and nbdkit's two per-connection steps.
 * canZero may answer a ZERO_MODE. getSize and every can* are asked once per connection, after
 * prepare, and cached; a connection's requests only come after all of them. readViews may lend
 * bytes the filter keeps itself (the cow filter's overlay), with the plugin's contract; it is
 * never passed through from the layer below, and reaches the server only from the outermost
 * layer. Counts are below 2^32 unless the filter sets `largeCounts: true`, as a plugin's handle
 * does (then type it `FilterHandle<Offset>`); a method it leaves to the layer below takes any.
 */
export interface FilterHandle<Count extends Offset = number>
  extends Partial<Omit<Handle<Count>, "canZero" | "payloadBuffer">> {
  canZero?(): MaybePromise<ZeroMode | boolean>;
  /**
   * Just after every layer is open, before the size or any capability is asked (nbdkit's
   * .prepare): the layers below are prepared already, so this is where a filter reads the
   * disk (a partition table) or works out its size. `readonly` is what open() was given. A
   * throw fails the client's NBD_OPT_GO or INFO (ERR_UNKNOWN) and leaves the connection open,
   * so it may ask for another export.
   */
  prepare?(readonly: boolean): MaybePromise<void>;
  /**
   * Just before the connection's layers close, outside in, and only when prepare succeeded
   * (nbdkit's .finalize): the layers below still serve, so a filter may write back what it
   * keeps. A throw skips the finalize of the layers below and disconnects the client.
   */
  finalize?(): MaybePromise<void>;
}

/**
 * Opens the layer below for this connection; `readonly` and `exportName` may be changed
 * (checkwrite opens it read-only). The NextHandle it gives is ready once this filter's
 * prepare() runs; using it inside open() prepares the layers below at once, earlier than
 * nbdkit would (nbdkit forbids it), so size and I/O belong in prepare().
 */
export type NextOpen = (readonly: boolean, exportName: string) => Promise<NextHandle>;

/**
 * Replaces the layer below for this connection, as nbdkit's retry filter does with
 * nbdkit_next_context_open: finalizes and closes the one open now, opens it again with
 * `readonly` and `exportName`, prepares it and asks its size and capabilities. The NextHandle
 * it gives replaces the one `next` (or an earlier reopen) gave, which must not be used again;
 * whatever the filter passes through goes to the new layer. Only once the filter is prepared,
 * from a request. A failure (closing the old layer, opening or preparing the new one) leaves
 * no layer below; call it again to try again.
 */
export type NextReopen = (readonly: boolean, exportName: string) => Promise<NextHandle>;

/**
 * The layer below opened apart from any connection (nbdkit_next_context_open with shared
 * contexts, the openonce filter's): prepared and ready, it lives until the filter closes it
 * (its finalize, then its close), whichever connections come and go.
 */
export interface DetachedNext {
  readonly handle: NextHandle;
  close(): Promise<void>;
}

/** What a filter's open may do with the layer below besides `next`. */
export interface NextContext {
  /** Replaces this connection's layer below (see NextReopen). */
  readonly reopen: NextReopen;
  /**
   * Opens another copy of the layer below, with this connection's TLS, that the filter owns
   * and must close itself; it may serve several connections.
   */
  openDetached(readonly: boolean, exportName: string): Promise<DetachedNext>;
}

/** A filter: the load-time half of nbdkit's `struct nbdkit_filter`, and open(). */
export interface Filter {
  /** Short name, ASCII letters, digits and dashes: `--filter=NAME`. */
  readonly name: string;
  readonly longname?: string;
  readonly version?: string;
  readonly description?: string;
  /** Help for the filter's parameters, shown by --help before the plugin's. */
  readonly configHelp?: string;
  /** Debug flags with their defaults, set by `-D NAME.FLAG=N` before load() (as plugins). */
  readonly debugFlags?: Record<string, number>;

  /** Called once after the plugin's load(); filters nearest the plugin load first. */
  load?(): MaybePromise<void>;
  /** Called once at exit, after the plugin's unload(). */
  unload?(): MaybePromise<void>;
  /** One `key=value`; hand keys the filter does not take to `next`. */
  config?(
    next: (key: string, value: string) => Promise<void>,
    key: string,
    value: string,
  ): MaybePromise<void>;
  /** Every parameter is in; `next` completes the layers below. */
  configComplete?(next: () => Promise<void>): MaybePromise<void>;
  /**
   * May tighten (never loosen) the thread model: the chain runs with the strictest one.
   * `below` is the layers below's (nbdkit's next_thread_model).
   */
  threadModel?(below: ThreadModel): MaybePromise<ThreadModel>;
  /** After every layer below is ready; `threadModel` is the one the server will use. */
  getReady?(threadModel: ThreadModel): MaybePromise<void>;
  /**
   * After the layers below have run theirs; `forked` as for plugins: whether nbdkit would have
   * forked by now (daemon mode, --run).
   */
  afterFork?(forked: boolean): MaybePromise<void>;
  /** Every connection has closed; runs before the layers below clean up. */
  cleanup?(): MaybePromise<void>;
  /**
   * A client connected, before any byte is sent; throw to refuse it (it sees the connection
   * close with no greeting). `peer` is where it comes from, undefined when the runtime
   * cannot tell.
   */
  preconnect?(
    next: (readonly: boolean) => Promise<void>,
    readonly: boolean,
    peer: PeerAddress | undefined,
  ): MaybePromise<void>;
  /**
   * The exports NBD_OPT_LIST reports; `next` gives the layer below's list. `tls`: the client
   * asking has switched to TLS. `defaultName` gives this filter's own default export, what ""
   * opens through it (undefined when refused), to list it as nbdkit_use_default_export does.
   */
  listExports?(
    next: (readonly: boolean) => Promise<ExportEntry[]>,
    readonly: boolean,
    tls: boolean,
    defaultName: (readonly: boolean) => Promise<string | undefined>,
  ): MaybePromise<ExportEntry[]>;
  /** The canonical name of the default export ""; `next` gives the layer below's. */
  defaultExport?(
    next: (readonly: boolean) => Promise<string | undefined>,
    readonly: boolean,
    tls: boolean,
  ): MaybePromise<string | undefined>;
  /**
   * A connection opens an export. Call `next` (usually first) to open the layer below, and
   * return the methods this filter overrides, closing over the NextHandle: `{}` overrides
   * nothing, `{ close }` only watches the connection end. A filter that never calls `next`
   * must return at least getSize and readAt. Missing, the connection passes straight through.
   * `tls` says whether the connection runs over TLS (nbdkit's is_tls); the layer below is told
   * the same. `context` can replace the layer below later, from a request (reopen), or open
   * one apart from this connection (openDetached).
   */
  open?(
    next: NextOpen,
    readonly: boolean,
    exportName: string,
    tls: boolean,
    context: NextContext,
  ): MaybePromise<FilterHandle>;
}

/** A module that exports a filter: `export default filter`, or a factory returning one. */
export type FilterModule = {
  default?: Filter | (() => Filter);
  filter?: Filter | (() => Filter);
};
