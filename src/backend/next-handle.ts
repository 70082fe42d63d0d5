/**
 * The NextHandle a filter's `next` gives: the layer below through a Backend, so every method is
 * there with nbdkit's defaults and emulations, and capabilities are asked once. Until that
 * layer is ready (prepared, then its size and capabilities read) each method first makes it
 * ready; from then on each is a direct call into the Backend, with no promise of its own.
 */

import { Backend, zeroModeOf } from "./backend.ts";
import { ERRNO, NbdError } from "../api/errors.ts";
import { type NextHandle, ZERO_MODE } from "../api/filter.ts";
import { FLAG } from "../api/plugin.ts";
import { HANDLE_METHODS, type Layer } from "./layer.ts";

/** A NextHandle, and the step that makes it ready (prepare() awaits it before its own). */
export interface NextOf {
  readonly handle: NextHandle;
  ready(): Promise<void>;
}

/** Every NextHandle method, each of which makes the layer ready when called before it is. */
const METHODS = [...HANDLE_METHODS, "zeroMode"] as const satisfies readonly (keyof NextHandle)[];

export function nextOf(layer: Layer): NextOf {
  const handle = {} as Record<string, unknown>;
  let becoming: Promise<void> | undefined;
  const ready = () =>
    becoming ??= (async () => {
      await layer.prepare();
      const backend = await Backend.read(layer.handle(), layer.readonly, undefined, layer.filter);
      Object.assign(handle, direct(backend));
    })();
  for (const method of METHODS) {
    handle[method] = async (...args: unknown[]) => {
      await ready();
      return (handle[method] as (...args: unknown[]) => unknown)(...args);
    };
  }
  return { handle: handle as unknown as NextHandle, ready };
}

function rejection(error: Error): Promise<never> {
  return Promise.reject(error);
}

/** The ready layer below as a NextHandle: the Backend's answers, in the Handle's shape. */
function direct(backend: Backend): NextHandle {
  const { caps } = backend;
  const zeroMode = zeroModeOf(caps);
  const refused = (what: string) => {
    const errno = caps.writable ? ERRNO.EINVAL : ERRNO.EROFS;
    return new NbdError(errno, `${what} requested but the layer below cannot ${what}`);
  };
  return {
    getSize: () => caps.size,
    readAt: (buf, offset) => backend.readAt(buf, offset),
    writeAt(buf, offset, flags) {
      if (!caps.writable) throw refused("write");
      return backend.writeAt(buf, offset, (flags & FLAG.FUA) !== 0);
    },
    zero(count, offset, flags) {
      // The session never asks for more than the export offers; a filter might.
      const fast = (flags & FLAG.FAST_ZERO) !== 0;
      if (zeroMode === ZERO_MODE.NONE) return rejection(refused("zero"));
      if (fast && !caps.fastZero) {
        return rejection(new NbdError(ERRNO.ENOTSUP, "the layer below cannot zero fast"));
      }
      const mayTrim = (flags & FLAG.MAY_TRIM) !== 0;
      return backend.zero(count, offset, mayTrim, (flags & FLAG.FUA) !== 0, fast);
    },
    trim(count, offset, flags) {
      if (!caps.trim) throw refused("trim");
      return backend.trim(count, offset, (flags & FLAG.FUA) !== 0);
    },
    flush: () => backend.flush(),
    cache: (count, offset) => backend.cache(count, offset),
    extents: (count, offset, flags, sink) =>
      backend.extents(count, offset, (flags & FLAG.REQ_ONE) !== 0, sink),
    canWrite: () => caps.writable,
    canFlush: () => caps.flush,
    canFua: () => caps.fua,
    canTrim: () => caps.trim,
    canZero: () => caps.zeroNative,
    zeroMode: () => zeroMode,
    canFastZero: () => caps.fastZero,
    canExtents: () => caps.extents,
    canMultiConn: () => caps.multiConn,
    canCache: () => caps.cache,
    isRotational: () => caps.rotational,
    exportDescription: () => backend.description(),
    blockSize: () => caps.blockSize,
  };
}
