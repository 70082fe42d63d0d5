/**
 * Log lines look like nbdkit's and end exactly once, whatever the message carries (OpenSSL's
 * error messages, passed on from node:tls, end in a newline of their own).
 */

import { expect, test } from "vitest";
import { Log } from "../../src/api/log.ts";

test("an error line is prefixed like nbdkit's and a message's own line end is dropped", () => {
  const lines: string[] = [];
  const log = new Log((line) => lines.push(line), true);
  log.error("memory[1]", "TLS handshake: wrong version number\n");
  log.debug("memory[1]", "using TLS\r\n");
  log.error("memory[2]", "two\nlines");
  expect(lines).toEqual([
    "nbdts: memory[1]: error: TLS handshake: wrong version number\n",
    "nbdts: memory[1]: debug: using TLS\n",
    "nbdts: memory[2]: error: two\nlines\n",
  ]);
});

test("debug lines appear only when verbose", () => {
  const lines: string[] = [];
  new Log((line) => lines.push(line)).debug("memory[1]", "quiet");
  expect(lines).toEqual([]);
});

test("a program answering as nbdkit starts its lines with nbdkit's name", () => {
  const lines: string[] = [];
  new Log((line) => lines.push(line), false, "nbdkit").error("memory[1]", "failed");
  expect(lines).toEqual(["nbdkit: memory[1]: error: failed\n"]);
});

test("the -D switches turn off their kind of lines, and nothing is on without -v", () => {
  const sink = () => {};
  expect(new Log(sink, true)).toMatchObject({ controlpath: true, datapath: true });
  expect(new Log(sink, { verbose: true, datapath: false })).toMatchObject({
    controlpath: true,
    datapath: false,
  });
  expect(new Log(sink, { verbose: true, controlpath: false })).toMatchObject({
    controlpath: false,
    datapath: true,
  });
  expect(new Log(sink, { datapath: true, controlpath: true })).toMatchObject({
    verbose: false,
    controlpath: false,
    datapath: false,
  });
});
