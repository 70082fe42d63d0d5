/**
 * The exitwhen filter's pipe watched through a node:net socket on its descriptor (Node's and
 * Deno's take one): reading it is how the end of the other side shows. Never keeps the process
 * alive; what comes down the pipe is dropped.
 */

import { Socket } from "node:net";
import type { PipeState } from "../io.ts";
import { isPipe } from "./node-path-checks.ts";

/** `pipe` says whether a descriptor is a pipe or socket (fstat by default). */
export function watchPipe(fd: number, pipe: (fd: number) => boolean = isPipe): () => PipeState {
  let state: PipeState = "open";
  try {
    if (!pipe(fd)) return () => "invalid";
    const socket = new Socket({ fd, readable: true, writable: false });
    socket.on("data", () => {}); // nbdkit never reads it: what comes is dropped
    socket.on("close", () => (state = "closed"));
    socket.on("error", () => (state = "closed"));
    socket.unref();
  } catch {
    return () => "invalid";
  }
  return () => state;
}
