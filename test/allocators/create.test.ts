// createAllocator parses allocator= as nbdkit does and refuses what nbdts does not offer.

import { describe, expect, test } from "vitest";
import { createAllocator } from "../../src/allocators/create.ts";
import { ConfigError } from "../../src/api/errors.ts";

describe("createAllocator", () => {
  test("sparse and malloc are offered, with their kinds", () => {
    expect(createAllocator("sparse", 1n << 40n).kind).toBe("sparse");
    expect(createAllocator("malloc", 4096n).kind).toBe("malloc");
    expect(createAllocator("malloc,mlock=false", 4096n).kind).toBe("malloc");
    expect(createAllocator("malloc,,mlock=off", 4096n).kind).toBe("malloc");
  });

  test("mlock=true is refused as not supported", () => {
    expect(() => createAllocator("malloc,mlock=true", 4096n)).toThrow(ConfigError);
    expect(() => createAllocator("malloc,mlock", 4096n)).toThrow(/mlock is not supported/);
  });

  test("zstd is refused as not supported", () => {
    expect(() => createAllocator("zstd", 4096n)).toThrow(/allocator=zstd is not supported/);
  });

  test("unknown allocators and parameters are refused", () => {
    expect(() => createAllocator("tmpfs", 4096n)).toThrow(/unknown allocator "tmpfs"/);
    expect(() => createAllocator("spars", 4096n)).toThrow(ConfigError); // no prefix matching
    expect(() => createAllocator("sparse,x=1", 4096n)).toThrow(/does not take extra parameters/);
    expect(() => createAllocator("malloc,size=1", 4096n)).toThrow(/unknown parameter size/);
    expect(() => createAllocator("malloc,=1", 4096n)).toThrow(/invalid allocator parameter/);
    expect(() => createAllocator("malloc,mlock=maybe", 4096n)).toThrow(ConfigError);
  });
});
