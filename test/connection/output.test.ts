import { describe, expect, test } from "vitest";
import { Output } from "../../src/connection/output.ts";
import { TestChannel } from "../helpers/wire.ts";

/** An Output whose channel records each write's parts, copied as they were at write time. */
function recorded() {
  const writes: Uint8Array[][] = [];
  const channel = new TestChannel();
  channel.onWrite = (parts) => void writes.push(parts.map((part) => part.slice()));
  return { output: new Output(channel, () => {}), writes };
}

/** Queues `bytes` as a small reply in the arena. */
function small(output: Output, ...bytes: number[]): void {
  const at = output.reserve(bytes.length);
  output.arena.set(bytes, at);
}

describe("Output", () => {
  test("small replies of one turn leave as one part, in one write", async () => {
    const { output, writes } = recorded();
    small(output, 1, 1);
    small(output, 2, 2);
    small(output, 3, 3);
    await Promise.resolve();
    expect(writes).toEqual([[Uint8Array.of(1, 1, 2, 2, 3, 3)]]);
  });

  test("small replies and other parts keep the order they were queued in", () => {
    const { output, writes } = recorded();
    small(output, 1);
    output.push(Uint8Array.of(2, 2));
    small(output, 3);
    small(output, 4);
    output.flush();
    expect(writes).toEqual([[Uint8Array.of(1), Uint8Array.of(2, 2), Uint8Array.of(3, 4)]]);
  });

  test("a full arena is left as it is and the next replies go to a new one", () => {
    const { output, writes } = recorded();
    const first = output.arena;
    // 4096 replies of 16 bytes fill 64 KiB; the 4097th needs new room.
    for (let i = 0; i < 4097; i++) small(output, ...new Array(16).fill(i & 0xff));
    expect(output.arena).not.toBe(first);
    output.flush();
    const parts = writes[0];
    expect(parts.map((part) => part.length)).toEqual([65536, 16]);
    expect(parts[0].subarray(65520)).toEqual(new Uint8Array(16).fill(4095 & 0xff));
    expect(parts[1]).toEqual(new Uint8Array(16).fill(4096 & 0xff));
  });

  test("bytes handed to the runtime are never written over by later replies", () => {
    const written: Uint8Array[] = [];
    const channel = new TestChannel();
    // Kept, as a runtime waiting for the socket would keep them.
    channel.onWrite = (parts) => void written.push(...parts);
    const output = new Output(channel, () => {});
    small(output, 7, 7);
    output.flush();
    for (let i = 0; i < 5000; i++) small(output, 9, 9);
    output.flush();
    expect(written[0]).toEqual(Uint8Array.of(7, 7));
  });

  test("a turn that queues a MiB or more says so (backlogged), and flushing clears it", () => {
    const { output } = recorded();
    output.push(new Uint8Array(1024 * 1024 - 16));
    expect(output.backlogged).toBe(false);
    small(output, ...new Array(16).fill(0));
    expect(output.backlogged).toBe(true);
    output.flush();
    expect(output.backlogged).toBe(false);
  });
});
