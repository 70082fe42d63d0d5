/**
 * Throw-away TLS credentials for the TLS interop tests, made with GnuTLS's own tools exactly as
 * nbdkit-tls(1) shows: a CA, a server certificate, a client certificate, a second CA with a
 * client certificate of its own (which a --tls-verify-peer server must refuse), and psktool
 * key files. Laid out as nbdkit, libnbd and qemu expect a certificate directory.
 */

import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnectionOptions } from "node:tls";
import { clientEnv } from "./captive.ts";

export interface Pki {
  readonly root: string;
  /** --tls-certificates for the server: ca-cert.pem, server-cert.pem, server-key.pem. */
  readonly serverDir: string;
  /** A client's directory with ca-cert.pem, client-cert.pem and client-key.pem. */
  readonly clientDir: string;
  /** A client's directory with only ca-cert.pem: it can check the server, not prove itself. */
  readonly anonymousClientDir: string;
  /** A client whose certificate another CA signed. */
  readonly strangerClientDir: string;
  /** psktool files: user "alice", and "alice" with a different key. */
  readonly pskFile: string;
  readonly wrongPskFile: string;
  /** qemu's tls-creds-psk wants a directory holding keys.psk: these hold the two files. */
  readonly pskDir: string;
  readonly wrongPskDir: string;
  /** Removes it all. */
  remove(): void;
}

/** certtool templates from nbdkit-tls(1), with "localhost" names for local tests. */
const TEMPLATES = {
  ca: "cn = nbdts test CA\nca\ncert_signing_key\ncrl_signing_key\nexpiration_days = 30\n",
  server: "organization = nbdts tests\ncn = localhost\ndns_name = localhost\n" +
    "ip_address = 127.0.0.1\ntls_www_server\nencryption_key\nsigning_key\nexpiration_days = 30\n",
  client: "organization = nbdts tests\ncn = client.example.com\ntls_www_client\n" +
    "encryption_key\nsigning_key\nexpiration_days = 30\n",
  crl: "crl_next_update = 30\ncrl_number = 1\n",
} as const;

function tool(program: string, args: string[]): void {
  execFileSync(program, args, { env: clientEnv(), stdio: ["ignore", "ignore", "pipe"] });
}

/** A private key, written with certtool. */
function privateKey(path: string): void {
  tool("certtool", ["--generate-privkey", "--outfile", path]);
}

/** A CA in `dir` (ca-key.pem, ca-cert.pem). */
function makeCa(dir: string): void {
  mkdirSync(dir, { recursive: true });
  privateKey(join(dir, "ca-key.pem"));
  writeFileSync(join(dir, "ca.info"), TEMPLATES.ca);
  tool("certtool", [
    "--generate-self-signed",
    "--load-privkey",
    join(dir, "ca-key.pem"),
    "--template",
    join(dir, "ca.info"),
    "--outfile",
    join(dir, "ca-cert.pem"),
  ]);
}

/** `name`-key.pem and `name`-cert.pem in `dir`, signed by the CA in `caDir`. */
function issue(caDir: string, dir: string, name: "server" | "client"): void {
  mkdirSync(dir, { recursive: true });
  const key = join(dir, `${name}-key.pem`);
  privateKey(key);
  const template = join(dir, `${name}.info`);
  writeFileSync(template, TEMPLATES[name]);
  tool("certtool", [
    "--generate-certificate",
    "--load-ca-certificate",
    join(caDir, "ca-cert.pem"),
    "--load-ca-privkey",
    join(caDir, "ca-key.pem"),
    "--load-privkey",
    key,
    "--template",
    template,
    "--outfile",
    join(dir, `${name}-cert.pem`),
  ]);
  copyFileSync(join(caDir, "ca-cert.pem"), join(dir, "ca-cert.pem"));
}

/** A keys.psk for "alice" in `dir`, made by psktool. */
function pskKeys(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "keys.psk");
  tool("psktool", ["-u", "alice", "-p", file]);
  return file;
}

/**
 * A client certificate our CA signed and then revoked, in `clientDir`; `serverDir` is the
 * server's directory plus a ca-crl.pem listing it (nbdkit-tls(1), "Certificate revocation").
 */
export function revokedClient(pki: Pki): { clientDir: string; serverDir: string } {
  const caDir = join(pki.root, "ca");
  const clientDir = join(pki.root, "revoked-client");
  const serverDir = join(pki.root, "server-with-crl");
  issue(caDir, clientDir, "client");
  mkdirSync(serverDir);
  for (const file of ["ca-cert.pem", "server-cert.pem", "server-key.pem"]) {
    copyFileSync(join(pki.serverDir, file), join(serverDir, file));
  }
  const template = join(caDir, "crl.info");
  writeFileSync(template, TEMPLATES.crl);
  tool("certtool", [
    "--generate-crl",
    "--load-ca-privkey",
    join(caDir, "ca-key.pem"),
    "--load-ca-certificate",
    join(caDir, "ca-cert.pem"),
    "--load-certificate",
    join(clientDir, "client-cert.pem"),
    "--template",
    template,
    "--outfile",
    join(serverDir, "ca-crl.pem"),
  ]);
  return { clientDir, serverDir };
}

/** Makes every credential above in a fresh temporary directory (about a second). */
export function makePki(): Pki {
  const root = mkdtempSync(join(tmpdir(), "nbdts-pki-"));
  makeCa(join(root, "ca"));
  makeCa(join(root, "stranger-ca"));
  const serverDir = join(root, "server");
  const clientDir = join(root, "client");
  const strangerClientDir = join(root, "stranger-client");
  const anonymousClientDir = join(root, "anonymous-client");
  issue(join(root, "ca"), serverDir, "server");
  issue(join(root, "ca"), clientDir, "client");
  issue(join(root, "stranger-ca"), strangerClientDir, "client");
  // The stranger trusts our CA (so it accepts the server) but was signed by another.
  copyFileSync(join(root, "ca", "ca-cert.pem"), join(strangerClientDir, "ca-cert.pem"));
  mkdirSync(anonymousClientDir);
  copyFileSync(join(root, "ca", "ca-cert.pem"), join(anonymousClientDir, "ca-cert.pem"));
  const pskDir = join(root, "psk");
  const wrongPskDir = join(root, "wrong-psk");
  return {
    root,
    serverDir,
    clientDir,
    anonymousClientDir,
    strangerClientDir,
    pskFile: pskKeys(pskDir),
    wrongPskFile: pskKeys(wrongPskDir),
    pskDir,
    wrongPskDir,
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** node:tls's side of a handshake with a server of `pki`: trusts its CA, expects "localhost". */
export function nodeTlsClient(pki: Pki): ConnectionOptions {
  return { ca: readFileSync(join(pki.clientDir, "ca-cert.pem")), servername: "localhost" };
}
