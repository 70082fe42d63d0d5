/**
 * The s3 plugin's parameters (nbdkit's S3 plugin's names, and nbdts's own for what nbdkit leaves
 * to boto3) and where each comes from when not given: credentials from AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, else the profile (AWS_PROFILE, or "default") of
 * the credentials file (AWS_SHARED_CREDENTIALS_FILE, or ~/.aws/credentials); the region from
 * AWS_REGION or AWS_DEFAULT_REGION (us-east-1); the endpoint from AWS_ENDPOINT_URL_S3 or
 * AWS_ENDPOINT_URL (AWS's own for the region).
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import { parseUnsigned } from "../../api/parse-integer.ts";
import { parseSize } from "../../api/parse.ts";
import type { PluginHost } from "../../io.ts";
import { parseConnections } from "../lib/limiter.ts";
import type { S3Settings } from "./client.ts";

export interface S3Config {
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  bucket?: string;
  key?: string;
  size?: bigint;
  objectSize?: bigint;
  timeout: number;
  connections: number;
}

/** The largest object-size: a partial write holds one whole object in memory. */
const MAX_OBJECT_SIZE = 256n * 1024n * 1024n;

export function defaultS3Config(): S3Config {
  return { timeout: 0, connections: 64 };
}

/** Takes one key=value; both spellings nbdkit's plugin takes (access-key, access_key). */
export function configureS3(config: S3Config, key: string, value: string): void {
  switch (key.replaceAll("_", "-")) {
    case "access-key":
      config.accessKey = value;
      return;
    case "secret-key":
      config.secretKey = value;
      return;
    case "session-token":
      config.sessionToken = value;
      return;
    case "endpoint-url":
      config.endpoint = value;
      return;
    case "region":
      config.region = value;
      return;
    case "profile":
      config.profile = value;
      return;
    case "bucket":
      config.bucket = value;
      return;
    case "key":
      config.key = value;
      return;
    case "size":
      config.size = parseSize(value);
      return;
    case "object-size":
      config.objectSize = parseSize(value);
      return;
    case "timeout":
      config.timeout = parseUnsigned("timeout", value);
      return;
    case "connections":
      config.connections = parseConnections(value);
      return;
  }
  throw new ConfigError(`unknown parameter ${key}`);
}

/** Checks what nbdkit's plugin checks, in its words, and that objects fit in memory. */
export function checkS3Config(config: S3Config): void {
  if (config.bucket === undefined) throw new ConfigError("bucket parameter missing");
  if (config.key === undefined) throw new ConfigError("key parameter missing");
  if ((config.size === undefined) !== (config.objectSize === undefined)) {
    throw new ConfigError("`size` and `object-size` parameters must always be specified together");
  }
  if (config.size === undefined || config.objectSize === undefined) return;
  if (config.objectSize === 0n) throw new ConfigError("`object-size` must not be 0");
  if (config.objectSize > MAX_OBJECT_SIZE) {
    throw new ConfigError(`\`object-size\` must be at most ${MAX_OBJECT_SIZE} (256M)`);
  }
  if (config.size % config.objectSize !== 0n) {
    throw new ConfigError("`size` must be a multiple of `object-size`");
  }
}

/** `name = value` lines of one `[section]` of an INI file, as the AWS credentials file is. */
export function iniSection(text: string, section: string): Map<string, string> {
  const values = new Map<string, string>();
  let inside = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = /^\[\s*(.*?)\s*\]$/.exec(line);
    if (header) {
      inside = header[1] === section || header[1] === `profile ${section}`;
      continue;
    }
    const equals = line.indexOf("=");
    if (inside && equals > 0) {
      values.set(line.slice(0, equals).trim(), line.slice(equals + 1).trim());
    }
  }
  return values;
}

/** The credentials file's values for the profile; empty when there is no such file. */
async function fileCredentials(host: PluginHost, profile: string): Promise<Map<string, string>> {
  const home = host.getEnv("HOME");
  const path = host.getEnv("AWS_SHARED_CREDENTIALS_FILE") ??
    (home === undefined ? undefined : `${home}/.aws/credentials`);
  if (path === undefined) return new Map();
  let bytes: Uint8Array;
  try {
    bytes = await host.readFile(path, 0, undefined);
  } catch (error) {
    if (host.getEnv("AWS_SHARED_CREDENTIALS_FILE") === undefined) return new Map();
    throw new ConfigError(`cannot read the credentials file ${path}: ${messageOf(error)}`);
  }
  return iniSection(new TextDecoder().decode(bytes), profile);
}

/** Everything the client needs, each from its parameter, the environment or the file. */
export async function resolveSettings(
  config: S3Config,
  host: PluginHost | undefined,
): Promise<S3Settings> {
  const env = (name: string) => host?.getEnv(name);
  let accessKeyId = config.accessKey ?? env("AWS_ACCESS_KEY_ID");
  let secretAccessKey = config.secretKey ?? env("AWS_SECRET_ACCESS_KEY");
  let sessionToken = config.sessionToken ?? env("AWS_SESSION_TOKEN");
  const profile = config.profile ?? env("AWS_PROFILE") ?? "default";
  if ((accessKeyId === undefined || secretAccessKey === undefined) && host) {
    const file = await fileCredentials(host, profile);
    accessKeyId ??= file.get("aws_access_key_id");
    secretAccessKey ??= file.get("aws_secret_access_key");
    sessionToken ??= file.get("aws_session_token");
  }
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new ConfigError(
      "no credentials: give access-key= and secret-key=, set AWS_ACCESS_KEY_ID and " +
        `AWS_SECRET_ACCESS_KEY, or put them in profile [${profile}] of ~/.aws/credentials`,
    );
  }
  const region = config.region ?? env("AWS_REGION") ?? env("AWS_DEFAULT_REGION") ?? "us-east-1";
  const endpoint = config.endpoint ?? env("AWS_ENDPOINT_URL_S3") ?? env("AWS_ENDPOINT_URL") ??
    `https://s3.${region}.amazonaws.com`;
  try {
    const scheme = new URL(endpoint).protocol;
    if (scheme !== "http:" && scheme !== "https:") throw new Error(scheme);
  } catch {
    throw new ConfigError(`endpoint-url: '${endpoint}' is not an http:// or https:// URL`);
  }
  return {
    endpoint,
    bucket: config.bucket!,
    region,
    accessKeyId,
    secretAccessKey,
    sessionToken,
    timeout: config.timeout,
  };
}
