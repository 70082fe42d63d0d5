/** The program answers as nbdkit 1.32.5 only when started under the name nbdkit. */

import { describe, expect, test } from "vitest";
import { errorLine, identify } from "../../src/cli/program-name.ts";

describe("identify", () => {
  test.each([
    ["the script run as it is answers as nbdts, with its own version", "/home/me/nbdts/nbd.js", {
      name: "nbdts",
      version: "0.1.0",
      versionLine: "nbdts 0.1.0",
      bindir: "/home/me/nbdts",
    }],
    [
      "a link or wrapper named nbdkit answers as nbdkit 1.32.5, still naming nbdts",
      "/usr/local/bin/nbdkit",
      {
        name: "nbdkit",
        version: "1.32.5",
        versionLine: "nbdkit 1.32.5 (nbdts 0.1.0)",
        bindir: "/usr/local/bin",
      },
    ],
  ])("%s", (_title, path, identity) => {
    expect(identify(path, "/")).toEqual(identity);
  });

  test("only the last part of the path counts", () => {
    expect(identify("/opt/nbdkit/nbd.js", "/").name).toBe("nbdts");
    expect(identify("/opt/nbdkit-wrapper", "/").name).toBe("nbdts");
  });

  test("a relative path is taken from the current directory, . and .. resolved", () => {
    expect(identify("./nbdkit", "/home/me/bin").bindir).toBe("/home/me/bin");
    expect(identify("../tools/./nbdkit", "/home/me/bin").bindir).toBe("/home/me/tools");
    expect(identify("nbdkit", "/").bindir).toBe("/");
  });
});

test("errorLine starts with the name given, nbdts by default", () => {
  expect(errorLine("no plugins")).toBe("nbdts: no plugins");
  expect(errorLine("no plugins", "nbdkit")).toBe("nbdkit: no plugins");
});
