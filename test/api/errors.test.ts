import { describe, expect, test } from "vitest";
import {
  ConfigError,
  ERRNO,
  type Errno,
  errnoOf,
  NbdError,
  ProtocolError,
} from "../../src/api/errors.ts";
import { wireError } from "../../src/protocol/wire-error.ts";
import { CMD_FLAG, NBD_ERR } from "../../src/protocol/constants.ts";

describe("wireError maps host errnos as nbdkit's nbd_errno (nbd-proto.md section 5.9)", () => {
  const rows: [Errno, number, number][] = [
    ["EPERM", 0, NBD_ERR.EPERM],
    ["EROFS", 0, NBD_ERR.EPERM],
    ["EIO", 0, NBD_ERR.EIO],
    ["ENOMEM", 0, NBD_ERR.ENOMEM],
    ["ENOSPC", 0, NBD_ERR.ENOSPC],
    ["EDQUOT", 0, NBD_ERR.ENOSPC],
    ["EFBIG", 0, NBD_ERR.ENOSPC],
    ["ESHUTDOWN", 0, NBD_ERR.ESHUTDOWN],
    ["EINVAL", 0, NBD_ERR.EINVAL],
    ["ENOTSUP", 0, NBD_ERR.EINVAL],
    ["EOPNOTSUPP", 0, NBD_ERR.EINVAL],
    ["ENOTSUP", CMD_FLAG.FAST_ZERO, NBD_ERR.ENOTSUP],
    ["EOPNOTSUPP", CMD_FLAG.FAST_ZERO | CMD_FLAG.FUA, NBD_ERR.ENOTSUP],
    ["ENOTSUP", CMD_FLAG.DF, NBD_ERR.EINVAL],
    ["EOVERFLOW", 0, NBD_ERR.EINVAL],
    ["EOVERFLOW", CMD_FLAG.FAST_ZERO, NBD_ERR.EINVAL],
    ["EOVERFLOW", CMD_FLAG.DF, NBD_ERR.EOVERFLOW],
    ["ENOENT", 0, NBD_ERR.EINVAL],
    ["EBADF", 0, NBD_ERR.EINVAL],
    ["ERANGE", 0, NBD_ERR.EINVAL],
  ];
  for (const [errno, flags, wire] of rows) {
    test(`${errno} with request flags 0x${flags.toString(16)} goes on the wire as ${wire}`, () => {
      expect(wireError(errno, flags)).toBe(wire);
    });
  }

  test("every errno a plugin may use maps to one of the spec's error values", () => {
    const allowed = new Set<number>(Object.values(NBD_ERR).filter((v) => v !== 0));
    for (const errno of Object.values(ERRNO)) {
      for (const flags of [0, CMD_FLAG.FAST_ZERO, CMD_FLAG.DF, 0x1f]) {
        expect(allowed.has(wireError(errno, flags))).toBe(true);
      }
    }
  });

  test("an errno the table does not know is EINVAL", () => {
    expect(wireError("EWHATEVER" as Errno, 0)).toBe(NBD_ERR.EINVAL);
  });
});

describe("errors at the boundaries", () => {
  test("an NbdError keeps its errno; anything else thrown is EIO", () => {
    expect(errnoOf(new NbdError("ENOSPC", "full"))).toBe("ENOSPC");
    expect(errnoOf(new Error("boom"))).toBe("EIO");
    expect(errnoOf("a string")).toBe("EIO");
    expect(errnoOf(undefined)).toBe("EIO");
  });

  test("an NbdError without a message uses its errno as the message", () => {
    const error = new NbdError("EDQUOT");
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe("NbdError");
    expect(error.message).toBe("EDQUOT");
    expect(new NbdError("EIO", "read failed").message).toBe("read failed");
  });

  test("ProtocolError and ConfigError are named errors", () => {
    expect(new ProtocolError("bad magic")).toMatchObject({
      name: "ProtocolError",
      message: "bad magic",
    });
    expect(new ConfigError("bad size")).toMatchObject({ name: "ConfigError" });
  });

  test("an NbdError may name the offset where a read went bad", () => {
    expect(new NbdError("EIO", "bad", 4096).offset).toBe(4096);
    expect(new NbdError("EIO").offset).toBeUndefined();
  });

  test("an NbdError from another copy of the class is still recognised by its shape", () => {
    class NbdError2 extends Error {
      readonly errno = "ENOSPC";
      constructor() {
        super("full");
        this.name = "NbdError";
      }
    }
    const foreign = new NbdError2();
    expect(foreign instanceof NbdError).toBe(true);
    expect(errnoOf(foreign)).toBe("ENOSPC");
    const impostor = Object.assign(new Error("x"), { name: "NbdError", errno: 5 });
    expect(impostor instanceof NbdError).toBe(false);
    expect(errnoOf(impostor)).toBe("EIO");
  });
});

describe("NbdError refuses an errno it does not know, where the mistake is", () => {
  test("an unknown name throws a TypeError naming the closest and listing every valid one", () => {
    const make = () => new NbdError("ENOSPACE" as Errno, "disk full");
    expect(make).toThrow(TypeError);
    expect(make).toThrow(
      `Cannot create NbdError: unknown errno "ENOSPACE" (did you mean ENOSPC?); use one of ${
        Object.keys(ERRNO).join(", ")
      }`,
    );
  });

  test("a value close to no name, or not a string at all, is refused without a guess", () => {
    expect(() => new NbdError("nonsense" as Errno)).toThrow(/unknown errno "nonsense"; use one/);
    expect(() => new NbdError(28 as unknown as Errno)).toThrow(/unknown errno 28; use one of/);
    expect(() => new NbdError("toString" as Errno)).toThrow(TypeError);
  });

  test("every ERRNO name makes one", () => {
    for (const errno of Object.values(ERRNO)) expect(new NbdError(errno).errno).toBe(errno);
  });
});

describe("a plugin's own copy of ConfigError is recognised by its name", () => {
  test("an Error named ConfigError is a ConfigError; subclasses keep the ordinary test", () => {
    class Copy extends Error {
      constructor(message: string) {
        super(message);
        this.name = "ConfigError";
      }
    }
    class Sub extends ConfigError {}
    expect(new Copy("x") instanceof ConfigError).toBe(true);
    expect(new Error("x") instanceof ConfigError).toBe(false);
    expect(new Copy("x") instanceof Sub).toBe(false);
    expect(new Sub("x") instanceof Sub).toBe(true);
    expect(new Sub("x") instanceof ConfigError).toBe(true);
  });
});
