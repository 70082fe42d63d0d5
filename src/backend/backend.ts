/**
 * One connection's view of the plugin: opens the handle, asks each capability question once,
 * and supplies what the plugin leaves out exactly as nbdkit's server/plugins.c does (FUA by
 * flush, zero by writing zeroes, cache by reading, extents as "all data"). It never speaks
 * the protocol: the session validates requests before they get here.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { ZERO_MODE, type ZeroMode } from "../api/filter.ts";
import { calling } from "./callback-error.ts";
import { checkBlockSize } from "./exports.ts";
import { isStackHandle } from "./layer.ts";
import {
  checkBoolean,
  checkHandle,
  checkMode,
  checkReadViews,
  checkSize,
} from "./plugin-answers.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import { fitsOneCall, inPieces } from "./count-pieces.ts";
import {
  type BlockSize,
  CACHE_MODE,
  type CacheMode,
  EXTENT,
  type ExtentSink,
  FLAG,
  FUA_MODE,
  type FuaMode,
  type Handle,
  LARGE_COUNT_PIECE,
  type MaybePromise,
  type Offset,
  type PeerAddress,
  type Plugin,
  type ReadViews,
} from "../api/plugin.ts";

/** What one open handle can do, asked once per connection (nbdkit's backend_can_* cache). */
export interface Capabilities {
  size: Offset;
  writable: boolean;
  flush: boolean;
  fua: FuaMode;
  trim: boolean;
  /** zero() is called; otherwise zeroes are written with writeAt. */
  zeroNative: boolean;
  /**
   * True when WRITE_ZEROES is not offered although the export is writable: a filter answered
   * canZero with ZERO_MODE.NONE (plugins cannot). Undefined otherwise.
   */
  zeroNone?: true;
  fastZero: boolean;
  extents: boolean;
  multiConn: boolean;
  cache: CacheMode;
  rotational: boolean;
  /** Block size constraints, when the plugin gives them. */
  blockSize: BlockSize | undefined;
}

/** Zeroes written when a plugin has no zero(): shared and never modified. */
const ZEROES = new Uint8Array(1024 * 1024);
/** Largest piece an emulated zero or cache works on at once (nbdkit uses 64 MiB for both). */
const EMULATION_PIECE = ZEROES.length;

function isNotSupported(error: unknown): boolean {
  return error instanceof NbdError &&
    (error.errno === ERRNO.ENOTSUP || error.errno === ERRNO.EOPNOTSUPP);
}

/** The largest count extents() gets from a handle that does not take large counts. */
const EXTENTS_PIECE = 0xffffffff;

export class Backend {
  readonly handle: Handle;
  readonly caps: Capabilities;
  /**
   * The handle is a filter's (a stack's top, or a layer under a filter): FUA goes to it as the
   * client sent it, whatever it answered canFua, and it serves it itself or passes it on. Only a
   * plugin's FUA is emulated here by a flush, as nbdkit's plugins.c does and its backend.c not.
   */
  private readonly passesFua: boolean;
  /**
   * The handle as one that takes large counts: its zero, trim, cache and extents are only
   * called with counts past LARGE_COUNT_PIECE when it opted in (handle.largeCounts).
   */
  private readonly wide: Handle<Offset>;
  /** Whether the handle opted in to large counts: every count then goes in one call. */
  private readonly largeCounts: boolean;

  private constructor(handle: Handle, caps: Capabilities, passesFua: boolean) {
    this.handle = handle;
    this.caps = caps;
    this.passesFua = passesFua;
    this.wide = handle as Handle<Offset>;
    this.largeCounts = handle.largeCounts === true;
  }

  /** Whether `count` goes to the handle in one call, or in pieces of LARGE_COUNT_PIECE. */
  private oneCall(count: Offset): boolean {
    return this.largeCounts || fitsOneCall(count, LARGE_COUNT_PIECE);
  }

  /**
   * Opens a handle and reads its capabilities; a readonly open never asks about writes. `trace`
   * is told of each capability question, in nbdkit's words, for the -v log; `tls` says whether
   * the connection runs over TLS, `peer` where the client connects from.
   */
  static async open(
    plugin: Plugin,
    readonly: boolean,
    exportName: string,
    trace?: Trace,
    tls = false,
    peer?: PeerAddress,
  ): Promise<Backend> {
    const opened = await calling("open", () => plugin.open(readonly, exportName, tls, peer));
    return await Backend.over(opened, readonly, trace);
  }

  /**
   * Checks an open handle and reads its capabilities; a failure leaves it open (a filter
   * stack closes its layers itself). `filter` says the handle is a filter's (see passesFua);
   * left out, a stack's top Handle (StackHandle) is one, anything else a plugin's.
   */
  static async read(
    opened: unknown,
    readonly: boolean,
    trace?: Trace,
    filter?: boolean,
  ): Promise<Backend> {
    const handle = checkHandle(opened);
    const caps = await readCapabilities(handle, readonly, trace);
    return new Backend(handle, caps, filter ?? isStackHandle(handle));
  }

  /** Reads an open handle's capabilities; a failure (a handle that is not one too) closes it. */
  static async over(opened: unknown, readonly: boolean, trace?: Trace): Promise<Backend> {
    try {
      return await Backend.read(opened, readonly, trace);
    } catch (error) {
      // nbdkit closes a handle whose open fails after .open (protocol-handshake-newstyle.c).
      try {
        await (opened as Partial<Handle> | undefined)?.close?.();
      } catch {
        // The failure that made us close it is the one worth reporting.
      }
      throw error;
    }
  }

  /**
   * Finalizes a stack of filters (nbdkit runs finalize with the client still connected, then
   * closes its socket, then the handles); nothing for a plugin alone. Throws FinalizeError.
   */
  async finalize(): Promise<void> {
    if (isStackHandle(this.handle)) await this.handle.finalize();
  }

  async close(): Promise<void> {
    await this.handle.close?.();
  }

  /** The export's description for NBD_INFO_DESCRIPTION, if the plugin has one. */
  async description(): Promise<string | undefined> {
    const text = await this.handle.exportDescription?.();
    return typeof text === "string" ? text : undefined;
  }

  readAt(buf: Uint8Array, offset: Offset): void | Promise<void> {
    return this.handle.readAt(buf, offset);
  }

  /**
   * The plugin's views of a READ's bytes (Handle.readViews), or undefined when it lends none;
   * an answer that is not views of exactly `count` bytes throws (a plugin bug: EIO).
   */
  readViews(count: number, offset: Offset): ReadViews | undefined {
    return checkReadViews(this.handle.readViews?.(count, offset), count);
  }

  /**
   * The plugin's own room for the payload of a valid WRITE (Handle.payloadBuffer), or undefined:
   * anything but a Uint8Array of exactly `count` bytes is ignored.
   */
  payloadBuffer(count: number, offset: Offset): Uint8Array | undefined {
    const view = this.handle.payloadBuffer?.(count, offset);
    return view instanceof Uint8Array && view.length === count ? view : undefined;
  }

  writeAt(buf: Uint8Array, offset: Offset, fua: boolean): void | Promise<void> {
    if (!fua) return this.handle.writeAt!(buf, offset, 0); // the common case: no extra promise
    return this.writeFua(buf, offset);
  }

  private async writeFua(buf: Uint8Array, offset: Offset): Promise<void> {
    const native = this.caps.fua === FUA_MODE.NATIVE || this.passesFua;
    await this.handle.writeAt!(buf, offset, native ? FLAG.FUA : 0);
    if (!native) await this.flush();
  }

  trim(count: Offset, offset: Offset, fua: boolean): MaybePromise<void> {
    // As writeAt: no extra promise in the common case.
    if (!fua && this.oneCall(count)) return this.wide.trim!(count, offset, 0);
    return this.trimFua(count, offset, fua);
  }

  private async trimFua(count: Offset, offset: Offset, fua: boolean): Promise<void> {
    const native = fua && (this.caps.fua === FUA_MODE.NATIVE || this.passesFua);
    const flags = native ? FLAG.FUA : 0;
    if (this.oneCall(count)) await this.wide.trim!(count, offset, flags);
    else await inPieces(count, offset, LARGE_COUNT_PIECE, (n, at) => this.wide.trim!(n, at, flags));
    if (fua && !native) await this.flush();
  }

  /**
   * Zeroes a range: zero() when the plugin has it and wants it, else (or when it answers
   * ENOTSUP) writes of zeroes, unless the client asked for a fast zero: that fails at once.
   */
  async zero(count: Offset, offset: Offset, mayTrim: boolean, fua: boolean, fast: boolean) {
    const native = fua && (this.caps.fua === FUA_MODE.NATIVE || this.passesFua);
    if (this.caps.zeroNative) {
      const flags = (mayTrim ? FLAG.MAY_TRIM : 0) | (native ? FLAG.FUA : 0) |
        (fast ? FLAG.FAST_ZERO : 0);
      try {
        if (this.oneCall(count)) await this.wide.zero!(count, offset, flags);
        else {await inPieces(count, offset, LARGE_COUNT_PIECE, (n, at) =>
            this.wide.zero!(n, at, flags));}
        if (fua && !native) await this.flush();
        return;
      } catch (error) {
        if (fast || !isNotSupported(error)) throw error;
      }
    } else if (fast) {
      throw new NbdError(ERRNO.ENOTSUP, "fast zero requested but the plugin cannot zero fast");
    }
    // As nbdkit's backend_zero: FUA goes with each write when the layer honours it natively,
    // else with the last one only (a plugin's then flushes once, in writeAt).
    const end = addOffset(offset, count);
    await inPieces(count, offset, EMULATION_PIECE, (n, at) => {
      const last = compareOffsets(addOffset(at, n), end) === 0;
      const pieceFua = fua && (last || this.caps.fua === FUA_MODE.NATIVE);
      return this.writeAt(ZEROES.subarray(0, n), at, pieceFua);
    });
  }

  flush(): MaybePromise<void> {
    return this.handle.flush?.(0);
  }

  /** Native cache calls cache() if present (else nothing); emulated cache reads and discards. */
  cache(count: Offset, offset: Offset): MaybePromise<void> {
    if (this.caps.cache !== CACHE_MODE.NATIVE) return this.cacheByReading(count, offset);
    if (!this.handle.cache) return;
    if (this.oneCall(count)) return this.wide.cache!(count, offset, 0);
    return inPieces(count, offset, LARGE_COUNT_PIECE, (n, at) => this.wide.cache!(n, at, 0));
  }

  private async cacheByReading(count: Offset, offset: Offset): Promise<void> {
    const size = compareOffsets(count, EMULATION_PIECE) < 0 ? Number(count) : EMULATION_PIECE;
    const scratch = new Uint8Array(size);
    await inPieces(
      count,
      offset,
      EMULATION_PIECE,
      (n, at) => this.handle.readAt(scratch.subarray(0, n), at),
    );
  }

  /**
   * Asks for extents; a plugin without them reports the whole range as data. A handle that
   * does not take large counts is asked about 2^32 - 1 bytes at most: a reply may cover less
   * than the client asked, which then asks again from where it ends.
   */
  async extents(count: Offset, offset: Offset, reqOne: boolean, sink: ExtentSink) {
    if (!this.caps.extents) {
      sink.add(offset, count, EXTENT.DATA);
      return;
    }
    const flags = reqOne ? FLAG.REQ_ONE : 0;
    const asked = this.largeCounts || fitsOneCall(count, EXTENTS_PIECE) ? count : EXTENTS_PIECE;
    await this.wide.extents!(asked, offset, flags, sink);
  }
}

/** Told of each plugin call outside requests, in nbdkit's words ("get_size"), for the -v log. */
export type Trace = (call: string) => void;

/** A capability question's name in nbdkit's logs. */
const NBDKIT_NAME = {
  canWrite: "can_write",
  canFlush: "can_flush",
  canTrim: "can_trim",
  canZero: "can_zero",
  canFastZero: "can_fast_zero",
  canExtents: "can_extents",
  canMultiConn: "can_multi_conn",
  isRotational: "is_rotational",
} as const;

async function readCapabilities(
  handle: Handle,
  readonly: boolean,
  trace: Trace | undefined,
): Promise<Capabilities> {
  trace?.("get_size");
  const size = checkSize(await calling("getSize", () => handle.getSize()));
  // In nbdkit's order (protocol-handshake.c), so a plugin and a log see the questions as there.
  /** Asks `question` when the plugin has it, else answers `otherwise`. */
  const ask = async (question: keyof typeof NBDKIT_NAME, otherwise: boolean) => {
    trace?.(NBDKIT_NAME[question]);
    const callback = handle[question] as (() => unknown) | undefined;
    if (!callback) return otherwise;
    return checkBoolean(question, await calling(question, () => callback.call(handle)));
  };
  /** canFua and canCache, which may answer a mode. */
  const askMode = (question: "canFua" | "canCache") => {
    trace?.(question === "canFua" ? "can_fua" : "can_cache");
    return calling(question, () => handle[question]?.());
  };
  const writable = !readonly && await ask("canWrite", handle.writeAt !== undefined);
  // As nbdkit's backend_can_*: what cannot write cannot zero, trim or FUA, and is never asked.
  let zero: ZeroMode = ZERO_MODE.NONE;
  if (writable) {
    trace?.("can_zero");
    zero = zeroMode(
      checkMode("canZero", await calling("canZero", () => handle.canZero?.())),
      handle,
    );
  }
  const fastZero = zero !== ZERO_MODE.NONE && await ask("canFastZero", zero !== ZERO_MODE.NATIVE);
  const trim = writable && await ask("canTrim", handle.trim !== undefined);
  const fua = writable
    ? fuaMode(checkMode("canFua", await askMode("canFua")), handle)
    : FUA_MODE.NONE;
  const flush = await ask("canFlush", handle.flush !== undefined);
  const rotational = await ask("isRotational", false);
  const multiConn = await ask("canMultiConn", false);
  const cache = cacheMode(checkMode("canCache", await askMode("canCache")), handle);
  const extents = await ask("canExtents", handle.extents !== undefined);
  trace?.("block_size");
  const blockSize = checkBlockSize(await calling("blockSize", () => handle.blockSize?.()));
  return {
    size,
    writable,
    flush,
    fua,
    trim,
    zeroNative: zero === ZERO_MODE.NATIVE,
    zeroNone: writable && zero === ZERO_MODE.NONE ? true : undefined,
    fastZero,
    extents,
    multiConn,
    cache,
    rotational,
    blockSize,
  };
}

function fuaMode(answer: FuaMode | boolean | undefined, handle: Handle): FuaMode {
  if (answer === undefined) return handle.flush ? FUA_MODE.EMULATE : FUA_MODE.NONE;
  if (typeof answer === "boolean") return answer ? FUA_MODE.NATIVE : FUA_MODE.NONE;
  return answer;
}

/** How zeroes are served, as nbdkit's backend_can_zero answers (NBDKIT_ZERO_*). */
export function zeroModeOf(caps: Capabilities): ZeroMode {
  if (!caps.writable || caps.zeroNone) return ZERO_MODE.NONE;
  return caps.zeroNative ? ZERO_MODE.NATIVE : ZERO_MODE.EMULATE;
}

/** A plugin's true/false, or a filter's ZERO_MODE; NATIVE needs a zero() to call. */
function zeroMode(answer: ZeroMode | boolean | undefined, handle: Handle): ZeroMode {
  if (answer === ZERO_MODE.NONE) return ZERO_MODE.NONE;
  if (handle.zero === undefined || answer === false || answer === ZERO_MODE.EMULATE) {
    return ZERO_MODE.EMULATE;
  }
  return ZERO_MODE.NATIVE;
}

function cacheMode(answer: CacheMode | boolean | undefined, handle: Handle): CacheMode {
  if (answer === undefined) return handle.cache ? CACHE_MODE.NATIVE : CACHE_MODE.NONE;
  if (typeof answer === "boolean") return answer ? CACHE_MODE.NATIVE : CACHE_MODE.NONE;
  return answer;
}
