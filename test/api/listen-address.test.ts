/** parseHostPort (src/api/listen-address.ts): "[HOST:]PORT" as -i and -p would say it. */

import { expect, test } from "vitest";
import { parseHostPort } from "../../src/api/listen-address.ts";

test("a port alone, a host and port, and an IPv6 host in brackets parse; the rest does not", () => {
  expect(parseHostPort("9100")).toEqual({ host: undefined, port: 9100 });
  expect(parseHostPort("0.0.0.0:9100")).toEqual({ host: "0.0.0.0", port: 9100 });
  expect(parseHostPort("[::1]:9100")).toEqual({ host: "::1", port: 9100 });
  expect(parseHostPort("localhost:0")).toEqual({ host: "localhost", port: 0 });
  for (const bad of ["", "x", "::1:9100", "host:", "host:65536", "host:-1", ":80"]) {
    expect(parseHostPort(bad)).toBeUndefined();
  }
});
