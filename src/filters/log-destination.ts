/**
 * Where a program that embeds nbdts sends the log filter's lines, besides or instead of logfile=:
 * a function called with each line, a WritableStream of strings, or a WebSocket (one text message
 * per line). Each gets exactly the text the log file would hold, newline included, so joining
 * them gives nbdkit's file. A full stream holds the request that wrote the line until it has room
 * (as nbdkit's write to a slow file would); a function or a WebSocket never waits. A destination
 * that fails is reported once and writing goes on; the stream is closed when the filter unloads,
 * a function or WebSocket stays its owner's.
 */

import { logError } from "../api/error-log.ts";
import { messageOf } from "../api/errors.ts";

/** A WebSocket's sending side, as browsers, Deno, Bun, Workers and the ws package have it. */
export interface LogSocket {
  send(text: string): void;
}

export type LogDestination = ((line: string) => void) | WritableStream<string> | LogSocket;

/** A destination as the log writes to it. */
export interface LineSink {
  write(line: string): void;
  /** Settles once the destination can take more; undefined when it can now. */
  ready(): Promise<void> | undefined;
  close(): void;
}

export function lineSink(destination: LogDestination): LineSink {
  let reported = false;
  const report = (error: unknown) => {
    if (!reported) logError(`log destination: ${messageOf(error)}`);
    reported = true;
  };
  if (typeof destination !== "function" && "getWriter" in destination) {
    return streamSink(destination.getWriter(), report);
  }
  const send = typeof destination === "function" ? destination : (line: string) => {
    destination.send(line);
  };
  return {
    write(line) {
      try {
        send(line);
      } catch (error) {
        report(error);
      }
    },
    ready: () => undefined,
    close() {},
  };
}

function streamSink(
  writer: WritableStreamDefaultWriter<string>,
  report: (error: unknown) => void,
): LineSink {
  return {
    write: (line) => void writer.write(line).catch(report),
    // desiredSize is null once the stream has failed: nothing to wait for then.
    ready: () => (writer.desiredSize ?? 1) <= 0 ? writer.ready.catch(report) : undefined,
    close: () => void writer.close().catch(report),
  };
}
