import { describe, expect, test } from "vitest";
import { parseNbdUri } from "../../src/client/uri.ts";
import { buildUri, uriQuote } from "../../src/cli/uri.ts";

describe("uriQuote encodes as nbdkit's uri_quote", () => {
  test("unreserved characters and '/' pass through", () => {
    expect(uriQuote("a~b.c-d_e/f")).toBe("a~b.c-d_e/f");
    expect(uriQuote("")).toBe("");
  });

  test("everything else becomes %XX per UTF-8 byte, upper-case hex", () => {
    expect(uriQuote('a b/ü?#%$`"x')).toBe("a%20b/%C3%BC%3F%23%25%24%60%22x");
    expect(uriQuote("=,:")).toBe("%3D%2C%3A");
    expect(uriQuote("é x")).toBe("%C3%A9%20x");
    expect(uriQuote("\n")).toBe("%0A");
    expect(uriQuote("😀")).toBe("%F0%9F%98%80");
  });
});

// Every expected string below was printed by nbdkit 1.32.5's $uri.
describe("buildUri matches nbdkit's $uri", () => {
  test("TCP without and with an export name", () => {
    expect(buildUri({ port: 10809, exportName: "" })).toBe("nbd://localhost:10809");
    expect(buildUri({ port: 10999, exportName: "foo" })).toBe("nbd://localhost:10999/foo");
  });

  test("TCP export names are quoted; a leading '/' gives a double slash", () => {
    expect(buildUri({ port: 10998, exportName: "/x y" })).toBe("nbd://localhost:10998//x%20y");
    expect(buildUri({ port: 10997, exportName: "é x" })).toBe(
      "nbd://localhost:10997/%C3%A9%20x",
    );
    expect(buildUri({ port: 10996, exportName: "=,:" })).toBe("nbd://localhost:10996/%3D%2C%3A");
  });

  test("a Unix socket without an export name has no path at all", () => {
    expect(buildUri({ unixSocket: "/tmp/nbdkit6tXkBU/socket", exportName: "" })).toBe(
      "nbd+unix://?socket=/tmp/nbdkit6tXkBU/socket",
    );
  });

  test("a Unix socket with an export name has both quoted", () => {
    expect(buildUri({ unixSocket: "/tmp/nbdkitXBNIc3/socket", exportName: 'a b/ü?#%$`"x' }))
      .toBe("nbd+unix:///a%20b/%C3%BC%3F%23%25%24%60%22x?socket=/tmp/nbdkitXBNIc3/socket");
    expect(buildUri({ unixSocket: "/tmp/my sock $x", exportName: "" })).toBe(
      "nbd+unix://?socket=/tmp/my%20sock%20%24x",
    );
    expect(buildUri({ unixSocket: "/tmp/s", exportName: "a~b.c-d_e/f" })).toBe(
      "nbd+unix:///a~b.c-d_e/f?socket=/tmp/s",
    );
  });

  test("--tls=require switches the scheme to nbds; --tls=on does not", () => {
    expect(buildUri({ port: 10809, exportName: "", tls: "require" })).toBe(
      "nbds://localhost:10809",
    );
    expect(buildUri({ unixSocket: "/s", exportName: "", tls: "require" })).toBe(
      "nbds+unix://?socket=/s",
    );
    expect(buildUri({ port: 10809, exportName: "", tls: "on" })).toBe("nbd://localhost:10809");
  });

  test("another host may be named; an IPv6 literal gets brackets", () => {
    expect(buildUri({ port: 1, exportName: "", host: "127.0.0.1" })).toBe("nbd://127.0.0.1:1");
    expect(buildUri({ port: 1, exportName: "x", host: "::1" })).toBe("nbd://[::1]:1/x");
  });
});

describe("buildUri with --websocket gives the nbd+ws URI", () => {
  test("the path is always there, the export name quoted in it", () => {
    expect(buildUri({ port: 8080, exportName: "", websocket: true })).toBe(
      "nbd+ws://localhost:8080/",
    );
    expect(buildUri({ port: 8080, exportName: "a b", websocket: true })).toBe(
      "nbd+ws://localhost:8080/a%20b",
    );
  });

  test("the client reads back the export name and the ws:// URL", () => {
    const uri = buildUri({ port: 8080, exportName: "disk 1", websocket: true });
    expect(parseNbdUri(uri)).toEqual({
      kind: "websocket",
      url: "ws://localhost:8080/disk%201",
      exportName: "disk 1",
      tls: false,
    });
  });
});
