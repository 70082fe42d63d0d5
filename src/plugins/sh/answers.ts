/**
 * Calling a script's method and reading its answer as nbdkit's plugins/sh/methods.c does, for
 * the plugin-wide callbacks (methods.ts) and the per-connection ones (handle.ts): status 3 from
 * a method that is no question is an error, single-line answers lose one newline, sizes and
 * modes are parsed with nbdkit's messages.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import { debug } from "../../api/debug.ts";
import { logError } from "../../api/error-log.ts";
import { parseSize, toOffset } from "../../api/parse.ts";
import {
  type CacheMode,
  FUA_MODE,
  type FuaMode,
  type Offset,
  THREAD_MODEL,
  type ThreadModel,
} from "../../api/plugin.ts";
import { type Answer, type CallOptions, EXIT, type ScriptRunner, textOf } from "./call.ts";

/** Which script runs `method`: sh's one script, or eval's for that method (or `missing`). */
export type ScriptFor = (method: string) => string | undefined;

/** What the two plugins need to call methods: the runner, and which script runs what. */
export interface ScriptCalls {
  readonly runner: () => ScriptRunner;
  readonly scriptFor: ScriptFor;
}

/** Runs `method` with `args`; `script` must be known (the plugin checked it is configured). */
export function callMethod(
  calls: ScriptCalls,
  method: string,
  args: readonly string[],
  options?: CallOptions,
): Promise<Answer> {
  const script = calls.scriptFor(method)!;
  return calls.runner().call([script, method, ...args], options);
}

/** nbdkit's complaint when a method that is not a question exits with 3. */
export function unexpectedFalse(calls: ScriptCalls, method: string, log?: boolean): NbdError {
  const message = `${calls.scriptFor(method)}: ${method} method returned unexpected code (3/false)`;
  if (log) logError(message);
  return new NbdError(ERRNO.EIO, message);
}

/** Runs a method that only succeeds or fails; missing is success. */
export async function callForEffect(
  calls: ScriptCalls,
  method: string,
  args: readonly string[] = [],
  options?: CallOptions,
): Promise<void> {
  const { status } = await callMethod(calls, method, args, options);
  if (status === EXIT.FALSE) throw unexpectedFalse(calls, method, options?.logFailure);
}

/** What a method printed as text, one newline cut from its end; undefined when missing. */
export async function callForText(
  calls: ScriptCalls,
  method: string,
  args: readonly string[] = [],
  options?: CallOptions,
): Promise<string | undefined> {
  const answer = await callMethod(calls, method, args, options);
  if (answer.status === EXIT.FALSE) throw unexpectedFalse(calls, method, options?.logFailure);
  if (answer.status === EXIT.MISSING) return undefined;
  return chomp(textOf(answer.stdout));
}

/** Cuts one newline from the end, as nbdkit does to single-line answers. */
export function chomp(text: string): string {
  return text.endsWith("\n") ? text.slice(0, -1) : text;
}

const THREAD_MODELS: Readonly<Record<string, ThreadModel>> = {
  parallel: THREAD_MODEL.PARALLEL,
  serialize_requests: THREAD_MODEL.SERIALIZE_REQUESTS,
  "serialize-requests": THREAD_MODEL.SERIALIZE_REQUESTS,
  serialize_all_requests: THREAD_MODEL.SERIALIZE_ALL_REQUESTS,
  "serialize-all-requests": THREAD_MODEL.SERIALIZE_ALL_REQUESTS,
  serialize_connections: THREAD_MODEL.SERIALIZE_CONNECTIONS,
  "serialize-connections": THREAD_MODEL.SERIALIZE_CONNECTIONS,
};

/**
 * thread_model: what the script prints; missing or not understood, SERIALIZE_ALL_REQUESTS. A
 * plugin with no script yet allows PARALLEL, as nbdkit's does.
 */
export async function askThreadModel(calls: ScriptCalls): Promise<ThreadModel> {
  const script = calls.scriptFor("thread_model");
  if (script === undefined) return THREAD_MODEL.PARALLEL;
  const text = await callForText(calls, "thread_model");
  if (text === undefined) return THREAD_MODEL.SERIALIZE_ALL_REQUESTS;
  const model = THREAD_MODELS[text.toLowerCase()];
  if (model !== undefined) return model;
  debug(`${script}: ignoring unrecognized thread model: ${text}`);
  return THREAD_MODEL.SERIALIZE_ALL_REQUESTS;
}

/** "none", "emulate" or "native" (can_fua, can_cache), in any case. */
export function modeOf(
  calls: ScriptCalls,
  method: string,
  text: string,
): FuaMode & CacheMode {
  const mode =
    ({ none: FUA_MODE.NONE, emulate: FUA_MODE.EMULATE, native: FUA_MODE.NATIVE } as const)[
      text.toLowerCase() as "none"
    ];
  if (mode === undefined) {
    throw new NbdError(
      ERRNO.EIO,
      `${calls.scriptFor(method)}: could not parse output from ${method} method: ${text}`,
    );
  }
  return mode;
}

/** "true" or "false", as scripts receive booleans. */
export const word = (value: boolean): string => (value ? "true" : "false");

/** A size a method printed, or nbdkit's error naming the method. */
export function sizeOf(calls: ScriptCalls, method: string, text: string): Offset {
  try {
    return toOffset(parseSize(text));
  } catch (error) {
    throw new NbdError(
      ERRNO.EIO,
      `${calls.scriptFor(method)}: could not parse output from ${method} method: ${text} ` +
        `(${messageOf(error)})`,
    );
  }
}
