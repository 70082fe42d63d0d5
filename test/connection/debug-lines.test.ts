/**
 * The words of -v's lines read as nbdkit's: option and reply names, one line per request with
 * the arguments of the callback nbdkit's backend would call, a failed request with what the
 * plugin threw (and its stack on request), the error reply's errno in strerror's words.
 */

import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import {
  commandName,
  errorReplyLine,
  failureLine,
  optionLine,
  optionName,
  replyName,
  requestLine,
} from "../../src/connection/debug-lines.ts";
import type { Request } from "../../src/protocol/codec.ts";
import { CMD, CMD_FLAG, OPT, REP } from "../../src/protocol/constants.ts";

function request(type: number, flags = 0, offset: number | bigint = 4096, length = 512): Request {
  return {
    type,
    flags,
    offset,
    length,
    cookieHi: 0,
    cookieLo: 1,
    payload: undefined,
    payloadDropped: false,
    contextIds: undefined,
  };
}

describe("names", () => {
  test("options, replies and commands are named as nbd-protocol.h names them", () => {
    expect(optionName(OPT.GO)).toBe("NBD_OPT_GO");
    expect(optionName(OPT.LIST_META_CONTEXT)).toBe("NBD_OPT_LIST_META_CONTEXT");
    expect(replyName(REP.ACK)).toBe("NBD_REP_ACK");
    expect(replyName(REP.ERR_TLS_REQD)).toBe("NBD_REP_ERR_TLS_REQD");
    expect(commandName(CMD.DISC)).toBe("NBD_CMD_DISC");
  });

  test("an unknown code is shown in hex, as nbdkit shows it", () => {
    expect(optionName(42)).toBe("unknown (0x2a)");
    expect(replyName(0x80000042)).toBe("unknown (0x80000042)");
  });

  test("a line about one option names it after nbdkit's prefix", () => {
    expect(optionLine(OPT.GO, "client requested export ''")).toBe(
      "newstyle negotiation: NBD_OPT_GO: client requested export ''",
    );
  });
});

describe("requestLine", () => {
  test.each([
    ["memory: pread count=512 offset=4096", request(CMD.READ)],
    ["memory: pwrite count=512 offset=4096 fua=0", request(CMD.WRITE)],
    ["memory: pwrite count=512 offset=4096 fua=1", request(CMD.WRITE, CMD_FLAG.FUA)],
    ["memory: flush", request(CMD.FLUSH, 0, 0, 0)],
    ["memory: trim count=512 offset=4096 fua=1", request(CMD.TRIM, CMD_FLAG.FUA)],
    ["memory: cache count=512 offset=4096", request(CMD.CACHE)],
    ["memory: zero count=512 offset=4096 may_trim=1 fua=0 fast=0", request(CMD.WRITE_ZEROES)],
    [
      "memory: zero count=512 offset=4096 may_trim=0 fua=1 fast=1",
      request(CMD.WRITE_ZEROES, CMD_FLAG.NO_HOLE | CMD_FLAG.FAST_ZERO | CMD_FLAG.FUA),
    ],
    ["memory: extents count=512 offset=4096 req_one=0", request(CMD.BLOCK_STATUS)],
    [
      "memory: extents count=512 offset=4096 req_one=1",
      request(CMD.BLOCK_STATUS, CMD_FLAG.REQ_ONE),
    ],
  ])("a request is logged as %s", (line, req) => {
    expect(requestLine("memory", req)).toBe(line);
  });

  test("an offset past 2^53 is printed exactly", () => {
    const offset = (1n << 63n) - 512n;
    expect(requestLine("memory", request(CMD.READ, 0, offset))).toBe(
      "memory: pread count=512 offset=9223372036854775296",
    );
  });
});

describe("failureLine", () => {
  const thrown = new Error("disk on fire");

  test("names the request, then what the plugin threw", () => {
    expect(failureLine("memory", request(CMD.READ), thrown, false)).toBe(
      "memory: pread count=512 offset=4096: disk on fire",
    );
    expect(failureLine("memory", request(CMD.FLUSH), "a string", false)).toBe(
      "memory: flush: a string",
    );
  });

  test("with the stack, each frame follows on a line of its own", () => {
    const line = failureLine("memory", request(CMD.READ), thrown, true);
    const [first, ...frames] = line.split("\n");
    expect(first).toBe("memory: pread count=512 offset=4096: disk on fire");
    expect(frames.length).toBeGreaterThan(0);
    for (const frame of frames) expect(frame).toMatch(/^\s+at /);
    expect(line).toContain("debug-lines.test.ts");
  });

  test("a value without a stack adds no frames", () => {
    const bare = new NbdError("EIO", "sector unreadable");
    bare.stack = undefined;
    expect(failureLine("memory", request(CMD.READ), bare, true)).toBe(
      "memory: pread count=512 offset=4096: sector unreadable",
    );
    expect(failureLine("memory", request(CMD.READ), 42, true)).toBe(
      "memory: pread count=512 offset=4096: 42",
    );
  });
});

test("errorReplyLine gives the errno in strerror's words", () => {
  expect(errorReplyLine("EIO")).toBe("sending error reply: Input/output error");
  expect(errorReplyLine("ENOSPC")).toBe("sending error reply: No space left on device");
  expect(errorReplyLine("EROFS")).toBe("sending error reply: Read-only file system");
});
