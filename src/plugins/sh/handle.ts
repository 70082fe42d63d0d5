/**
 * One connection's handle on a script: every per-connection callback as `SCRIPT METHOD HANDLE
 * ARGS…`, the handle being what `open` printed. Missing methods behave as in nbdkit's
 * plugins/sh/methods.c: a question missing is false (can_fua falls back on can_flush,
 * can_fast_zero on can_zero, can_cache is none), flush, trim and cache missing do nothing, zero
 * missing makes the server write zeroes, and get_size, pread, pwrite and extents missing fail.
 * can_flush and can_zero are asked once per connection, as there.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import { debug } from "../../api/debug.ts";
import { logError } from "../../api/error-log.ts";
import { parseSize } from "../../api/parse.ts";
import {
  type BlockSize,
  CACHE_MODE,
  type ExtentSink,
  FLAG,
  FUA_MODE,
  type Handle,
  type Offset,
} from "../../api/plugin.ts";
import { EXIT, textOf } from "./call.ts";
import { parseExtents } from "./extents.ts";
import {
  callForEffect,
  callForText,
  callMethod,
  modeOf,
  type ScriptCalls,
  sizeOf,
  unexpectedFalse,
} from "./answers.ts";

const U32_MAX = 0xffffffff;

/** The flags argument: nbdkit's words for the flags set, comma-separated, in nbdkit's order. */
export function flagsWord(flags: number): string {
  const words: string[] = [];
  if (flags & FLAG.FUA) words.push("fua");
  if (flags & FLAG.MAY_TRIM) words.push("may_trim");
  if (flags & FLAG.REQ_ONE) words.push("req_one");
  if (flags & FLAG.FAST_ZERO) words.push("fast");
  return words.join(",");
}

/** A script's failure to say what nbdkit requires of it. */
function required(calls: ScriptCalls, method: string, what: string): NbdError {
  const message = `${calls.scriptFor(method)}: ${what}`;
  logError(message);
  return new NbdError(ERRNO.EIO, message);
}

export function scriptHandle(calls: ScriptCalls, h: string): Handle {
  const timed = { timed: true } as const;
  /** Requests: the server logs no error line for an NbdError, so the script's goes out here. */
  const request = { timed: true, logFailure: true } as const;
  let canFlush: Promise<boolean> | undefined;
  let canZero: Promise<boolean> | undefined;

  /** A yes/no question: exit 0 is true, 3 false, missing `otherwise`. */
  async function ask(method: string, otherwise = false): Promise<boolean> {
    const { status } = await callMethod(calls, method, [h], timed);
    return status === EXIT.MISSING ? otherwise : status === EXIT.OK;
  }

  /** A request that reads nothing back; missing, it does nothing (flush, trim, cache). */
  const effect = (method: string, args: readonly string[]) =>
    callForEffect(calls, method, [h, ...args], request);

  return {
    async getSize() {
      const text = await callForText(calls, "get_size", [h], timed);
      if (text === undefined) throw required(calls, "get_size", "the get_size method is required");
      return sizeOf(calls, "get_size", text);
    },

    async blockSize(): Promise<BlockSize | undefined> {
      const text = await callForText(calls, "block_size", [h], timed);
      if (text === undefined) return undefined;
      const sizes = text.split(/[ \t\n]+/).filter((field) => field !== "").slice(0, 3).map(
        (field) => {
          try {
            const size = parseSize(field);
            return size > BigInt(U32_MAX) ? undefined : Number(size);
          } catch {
            return undefined;
          }
        },
      );
      if (sizes.length < 3 || sizes.includes(undefined)) {
        throw new NbdError(
          ERRNO.EIO,
          `${calls.scriptFor("block_size")}: block_size method cannot be parsed`,
        );
      }
      const [minimum, preferred, maximum] = sizes as number[];
      return { minimum, preferred, maximum };
    },

    async exportDescription() {
      try {
        return await callForText(calls, "export_description", [h], timed);
      } catch (error) {
        logError(messageOf(error)); // as nbdkit: no description, and the reason in the log
        return undefined;
      }
    },

    canWrite: () => ask("can_write"),
    canTrim: () => ask("can_trim"),
    canExtents: () => ask("can_extents"),
    canMultiConn: () => ask("can_multi_conn"),
    isRotational: () => ask("is_rotational"),
    canFlush: () => canFlush ??= ask("can_flush"),
    canZero: () => canZero ??= ask("can_zero"),
    async canFastZero() {
      const { status } = await callMethod(calls, "can_fast_zero", [h], timed);
      if (status !== EXIT.MISSING) return status === EXIT.OK;
      // As nbdkit's server: fast zeroes fail at once when the plugin cannot zero.
      return !(await (canZero ??= ask("can_zero")));
    },

    async canFua() {
      const text = await callForText(calls, "can_fua", [h], timed);
      if (text !== undefined) return modeOf(calls, "can_fua", text);
      return (await (canFlush ??= ask("can_flush"))) ? FUA_MODE.EMULATE : FUA_MODE.NONE;
    },

    async canCache() {
      const text = await callForText(calls, "can_cache", [h], timed);
      // Missing: none, since reading in place of a cache may cost more than it saves.
      return text === undefined ? CACHE_MODE.NONE : modeOf(calls, "can_cache", text);
    },

    async readAt(buf: Uint8Array, offset: Offset) {
      const count = buf.length;
      const args = [h, String(count), String(offset)];
      const answer = await callMethod(calls, "pread", args, { ...request, stdoutLimit: count });
      if (answer.status === EXIT.MISSING) {
        throw required(calls, "pread", "the pread method is required");
      }
      if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, "pread", true);
      if (answer.stdoutLength !== count) {
        throw required(
          calls,
          "pread",
          `incorrect amount of data read: expecting ${count} bytes but received ` +
            `${answer.stdoutLength} bytes from the script`,
        );
      }
      buf.set(answer.stdout);
    },

    async writeAt(buf: Uint8Array, offset: Offset, flags: number) {
      const args = [h, String(buf.length), String(offset), flagsWord(flags)];
      const answer = await callMethod(calls, "pwrite", args, { ...request, stdin: buf });
      if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, "pwrite", true);
      if (answer.status === EXIT.MISSING) {
        logError("pwrite not implemented");
        throw new NbdError(ERRNO.EIO, "pwrite not implemented");
      }
    },

    flush: () => effect("flush", []),
    trim: (count, offset, flags) =>
      effect("trim", [String(count), String(offset), flagsWord(flags)]),
    cache: (count, offset) => effect("cache", [String(count), String(offset)]),

    async zero(count: number, offset: Offset, flags: number) {
      const args = [h, String(count), String(offset), flagsWord(flags)];
      const { status } = await callMethod(calls, "zero", args, request);
      if (status === EXIT.FALSE) throw unexpectedFalse(calls, "zero", true);
      if (status === EXIT.MISSING) {
        debug("zero falling back to pwrite");
        throw new NbdError(ERRNO.EOPNOTSUPP, "zero is missing: writing zeroes instead");
      }
    },

    async extents(count: number, offset: Offset, flags: number, sink: ExtentSink) {
      const args = [h, String(count), String(offset), flagsWord(flags)];
      const answer = await callMethod(calls, "extents", args, request);
      if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, "extents", true);
      if (answer.status === EXIT.MISSING) {
        throw required(
          calls,
          "extents",
          "can_extents returned true, but extents method is not defined",
        );
      }
      let extents;
      try {
        extents = parseExtents(textOf(answer.stdout));
      } catch (error) {
        throw required(calls, "extents", messageOf(error));
      }
      for (const extent of extents) {
        debug(
          `${
            calls.scriptFor("extents")
          }: adding extent ${extent.offset} ${extent.length} ${extent.type}`,
        );
        sink.add(extent.offset, extent.length, extent.type);
      }
    },

    async close() {
      try {
        await callMethod(calls, "close", [h], { timed: true, logFailure: true });
      } catch {
        // as nbdkit: logged, and the handle goes all the same
      }
    },
  };
}
