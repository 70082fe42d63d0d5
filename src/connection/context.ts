/**
 * What every connection shares: the configured plugin, the server options that change the
 * protocol (-r, --no-sr, --no-extended-headers, -o, --tls), the limits (limits.ts), the effective thread model with its
 * locks, the timers and the log.
 */

import { Backend, type Trace } from "../backend/backend.ts";
import { FinalizeError } from "../backend/layer.ts";
import type { ConnectionLog } from "./connection-log.ts";
import { messageOf } from "../api/errors.ts";
import { webTimers } from "./timers.ts";
import type { PeerAddress, Timers } from "../io.ts";
import { DEFAULT_LIMITS, type Limits } from "../protocol/limits.ts";
import { Lock } from "./lock.ts";
import type { TlsMode } from "./tls-mode.ts";
import type { Log } from "../api/log.ts";
import { THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";
import type { Plugin } from "../api/plugin.ts";

export interface ServerOptions {
  readonly: boolean;
  noStructuredReplies: boolean;
  /**
   * --no-extended-headers: answer NBD_OPT_EXTENDED_HEADERS with ERR_UNSUP, as a server without
   * them does (--no-sr does too: extended headers are structured replies' successor).
   */
  noExtendedHeaders?: boolean;
  /** -o: the oldstyle handshake (oldstyle.ts) instead of fixed newstyle. */
  oldstyle?: boolean;
  /**
   * --tls as it stands after start-up ("off" too when no credentials loaded). Absent: this
   * server has no TLS at all, like nbdkit built without GnuTLS (embedding, edge runtimes).
   */
  tls?: TlsMode;
  /** From resolveLimits(); the defaults when absent. */
  limits?: Limits;
  /** The handshake deadline's clock; setTimeout when absent. */
  timers?: Timers;
}

export class ServerContext {
  readonly plugin: Plugin;
  readonly pluginName: string;
  readonly readonly: boolean;
  readonly noStructuredReplies: boolean;
  readonly noExtendedHeaders: boolean;
  readonly oldstyle: boolean;
  readonly tls: TlsMode | undefined;
  readonly threadModel: ThreadModel;
  readonly limits: Limits;
  readonly timers: Timers;
  readonly log: Log;
  /** Held by each connection in turn under SERIALIZE_CONNECTIONS. */
  readonly connectionLock: Lock = new Lock();
  /** Held by each request of every connection under SERIALIZE_ALL_REQUESTS (and stricter). */
  readonly requestLock: Lock = new Lock();

  constructor(plugin: Plugin, threadModel: ThreadModel, options: ServerOptions, log: Log) {
    this.plugin = plugin;
    this.pluginName = plugin.name;
    this.readonly = options.readonly;
    this.noStructuredReplies = options.noStructuredReplies;
    this.noExtendedHeaders = options.noExtendedHeaders ?? false;
    this.oldstyle = options.oldstyle ?? false;
    this.tls = options.tls;
    this.threadModel = threadModel;
    this.limits = options.limits ?? DEFAULT_LIMITS;
    this.timers = options.timers ?? webTimers();
    this.log = log;
  }

  /**
   * The lock one connection's requests run under when the thread model serializes them: shared
   * by every connection under SERIALIZE_ALL_REQUESTS (and stricter), the connection's own under
   * SERIALIZE_REQUESTS.
   */
  serialLock(): Lock | undefined {
    const model = this.threadModel;
    if (model <= THREAD_MODEL.SERIALIZE_ALL_REQUESTS) return this.requestLock;
    if (model === THREAD_MODEL.SERIALIZE_REQUESTS) return new Lock();
    return undefined;
  }

  /**
   * Opens the plugin for one export of one connection; `exportName` is already resolved, `tls`
   * says whether the connection runs over TLS, `peer` where the client connects from. `trace`
   * hears of each capability question, for the -v log.
   */
  openBackend(
    exportName: string,
    tls: boolean,
    trace?: Trace,
    peer?: PeerAddress,
  ): Promise<Backend> {
    const open = () => Backend.open(this.plugin, this.readonly, exportName, trace, tls, peer);
    return this.threadModel <= THREAD_MODEL.SERIALIZE_ALL_REQUESTS
      ? this.requestLock.run(open)
      : open();
  }

  /**
   * Finalizes what openBackend() opened, if anything, before the connection's socket closes
   * (the delay filter holds a client's goodbye there); a failure is logged, never thrown, and
   * the later closeBackend() does not report it again.
   */
  async finalizeBackend(backend: Backend | undefined, log: ConnectionLog): Promise<void> {
    try {
      await backend?.finalize();
    } catch (error) {
      log.error(`finalize: ${messageOf(error)}`);
    }
  }

  /**
   * Closes what openBackend() opened, if anything; a failure is logged, never thrown. False
   * when a filter's finalize failed: the connection must then end.
   */
  async closeBackend(backend: Backend | undefined, log: ConnectionLog): Promise<boolean> {
    if (!backend) return true;
    log.control("close");
    try {
      await backend.close();
    } catch (error) {
      // A filter's finalize failing ends the connection, as in nbdkit (the replies go first).
      if (error instanceof FinalizeError) {
        log.error(`finalize: ${messageOf(error)}`);
        return false;
      }
      log.error(`close: ${messageOf(error)}`);
    }
    return true;
  }
}
