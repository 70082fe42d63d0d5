import { describe, expect, test } from "vitest";
import type { PeerAddress } from "../../src/io.ts";
import { isAllowed, matches, parseRules } from "../../src/filters/ip-rules.ts";

const IPV4: PeerAddress = { family: "ipv4", address: "192.168.2.7", port: 40000 };
const IPV6: PeerAddress = { family: "ipv6", address: "2001:db8::7", port: 40000 };
const UNIX: PeerAddress = { family: "unix" };

/** Which of the three peers one rule matches. */
function matched(rule: string): string[] {
  const [parsed] = parseRules("allow", rule);
  return Object.entries({ ipv4: IPV4, ipv6: IPV6, unix: UNIX })
    .filter(([, peer]) => matches(parsed, peer))
    .map(([name]) => name);
}

describe("parseRules: nbdkit-ip-filter's syntax", () => {
  test.each([
    ["all", ["ipv4", "ipv6", "unix"]],
    ["ANY", ["ipv4", "ipv6", "unix"]],
    ["allipv4", ["ipv4"]],
    ["AnyIPv4", ["ipv4"]],
    ["allipv6", ["ipv6"]],
    ["anyipv6", ["ipv6"]],
    ["allunix", ["unix"]],
    ["anyunix", ["unix"]],
    ["anyvsock", []],
    ["vsock-cid:3", []],
    ["VSOCK-PORT:0x10", []],
    ["192.168.2.7", ["ipv4"]],
    ["192.168.2.8", []],
    ["192.168.2.0/24", ["ipv4"]],
    ["192.168.3.0/24", []],
    ["192.168.2.6/31", ["ipv4"]],
    ["0.0.0.0/0", ["ipv4"]],
    ["2001:db8::7", ["ipv6"]],
    ["2001:DB8:0:0::7/128", ["ipv6"]],
    ["2001:db8::/32", ["ipv6"]],
    ["2001:db9::/32", []],
    ["::/0", ["ipv6"]],
    ["::ffff:192.168.2.7", []],
    ["192.168.2.0/030", ["ipv4"]], // the prefix length is read with base 0: 030 is 24
  ])("%s matches %j", (rule, peers) => {
    expect(matched(rule)).toEqual(peers);
  });

  test("a list is split at commas; one trailing comma is allowed, an empty value is no rules", () => {
    expect(parseRules("allow", "all,anyunix,127.0.0.1,")).toHaveLength(3);
    expect(parseRules("allow", "")).toEqual([]);
  });

  test.each([
    ["allow", ",", "allow: empty entry in rule list"],
    ["deny", "all,,anyunix", "deny: empty entry in rule list"],
    ["allow", "foo", "don't know how to parse rule: allow=foo"],
    ["allow", "localhost", "don't know how to parse rule: allow=localhost"],
    ["allow", "01.2.3.4", "don't know how to parse rule: allow=01.2.3.4"],
    ["allow", "10.0.0.0/33", "prefix is > 32 in allow=10.0.0.0/33"],
    ["deny", "::/129", "prefix is > 128 in deny=::/129"],
    ["allow", "10.0.0/8", 'cannot parse address "10.0.0" from allow=10.0.0/8'],
    ["allow", "10.0.0.0/", "allow: empty string where we expected a number"],
    ["allow", "10.0.0.0/-1", "allow: negative numbers are not allowed"],
    ["allow", "10.0.0.0/8x", 'allow: could not parse number: "8x": trailing garbage'],
    ["allow", `::/${"1".repeat(33)}`, "allow: cannot parse prefix length"],
    ["allow", "vsock-cid:4294967296", "vsock-cid: parameter out of range"],
    ["allow", "vsock-port:-1", "vsock-port: parameter out of range"],
    ["allow", "vsock-port:x", "vsock-port:: empty string where we expected a number"],
  ])("%s=%s is refused: %s", (param, value, message) => {
    expect(() => parseRules(param, value)).toThrow(message);
  });

  test.each(["pid:1", "uid:0", "GID:0"])(
    "%s is refused: no runtime gives a Unix peer's credentials",
    (rule) => {
      expect(() => parseRules("allow", rule)).toThrow(
        `cannot use rule allow=${rule}: the credentials of a Unix socket peer`,
      );
    },
  );
});

describe("isAllowed: the allow list, then the deny list, then allow", () => {
  const rules = (text: string) => text === "" ? [] : parseRules("x", text);
  test.each([
    ["", "", IPV4, true],
    ["", "all", IPV4, false],
    ["anyipv4", "all", IPV4, true],
    ["anyipv4", "all", IPV6, false],
    ["anyipv4", "anyipv4", IPV4, true],
    ["192.168.0.0/16", "192.168.2.7", IPV4, true],
    ["", "192.168.0.0/16", IPV4, false],
    ["", "192.168.0.0/16", IPV6, true],
    ["anyunix", "all", UNIX, true],
    ["", "anyunix", UNIX, false],
    ["", "anyipv4,anyipv6", UNIX, true],
  ])("allow=%j deny=%j: %o → %s", (allow, deny, peer, allowed) => {
    expect(isAllowed(rules(allow), rules(deny), peer)).toBe(allowed);
  });
});
