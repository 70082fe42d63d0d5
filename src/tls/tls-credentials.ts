/**
 * Settles --tls at start-up as nbdkit's crypto_init does: finds and reads the credentials
 * (--tls-psk's key file, else a certificate directory: --tls-certificates or nbdkit's default
 * places), has the runtime's TLS library check them, and turns --tls=on off when none load.
 * Files are read through the Runtime's host, never directly.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import type { TlsMode } from "../connection/tls-mode.ts";
import type { Accept, PluginHost, Runtime, TlsCredentials, TlsSupport } from "../io.ts";

/** nbdkit's root_tls_certificates_dir ($sysconfdir/pki/nbdkit). */
export const ROOT_CERTIFICATES_DIR = "/etc/pki/nbdkit";

/** The TLS options of a command line (cli/command-line.ts), as the user gave them. */
export interface TlsOptions {
  readonly tls?: TlsMode;
  readonly tlsCertificates?: string;
  readonly tlsPsk?: string;
  readonly tlsVerifyPeer: boolean;
}

/** --tls in force and, unless "off", what gives each connection its STARTTLS. */
export interface TlsSettings {
  readonly mode: TlsMode;
  readonly offer?: (accept: Accept) => Accept;
  /** Printed to stderr: --tls=on was asked for but no certificates loaded. */
  readonly warning?: string;
}

const HOW_TO_FIX = "Try setting ‘--tls-certificates=/path/to/certificates’ or read\n" +
  'the "TLS" section in nbdkit(1).';

/** The TLS mode and credentials for `line`, or a ConfigError where nbdkit exits. */
export async function settleTls(runtime: Runtime, line: TlsOptions): Promise<TlsSettings> {
  const mode = line.tls ?? (runtime.tls ? "on" : "off"); // nbdkit's default follows GnuTLS
  if (mode === "off") return { mode };
  const host = runtime.host;
  if (!runtime.tls || !host) {
    throw new ConfigError(`TLS cannot be enabled: the ${runtime.name} runtime cannot serve TLS`);
  }
  if (line.tlsPsk !== undefined) {
    if (runtime.tls.pskUnavailable) throw new ConfigError(runtime.tls.pskUnavailable);
    const credentials = await pskCredentials(host, line.tlsPsk);
    return { mode, offer: await prepare(runtime.tls, credentials, line.tlsPsk) };
  }
  const dirs = line.tlsCertificates !== undefined
    ? [line.tlsCertificates]
    : defaultCertificateDirs(runtime.isRoot(), host.getEnv("HOME"));
  for (const dir of dirs) {
    // nbdkit finds no certificates where there is no directory: its files need not be read.
    if (runtime.isDirectory?.(dir) === false) continue;
    const credentials = await loadCertificates(host, dir, line.tlsVerifyPeer);
    if (credentials) return { mode, offer: await prepare(runtime.tls, credentials, dir) };
  }
  if (mode === "require") {
    throw new ConfigError(`--tls=require but could not load TLS certificates.\n${HOW_TO_FIX}`);
  }
  if (line.tls === undefined) return { mode: "off" };
  const warning = "warning: --tls=on but could not load TLS certificates.\n" +
    `TLS will be disabled and TLS connections will be rejected.\n${HOW_TO_FIX}`;
  return { mode: "off", warning };
}

/** The runtime's check of the credentials; a PEM that does not load stops start-up. */
async function prepare(tls: TlsSupport, credentials: TlsCredentials, from: string) {
  try {
    return await tls.prepare(credentials);
  } catch (error) {
    throw new ConfigError(`cannot load TLS credentials from ${from}: ${messageOf(error)}`);
  }
}

/** Where nbdkit looks without --tls-certificates: under $HOME, or /etc/pki/nbdkit for root. */
export function defaultCertificateDirs(root: boolean, home: string | undefined): string[] {
  if (root) return [ROOT_CERTIFICATES_DIR];
  return home === undefined ? [] : [`${home}/.pki/nbdkit`, `${home}/.config/pki/nbdkit`];
}

/**
 * A certificate directory is one where ca-cert.pem, server-cert.pem and server-key.pem can all
 * be read; ca-crl.pem is added when present. Undefined when it is not one.
 */
async function loadCertificates(
  host: PluginHost,
  dir: string,
  verifyPeer: boolean,
): Promise<TlsCredentials | undefined> {
  const read = (name: string) =>
    host.readFile(`${dir}/${name}`, 0, undefined).catch(() => undefined);
  const [ca, cert, key] = await Promise.all(
    ["ca-cert.pem", "server-cert.pem", "server-key.pem"].map(read),
  );
  if (!ca || !cert || !key) return undefined;
  const crl = await readIfPresent(host, `${dir}/ca-crl.pem`);
  return { kind: "x509", ca, cert, key, ...(crl ? { crl } : {}), verifyPeer };
}

/**
 * A file that may be absent. One that is there but cannot be read (a directory, no permission)
 * is an error, not an absence: an unreadable ca-crl.pem must not quietly turn revocation checks
 * off (nbdkit refuses to start too).
 */
async function readIfPresent(host: PluginHost, path: string): Promise<Uint8Array | undefined> {
  try {
    return await host.readFile(path, 0, undefined);
  } catch (error) {
    const present = await host.realpath(path).then(() => true, () => false);
    if (present) throw new ConfigError(`cannot load TLS credentials: ${path}: ${messageOf(error)}`);
    return undefined;
  }
}

/** --tls-psk: the file must exist now; its keys are read at each handshake. */
async function pskCredentials(host: PluginHost, path: string): Promise<TlsCredentials> {
  let absolute: string;
  try {
    absolute = await host.realpath(path);
  } catch (error) {
    throw new ConfigError(`${path}: ${messageOf(error)}`);
  }
  const keys = async () => parsePskFile(await host.readFile(absolute, 0, undefined));
  return { kind: "psk", keys };
}

/**
 * psktool's format, one `username:hexkey` per line. As GnuTLS looks a user up, the first line
 * with that name counts; a line whose key is not hex gives that user no key.
 */
export function parsePskFile(bytes: Uint8Array): Map<string, Uint8Array> {
  const keys = new Map<string, Uint8Array>();
  const seen = new Set<string>();
  for (const line of new TextDecoder().decode(bytes).split("\n")) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const username = line.slice(0, colon);
    if (seen.has(username)) continue;
    seen.add(username);
    const key = decodeHex(line.slice(colon + 1));
    if (key) keys.set(username, key);
  }
  return keys;
}

function decodeHex(hex: string): Uint8Array | undefined {
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) return undefined;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}
