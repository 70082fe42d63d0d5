/**
 * The blocksize-policy filter (man nbdkit-blocksize-policy-filter): advertises the block sizes
 * given by `blocksize-minimum=`, `blocksize-preferred=` and `blocksize-maximum=` (the plugin's,
 * or defaults, for those left out), and with `blocksize-error-policy=error` refuses with EINVAL,
 * before the plugin sees them, requests that break them: shorter than the minimum, not whole
 * minimum blocks, or (reads and writes) longer than the maximum. `blocksize-write-disconnect=N`
 * (nbdkit 1.34's) drops the connection of a client that writes more than N bytes at once.
 *
 * One difference: nbdkit checks the maximum against itself (always a multiple), so a maximum
 * that is not a multiple of the minimum passes its start-up and fails every client; here it is
 * refused at start-up with nbdkit's message.
 */

import { ConfigError, DisconnectError, ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { parseSize } from "../api/parse.ts";
import { logError } from "../api/error-log.ts";
import type { BlockSize, Offset } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { misalignment, roundDown } from "./align.ts";

const UINT32_MAX = 0xffff_ffff;

/** The parameters: 0 where left out. */
interface PolicyConfig {
  minimum: number;
  preferred: number;
  maximum: number;
  disconnect: number;
  refuse: boolean;
}

const SIZE_KEYS: Readonly<Record<string, "minimum" | "preferred" | "maximum" | "disconnect">> = {
  "blocksize-minimum": "minimum",
  "blocksize-preferred": "preferred",
  "blocksize-maximum": "maximum",
  "blocksize-write-disconnect": "disconnect",
};

export function createBlocksizePolicyFilter(): Filter {
  const config: PolicyConfig = {
    minimum: 0,
    preferred: 0,
    maximum: 0,
    disconnect: 0,
    refuse: false,
  };
  return {
    name: "blocksize-policy",
    longname: "nbdts blocksize policy filter",
    version: VERSION,
    configHelp: "blocksize-error-policy=allow|error\n" +
      "                           What to do with requests that break the sizes\n" +
      "                           (default allow: pass them on).\n" +
      "blocksize-minimum=<SIZE>   Minimum block size to advertise.\n" +
      "blocksize-preferred=<SIZE> Preferred block size to advertise.\n" +
      "blocksize-maximum=<SIZE>   Maximum block size to advertise.\n" +
      "blocksize-write-disconnect=<SIZE>\n" +
      "                           Drop clients writing more than this at once.",

    config(next, key, value) {
      if (key === "blocksize-error-policy") {
        if (value !== "allow" && value !== "error") {
          throw new ConfigError(`unknown ${key}: ${value}`);
        }
        config.refuse = value === "error";
        return;
      }
      const field = SIZE_KEYS[key];
      if (field === undefined) return next(key, value);
      let size: bigint;
      try {
        size = parseSize(value);
      } catch {
        size = -1n;
      }
      if (size < 0n || size > BigInt(UINT32_MAX)) {
        throw new ConfigError(`${key}: could not parse ${value}`);
      }
      config[field] = Number(size);
    },

    configComplete(next) {
      checkConfig(config);
      return next();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      let sizes: BlockSize | undefined;
      const check = (what: string, data: boolean, count: number, offset: Offset) => {
        if (config.refuse && sizes) checkRequest(sizes, what, data, count, offset);
      };
      return {
        async prepare() {
          sizes = await policySizes(config, below);
        },
        blockSize: () => sizes,
        readAt(buf, offset) {
          check("pread", true, buf.length, offset);
          return below.readAt(buf, offset);
        },
        writeAt(buf, offset, flags) {
          if (config.disconnect && buf.length > config.disconnect) {
            throw new DisconnectError("disconnecting client due to oversize write request");
          }
          check("pwrite", true, buf.length, offset);
          return below.writeAt(buf, offset, flags);
        },
        zero(count, offset, flags) {
          check("zero", false, count, offset);
          return below.zero(count, offset, flags);
        },
        trim(count, offset, flags) {
          check("trim", false, count, offset);
          return below.trim(count, offset, flags);
        },
        cache(count, offset, flags) {
          check("cache", false, count, offset);
          return below.cache(count, offset, flags);
        },
        extents(count, offset, flags, sink) {
          check("extents", false, count, offset);
          return below.extents(count, offset, flags, sink);
        },
      };
    },
  };
}

/** The start-up checks, in nbdkit's order and words. */
function checkConfig({ minimum, preferred, maximum, disconnect }: PolicyConfig): void {
  const powerOfTwo = (n: number) => (n & (n - 1)) === 0;
  if (minimum) {
    if (!powerOfTwo(minimum)) throw new ConfigError("blocksize-minimum must be a power of 2");
    if (minimum > 65536) throw new ConfigError("blocksize-minimum must be <= 64K");
  }
  if (preferred) {
    if (!powerOfTwo(preferred)) throw new ConfigError("blocksize-preferred must be a power of 2");
    if (preferred < 512 || preferred > 32 * 1024 * 1024) {
      throw new ConfigError("blocksize-preferred must be between 512 and 32M");
    }
  }
  if (minimum && maximum && maximum !== UINT32_MAX && maximum % minimum !== 0) {
    throw new ConfigError("blocksize-maximum must be -1 or a multiple of blocksize-minimum");
  }
  if (minimum && preferred && minimum > preferred) {
    throw new ConfigError("blocksize-minimum must be <= blocksize-preferred");
  }
  if (preferred && maximum && preferred > maximum) {
    throw new ConfigError("blocksize-preferred must be <= blocksize-maximum");
  }
  if (minimum && disconnect && disconnect <= minimum) {
    throw new ConfigError("blocksize-write-disconnect must be larger than blocksize-minimum");
  }
}

/**
 * The block sizes to advertise (nbdkit's policy_block_size): all three given, or the plugin's
 * with the given ones put in, or, when the plugin has none, defaults for those left out.
 */
async function policySizes(
  config: PolicyConfig,
  below: NextHandle,
): Promise<BlockSize | undefined> {
  const { minimum, preferred, maximum, disconnect } = config;
  if (minimum && preferred && maximum) return { minimum, preferred, maximum };
  const plugin = await below.blockSize();
  if (!minimum && !preferred && !maximum) return plugin;
  let sizes: BlockSize;
  if (plugin === undefined) {
    const min = minimum || 1;
    sizes = {
      minimum: min,
      preferred: preferred || 4096,
      maximum: maximum || (disconnect ? roundDown(disconnect, min) : UINT32_MAX),
    };
  } else {
    sizes = {
      minimum: minimum || plugin.minimum,
      preferred: preferred || plugin.preferred,
      maximum: maximum || plugin.maximum,
    };
  }
  if (sizes.minimum > sizes.preferred || sizes.preferred > sizes.maximum) {
    throw new NbdError(
      ERRNO.EINVAL,
      `computed block size values are invalid, minimum ${sizes.minimum} > preferred ` +
        `${sizes.preferred} or preferred > maximum ${sizes.maximum}`,
    );
  }
  return sizes;
}

/**
 * Refuses with EINVAL a request that breaks `sizes`, logging why as nbdkit does; `data`: a read
 * or write, the only requests held to the maximum.
 */
function checkRequest(
  sizes: BlockSize,
  what: string,
  data: boolean,
  count: number,
  offset: Offset,
): void {
  const { minimum, maximum } = sizes;
  let why: string | undefined;
  if (count < minimum) why = `count ${count} is smaller than minimum size ${minimum}`;
  else if (data && count > maximum) why = `count ${count} is larger than maximum size ${maximum}`;
  else if (count % minimum !== 0) {
    why = `count ${count} is not a multiple of minimum size ${minimum}`;
  } else if (misalignment(offset, minimum) !== 0) {
    why = `offset ${offset} is not aligned to a multiple of minimum size ${minimum}`;
  }
  if (why === undefined) return;
  const message = `client ${what} request rejected: ${why}`;
  logError(message);
  throw new NbdError(ERRNO.EINVAL, message);
}
