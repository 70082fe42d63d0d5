/**
 * The errors that cross boundaries: NbdError (a plugin or the server failing one request with an
 * errno), ProtocolError (a client broke the protocol: its connection closes), ConfigError (bad
 * command line or plugin parameter). protocol/wire-error.ts maps an errno to its NBD_E* code.
 */

import { closestName } from "./closest-name.ts";
import type { Offset } from "./plugin.ts";

/** The host errno names a plugin may use; each maps to a wire error as nbdkit maps it. */
export const ERRNO = {
  EPERM: "EPERM",
  EROFS: "EROFS",
  EIO: "EIO",
  ENOMEM: "ENOMEM",
  EINVAL: "EINVAL",
  ENOSPC: "ENOSPC",
  EDQUOT: "EDQUOT",
  EFBIG: "EFBIG",
  EOVERFLOW: "EOVERFLOW",
  ENOTSUP: "ENOTSUP",
  EOPNOTSUPP: "EOPNOTSUPP",
  ESHUTDOWN: "ESHUTDOWN",
  ENOENT: "ENOENT",
  EBADF: "EBADF",
  ERANGE: "ERANGE",
} as const;

export type Errno = (typeof ERRNO)[keyof typeof ERRNO];

/** Why `errno` cannot make an NbdError: it is none of ERRNO's names. */
function unknownErrno(errno: unknown): string {
  const names = Object.keys(ERRNO);
  const meant = typeof errno === "string" ? closestName(errno, names) : undefined;
  const hint = meant === undefined ? "" : ` (did you mean ${meant}?)`;
  return `Cannot create NbdError: unknown errno ${JSON.stringify(errno)}${hint}; ` +
    `use one of ${names.join(", ")}`;
}

/**
 * A request failed with an errno; the connection lives on. Plugins throw this. A read that
 * fails part-way may name the first bad byte in `offset`: with structured replies the client
 * then gets an ERROR_OFFSET chunk saying where. An errno that is not one of ERRNO's names is a
 * TypeError here, where the mistake is, rather than EINVAL on the wire.
 */
export class NbdError extends Error {
  readonly errno: Errno;
  readonly offset: Offset | undefined;
  constructor(errno: Errno, message?: string, offset?: Offset) {
    if (!Object.hasOwn(ERRNO, errno)) throw new TypeError(unknownErrno(errno));
    super(message ?? errno);
    this.name = "NbdError";
    this.errno = errno;
    this.offset = offset;
  }

  /**
   * A plugin bundled on its own (Node bundles a .ts plugin) carries its own copy of this class,
   * so `instanceof` is not enough: the name and a string errno identify one too.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === "NbdError" &&
      typeof (value as { errno?: unknown }).errno === "string";
  }
}

/**
 * Thrown by a request callback to end the client's connection at once (nbdkit_disconnect with
 * force): the request gets no reply, the message is logged as an error, requests already
 * running finish, and the connection closes. The client sees its connection drop.
 */
export class DisconnectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DisconnectError";
  }

  /** As NbdError: a bundled plugin or filter carries its own copy of this class. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return value instanceof Error && value.name === "DisconnectError";
  }
}

/** The client broke the protocol in a way that leaves the stream unusable: close it. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** A command-line or plugin-configuration mistake: the server prints it and exits 1. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }

  /**
   * As for NbdError, a plugin's own copy of this class is recognised by its name; subclasses
   * (the server's own) keep the ordinary test.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    return this === ConfigError && value instanceof Error && value.name === "ConfigError";
  }
}

/** What to log for any thrown value: JavaScript lets a plugin throw a string, or undefined. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Any thrown value as an Error, for callbacks that take one (a Receiver's end). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** Any thrown value as an errno: NbdError keeps its own, anything else is EIO (nbdkit's get_error). */
export function errnoOf(error: unknown): Errno {
  return error instanceof NbdError ? error.errno : ERRNO.EIO;
}
