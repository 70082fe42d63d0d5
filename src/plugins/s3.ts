/**
 * s3 (nbdkit's S3 plugin, man nbdkit-S3-plugin): a disk in an S3 bucket — Amazon S3, Ceph's
 * RADOS Gateway or any S3-compatible store. With size= and object-size= the disk is cut into
 * objects `KEY/NNNNNNNNNNNNNNNN` and is writable (s3/objects.ts); without them it is the one
 * object KEY, read-only (s3/single.ts). Requests are signed by aws4fetch and sent over the
 * runtime's own connections, or its fetch at the edge (lib/http/), so the plugin runs on Node,
 * Deno, Bun and at the edge.
 */

import { ConfigError, messageOf, NbdError } from "../api/errors.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { chooseTransport } from "./lib/http/choose-transport.ts";
import { createKeyLock } from "./lib/key-lock.ts";
import { createLimiter } from "./lib/limiter.ts";
import { S3Client, S3Error } from "./s3/client.ts";
import { checkS3Config, configureS3, defaultS3Config, resolveSettings } from "./s3/config.ts";
import { openObjectDisk } from "./s3/objects.ts";
import { openSingleObject } from "./s3/single.ts";

/** Why the store refused the first request, in words a user can act on. */
function startupError(error: unknown, endpoint: string, bucket: string): ConfigError {
  if (error instanceof S3Error) {
    if (error.code === "NoSuchBucket" || error.status === 404) {
      return new ConfigError(`bucket '${bucket}' does not exist at ${endpoint}`);
    }
    if (error.status === 403) {
      return new ConfigError(
        `the store at ${endpoint} refused the credentials: ${error.code} ` +
          "(check access-key= and secret-key=)",
      );
    }
  }
  return new ConfigError(`cannot use bucket '${bucket}' at ${endpoint}: ${messageOf(error)}`);
}

export function createS3Plugin(host?: PluginHost): Plugin {
  const config = defaultS3Config();
  const locks = createKeyLock(); // shared by every connection: per-object order
  let store: S3Client | undefined;
  return {
    name: "S3",
    longname: "nbdkit S3 plugin",
    version: VERSION,
    configHelp: [
      "access-key=<KEY>           AWS access key (or AWS_ACCESS_KEY_ID, ~/.aws/credentials).",
      "secret-key=<KEY>           AWS secret key (or AWS_SECRET_ACCESS_KEY).",
      "session-token=<TOKEN>      AWS session token (or AWS_SESSION_TOKEN).",
      "endpoint-url=<URL>         The S3 endpoint, for Ceph or another S3 store.",
      "region=<REGION>            The region to sign for (default us-east-1).",
      "profile=<NAME>             The profile of the credentials file (or AWS_PROFILE).",
      "bucket=<BUCKET> (required) The bucket.",
      "key=<KEY>       (required) The object, or with size= the prefix of the objects.",
      "size=<SIZE>                The disk size: the disk is objects of object-size.",
      "object-size=<SIZE>         The size of each object (with size=).",
      "connections=<N>            Requests to the store at once (default 64).",
      "timeout=<SECS>             Give up on a request after this long (default never).",
    ].join("\n"),
    config: (key, value) => configureS3(config, key, value),
    async configComplete() {
      checkS3Config(config);
      const settings = await resolveSettings(config, host);
      store = new S3Client(settings, createLimiter(config.connections), chooseTransport(host));
    },
    // Before listening: a wrong secret or a missing bucket stops the server with the reason.
    async getReady() {
      const { endpoint, bucket } = store!.settings;
      try {
        await store!.list(config.key!, undefined, 1);
      } catch (error) {
        throw startupError(error, endpoint, bucket);
      }
    },
    threadModel: () => THREAD_MODEL.PARALLEL,
    unload: () => store?.close(),
    async open(readonly) {
      if (config.size === undefined) return await openSingleObject(store!, config.key!);
      if (config.size > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new NbdError("EINVAL", "size: an S3 disk must be smaller than 2^53 bytes");
      }
      const objectSize = Number(config.objectSize!);
      const objects = Number(config.size) / objectSize;
      return openObjectDisk(store!, locks, { prefix: config.key!, objectSize, objects }, readonly);
    },
  };
}
