/**
 * The pause filter (man nbdkit-pause-filter): pauses and resumes request processing on command,
 * through a Unix control socket, `pause-control=` (required; a file already there is replaced).
 * A client of that socket sends single bytes: `p` pauses (new requests wait; the answer `P`
 * comes once the requests already running have finished), `r` resumes (answer `R`); space,
 * tab and newline are ignored, anything else is answered `X`. Reads, writes, zeroes, trims,
 * extents and cache wait while paused; flushes do not, as in nbdkit. The socket is listened on
 * once the server is ready (after it forks, as nbdkit starts its control thread) and removed at
 * exit.
 */

import { debug } from "../api/debug.ts";
import { ConfigError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { VERSION } from "../api/version.ts";
import type { Channel, Listener, PluginHost, Receiver } from "../io.ts";
import { callingBelow, handlersOf, type RequestHandler } from "./request-op.ts";

/** sockaddr_un's sun_path on Linux, with its terminating NUL. */
const UNIX_PATH_MAX = 108;

const SPACE = new Set([0x0a, 0x09, 0x20]);
const ANSWERS = { p: "P", r: "R" } as Readonly<Record<string, string>>;

/** Requests in flight, and the gate new ones wait at while paused. */
class Gate {
  private running = 0;
  private resumed: Promise<void> | undefined;
  private resume: (() => void) | undefined;
  private drained: (() => void) | undefined;

  /** Counts the request in; while paused, only once resumed (the promise to wait for). */
  enter(): Promise<void> | undefined {
    if (this.resumed !== undefined) return this.enterLater();
    this.running++;
    return undefined;
  }

  private async enterLater(): Promise<void> {
    while (this.resumed !== undefined) await this.resumed;
    this.running++;
  }

  leave(): void {
    if (--this.running === 0) this.drained?.();
  }

  /** Closes the gate and waits for the requests inside to finish; nothing if already paused. */
  async pause(): Promise<void> {
    if (this.resumed !== undefined) return;
    this.resumed = new Promise((resolve) => (this.resume = resolve));
    debug("pause: pausing, waiting for requests to complete");
    if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    this.drained = undefined;
    debug("pause: paused");
  }

  open(): void {
    if (this.resumed === undefined) return;
    this.resumed = undefined;
    this.resume!();
    debug("pause: resumed");
  }
}

export function createPauseFilter(host?: PluginHost): Filter {
  let socket: string | undefined;
  let listener: Listener | undefined;
  const gate = new Gate();

  /** One control connection: its bytes are commands, answered one by one, in order. */
  function control(channel: Channel): Receiver {
    let queue = Promise.resolve();
    const encoder = new TextEncoder();
    const command = async (byte: number) => {
      if (SPACE.has(byte)) return;
      const letter = String.fromCharCode(byte);
      if (letter === "p") await gate.pause();
      else if (letter === "r") gate.open();
      channel.write([encoder.encode(ANSWERS[letter] ?? "X")]);
    };
    return {
      data(chunk) {
        for (const byte of chunk) queue = queue.then(() => command(byte));
      },
      end() {
        void queue.then(() => channel.close());
      },
    };
  }

  return {
    name: "pause",
    longname: "nbdts pause filter",
    version: VERSION,
    configHelp: "pause-control=SOCKET           Control socket.",

    config(next, key, value) {
      if (key === "pause-control") socket = value;
      else return next(key, value);
    },

    configComplete(next) {
      if (socket === undefined) throw new ConfigError("pause-control socket was not set");
      const length = new TextEncoder().encode(socket).length;
      if (length >= UNIX_PATH_MAX) {
        throw new ConfigError(
          `pause-control socket path too long: length ${length} > max ${UNIX_PATH_MAX - 1} bytes`,
        );
      }
      if (host?.listenUnix === undefined) {
        throw new ConfigError("pause-control: this runtime cannot listen on a Unix socket");
      }
      return next();
    },

    async afterFork() {
      try {
        listener = await host!.listenUnix!(socket!, control);
      } catch (error) {
        throw new ConfigError(`${socket}: ${error instanceof Error ? error.message : error}`);
      }
    },

    async unload() {
      await listener?.close();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      // Flushes pass straight through, as nbdkit's pause filter lets them.
      const { flush: _flush, ...held } = handlersOf(heldAt(gate, below));
      return held;
    },
  };
}

/** Makes each request on `below` once `gate` lets it in, and counts it out however it ends. */
function heldAt(gate: Gate, below: NextHandle): RequestHandler {
  const call = callingBelow(below);
  return async (op, buf, count, offset, flags, sink) => {
    const waiting = gate.enter();
    if (waiting) await waiting;
    try {
      await call(op, buf, count, offset, flags, sink);
    } finally {
      gate.leave();
    }
  };
}
