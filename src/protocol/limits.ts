/**
 * Every bound the server puts on what one client (or a plugin) can make it hold, wait for or
 * send, in one table: the value, where it comes from, and what happens past it. Two of them an
 * embedder may change through createServer's options (maxPayload, handshakeTimeoutMs); the
 * command line changes none, as nbdkit has no option for them. The README's "Limits" section
 * is this table for users. Nothing here touches a socket or a clock.
 */

import { ConfigError, ProtocolError } from "../api/errors.ts";
import type { Log } from "../api/log.ts";
import type { BlockSize } from "../api/plugin.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

export const LIMITS = {
  /**
   * Longest string in an option (export name, meta-context name or query): the spec's MUST,
   * nbdkit's NBD_MAX_STRING. Longer: ERR_INVALID for INFO, GO and the META_CONTEXT options;
   * EXPORT_NAME, which has no error reply, closes the connection (nbdkit check_string).
   */
  MAX_STRING: 4096,
  /**
   * Largest option data (nbdkit's MAX_REQUEST_SIZE, which it also uses for options). More:
   * the connection closes at once, before any of the data is read (nbdkit closes too).
   */
  MAX_OPTION_DATA: 64 * MiB,
  /**
   * Options a client may send before GO or EXPORT_NAME succeeds (nbdkit's MAX_NR_OPTIONS);
   * each export a LIST names allows as many again. Once used up the connection closes
   * right after the last answer, as nbdkit's negotiation loop ends.
   */
  MAX_OPTIONS: 32,
  /**
   * Queries in one LIST_META_CONTEXT or SET_META_CONTEXT. More: NBD_REP_ERR_TOO_BIG, which the
   * spec allows for too many queries. nbdkit has no bound and answers each matching query
   * (millions in one 64 MiB option); holding those replies took 1.7 GB here, and pushing them
   * in one call overflowed the stack and killed the server. Real clients send a handful.
   */
  MAX_META_CONTEXT_QUERIES: 4096,
  /**
   * Default largest READ or WRITE payload (nbdkit's MAX_REQUEST_SIZE); createServer's
   * `maxPayload` changes it. Larger: ENOMEM, nbdkit's answer (a WRITE's payload is read and
   * thrown away first, see skipLimit). The spec asks clients to stay at or under 2^25 bytes
   * when nothing is advertised, so 64 MiB serves every well-behaved client.
   */
  DEFAULT_MAX_PAYLOAD: 64 * MiB,
  /** The smallest `maxPayload` accepted: every block size a plugin may ask for still fits. */
  MIN_MAX_PAYLOAD: 64 * KiB,
  /** The largest `maxPayload` accepted: one request is buffered whole in memory. */
  MAX_MAX_PAYLOAD: 1024 * MiB,
  /**
   * What a client may assume the maximum payload is when none is advertised (spec, "Block
   * size constraints"): a smaller maxPayload is advertised in NBD_INFO_BLOCK_SIZE.
   */
  SPEC_DEFAULT_MAX_PAYLOAD: 32 * MiB,
  /**
   * Requests running at once on one connection; at the bound the server stops reading that
   * connection until one finishes (no error: TCP backpressure makes the client wait).
   */
  MAX_IN_FLIGHT: 64,
  /**
   * READ and WRITE bytes (and what BLOCK_STATUS replies may hold, see
   * BLOCK_STATUS_BYTES_PER_EXTENT) in flight on one connection, at least this and at least
   * twice the maximum payload (so one largest request always fits); at the bound reading pauses.
   */
  MIN_BYTES_IN_FLIGHT: 128 * MiB,
  /**
   * Time a client has from the greeting to finishing negotiation (GO or EXPORT_NAME), in
   * milliseconds; then the connection is closed and logged. nbdkit has none; qemu-nbd closes
   * after 10 s since the fix for CVE-2024-7409. 60 s bounds connections that say nothing or
   * trickle bytes, yet leaves time for a slow TLS handshake or a person driving nbdsh's
   * option mode. createServer's `handshakeTimeoutMs` changes it (0: no limit).
   */
  DEFAULT_HANDSHAKE_TIMEOUT_MS: 60_000,
  /** Extents kept per BLOCK_STATUS reply (nbdkit's MAX_EXTENTS); the rest are dropped. */
  MAX_EXTENTS: 1024 * 1024,
  /**
   * Extents kept per BLOCK_STATUS_EXT reply (extended headers): qemu-nbd's cap, a 2 MiB reply.
   * nbdkit has no extended headers to follow here. The spec lets a server describe less than
   * was asked (at least one extent); clients ask again from where the reply ends.
   */
  MAX_EXTENTS_EXTENDED: 128 * 1024,
  /**
   * What a BLOCK_STATUS counts against the bytes in flight for each extent its reply may hold,
   * until that reply is queued: its extent list, descriptors and reply, and the garbage their
   * making leaves (measured: 300 to 400 bytes a kept extent on Node with eight extended lists
   * in flight). Without it a client asking for the whole map of a fragmented disk, 64 requests
   * at once, made the server build 64 full lists before answering one (a second client waited
   * seconds for its greeting; on a 16 GiB disk Node died out of memory). With the defaults one
   * compact or two extended ones run at a time.
   */
  BLOCK_STATUS_BYTES_PER_EXTENT: 512,
  /** Exports a plugin's listExports may return (nbdkit's MAX_EXPORTS); more fails LIST. */
  MAX_EXPORTS: 10000,
  /** Bytes queued in a WebSocket above which replies wait (WebSockets cannot pause a peer). */
  WEBSOCKET_HIGH_WATER: 4 * MiB,
} as const;

/** The limits an embedder may set (createServer's options). */
export interface LimitOptions {
  /** Largest READ or WRITE payload in bytes, 64 KiB to 1 GiB; 64 MiB by default. */
  maxPayload?: number;
  /** Milliseconds a client has to finish negotiating; 60 000 by default, 0 for no limit. */
  handshakeTimeoutMs?: number;
}

/** The limits of one server, resolved from its options. */
export interface Limits {
  readonly maxPayload: number;
  /**
   * WRITE payloads over maxPayload but not over this are read and thrown away before ENOMEM
   * (nbdkit's skip_over_write_buffer: twice the maximum); larger ones close the connection.
   * Never under 2^25, which the spec says a server SHOULD NOT disconnect for.
   */
  readonly skipLimit: number;
  readonly maxBytesInFlight: number;
  /** 0: no limit. */
  readonly handshakeTimeoutMs: number;
}

/** Checks an embedder's limits and derives the rest; a bad value is a ConfigError. */
export function resolveLimits(options: LimitOptions = {}): Limits {
  const maxPayload = options.maxPayload ?? LIMITS.DEFAULT_MAX_PAYLOAD;
  if (
    !Number.isInteger(maxPayload) || maxPayload < LIMITS.MIN_MAX_PAYLOAD ||
    maxPayload > LIMITS.MAX_MAX_PAYLOAD
  ) {
    throw new ConfigError(
      `Cannot use maxPayload "${maxPayload}": expected an integer from ` +
        `${LIMITS.MIN_MAX_PAYLOAD} to ${LIMITS.MAX_MAX_PAYLOAD}`,
    );
  }
  const handshakeTimeoutMs = options.handshakeTimeoutMs ?? LIMITS.DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isFinite(handshakeTimeoutMs) || handshakeTimeoutMs < 0) {
    throw new ConfigError(
      `Cannot use handshakeTimeoutMs "${handshakeTimeoutMs}": expected 0 or more milliseconds`,
    );
  }
  return {
    maxPayload,
    skipLimit: Math.max(2 * maxPayload, LIMITS.SPEC_DEFAULT_MAX_PAYLOAD),
    maxBytesInFlight: Math.max(2 * maxPayload, LIMITS.MIN_BYTES_IN_FLIGHT),
    handshakeTimeoutMs,
  };
}

export const DEFAULT_LIMITS: Limits = resolveLimits();

/**
 * The NBD_INFO_BLOCK_SIZE to send, so that what is advertised never promises more than the
 * server takes: the plugin's sizes with the maximum capped at maxPayload (a multiple of the
 * minimum, the preferred size lowered to fit under it), or, when the plugin gives none, the
 * spec's defaults with maxPayload as maximum if that is below what clients may assume.
 * nbdkit 1.32.5 sends the plugin's sizes unchanged: its memory-like plugins send none, so on
 * the wire the two only differ for a plugin whose maximum is over the maximum payload.
 */
export function advertisedBlockSize(
  plugin: BlockSize | undefined,
  maxPayload: number,
): BlockSize | undefined {
  if (plugin === undefined) {
    if (maxPayload >= LIMITS.SPEC_DEFAULT_MAX_PAYLOAD) return undefined;
    return { minimum: 1, preferred: 4096, maximum: maxPayload };
  }
  if (plugin.maximum <= maxPayload) return plugin;
  // minimum ≤ 64 KiB ≤ maxPayload, so the cap is at least one minimum block and 64 KiB.
  const maximum = maxPayload - (maxPayload % plugin.minimum);
  const preferred = plugin.preferred <= maximum ? plugin.preferred : largestPowerOfTwo(maximum);
  return { minimum: plugin.minimum, preferred, maximum };
}

function largestPowerOfTwo(atMost: number): number {
  return 2 ** Math.floor(Math.log2(atMost));
}

/** One client going over one limit, for the log. */
export interface LimitHit {
  /** The limit's name, as a user would look it up in the README: "maxPayload". */
  limit: string;
  value: number;
  /** What the client did: "READ of 67108865 bytes". */
  what: string;
  /** What the server does about it: "answered ENOMEM", "connection closed". */
  outcome: string;
}

/** A client went over a limit that ends its connection (the codec throws it). */
export class LimitError extends ProtocolError {
  readonly hit: LimitHit;

  constructor(hit: LimitHit) {
    super(`${hit.what} is over the ${hit.limit} limit of ${hit.value}`);
    this.name = "LimitError";
    this.hit = hit;
  }
}

/**
 * Logs one limit hit as an error line naming the limit, its value and the peer, once per
 * occurrence: "nbdts: memory[3]: error: limit maxPayload=67108864 exceeded by 127.0.0.1:4711:
 * READ of 67108865 bytes; answered ENOMEM".
 */
export function logLimitHit(log: Log, where: string, peer: string, hit: LimitHit): void {
  log.error(
    where,
    `limit ${hit.limit}=${hit.value} exceeded by ${peer}: ${hit.what}; ${hit.outcome}`,
  );
}
