/**
 * Bun's -s: stdin, read through Bun's own stream, and stdout, written through Node's process
 * (which Bun implements), served as one connection.
 */

import { asError } from "../api/errors.ts";
import process from "node:process";
import type { Accept, Channel, Receiver } from "../io.ts";
import { writeStdout } from "./node-process.ts";
import { stdinPeer } from "./stdin-peer.ts";

const EMPTY = new Uint8Array(0);

/**
 * Serves `stdin` (Bun.stdin's stream) and stdout as one connection; settles once close() has
 * flushed stdout. `deliver` hands each chunk read to the receiver.
 */
export function serveStdio(
  accept: Accept,
  stdin: ReadableStream<Uint8Array>,
  deliver: (receiver: Receiver, chunk: Uint8Array) => void,
): Promise<void> {
  return new Promise((resolveServed) => {
    const reader = stdin.getReader();
    let paused = false;
    let wake: (() => void) | undefined;
    let closing = false;
    const channel: Channel = {
      peer: "stdin",
      address: stdinPeer(),
      write: writeStdout,
      pause: () => void (paused = true),
      resume() {
        paused = false;
        wake?.();
      },
      close() {
        if (closing) return;
        closing = true;
        wake?.();
        // The callback runs once this empty write, and so every earlier one, is flushed.
        process.stdout.write(EMPTY, () => resolveServed());
      },
    };
    const receiver = accept(channel);
    const unpaused = async () => {
      while (paused && !closing) await new Promise<void>((resolve) => (wake = resolve));
    };
    void (async () => {
      try {
        for (;;) {
          await unpaused();
          if (closing) return;
          const { done, value } = await reader.read();
          if (done) break;
          await unpaused();
          if (closing) return;
          deliver(receiver, value);
        }
        receiver.end();
      } catch (error) {
        receiver.end(asError(error));
      }
    })();
  });
}
