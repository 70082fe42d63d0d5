// What a child prints, kept up to a limit and counted past it (src/runtime/child-output.ts).

import { describe, expect, test } from "vitest";
import { ChildOutput, drain, withShellFallback } from "../../src/runtime/child-output.ts";

describe("ChildOutput", () => {
  test("keeps every byte without a limit, joined once", () => {
    const output = new ChildOutput();
    output.add(Uint8Array.of(1, 2));
    output.add(Uint8Array.of(3));
    expect(output.bytes()).toEqual(Uint8Array.of(1, 2, 3));
    expect(output.length).toBe(3);
  });

  test("past the limit bytes are counted, not kept", () => {
    const output = new ChildOutput(3);
    output.add(Uint8Array.of(1, 2));
    output.add(Uint8Array.of(3, 4, 5));
    output.add(Uint8Array.of(6));
    expect(output.bytes()).toEqual(Uint8Array.of(1, 2, 3));
    expect(output.length).toBe(6);
  });

  test("drain reads a stream to its end", async () => {
    const output = new ChildOutput();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(Uint8Array.of(7));
        controller.enqueue(Uint8Array.of(8, 9));
        controller.close();
      },
    });
    await drain(stream, output);
    expect(output.bytes()).toEqual(Uint8Array.of(7, 8, 9));
  });
});

describe("withShellFallback", () => {
  test("a file refused with ENOEXEC runs again under /bin/sh; other failures pass", () => {
    const tried: string[][] = [];
    const started = withShellFallback(["/x/script", "get_size"], (argv) => {
      tried.push(argv);
      if (argv[0] !== "/bin/sh") throw Object.assign(new Error("no"), { code: "ENOEXEC" });
      return "ok";
    });
    expect(started).toBe("ok");
    expect(tried).toEqual([["/x/script", "get_size"], ["/bin/sh", "/x/script", "get_size"]]);
    expect(() =>
      withShellFallback(["/x"], () => {
        throw Object.assign(new Error("gone"), { code: "ENOENT" });
      })
    ).toThrow("gone");
  });
});
