// The data plugin keeps huge sparse expressions cheap and refuses hostile ones quickly: layouts
// are runs, never byte arrays of the disk, and every bound in limits.ts ends in a ConfigError.
// A property test checks the run-based evaluator against a plain byte-array model of nbdkit's.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import type { Handle, Offset } from "../../src/api/plugin.ts";
import { createDataPlugin } from "../../src/plugins/data.ts";
import type { Node } from "../../src/plugins/data/ast.ts";
import { optimize } from "../../src/plugins/data/optimize.ts";
import { parseData } from "../../src/plugins/data/parser.ts";

const LARGEST = (1n << 63n) - 1n;

async function open(expr: string, params: Record<string, string> = {}): Promise<Handle> {
  const plugin = createDataPlugin();
  await plugin.config?.("data", expr);
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  return plugin.open(false, "");
}

async function read(handle: Handle, offset: Offset, count: number): Promise<number[]> {
  const buf = new Uint8Array(count);
  await handle.readAt(buf, offset);
  return [...buf];
}

function refusal(expr: string, params: Record<string, string> = {}): Promise<string> {
  return open(expr, params).then(() => "no error", (error: Error) => {
    expect(error).toBeInstanceOf(ConfigError);
    return error.message;
  });
}

describe("data plugin: exabyte-sized sparse disks", () => {
  test("a byte at each end of a 2^63-1 byte disk", async () => {
    const handle = await open("1 @0x7ffffffffffffffe 2");
    expect(await handle.getSize()).toBe(LARGEST);
    expect(await read(handle, 0, 2)).toEqual([1, 0]);
    expect(await read(handle, LARGEST - 3n, 3)).toEqual([0, 0, 2]);
  });

  test("repeats of empty groups cost nothing, however many", async () => {
    const handle = await open("(@0x1000000000000000)*7 1 (@0x100)*0x7fffffff");
    expect(await handle.getSize()).toBe(7n * 2n ** 60n + 1n + 0x100n * 0x7fffffffn);
    expect(await read(handle, 7n * 2n ** 60n - 1n, 3)).toEqual([0, 1, 0]);
  });

  test("a pattern repeated 2^62 times is one run, cut to size=", async () => {
    const handle = await open('("ab")*0x3fffffffffffffff', { size: "1M" });
    expect(await handle.getSize()).toBe(1 << 20);
    expect(await read(handle, (1 << 20) - 3, 3)).toEqual([0x62, 0x61, 0x62]);
  });

  test("a sparse group repeated 2^44 times is cut to size= and stays sparse", async () => {
    const handle = await open("(1 @^4096)*0x100000000000", { size: "1M" });
    expect(await read(handle, 4095, 3)).toEqual([0, 1, 0]);
    const data: Offset[] = [];
    await handle.extents?.(1 << 20, 0, 0, {
      add: (_offset, length, type) => type === 0 && data.push(length),
    });
    // Only the page holding each 1 is stored: no zero page of the pattern was written.
    expect(data.reduce((sum, length) => Number(sum) + Number(length), 0)).toBe(256 * 4096);
  });

  test("4096 sparse copies of a 1 MiB group reach past 2^32", async () => {
    const handle = await open('(1 @^0x100000)*0x1000 "end"');
    expect(await handle.getSize()).toBe(2 ** 32 + 3);
    expect(await read(handle, 2 ** 32 - 0x100000, 2)).toEqual([1, 0]);
    expect(await read(handle, 2 ** 32, 3)).toEqual([0x65, 0x6e, 0x64]);
  });

  test("a disk past 2^63-1 bytes is refused at start-up; size= can cut it", async () => {
    expect(await refusal("@0x7fffffffffffffff 1")).toMatch(/larger than 2\^63-1/);
    expect(await (await open("@0x7fffffffffffffff 1", { size: "1M" })).getSize()).toBe(1 << 20);
  });
});

describe("data plugin: hostile expressions fail fast with a ConfigError", () => {
  test("more data than the store takes", async () => {
    expect(await refusal("0x55*0x7fffffffffffffff")).toMatch(/bytes of data to store; size=/);
    expect(await refusal('("ab")*0x3fffffffffffffff')).toMatch(/bytes of data to store/);
  });

  test("repeats of repeats of sparse groups", async () => {
    expect(await refusal("(((1 @^4096)*4096 2)*4096 3)*4096")).toMatch(
      /repeat makes \d+ pieces of data/,
    );
  });

  test("names doubling their own data", async () => {
    let expr = "(1 @^4096) -> \\a0";
    for (let i = 1; i <= 40; i++) expr += ` (\\a${i - 1} \\a${i - 1}) -> \\a${i}`;
    expect(await refusal(`${expr} \\a40`)).toMatch(/pieces of data/);
  });

  test("overwriting many pieces over and over", async () => {
    const expr = "(1 @^8)*4096 -> \\a" + " @0 \\a".repeat(10000);
    expect(await refusal(expr)).toMatch(/too complex/);
  });

  test("variables expanding each other exponentially", async () => {
    const params: Record<string, string> = { v30: "1" };
    for (let i = 0; i < 30; i++) params[`v${i}`] = `$v${i + 1} $v${i + 1}`;
    expect(await refusal("$v0", params)).toMatch(/more than \d+ expressions/);
  });

  test("deep nesting is refused before the stack runs out, shallower nesting works", async () => {
    expect(await refusal("(".repeat(1001) + ")".repeat(1001))).toMatch(/nested more than/);
    const handle = await open("(".repeat(999) + "7" + ")".repeat(999));
    expect(await read(handle, 0, 1)).toEqual([7]);
    const chain = "1 -> \\a" + " \\a -> \\a".repeat(2000) + " \\a";
    expect(await refusal(chain)).toMatch(/nested more than/);
    const shorter = "1 -> \\a" + " \\a -> \\a".repeat(900) + " \\a";
    expect(await read(await open(shorter), 0, 2)).toEqual([1, 0]);
  });
});

/**
 * A model of nbdkit's evaluate(): every scope is a plain byte array, nested results are copied
 * in whole (nbdkit's blit), repeats copy N times. Files and scripts are left out.
 */
function model(node: Node, scope: Map<string, { node: Node; scope: unknown }>): number[] {
  const bytes: number[] = [];
  let offset = 0;
  let size = 0;
  const put = (data: readonly number[]) => {
    for (let i = 0; i < data.length; i++) bytes[offset + i] = data[i];
    offset += data.length;
  };
  let local = new Map(scope);
  for (const item of node.kind === "list" ? node.items : [node]) {
    switch (item.kind) {
      case "byte":
        put([item.value]);
        break;
      case "string":
        put([...item.bytes]);
        break;
      case "fill":
        put(Array(Number(item.count)).fill(item.value));
        break;
      case "offset":
        if (item.mode === "absolute") offset = Number(item.value);
        else if (item.mode === "align") {
          offset = Math.ceil(offset / Number(item.value)) * Number(item.value);
        } else if (-Number(item.value) > offset) throw new ConfigError("before 0");
        else offset += Number(item.value);
        break;
      case "assign":
        local = new Map(local).set(item.name, { node: item.expr, scope: local });
        break;
      case "name": {
        const bound = local.get(item.name);
        if (!bound) throw new ConfigError("not defined");
        put(model(bound.node, bound.scope as typeof scope));
        break;
      }
      case "list":
        put(model(item, local));
        break;
      case "repeat": {
        const once = model(item.expr, local);
        for (let i = 0n; i < item.count; i++) put(once);
        break;
      }
      case "slice": {
        const whole = model(item.expr, local);
        const end = item.end < 0n ? whole.length : Number(item.end);
        const start = Number(item.start);
        if (start > whole.length || end > whole.length || start > end) {
          throw new ConfigError("bad slice");
        }
        put(whole.slice(start, end));
        break;
      }
    }
    size = Math.max(size, offset);
  }
  return Array.from({ length: size }, (_, i) => bytes[i] ?? 0);
}

/** Random small expressions: bytes, strings, offsets, groups, repeats, slices and names. */
const expression: fc.Arbitrary<string> = fc.letrec<{ expr: string; item: string }>((tie) => ({
  item: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.integer({ min: 0, max: 255 }).map(String),
    fc.constantFrom('"ab"', '"\\x00\\x01"', "le16:0x1234", "0*3", "0x55*5"),
    fc.integer({ min: 0, max: 40 }).map((n) => `@${n}`),
    fc.integer({ min: 0, max: 5 }).map((n) => `@+${n}`),
    fc.constantFrom("@^2", "@^8", "@^16", "@-1", "\\a", "\\b"),
    tie("expr").map((inner) => `( ${inner} )`),
    fc.tuple(tie("expr"), fc.integer({ min: 0, max: 6 })).map(([inner, n]) => `( ${inner} )*${n}`),
    fc.tuple(tie("expr"), fc.nat(12), fc.nat(12)).map(([inner, a, b]) =>
      `( ${inner} )[${Math.min(a, b)}:${Math.max(a, b)}]`
    ),
    fc.tuple(tie("expr"), fc.constantFrom("a", "b")).map(([inner, name]) =>
      `( ${inner} ) -> \\${name}`
    ),
  ),
  expr: fc.array(tie("item"), { maxLength: 5 }).map((items) => items.join(" ")),
})).expr;

test("the run-based evaluator agrees with a byte-array model of nbdkit's", async () => {
  await fc.assert(
    fc.asyncProperty(expression, async (expr) => {
      let expected: number[] | string;
      try {
        const tree = optimize(parseData(expr, { lookupVariable: () => undefined }));
        expected = model(tree, new Map());
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expected = "error";
      }
      let actual: number[] | string;
      try {
        const handle = await open(expr);
        actual = await read(handle, 0, Number(await handle.getSize()));
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        actual = "error";
      }
      expect(actual).toEqual(expected);
    }),
    { numRuns: 2000 },
  );
});
