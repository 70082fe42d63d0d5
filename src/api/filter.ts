/**
 * The filter API: what a filter author writes, in the spirit of nbdkit-filter(3). A filter
 * sits in front of the next layer (another filter, or the plugin) and may override any plugin
 * method; whatever it leaves out passes straight through. `--filter=A --filter=B PLUGIN` puts
 * A outermost: a client reaches A, A reaches B, B reaches the plugin, and every `key=value`
 * parameter is offered to A first, which hands on (with `next`) the ones it does not take.
 *
 * Load-time callbacks get `next`, the same callback of the layer below, already bound: call it
 * to go on, or don't, to short-cut the chain. A connection's callbacks come from open(): it
 * opens the layer below with `next` and returns the handle methods it overrides; every method
 * it does not return is the next layer's. Errors work as in plugins: throw NbdError(errno) to
 * fail one request, ConfigError (or any error) to refuse a parameter or a client.
 */

import type { PeerAddress } from "../io.ts";
import type {
  CacheMode,
  ExportEntry,
  FuaMode,
  Handle,
  MaybePromise,
  ThreadModel,
} from "./plugin.ts";

/**
 * The layer below as one connection sees it (nbdkit's `nbdkit_next`): every Handle method is
 * there, with nbdkit's defaults and emulations already applied, and capabilities asked once
 * and cached. Only call writeAt, trim and zero when the matching can* answer allows it.
 * payloadBuffer and readViews are not offered: a filter may change where or what a payload
 * writes, or what a read answers.
 */
export interface NextHandle extends Required<Omit<Handle, "payloadBuffer" | "readViews">> {
  getSize(): MaybePromise<number | bigint>;
  /** NONE, EMULATE or NATIVE: FLAG.FUA passed on to a NATIVE layer is honoured there. */
  canFua(): MaybePromise<FuaMode>;
  canCache(): MaybePromise<CacheMode>;
}

/** Opens the layer below for this connection; `readonly` and `exportName` may be changed. */
export type NextOpen = (readonly: boolean, exportName: string) => Promise<NextHandle>;

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
  /** May tighten (never loosen) the thread model: the chain runs with the strictest one. */
  threadModel?(): MaybePromise<ThreadModel>;
  /** After every layer below is ready; `threadModel` is the one the server will use. */
  getReady?(threadModel: ThreadModel): MaybePromise<void>;
  /** After the layers below have run theirs. */
  afterFork?(): MaybePromise<void>;
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
  /** The exports NBD_OPT_LIST reports; `next` gives the layer below's list. */
  listExports?(
    next: (readonly: boolean) => Promise<ExportEntry[]>,
    readonly: boolean,
  ): MaybePromise<ExportEntry[]>;
  /** The canonical name of the default export ""; `next` gives the layer below's. */
  defaultExport?(
    next: (readonly: boolean) => Promise<string | undefined>,
    readonly: boolean,
  ): MaybePromise<string | undefined>;
  /**
   * A connection opens an export. Call `next` (usually first) to open the layer below, and
   * return the methods this filter overrides, closing over the NextHandle: `{}` overrides
   * nothing, `{ close }` only watches the connection end. A filter that never calls `next`
   * must return at least getSize and readAt. Missing, the connection passes straight through.
   */
  open?(next: NextOpen, readonly: boolean, exportName: string): MaybePromise<Partial<Handle>>;
}

/** A module that exports a filter: `export default filter`, or a factory returning one. */
export type FilterModule = {
  default?: Filter | (() => Filter);
  filter?: Filter | (() => Filter);
};
