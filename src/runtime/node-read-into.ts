/**
 * Reads an accepted node:net socket into buffers we choose, as Node's `onread` option does for
 * the sockets Node connects itself; Node offers no such option for accepted sockets. Without it
 * every read lands in a fresh 64 KiB buffer that the codec then copies; with it the rest of a
 * write payload is read straight into its final place, and other bytes into one reused buffer.
 *
 * It borrows two Node internals, and only when both are there (else it changes nothing and
 * answers false, and the caller listens for 'data' as usual): the three symbol properties that
 * hold a socket's `onread` settings (every socket has them, set to null), and the handle's
 * useUserBuffer(). Node then does for the accepted socket what it does for one made with
 * `onread`: reads into the buffer, calls back with the byte count, and asks for the next
 * buffer; pause() and resume() stop and start reading at once.
 */

import type { Socket } from "node:net";

/** The socket properties Node's `onread` option fills in (lib/net.js). */
interface OnreadSlots {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function onreadSlots(socket: Socket): OnreadSlots | undefined {
  const own = Object.getOwnPropertySymbols(socket);
  const find = (name: string) => own.find((symbol) => symbol.description === name);
  const buffer = find("kBuffer");
  const callback = find("kBufferCb");
  const generator = find("kBufferGen");
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

/**
 * Makes `socket`, accepted paused (pauseOnConnect) and not yet resumed, read each time into
 * the buffer `next()` gives (never empty: a read into nothing fails with ENOBUFS), then call
 * `received` with the part filled. `next()` is asked again after every read, once `received`
 * has returned. False, with nothing changed, when this Node cannot do it.
 */
export function readInto(
  socket: Socket,
  next: () => Uint8Array,
  received: (chunk: Uint8Array) => void,
): boolean {
  const slots = onreadSlots(socket);
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: unknown } })._handle;
  if (!slots || typeof handle?.useUserBuffer !== "function") return false;
  const first = next();
  const settings = socket as unknown as Record<symbol, unknown>;
  settings[slots.buffer] = first; // Node keeps the next buffer here (and alive) from now on
  settings[slots.callback] = (count: number, buffer: Uint8Array) => {
    received(buffer.subarray(0, count));
  };
  settings[slots.generator] = next;
  handle.useUserBuffer.call(handle, first);
  return true;
}
