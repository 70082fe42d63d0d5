/**
 * PluginHost.spawn for Node through a pool of small /bin/sh processes that start the programs.
 *
 * Why: libuv starts every program by fork()ing Node itself, whose page tables are large, and
 * Node then sets up three pipes as streams, one event per write the program makes: on the
 * 2-core VM measured, 1.3 ms of Node's CPU per 4 KiB read and 7.7 ms per 1 MiB one (dd writes
 * 512 bytes at a time), which made the sh plugin 3 times slower than nbdkit. A shell forks in a
 * fraction of that, and a program writing into a file costs Node one read at the end. Each
 * helper runs one program at a time:
 *
 *   request (helper's stdin):   INPUT 'program' 'arg' …     one line of shell-quoted words
 *   answer (helper's stdout):   PID\n, then once it has exited: STATUS\n
 *
 * The program's stdin is INPUT (/dev/null, or a file holding the bytes for it), its stdout and
 * stderr two files of the helper's, read when it has exited, in a private directory on tmpfs
 * (/dev/shm) where there is one. While it runs its output is watched: past the limit it is
 * killed, so that a program printing for ever fills neither memory nor disk.
 */

import { type ChildProcess, spawn } from "node:child_process";
import {
  accessSync,
  closeSync,
  constants,
  fstatSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import process from "node:process";
import type { SpawnOptions, SpawnResult } from "../io.ts";
import { abortable, outputsFor, spawnResult } from "./child-output.ts";
import { killTree } from "./kill-tree.ts";
import { environmentWith } from "./node-spawn.ts";

/**
 * `sh -c HELPER sh DIR`: runs each requested program with its output in DIR/out and DIR/err.
 * When its stdin ends (the server has exited, however it died) it removes DIR and ends; it
 * ignores SIGPIPE meanwhile (an answer to a server gone must not kill it), which the program,
 * as in nbdkit, does not.
 */
const HELPER = `dir=$1
nl='
'
trap '' PIPE
while IFS= read -r line; do
  eval "set -- $line"
  input=$1
  shift
  { trap - PIPE; exec "$@" <"$input" >"$dir/out" 2>"$dir/err"; } &
  echo "$!"
  wait "$!"
  echo "$?"
done
rm -rf -- "$dir"
`;

/** How often a running program's output is measured against its limit. */
const WATCH_MS = 100;

/** Helpers kept idle per environment: one per request a client may have in flight. */
const IDLE = 64;

/** A word the helper's `eval "set -- …"` gives back as it was, newlines included. */
function word(text: string): string {
  return `'${text.replaceAll("'", `'\\''`).replaceAll("\n", `'"$nl"'`)}'`;
}

/**
 * Up to `limit` bytes of the file at `path`, and its whole size: read at once, synchronously,
 * as the file is on tmpfs and the program is done with it.
 */
function readOutput(path: string, limit: number): { bytes: Uint8Array; size: number } {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(Math.min(size, limit));
    for (let done = 0; done < bytes.length;) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    return { bytes, size };
  } finally {
    closeSync(fd);
  }
}

/** Lines from the helper's stdout, handed out in order; `ended` when it closes. */
class Lines {
  private buffered = "";
  private readonly waiting: ((line: string) => void)[] = [];
  private readonly ready: string[] = [];

  constructor(child: ChildProcess) {
    child.stdout!.setEncoding("latin1");
    child.stdout!.on("data", (text: string) => {
      this.buffered += text;
      for (let nl; (nl = this.buffered.indexOf("\n")) >= 0;) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const waiter = this.waiting.shift();
        if (waiter) waiter(line);
        else this.ready.push(line);
      }
    });
  }

  next(): Promise<string> {
    const line = this.ready.shift();
    if (line !== undefined) return Promise.resolve(line);
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

class Helper {
  private readonly child: ChildProcess;
  private readonly answers: Lines;
  private readonly dir: string;
  private readonly files: { input: string; out: string; err: string };
  /** The program running now, if any. */
  running: number | undefined;
  /** Rejects once the helper has ended: a program it was running has no answer. */
  private readonly ended: Promise<never>;
  /** Set once it ended or was killed: it takes no more requests. */
  dead = false;

  constructor(env: NodeJS.ProcessEnv | undefined, base: string) {
    this.dir = mkdtempSync(base);
    this.files = { input: `${this.dir}/in`, out: `${this.dir}/out`, err: `${this.dir}/err` };
    // A session of its own: a signal to the server's process group (a test's SIGKILL, a
    // terminal's ^C) leaves the helper to see its stdin end and remove its files.
    this.child = spawn("/bin/sh", ["-c", HELPER, "sh", this.dir], {
      stdio: ["pipe", "pipe", "ignore"],
      env,
      detached: true,
    });
    this.answers = new Lines(this.child);
    this.ended = new Promise<never>((_, reject) => {
      const end = () => {
        this.dead = true;
        reject(new Error("the helper that starts programs ended"));
      };
      this.child.on("error", end);
      this.child.on("exit", end);
      this.child.stdin!.on("error", end);
    });
    this.ended.catch(() => {}); // rejected only for a call that is waiting
  }

  /** Runs one program; rejects if the helper dies or the signal aborts. */
  async run(argv: readonly string[], options: SpawnOptions): Promise<SpawnResult> {
    let input = "/dev/null";
    if (options.stdin) {
      writeFileSync(this.files.input, options.stdin);
      input = this.files.input;
    }
    const outLimit = options.stdoutLimit ?? Infinity;
    const errLimit = options.stderrLimit ?? Infinity;
    this.child.stdin!.write(`${[input, ...argv].map(word).join(" ")}\n`);
    let overflowed = false;
    const watch = setInterval(() => {
      try {
        const out = statSync(this.files.out).size;
        const err = statSync(this.files.err).size;
        // Well past what is kept (the count stays exact up to there): stop it.
        if (out > 2 * outLimit + 65536 || err > 2 * errLimit + 65536) {
          overflowed = true;
          killTree(this.running);
        }
      } catch {
        // not made yet
      }
    }, WATCH_MS);
    const abort = options.signal && abortable(options.signal, () => {
      killTree(this.running);
      this.kill();
    });
    try {
      const finished = (async () => {
        this.running = Number(await this.answers.next());
        return Number(await this.answers.next());
      })();
      const status = await Promise.race([finished, this.ended, ...(abort ? [abort.aborted] : [])]);
      const outputs = outputsFor(options);
      const out = readOutput(this.files.out, outLimit);
      const err = readOutput(this.files.err, errLimit);
      outputs.stdout.add(out.bytes);
      outputs.stdout.length = out.size;
      outputs.stderr.add(err.bytes);
      // A shell reports a program killed by signal N as 128+N.
      const signal = overflowed ? 9 : status > 128 && status < 160 ? status - 128 : undefined;
      return spawnResult(outputs, status, signal, false);
    } finally {
      this.running = undefined;
      clearInterval(watch);
      abort?.settled();
    }
  }

  /** Ends the helper now, and removes its files (it cannot, killed). */
  kill(): void {
    this.dead = true;
    killTree(this.child.pid);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Lets the helper end by itself: it removes its files once its stdin ends. */
  retire(): void {
    this.dead = true;
    this.child.stdin!.end();
  }
}

/** Where helpers keep their files: tmpfs where it can be written to, else /tmp. */
function helperBase(): string {
  try {
    accessSync("/dev/shm", constants.W_OK);
    return "/dev/shm/nbdts-spawn";
  } catch {
    return "/tmp/nbdts-spawn";
  }
}

/**
 * A spawner whose calls with the same `env` object share helpers; calls with another env (or
 * none) have helpers of their own. When the process exits, the programs still running are
 * killed; each helper then sees its stdin end and removes its files.
 */
export function forkserverSpawner() {
  const pools = new WeakMap<object, Helper[]>();
  const everyone = new Set<Helper>();
  let base: string | undefined;
  process.once("exit", () => {
    for (const each of everyone) killTree(each.running);
  });

  return async function spawnThroughHelper(
    argv: readonly string[],
    options: SpawnOptions = {},
  ): Promise<SpawnResult> {
    options.signal?.throwIfAborted();
    const key = options.env ?? pools;
    let idle = pools.get(key);
    if (!idle) pools.set(key, idle = []);
    let helper = idle.pop();
    while (helper?.dead) helper = idle.pop();
    if (!helper) {
      helper = new Helper(environmentWith(options.env), base ??= helperBase());
      everyone.add(helper);
    }
    try {
      return await helper.run(argv, options);
    } finally {
      if (helper.dead || idle.length >= IDLE) {
        if (!helper.dead) helper.retire();
        everyone.delete(helper);
      } else idle.push(helper);
    }
  };
}
