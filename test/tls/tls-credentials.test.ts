/**
 * --tls at start-up, as nbdkit's crypto_init settles it: which directories are searched,
 * when --tls=on quietly (or with a warning) becomes off, when --tls=require stops the server,
 * and how a psktool key file reads. Files come from an in-memory host.
 */

import { describe, expect, test } from "vitest";
import { parseCommandLine } from "../../src/cli/args.ts";
import { ConfigError } from "../../src/api/errors.ts";
import type { PluginHost, Runtime, TlsCredentials } from "../../src/io.ts";
import { defaultCertificateDirs, parsePskFile, settleTls } from "../../src/tls/tls-credentials.ts";

const encoder = new TextEncoder();
const PEMS = ["ca-cert.pem", "server-cert.pem", "server-key.pem"];

/** A runtime whose files are `files` (path → text) and whose TLS support records credentials. */
function fakeRuntime(
  files: Record<string, string>,
  options: { root?: boolean; psk?: boolean; unreadable?: string[]; directories?: string[] } = {},
) {
  const prepared: TlsCredentials[] = [];
  const reads: string[] = [];
  const unreadable = new Set(options.unreadable);
  const read = (path: string) => {
    reads.push(path);
    return unreadable.has(path)
      ? Promise.reject(new Error("EISDIR: illegal operation on a directory, read"))
      : path in files
      ? Promise.resolve(encoder.encode(files[path]))
      : Promise.reject(new Error("No such file or directory"));
  };
  const host = {
    readFile: (path: string) => read(path),
    realpath: (path: string) =>
      unreadable.has(path) ? Promise.resolve(path) : read(path).then(() => path),
    getEnv: (name: string) => (name === "HOME" ? "/home/alice" : undefined),
  } as unknown as PluginHost;
  const runtime = {
    name: "test",
    host,
    isRoot: () => options.root ?? false,
    ...(options.directories
      ? { isDirectory: (path: string) => options.directories!.includes(path) }
      : {}),
    tls: {
      pskUnavailable: options.psk === false ? "no PSK here" : undefined,
      prepare(credentials: TlsCredentials) {
        prepared.push(credentials);
        return (accept: unknown) => accept;
      },
    },
  } as unknown as Runtime;
  return { runtime, prepared, reads };
}

function certificatesIn(dir: string): Record<string, string> {
  return Object.fromEntries(PEMS.map((name) => [`${dir}/${name}`, `PEM of ${name}`]));
}

const line = (...args: string[]) => parseCommandLine([...args, "memory", "1M"]);

describe("where certificates are looked for", () => {
  test("a user's ~/.pki/nbdkit, then ~/.config/pki/nbdkit; root's /etc/pki/nbdkit", () => {
    expect(defaultCertificateDirs(false, "/home/a")).toEqual([
      "/home/a/.pki/nbdkit",
      "/home/a/.config/pki/nbdkit",
    ]);
    expect(defaultCertificateDirs(false, undefined)).toEqual([]);
    expect(defaultCertificateDirs(true, "/root")).toEqual(["/etc/pki/nbdkit"]);
  });

  test("without --tls, certificates in a default place turn TLS on", async () => {
    const { runtime, prepared } = fakeRuntime(certificatesIn("/home/alice/.config/pki/nbdkit"));
    const tls = await settleTls(runtime, line());
    expect(tls.mode).toBe("on");
    expect(prepared).toMatchObject([{ kind: "x509", verifyPeer: false }]);
  });

  test("--tls-certificates names the one directory read, with ca-crl.pem when present", async () => {
    const files = { ...certificatesIn("/certs"), "/certs/ca-crl.pem": "CRL" };
    const { runtime, prepared } = fakeRuntime(files);
    const tls = await settleTls(
      runtime,
      line("--tls=require", "--tls-certificates=/certs", "--tls-verify-peer"),
    );
    expect(tls.mode).toBe("require");
    const credentials = prepared[0];
    if (credentials.kind !== "x509") throw new Error("expected X.509 credentials");
    expect(new TextDecoder().decode(credentials.key)).toBe("PEM of server-key.pem");
    expect(new TextDecoder().decode(credentials.crl)).toBe("CRL");
    expect(credentials.verifyPeer).toBe(true);
  });

  test("a ca-crl.pem that is there but cannot be read stops start-up instead of being skipped", async () => {
    const { runtime, prepared } = fakeRuntime(certificatesIn("/certs"), {
      unreadable: ["/certs/ca-crl.pem"],
    });
    const started = settleTls(runtime, line("--tls-certificates=/certs", "--tls-verify-peer"));
    await expect(started).rejects.toThrow(ConfigError);
    await expect(started).rejects.toThrow(/\/certs\/ca-crl\.pem: EISDIR/);
    expect(prepared).toEqual([]);
  });

  test("a directory that is not there is passed over without reading its files", async () => {
    const dir = "/home/alice/.config/pki/nbdkit";
    const { runtime, prepared, reads } = fakeRuntime(certificatesIn(dir), { directories: [dir] });
    expect((await settleTls(runtime, line())).mode).toBe("on");
    expect(prepared).toHaveLength(1);
    expect(reads.some((path) => path.startsWith("/home/alice/.pki/"))).toBe(false);
    expect(reads).toContain(`${dir}/server-key.pem`);

    const none = fakeRuntime({}, { directories: [] });
    expect(await settleTls(none.runtime, line())).toEqual({ mode: "off" });
    expect(none.reads).toEqual([]);
  });

  test("a directory missing any of the three files is not a certificate directory", async () => {
    for (const missing of PEMS) {
      const files = certificatesIn("/certs");
      delete files[`/certs/${missing}`];
      const tls = await settleTls(fakeRuntime(files).runtime, line("--tls-certificates=/certs"));
      expect(tls).toEqual({ mode: "off" });
    }
  });
});

describe("when no certificates load", () => {
  test("the default --tls=on silently becomes off", async () => {
    expect(await settleTls(fakeRuntime({}).runtime, line())).toEqual({ mode: "off" });
  });

  test("an explicit --tls=on warns, then turns TLS off", async () => {
    const tls = await settleTls(fakeRuntime({}).runtime, line("--tls=on"));
    expect(tls.mode).toBe("off");
    expect(tls.warning).toMatch(/^warning: --tls=on but could not load TLS certificates\./);
  });

  test("--tls=require stops the server", async () => {
    const settling = settleTls(fakeRuntime({}).runtime, line("--tls=require"));
    await expect(settling).rejects.toThrow(ConfigError);
    await expect(settling).rejects.toThrow(/--tls=require but could not load TLS certificates/);
  });

  test("--tls=off looks for nothing", async () => {
    const { runtime, prepared } = fakeRuntime(certificatesIn("/etc/pki/nbdkit"), { root: true });
    expect(await settleTls(runtime, line("--tls=off"))).toEqual({ mode: "off" });
    expect(prepared).toEqual([]);
  });
});

describe("--tls-psk", () => {
  test("overrides certificates; the keys are read when a handshake asks", async () => {
    const files = { ...certificatesIn("/etc/pki/nbdkit"), "/keys.psk": "alice:00ff\n" };
    const { runtime, prepared } = fakeRuntime(files, { root: true });
    expect((await settleTls(runtime, line("--tls-psk=/keys.psk"))).mode).toBe("on");
    const credentials = prepared[0];
    if (credentials.kind !== "psk") throw new Error("expected PSK credentials");
    expect(await credentials.keys()).toEqual(new Map([["alice", new Uint8Array([0, 255])]]));
  });

  test("a key file that does not exist stops the server, naming it", async () => {
    const settling = settleTls(fakeRuntime({}).runtime, line("--tls-psk=/nope.psk"));
    await expect(settling).rejects.toThrow("/nope.psk: No such file or directory");
  });

  test("a runtime without pre-shared keys says so", async () => {
    const { runtime } = fakeRuntime({ "/keys.psk": "a:00" }, { psk: false });
    await expect(settleTls(runtime, line("--tls-psk=/keys.psk"))).rejects.toThrow("no PSK here");
  });

  test("psktool's username:hexkey lines; the first line of a name counts", () => {
    const text = "alice:0a0B\nbob:zz\n\nno colon here\nalice:ffff\ncarol:\n";
    expect(parsePskFile(encoder.encode(text))).toEqual(
      new Map([["alice", new Uint8Array([0x0a, 0x0b])]]),
    );
  });
});
