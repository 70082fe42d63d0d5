/**
 * TLS credentials named as libnbd names them (an nbds URI's query, the nbd plugin's tls-*=
 * parameters) turned into the bytes STARTTLS uses: a certificate directory holds ca-cert.pem and,
 * for a client that proves itself, client-cert.pem and client-key.pem; a psktool file holds
 * `username:hexkey` lines. Files come through `read`, so the runtime decides how to read them.
 */

import type { ClientTlsCredentials } from "../io.ts";
import type { UriTls } from "./uri.ts";

/** Reads a whole file; resolves to undefined when it does not exist. */
export type ReadFile = (path: string) => Promise<Uint8Array | undefined>;

/** The key for `username` in a psktool file's text; throws naming what is missing. */
export function pskFor(text: string, username: string, file: string): Uint8Array {
  for (const line of text.split("\n")) {
    const [name, hex] = line.trim().split(":");
    if (name !== username || hex === undefined) continue;
    if (!/^([0-9a-f]{2})+$/i.test(hex)) throw new Error(`Cannot read ${file}: the key is not hex`);
    return Uint8Array.from(hex.match(/../g)!, (pair) => parseInt(pair, 16));
  }
  throw new Error(`Cannot read ${file}: no key for user "${username}"`);
}

/**
 * The credentials `settings` name; `defaultUser` is who a PSK is for without a username (libnbd:
 * the login name).
 */
export async function loadClientCredentials(
  settings: UriTls,
  read: ReadFile,
  defaultUser: string,
): Promise<Partial<ClientTlsCredentials>> {
  const verifyPeer = settings.verifyPeer ?? true;
  if (settings.pskFile !== undefined) {
    const text = await read(settings.pskFile);
    if (text === undefined) throw new Error(`Cannot read ${settings.pskFile}: it does not exist`);
    const identity = settings.username ?? defaultUser;
    const key = pskFor(new TextDecoder().decode(text), identity, settings.pskFile);
    return { verifyPeer, psk: { identity, key } };
  }
  if (settings.certificates === undefined) return { verifyPeer };
  const dir = settings.certificates.replace(/\/$/, "");
  const [ca, cert, key] = await Promise.all(
    ["ca-cert.pem", "client-cert.pem", "client-key.pem"].map((name) => read(`${dir}/${name}`)),
  );
  if (ca === undefined) throw new Error(`Cannot read ${dir}/ca-cert.pem: it does not exist`);
  return { verifyPeer, ca, cert, key };
}
