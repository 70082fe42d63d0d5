// What the client asks a runtime's Connect to open (src/client/connect.ts): NBD's TLS is
// STARTTLS on a plain connection, so an nbds URI never becomes TLS from the first byte.

import { describe, expect, test } from "vitest";
import { connect } from "../../src/client/connect.ts";
import type { ConnectTarget } from "../../src/io.ts";

/** The target connect() asked for; the connector then refuses, so nothing is negotiated. */
async function askedFor(uri: string, options = {}): Promise<ConnectTarget> {
  let asked: ConnectTarget | undefined;
  await expect(connect(uri, {
    ...options,
    connect: (target) => {
      asked = target;
      return Promise.reject(new Error("refused"));
    },
  })).rejects.toThrow("refused");
  return asked!;
}

describe("client connect targets", () => {
  test.each([
    ["nbd://example.test/disk", { kind: "tcp", host: "example.test", port: 10809 }],
    ["nbds://example.test:7000/", {
      kind: "tcp",
      host: "example.test",
      port: 7000,
      tls: "starttls",
    }],
    ["nbd+unix:///?socket=/run/s", { kind: "unix", path: "/run/s" }],
    ["nbds+unix:///?socket=/run/s", { kind: "unix", path: "/run/s", tls: "starttls" }],
  ])("%s", async (uri, expected) => {
    expect(JSON.parse(JSON.stringify(await askedFor(uri)))).toEqual(expected);
  });

  test("tlsMode=on asks for STARTTLS too; tlsMode=off does not", async () => {
    expect(await askedFor("nbd://h/", { tlsMode: "on" })).toMatchObject({ tls: "starttls" });
    expect(await askedFor("nbd://h/", { tlsMode: "off" })).not.toHaveProperty("tls", "starttls");
  });
});
