/**
 * An in-memory connection between the NBD client and an nbdts Server in the same process: a
 * Connect that hands the server one end and the client the other, delivering bytes in a later
 * microtask (as a socket would), optionally in pieces of `split` bytes.
 */

import type { Channel, Connect, Receiver } from "../../src/io.ts";
import type { Server } from "../../src/connection/server.ts";

/** Delivers `parts` to `receiver` in pieces of at most `split` bytes, copied (the sender reuses). */
function deliver(receiver: Receiver, parts: Uint8Array[], split: number): void {
  for (const part of parts) {
    for (let at = 0; at < part.length; at += split) {
      receiver.data(part.slice(at, Math.min(part.length, at + split)));
    }
  }
}

/** One end of the pipe: what is written goes to `far()`; closing ends both sides. */
function pipeEnd(peer: string, far: () => Receiver, split: number, close: () => void): Channel {
  return {
    peer,
    write(parts) {
      const copies = parts.map((part) => part.slice());
      queueMicrotask(() => deliver(far(), copies, split));
      return undefined;
    },
    pause() {},
    resume() {},
    close: () => queueMicrotask(close),
  };
}

export function pipeConnect(server: Server, split = Infinity): Connect {
  return (_target, clientReceiver) => {
    let closed = false;
    const closeBoth = () => {
      if (closed) return;
      closed = true;
      serverReceiver.end();
      clientReceiver.end();
    };
    const live = (receiver: Receiver): Receiver => ({
      data: (chunk) => !closed && receiver.data(chunk),
      end: (error) => receiver.end(error),
    });
    const serverReceiver: Receiver = server.accept(
      pipeEnd("client-pipe", () => live(clientReceiver), split, closeBoth),
    );
    return Promise.resolve(pipeEnd("server-pipe", () => live(serverReceiver), split, closeBoth));
  };
}
