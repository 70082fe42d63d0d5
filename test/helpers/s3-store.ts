/**
 * The local S3 store for the s3 plugin's tests: the one `scripts/s3-local.sh start` runs (a
 * one-node Ceph RADOS Gateway on 127.0.0.1), found through S3_ENDPOINT, S3_ACCESS_KEY and
 * S3_SECRET_KEY or by asking the script. A test that needs it and finds none skips naming the
 * script (fails with NBD_REQUIRE_CLIENTS=1, as CI sets). Each test gets its own bucket, emptied
 * and deleted when it finishes. Requests are signed with aws4fetch, as the plugin's are.
 */

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { AwsClient } from "aws4fetch";
import { onTestFinished } from "vitest";
import { REPO_ROOT, type SkippableContext } from "./servers.ts";

export const S3_LOCAL = join(REPO_ROOT, "scripts", "s3-local.sh");

export interface S3Store {
  readonly endpoint: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly aws: AwsClient;
}

/** A bucket of the store, made for one test. */
export interface Bucket {
  readonly store: S3Store;
  readonly name: string;
  /** The s3 plugin's arguments for a disk at `key` in this bucket (nbdkit's names). */
  plugin(key: string, ...extra: string[]): string[];
  put(key: string, body: Uint8Array): Promise<void>;
  /** Every key in the bucket under `prefix`, in order, with its size. */
  list(prefix?: string): Promise<{ key: string; size: number }[]>;
  get(key: string): Promise<Uint8Array | undefined>;
}

/** Parses `NAME=value` lines as the script prints them. */
function variables(text: string): Record<string, string> {
  return Object.fromEntries(
    text.split("\n").map((line) => /^([A-Z0-9_]+)=(.*)$/.exec(line.trim()))
      .filter((match) => match !== null).map((match) => [match![1], match![2]]),
  );
}

/** A client signing for the store's keys, never retrying on its own. */
export function signer(accessKeyId: string, secretAccessKey: string): AwsClient {
  return new AwsClient({
    accessKeyId,
    secretAccessKey,
    service: "s3",
    region: "us-east-1",
    retries: 0,
  });
}

let found: S3Store | undefined;

/** The running store, or undefined. */
export function localS3(): S3Store | undefined {
  if (found) return found;
  let vars: Record<string, string> = {};
  if (process.env.S3_ENDPOINT) vars = process.env as Record<string, string>;
  else {
    const status = spawnSync("bash", [S3_LOCAL, "status"], { encoding: "utf8", timeout: 10_000 });
    if (status.status !== 0) return undefined;
    vars = variables(status.stdout);
  }
  if (!vars.S3_ENDPOINT || !vars.S3_ACCESS_KEY || !vars.S3_SECRET_KEY) return undefined;
  const aws = signer(vars.S3_ACCESS_KEY, vars.S3_SECRET_KEY);
  found = {
    endpoint: vars.S3_ENDPOINT,
    accessKey: vars.S3_ACCESS_KEY,
    secretKey: vars.S3_SECRET_KEY,
    aws,
  };
  return found;
}

/** The store, or a skip (a failure under NBD_REQUIRE_CLIENTS=1) naming the script. */
export function requireS3(context: SkippableContext): S3Store {
  const store = localS3();
  if (store) return store;
  const message = "requires the local S3 store (scripts/s3-local.sh start), which is not running";
  if (process.env.NBD_REQUIRE_CLIENTS === "1") throw new Error(`Cannot run test: ${message}`);
  return context.skip(message);
}

let serial = 0;

async function ok(response: Response, what: string): Promise<Response> {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

/** Lists every key under `prefix` through the store's own listing (ListObjectsV2 pages). */
async function listAll(store: S3Store, bucket: string, prefix: string) {
  const keys: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const query = new URLSearchParams({ "list-type": "2", prefix, "max-keys": "1000" });
    if (token) query.set("continuation-token", token);
    const xml = await (await ok(
      await store.aws.fetch(`${store.endpoint}/${bucket}?${query}`),
      `list ${bucket}`,
    )).text();
    for (const entry of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
      keys.push({
        key: /<Key>(.*?)<\/Key>/.exec(entry[1])![1],
        size: Number(/<Size>(\d+)<\/Size>/.exec(entry[1])![1]),
      });
    }
    token = /<IsTruncated>true<\/IsTruncated>/.test(xml)
      ? /<NextContinuationToken>(.*?)<\/NextContinuationToken>/.exec(xml)?.[1]
      : undefined;
  } while (token);
  return keys;
}

/** A new empty bucket for this test, removed with its objects when the test finishes. */
export async function newBucket(context: SkippableContext): Promise<Bucket> {
  const store = requireS3(context);
  const name = `nbdts-${process.pid}-${Date.now().toString(36)}-${serial++}`;
  await ok(await store.aws.fetch(`${store.endpoint}/${name}`, { method: "PUT" }), `create ${name}`);
  onTestFinished(async () => {
    const keys = await listAll(store, name, "").catch(() => []);
    await Promise.all(
      keys.map(({ key }) =>
        store.aws.fetch(`${store.endpoint}/${name}/${key}`, { method: "DELETE" })
      ),
    );
    await store.aws.fetch(`${store.endpoint}/${name}`, { method: "DELETE" }).catch(() => {});
  });
  return {
    store,
    name,
    plugin: (key, ...extra) => [
      "S3",
      `endpoint-url=${store.endpoint}`,
      `access-key=${store.accessKey}`,
      `secret-key=${store.secretKey}`,
      `bucket=${name}`,
      `key=${key}`,
      ...extra,
    ],
    async put(key, body) {
      await ok(
        await store.aws.fetch(`${store.endpoint}/${name}/${key}`, {
          method: "PUT",
          body: body as BufferSource,
        }),
        `put ${key}`,
      );
    },
    list: (prefix = "") => listAll(store, name, prefix),
    async get(key) {
      const response = await store.aws.fetch(`${store.endpoint}/${name}/${key}`);
      if (response.status === 404) return undefined;
      return new Uint8Array(await (await ok(response, `get ${key}`)).arrayBuffer());
    },
  };
}
