import { expect, test } from "vitest";
import { loadClientCredentials, pskFor } from "../../src/client/tls-files.ts";

const files: Record<string, string> = {
  "/pki/ca-cert.pem": "CA",
  "/pki/client-cert.pem": "CERT",
  "/pki/client-key.pem": "KEY",
  "/keys.psk": "alice:00ff10\nbob:abcd\n",
};
const read = (path: string) =>
  Promise.resolve(path in files ? new TextEncoder().encode(files[path]) : undefined);
const text = (bytes?: Uint8Array) => bytes && new TextDecoder().decode(bytes);

test("a certificate directory gives the CA and the client's certificate and key", async () => {
  const found = await loadClientCredentials({ certificates: "/pki/" }, read, "me");
  expect([text(found.ca), text(found.cert), text(found.key), found.verifyPeer]).toEqual([
    "CA",
    "CERT",
    "KEY",
    true,
  ]);
  await expect(loadClientCredentials({ certificates: "/none" }, read, "me")).rejects.toThrow(
    /\/none\/ca-cert.pem: it does not exist/,
  );
});

test("a psktool file gives the key of the username, or of the login name", async () => {
  const found = await loadClientCredentials({ pskFile: "/keys.psk" }, read, "bob");
  expect(found.psk).toEqual({ identity: "bob", key: Uint8Array.of(0xab, 0xcd) });
  expect(pskFor("alice:00ff10", "alice", "f")).toEqual(Uint8Array.of(0, 255, 16));
  expect(() => pskFor("alice:00ff10", "carol", "f")).toThrow(/no key for user "carol"/);
  expect(() => pskFor("alice:xyz", "alice", "f")).toThrow(/not hex/);
});
