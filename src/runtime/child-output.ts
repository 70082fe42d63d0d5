/**
 * What a child process writes to a pipe, kept up to a limit and counted beyond it, joined once
 * at the end: the pieces of PluginHost.spawn that every runtime's spawner shares. It never
 * copies a chunk twice and never keeps more than the limit, whatever the child prints.
 */

import type { SpawnOptions, SpawnResult } from "../io.ts";

export class ChildOutput {
  private readonly limit: number;
  private readonly pieces: Uint8Array[] = [];
  private kept = 0;
  /** Every byte seen, kept or not. */
  length = 0;

  constructor(limit = Infinity) {
    this.limit = limit;
  }

  /** Takes a chunk; the caller must not reuse its memory afterwards. */
  add(chunk: Uint8Array): void {
    this.length += chunk.length;
    const room = this.limit - this.kept;
    if (room <= 0) return;
    const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.pieces.push(piece);
    this.kept += piece.length;
  }

  /** The bytes kept, as one array (no copy when a single chunk holds them). */
  bytes(): Uint8Array {
    if (this.pieces.length === 1) return this.pieces[0];
    const out = new Uint8Array(this.kept);
    let at = 0;
    for (const piece of this.pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }
}

/** Reads a web stream of bytes into `output` until it ends (or fails: what came is kept). */
export async function drain(
  stream: ReadableStream<Uint8Array>,
  output: ChildOutput,
): Promise<void> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      output.add(value);
    }
  } catch {
    // a pipe torn down under us (the child was killed): what was read is all there is
  } finally {
    reader.releaseLock();
  }
}

/** The two collectors a spawn fills, sized by its options. */
export function outputsFor(options: SpawnOptions): { stdout: ChildOutput; stderr: ChildOutput } {
  return {
    stdout: new ChildOutput(options.stdoutLimit),
    stderr: new ChildOutput(options.stderrLimit),
  };
}

/** The SpawnResult for a child that ended with `status` or by signal number `signal`. */
export function spawnResult(
  outputs: { stdout: ChildOutput; stderr: ChildOutput },
  status: number,
  signal: number | undefined,
  stdinRefused: boolean,
): SpawnResult {
  return {
    status,
    ...(signal !== undefined && { signal }),
    stdout: outputs.stdout.bytes(),
    stdoutLength: outputs.stdout.length,
    stderr: outputs.stderr.bytes(),
    ...(stdinRefused && { stdinRefused }),
  };
}

/**
 * Calls `stop` and rejects with the signal's reason once `signal` aborts, until `settled` is
 * called: a finished child must never be killed later (its pid may be another's by then).
 */
export function abortable(
  signal: AbortSignal,
  stop: () => void,
): { aborted: Promise<never>; settled: () => void } {
  let onAbort = () => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      stop();
      reject(signal.reason);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
  return { aborted, settled: () => signal.removeEventListener("abort", onAbort) };
}

/**
 * Runs `start`, and again with /bin/sh in front when the runtime's posix_spawn refuses a file
 * without `#!` (ENOEXEC): what glibc's execvp does, and nbdkit relies on.
 */
export function withShellFallback<T>(argv: readonly string[], start: (argv: string[]) => T): T {
  try {
    return start([...argv]);
  } catch (error) {
    if ((error as { code?: unknown } | undefined)?.code !== "ENOEXEC") throw error;
    return start(["/bin/sh", ...argv]);
  }
}
