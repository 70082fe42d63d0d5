/**
 * What each signal does to the program, as it does to nbdkit 1.32.5 (each measured by sending it
 * to a running nbdkit; nbdkit(1) "SIGNALS"). SIGPIPE is not here: the runtimes ignore it, as
 * nbdkit does.
 *
 *   signal    serving (-f, daemon, -s)       captive (--run)
 *   SIGINT    stop cleanly, exit 0           ignored: the command runs on, its status is ours
 *   SIGQUIT   stop cleanly, exit 0           ignored: the command runs on, its status is ours
 *   SIGTERM   stop cleanly, exit 0           stop serving; the command runs on, its status is ours
 *   SIGHUP    stop cleanly, exit 0           stop serving; the command runs on, its status is ours
 *   SIGUSR1   killed by it (128+10)          killed by it (128+10); the command runs on
 *
 * Captive nbdkit waits for its command in system(3), which ignores SIGINT and SIGQUIT; its
 * handler for SIGTERM and SIGHUP stops the server but not the wait. Where nbdkit is killed, the
 * program stops its server and removes its files first, then dies by the same signal, so that
 * its parent sees what it would see of nbdkit.
 */

import type { ProcessSignal, Runtime } from "../io.ts";

/** How the program serves, as far as signals are concerned. */
export type SignalMode = "serving" | "captive";

const EFFECTS = {
  serving: { SIGINT: "stop", SIGQUIT: "stop", SIGTERM: "stop", SIGHUP: "stop", SIGUSR1: "die" },
  captive: {
    SIGINT: "ignore",
    SIGQUIT: "ignore",
    SIGTERM: "stop",
    SIGHUP: "stop",
    SIGUSR1: "die",
  },
} as const satisfies Record<SignalMode, Record<ProcessSignal, "stop" | "ignore" | "die">>;

/** Signals as main() sees them, from the moment the watch is made. */
export interface SignalWatch {
  /** Settles on the first signal that stops the server (never, if none comes). */
  readonly stopped: Promise<void>;
  /** Sets what a fatal signal runs before it kills: stopping the server, removing its files. */
  cleanUpWith(cleanup: () => Promise<void>): void;
  /** Stops as SIGTERM would: what a plugin's or filter's shutdown() does (api/shutdown.ts). */
  stop(): void;
}

/**
 * Takes over the signals of io.ts's ProcessSignal for the mode the program serves in. A fatal
 * signal before cleanUpWith, or a second one during the cleanup, kills at once, as it does nbdkit.
 */
export function watchSignals(
  runtime: Pick<Runtime, "onSignal" | "dieBySignal">,
  mode: SignalMode,
): SignalWatch {
  let stop!: () => void;
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  let cleanup: (() => Promise<void>) | undefined;
  let dying = false;
  runtime.onSignal((signal) => {
    const effect = EFFECTS[mode][signal];
    if (effect === "stop") return stop();
    if (effect === "ignore") return;
    const die = () => void runtime.dieBySignal(signal);
    if (dying || cleanup === undefined) return die();
    dying = true;
    cleanup().then(die, die);
  });
  return { stopped, cleanUpWith: (given) => (cleanup = given), stop: () => stop() };
}
