import { describe, expect, test } from "vitest";
import { BlockStates } from "../../../src/filters/blocks/block-states.ts";

describe("BlockStates", () => {
  test("every block starts in state 0, and a set state reads back", () => {
    const states = new BlockStates();
    expect(states.get(0)).toBe(0);
    states.set(5, 3);
    states.set(4097, 1);
    expect([states.get(4), states.get(5), states.get(4096), states.get(4097)]).toEqual([
      0,
      3,
      0,
      1,
    ]);
  });

  test("counts follow every change, and blocksIn lists a state in ascending order", () => {
    const states = new BlockStates();
    states.setRun(8190, 4, 3); // across a page boundary
    states.set(3, 3);
    states.set(8191, 1);
    expect([states.count(1), states.count(3)]).toEqual([1, 4]);
    expect(states.blocksIn(3)).toEqual([3, 8190, 8192, 8193]);
    states.set(3, 0);
    states.set(3, 0); // unchanged: counted once
    expect(states.count(3)).toBe(3);
  });

  test("runLength groups kept blocks (any state but 0) and blocks not kept", () => {
    const states = new BlockStates();
    states.set(2, 1);
    states.set(3, 3);
    states.set(4, 1);
    expect(states.runLength(0, 10)).toBe(2);
    expect(states.runLength(2, 10)).toBe(3);
    expect(states.runLength(2, 4)).toBe(2);
    expect(states.runLength(5, 10)).toBe(5);
  });

  test("blocks near 2^51 (a 2^63-byte disk of 4 KiB blocks) are kept apart", () => {
    const states = new BlockStates();
    const last = 2 ** 51 - 1;
    states.set(last, 3);
    states.set(last - 1, 1);
    expect([states.get(last), states.get(last - 1), states.get(last - 2)]).toEqual([3, 1, 0]);
    expect(states.blocksIn(3)).toEqual([last]);
  });

  test("a page that holds only zeroes again is dropped, and can be made again", () => {
    const states = new BlockStates();
    states.set(10, 1);
    states.set(10, 0);
    expect(states.blocksIn(1)).toEqual([]);
    states.set(10, 1);
    expect(states.get(10)).toBe(1);
    expect(states.count(1)).toBe(1);
  });
});
