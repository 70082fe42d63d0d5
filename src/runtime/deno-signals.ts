/**
 * Runtime.onSignal and Runtime.dieBySignal on Deno's signal listeners. Since Deno 2.9.2, SIGUSR1
 * also starts Deno's inspector (half a second after start-up) through a handler of its own that
 * no listener replaces and no option turns off: to die by SIGUSR1, the default action is put
 * back with libc's signal() through FFI, when the program may use it (-A allows it).
 */

import type { ProcessSignal, Runtime } from "../io.ts";
import type { DenoApi } from "./deno-api.ts";
import { SIGNALS } from "./signal-names.ts";

/** Where libc is: glibc, musl (x86-64 and arm64), macOS. */
const LIBC = ["libc.so.6", "libc.musl-x86_64.so.1", "libc.musl-aarch64.so.1", "libSystem.dylib"];

export function denoSignals(deno: DenoApi): Pick<Runtime, "onSignal" | "dieBySignal"> {
  const listeners = new Map<ProcessSignal, () => void>();
  return {
    onSignal(handler) {
      for (const signal of SIGNALS) {
        const listener = () => handler(signal);
        listeners.set(signal, listener);
        deno.addSignalListener(signal, listener);
      }
    },
    dieBySignal(signal) {
      const number = signalNumberOn(deno.build.os, signal);
      // Without our listener Deno restores the default action, unless a handler of its own
      // remains (the inspector's, for SIGUSR1).
      const listener = listeners.get(signal);
      if (listener) deno.removeSignalListener(signal, listener);
      if (signal === "SIGUSR1") restoreDefaultAction(deno, number);
      deno.kill(deno.pid, signal);
      // Should it live on (no FFI), the exit status is still what a shell would show.
      return new Promise(() => setTimeout(() => deno.exit(128 + number), 1000));
    },
  };
}

/**
 * A signal's number on the systems Deno runs on (Linux, macOS), where these five differ only in
 * SIGUSR1; known here so that Deno's Node layer (node:os has the table) never has to start.
 */
function signalNumberOn(os: string, signal: ProcessSignal): number {
  const numbers = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGQUIT: 3,
    SIGTERM: 15,
    SIGUSR1: os === "darwin" ? 30 : 10,
  };
  return numbers[signal];
}

/** signal(number, SIG_DFL) through the first libc that opens; nothing when none may. */
function restoreDefaultAction(deno: DenoApi, number: number): void {
  for (const path of LIBC) {
    try {
      const libc = deno.dlopen(path, {
        signal: { parameters: ["i32", "pointer"], result: "pointer" },
      });
      libc.symbols.signal(number, null); // SIG_DFL is the null handler
      return;
    } catch {
      // not this libc, or no permission for FFI
    }
  }
}
