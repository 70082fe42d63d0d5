// The s3 plugin's parameters (src/plugins/s3/config.ts): nbdkit's checks in its words, and
// credentials, region and endpoint from parameters, the environment or the credentials file.

import { describe, expect, test } from "vitest";
import type { PluginHost } from "../../src/io.ts";
import {
  checkS3Config,
  configureS3,
  defaultS3Config,
  iniSection,
  resolveSettings,
} from "../../src/plugins/s3/config.ts";

function configured(...pairs: [string, string][]) {
  const config = defaultS3Config();
  for (const [key, value] of pairs) configureS3(config, key, value);
  return config;
}

/** A host with an environment and files, nothing else. */
function host(env: Record<string, string>, files: Record<string, string> = {}): PluginHost {
  return {
    getEnv: (name: string) => env[name],
    readFile: (path: string) =>
      path in files
        ? Promise.resolve(new TextEncoder().encode(files[path]))
        : Promise.reject(new Error("No such file or directory")),
  } as unknown as PluginHost;
}

describe("s3 checkS3Config", () => {
  test.each([
    [[["key", "k"]], "bucket parameter missing"],
    [[["bucket", "b"]], "key parameter missing"],
    [[["bucket", "b"], ["key", "k"], ["size", "1M"]], "must always be specified together"],
    [
      [["bucket", "b"], ["key", "k"], ["size", "1M"], ["object-size", "300K"]],
      "`size` must be a multiple of `object-size`",
    ],
    [[["bucket", "b"], ["key", "k"], ["size", "1G"], ["object-size", "512M"]], "at most"],
  ] as [[string, string][], string][])("%j is refused: %s", (pairs, message) => {
    expect(() => checkS3Config(configured(...pairs))).toThrow(message);
  });

  test("nbdkit's underscore spellings are taken too", () => {
    const config = configured(["access_key", "A"], ["endpoint_url", "http://h"]);
    expect(config).toMatchObject({ accessKey: "A", endpoint: "http://h" });
  });
});

describe("s3 resolveSettings", () => {
  const base = () => configured(["bucket", "b"], ["key", "k"]);

  test("parameters come before the environment", async () => {
    const config = base();
    configureS3(config, "access-key", "PARAM");
    configureS3(config, "secret-key", "param-secret");
    const env = { AWS_ACCESS_KEY_ID: "ENV", AWS_SECRET_ACCESS_KEY: "env", AWS_REGION: "eu-west-1" };
    expect(await resolveSettings(config, host(env))).toMatchObject({
      accessKeyId: "PARAM",
      secretAccessKey: "param-secret",
      region: "eu-west-1",
      endpoint: "https://s3.eu-west-1.amazonaws.com",
    });
  });

  test("the credentials file's profile is read when nothing else gives keys", async () => {
    const file = "[default]\naws_access_key_id = D\naws_secret_access_key = d\n" +
      "[work]\naws_access_key_id = W\naws_secret_access_key = w\naws_session_token = t\n";
    const settings = await resolveSettings(
      base(),
      host({ HOME: "/home/u", AWS_PROFILE: "work", AWS_ENDPOINT_URL: "http://127.0.0.1:7480" }, {
        "/home/u/.aws/credentials": file,
      }),
    );
    expect(settings).toMatchObject({
      accessKeyId: "W",
      secretAccessKey: "w",
      sessionToken: "t",
      endpoint: "http://127.0.0.1:7480",
      region: "us-east-1",
    });
  });

  test("no credentials anywhere is one clear error", async () => {
    await expect(resolveSettings(base(), host({ HOME: "/nowhere" }))).rejects.toThrow(
      "no credentials: give access-key= and secret-key=",
    );
  });

  test("iniSection reads [profile NAME] too and skips comments", () => {
    expect(iniSection("# c\n[profile x]\na = 1\n[y]\na = 2\n", "x")).toEqual(new Map([["a", "1"]]));
  });
});

describe("s3 connections", () => {
  // 64 requests in flight cost the Ceph gateway less CPU per MiB written than 16 (BENCHMARKS.md).
  test("64 requests to the store at once unless connections= says otherwise", () => {
    expect(defaultS3Config().connections).toBe(64);
    expect(configured(["connections", "8"]).connections).toBe(8);
    expect(() => configured(["connections", "0"])).toThrow("connections: must be at least 1");
  });
});
