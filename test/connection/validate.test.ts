import { describe, expect, test } from "vitest";
import type { Request } from "../../src/protocol/codec.ts";
import { CMD, CMD_FLAG, NBD_ERR, TX_FLAG } from "../../src/protocol/constants.ts";
import { validateRequest, type ValidationContext } from "../../src/connection/validate.ts";

const MiB = 1024 * 1024;
const SIZE = 128 * MiB;
/** Everything a memory-like export advertises with structured replies (0x0DED). */
const ALL = TX_FLAG.HAS_FLAGS | TX_FLAG.SEND_FLUSH | TX_FLAG.SEND_FUA | TX_FLAG.SEND_TRIM |
  TX_FLAG.SEND_WRITE_ZEROES | TX_FLAG.SEND_DF | TX_FLAG.CAN_MULTI_CONN | TX_FLAG.SEND_CACHE |
  TX_FLAG.SEND_FAST_ZERO;
const READ_ONLY = TX_FLAG.HAS_FLAGS | TX_FLAG.READ_ONLY | TX_FLAG.SEND_FLUSH | TX_FLAG.SEND_CACHE;

function req(fields: Partial<Request> & { type: number }): Request {
  return {
    flags: 0,
    cookieHi: 0,
    cookieLo: 0,
    offset: 0,
    length: fields.type === CMD.FLUSH ? 0 : 512,
    payload: undefined,
    payloadDropped: false,
    contextIds: undefined,
    ...fields,
  };
}

function check(request: Request, ctx: Partial<ValidationContext> = {}): number {
  return validateRequest(request, {
    size: SIZE,
    flags: ALL,
    structuredReplies: true,
    extendedHeaders: false,
    baseAllocation: true,
    maxPayload: 64 * MiB,
    ...ctx,
  });
}

describe("valid requests", () => {
  const valid: [string, Request][] = [
    ["READ of the last byte", req({ type: CMD.READ, offset: SIZE - 1, length: 1 })],
    ["READ of 64 MiB", req({ type: CMD.READ, length: 64 * MiB })],
    ["WRITE with FUA", req({ type: CMD.WRITE, flags: CMD_FLAG.FUA })],
    ["FLUSH", req({ type: CMD.FLUSH })],
    ["FLUSH with FUA (FUA is valid on every command)", req({ type: CMD.FLUSH, flags: 1 })],
    ["TRIM of the whole disk", req({ type: CMD.TRIM, length: SIZE - 0 })],
    ["CACHE", req({ type: CMD.CACHE })],
    [
      "WRITE_ZEROES with NO_HOLE, FAST_ZERO and FUA",
      req({
        type: CMD.WRITE_ZEROES,
        flags: CMD_FLAG.NO_HOLE | CMD_FLAG.FAST_ZERO | CMD_FLAG.FUA,
      }),
    ],
    ["WRITE_ZEROES of more than 64 MiB", req({ type: CMD.WRITE_ZEROES, length: 100 * MiB })],
    ["READ with DF", req({ type: CMD.READ, flags: CMD_FLAG.DF })],
    ["BLOCK_STATUS with REQ_ONE", req({ type: CMD.BLOCK_STATUS, flags: CMD_FLAG.REQ_ONE })],
  ];
  for (const [what, request] of valid) {
    test(`${what} is accepted`, () => expect(check(request)).toBe(NBD_ERR.SUCCESS));
  }

  test("offsets past 2^53 are compared exactly against a large export", () => {
    const size = (1n << 63n) - 1n;
    const last = req({ type: CMD.READ, offset: size - 512n, length: 512 });
    expect(check(last, { size })).toBe(NBD_ERR.SUCCESS);
    const over = req({ type: CMD.READ, offset: size - 511n, length: 512 });
    expect(check(over, { size })).toBe(NBD_ERR.EINVAL);
    const write = req({ type: CMD.WRITE, offset: (1n << 53n) + 1n, length: 1 });
    expect(check(write, { size: (1n << 53n) + 1n })).toBe(NBD_ERR.ENOSPC);
    expect(check(write, { size: (1n << 53n) + 2n })).toBe(NBD_ERR.SUCCESS);
  });
});

describe("each validate_request check, one at a time (nbd-proto.md section 5.7)", () => {
  const rows: [string, Request, Partial<ValidationContext>, number][] = [
    // 1: read-only export
    ["1: WRITE on a read-only export", req({ type: CMD.WRITE }), { flags: READ_ONLY }, 1],
    ["1: TRIM on a read-only export", req({ type: CMD.TRIM }), { flags: READ_ONLY }, 1],
    [
      "1: WRITE_ZEROES on a read-only export",
      req({ type: CMD.WRITE_ZEROES }),
      { flags: READ_ONLY },
      1,
    ],
    // 2: range and zero length
    ["2: WRITE past the end", req({ type: CMD.WRITE, offset: SIZE - 1, length: 2 }), {}, 28],
    ["2: WRITE_ZEROES past the end", req({ type: CMD.WRITE_ZEROES, offset: SIZE }), {}, 28],
    ["2: WRITE of zero length", req({ type: CMD.WRITE, length: 0 }), {}, 28],
    ["2: WRITE_ZEROES of zero length", req({ type: CMD.WRITE_ZEROES, length: 0 }), {}, 28],
    ["2: READ past the end", req({ type: CMD.READ, offset: SIZE }), {}, 22],
    ["2: READ of zero length", req({ type: CMD.READ, length: 0 }), {}, 22],
    ["2: TRIM past the end", req({ type: CMD.TRIM, offset: SIZE - 1, length: 2 }), {}, 22],
    ["2: TRIM of zero length", req({ type: CMD.TRIM, length: 0 }), {}, 22],
    ["2: CACHE past the end", req({ type: CMD.CACHE, offset: 2n ** 64n - 1n }), {}, 22],
    ["2: CACHE of zero length", req({ type: CMD.CACHE, length: 0 }), {}, 22],
    ["2: BLOCK_STATUS past the end", req({ type: CMD.BLOCK_STATUS, offset: SIZE }), {}, 22],
    ["2: BLOCK_STATUS of zero length", req({ type: CMD.BLOCK_STATUS, length: 0 }), {}, 22],
    // 3: FLUSH fields
    ["3: FLUSH with an offset", req({ type: CMD.FLUSH, offset: 1 }), {}, 22],
    ["3: FLUSH with a length", req({ type: CMD.FLUSH, length: 1 }), {}, 22],
    ["3: FLUSH with an offset past 2^53", req({ type: CMD.FLUSH, offset: 1n << 60n }), {}, 22],
    // 4: unknown commands
    ["4: RESIZE (8), not supported", req({ type: 8 }), {}, 22],
    ["4: command 0xFFFF", req({ type: 0xffff }), {}, 22],
    // 5: unknown flags
    ["5: PAYLOAD_LEN (bit 5) on READ", req({ type: CMD.READ, flags: 0x20 }), {}, 22],
    ["5: bit 15 on FLUSH", req({ type: CMD.FLUSH, flags: 0x8000 }), {}, 22],
    // 6-9: flags on the wrong command
    ["6: NO_HOLE on WRITE", req({ type: CMD.WRITE, flags: CMD_FLAG.NO_HOLE }), {}, 22],
    ["6: NO_HOLE on TRIM", req({ type: CMD.TRIM, flags: CMD_FLAG.NO_HOLE }), {}, 22],
    ["7: FAST_ZERO on TRIM", req({ type: CMD.TRIM, flags: CMD_FLAG.FAST_ZERO }), {}, 22],
    ["7: FAST_ZERO on WRITE", req({ type: CMD.WRITE, flags: CMD_FLAG.FAST_ZERO }), {}, 22],
    ["8: DF on WRITE", req({ type: CMD.WRITE, flags: CMD_FLAG.DF }), {}, 22],
    [
      "8: DF on READ without structured replies",
      req({ type: CMD.READ, flags: CMD_FLAG.DF }),
      { structuredReplies: false },
      22,
    ],
    ["9: REQ_ONE on READ", req({ type: CMD.READ, flags: CMD_FLAG.REQ_ONE }), {}, 22],
    // 10: FUA not advertised
    [
      "10: FUA on WRITE without SEND_FUA",
      req({ type: CMD.WRITE, flags: CMD_FLAG.FUA }),
      { flags: ALL & ~TX_FLAG.SEND_FUA },
      22,
    ],
    [
      "10: FUA on READ without SEND_FUA",
      req({ type: CMD.READ, flags: CMD_FLAG.FUA }),
      { flags: ALL & ~TX_FLAG.SEND_FUA },
      22,
    ],
    // Q3: FAST_ZERO without SEND_FAST_ZERO (nbdkit does not check; the spec says EINVAL)
    [
      "Q3: FAST_ZERO on WRITE_ZEROES without SEND_FAST_ZERO",
      req({ type: CMD.WRITE_ZEROES, flags: CMD_FLAG.FAST_ZERO }),
      { flags: ALL & ~TX_FLAG.SEND_FAST_ZERO },
      22,
    ],
    // 11: too large
    ["11: READ of 64 MiB + 1", req({ type: CMD.READ, length: 64 * MiB + 1 }), {}, 12],
    ["11: WRITE of 64 MiB + 1", req({ type: CMD.WRITE, length: 64 * MiB + 1 }), {}, 12],
    // 12: command not advertised
    [
      "12: FLUSH without SEND_FLUSH",
      req({ type: CMD.FLUSH }),
      { flags: ALL & ~TX_FLAG.SEND_FLUSH },
      22,
    ],
    [
      "12: TRIM without SEND_TRIM",
      req({ type: CMD.TRIM }),
      { flags: ALL & ~TX_FLAG.SEND_TRIM },
      22,
    ],
    [
      "12: CACHE without SEND_CACHE",
      req({ type: CMD.CACHE }),
      { flags: ALL & ~TX_FLAG.SEND_CACHE },
      22,
    ],
    [
      "12: WRITE_ZEROES without SEND_WRITE_ZEROES",
      req({ type: CMD.WRITE_ZEROES }),
      { flags: ALL & ~TX_FLAG.SEND_WRITE_ZEROES & ~TX_FLAG.SEND_FAST_ZERO },
      22,
    ],
    // 13: BLOCK_STATUS needs structured replies and base:allocation
    [
      "13: BLOCK_STATUS without structured replies",
      req({ type: CMD.BLOCK_STATUS }),
      { structuredReplies: false },
      22,
    ],
    [
      "13: BLOCK_STATUS without base:allocation",
      req({ type: CMD.BLOCK_STATUS }),
      { baseAllocation: false },
      22,
    ],
  ];
  for (const [what, request, ctx, expected] of rows) {
    test(`${what} fails with ${expected}`, () => expect(check(request, ctx)).toBe(expected));
  }
});

describe("validate_request order: the first failing check decides", () => {
  const rows: [string, Request, Partial<ValidationContext>, number][] = [
    [
      "read-only (1) before range (2): WRITE of zero length on a read-only export",
      req({ type: CMD.WRITE, length: 0 }),
      { flags: READ_ONLY },
      NBD_ERR.EPERM,
    ],
    [
      "read-only (1) before size (11): WRITE of 64 MiB + 1 on a read-only export",
      req({ type: CMD.WRITE, length: 64 * MiB + 1 }),
      { flags: READ_ONLY },
      NBD_ERR.EPERM,
    ],
    [
      "range (2) before flags (5): WRITE past the end with an unknown flag",
      req({ type: CMD.WRITE, offset: SIZE, flags: 0x40 }),
      {},
      NBD_ERR.ENOSPC,
    ],
    [
      "range (2) before size (11): READ of 64 MiB + 1 past the end",
      req({ type: CMD.READ, offset: SIZE - 64 * MiB, length: 64 * MiB + 1 }),
      {},
      NBD_ERR.EINVAL,
    ],
    [
      "range (2) before advertised (12): WRITE_ZEROES past the end, not advertised",
      req({ type: CMD.WRITE_ZEROES, offset: SIZE }),
      { flags: TX_FLAG.HAS_FLAGS },
      NBD_ERR.ENOSPC,
    ],
    [
      "flags (5) before size (11): READ of 64 MiB + 1 with an unknown flag",
      req({ type: CMD.READ, length: 64 * MiB + 1, flags: 0x100 }),
      {},
      NBD_ERR.EINVAL,
    ],
    [
      "FUA (10) before size (11): WRITE of 64 MiB + 1 with FUA not advertised",
      req({ type: CMD.WRITE, length: 64 * MiB + 1, flags: CMD_FLAG.FUA }),
      { flags: ALL & ~TX_FLAG.SEND_FUA },
      NBD_ERR.EINVAL,
    ],
    [
      "DF (8) before size (11): READ of 64 MiB + 1 with DF and no structured replies",
      req({ type: CMD.READ, length: 64 * MiB + 1, flags: CMD_FLAG.DF }),
      { structuredReplies: false },
      NBD_ERR.EINVAL,
    ],
  ];
  for (const [what, request, ctx, expected] of rows) {
    test(what, () => expect(check(request, ctx)).toBe(expected));
  }

  test("a READ of 64 MiB + 1 within range with nothing else wrong is ENOMEM", () => {
    expect(check(req({ type: CMD.READ, length: 64 * MiB + 1 }))).toBe(NBD_ERR.ENOMEM);
  });
});
