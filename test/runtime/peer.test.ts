import { describe, expect, test } from "vitest";
import { tcpPeer } from "../../src/runtime/peer.ts";

describe("tcpPeer: what a runtime reports, as nbdkit's filters would see it", () => {
  test("IPv4 and IPv6 peers keep their family, address and port", () => {
    expect(tcpPeer("127.0.0.1", 5)).toEqual({ family: "ipv4", address: "127.0.0.1", port: 5 });
    expect(tcpPeer("::1", 6)).toEqual({ family: "ipv6", address: "::1", port: 6 });
  });

  test("an IPv4 client of a dual-stack socket is IPv4", () => {
    expect(tcpPeer("::ffff:10.0.0.7", 7)).toEqual({ family: "ipv4", address: "10.0.0.7", port: 7 });
  });

  test("a zone index is dropped; a missing or unreadable address is unknown", () => {
    expect(tcpPeer("fe80::1%eth0", 8)).toEqual({ family: "ipv6", address: "fe80::1", port: 8 });
    expect(tcpPeer(undefined, 8)).toBeUndefined();
    expect(tcpPeer("localhost", 8)).toBeUndefined();
  });
});
