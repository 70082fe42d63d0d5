import { spawnSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import { parseIPv4, parseIPv6, samePrefix } from "../../src/api/ip-address.ts";

/** Texts that glibc's inet_pton accepts or refuses, for one family or the other. */
const SAMPLES = [
  "127.0.0.1",
  "0.0.0.0",
  "255.255.255.255",
  "256.0.0.1",
  "1.2.3",
  "1.2.3.4.5",
  "01.2.3.4",
  "1.2.3.04",
  "1..3.4",
  "1.2.3.4.",
  " 1.2.3.4",
  "0x7f.0.0.1",
  "1.2.3.-4",
  "",
  "::",
  "::1",
  "1::",
  "::ffff:127.0.0.1",
  "::ffff:1.2.3",
  "1:2:3:4:5:6:7:8",
  "1:2:3:4:5:6:7",
  "1:2:3:4:5:6:7:8:9",
  "1:2:3:4:5:6:7::",
  "1::2:3:4:5:6:7",
  "1:2:3:4:5:6:1.2.3.4",
  "1:2:3:4:5:6:7:1.2.3.4",
  "1.2.3.4::",
  "::1.2.3.4:5",
  ":1::2",
  "1::2::3",
  ":::",
  "1:",
  ":1",
  "FE80::ABCD",
  "fe80::1%lo",
  "12345::",
  "0000:0000::",
  "::0:0:0:0:0:0:0",
  "g::1",
  "2001:db8::1:0:0:1",
];

/** What glibc says, asked through Python's socket.inet_pton (hex, or null when refused). */
function glibc(): { v4: (string | null)[]; v6: (string | null)[] } {
  const script = `
import json, socket, sys
texts = json.load(sys.stdin)
def pton(family, text):
    try:
        return socket.inet_pton(family, text).hex()
    except OSError:
        return None
print(json.dumps({"v4": [pton(socket.AF_INET, t) for t in texts],
                  "v6": [pton(socket.AF_INET6, t) for t in texts]}))
`;
  const result = spawnSync("python3", ["-c", script], { input: JSON.stringify(SAMPLES) });
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`);
  return JSON.parse(result.stdout.toString());
}

const hex = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? null : Buffer.from(bytes).toString("hex");

describe("parseIPv4 and parseIPv6 read addresses as glibc's inet_pton does", () => {
  const expected = glibc();
  test.each(SAMPLES.map((text, i) => [text, expected.v4[i], expected.v6[i]]))(
    "%j",
    (text, v4, v6) => {
      expect({ v4: hex(parseIPv4(text)), v6: hex(parseIPv6(text)) }).toEqual({ v4, v6 });
    },
  );
});

describe("samePrefix compares the first N bits", () => {
  test("a /8, a /31 and a /0", () => {
    const a = Uint8Array.of(10, 1, 2, 3);
    expect(samePrefix(a, Uint8Array.of(10, 9, 9, 9), 8)).toBe(true);
    expect(samePrefix(a, Uint8Array.of(11, 1, 2, 3), 8)).toBe(false);
    expect(samePrefix(a, Uint8Array.of(10, 1, 2, 2), 31)).toBe(true);
    expect(samePrefix(a, Uint8Array.of(10, 1, 2, 2), 32)).toBe(false);
    expect(samePrefix(a, Uint8Array.of(0, 0, 0, 0), 0)).toBe(true);
  });

  test("a prefix ending inside a byte masks that byte's low bits", () => {
    expect(samePrefix(Uint8Array.of(0b1010_0000), Uint8Array.of(0b1011_1111), 3)).toBe(true);
    expect(samePrefix(Uint8Array.of(0b1010_0000), Uint8Array.of(0b1011_1111), 4)).toBe(false);
  });
});
