import { expect, test } from "vitest";
import { parseNbdUri } from "../../src/client/uri.ts";

test.each([
  ["nbd://example.com", {
    kind: "tcp",
    host: "example.com",
    port: 10809,
    exportName: "",
    tls: false,
  }],
  ["nbd://example.com:1234/disk", {
    kind: "tcp",
    host: "example.com",
    port: 1234,
    exportName: "disk",
  }],
  ["nbds://[::1]:10809/a%20b", { kind: "tcp", host: "::1", exportName: "a b", tls: true }],
  ["nbd+unix:///?socket=/tmp/s", { kind: "unix", path: "/tmp/s", exportName: "" }],
  ["nbd+unix:///foo?socket=/tmp/s", { kind: "unix", path: "/tmp/s", exportName: "foo" }],
  ["nbd+ws://localhost:8080/disk", {
    kind: "websocket",
    url: "ws://localhost:8080/disk",
    exportName: "disk",
  }],
  ["nbds+wss://edge.example/", { kind: "websocket", url: "wss://edge.example/", exportName: "" }],
])("parseNbdUri(%s)", (uri, expected) => {
  expect(parseNbdUri(uri)).toMatchObject(expected);
});

test.each([
  ["ws://localhost/", /unknown scheme/],
  ["nbd+unix:///", /needs \?socket=PATH/],
  ["not a uri", /not a URI/],
  ["nbd+ws://localhost/?socket=/tmp/s", /takes no socket=/],
])("parseNbdUri refuses %s", (uri, message) => {
  expect(() => parseNbdUri(uri)).toThrow(message);
});

test("an nbds URI's query names libnbd's TLS files; the username may be the userinfo", () => {
  const uri = "nbds://bob@h/?tls-certificates=/pki&tls-verify-peer=false&tls-psk-file=/k";
  expect(parseNbdUri(uri).tlsQuery).toEqual({
    certificates: "/pki",
    verifyPeer: false,
    pskFile: "/k",
    username: "bob",
  });
  expect(parseNbdUri("nbd://h/").tlsQuery).toBeUndefined();
  expect(() => parseNbdUri("nbds://h/?tls-verify-peer=maybe")).toThrow(/not a boolean/);
});
