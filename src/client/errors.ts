/**
 * What a client's failures look like to its caller: a request the server refused is an
 * NbdError carrying the server's errno (the plugin API's own class, so a proxy passes it on
 * as it is); an option the server refused is a HandshakeError naming the option and the reply;
 * a connection that is gone fails every request with a ConnectionClosedError.
 */

import { ERRNO, type Errno } from "../api/errors.ts";
import { nameOf, NBD_ERR, OPT, REP } from "../protocol/constants.ts";

/** The errno each NBD_E* value on the wire stands for. */
const ERRNO_OF_WIRE: Readonly<Record<number, Errno>> = {
  [NBD_ERR.EPERM]: ERRNO.EPERM,
  [NBD_ERR.EIO]: ERRNO.EIO,
  [NBD_ERR.ENOMEM]: ERRNO.ENOMEM,
  [NBD_ERR.EINVAL]: ERRNO.EINVAL,
  [NBD_ERR.ENOSPC]: ERRNO.ENOSPC,
  [NBD_ERR.EOVERFLOW]: ERRNO.EOVERFLOW,
  [NBD_ERR.ENOTSUP]: ERRNO.ENOTSUP,
  [NBD_ERR.ESHUTDOWN]: ERRNO.ESHUTDOWN,
};

/** The errno of an NBD_E* value; an unknown value is EINVAL, as the spec says. */
export function errnoOfWire(code: number): Errno {
  return ERRNO_OF_WIRE[code] ?? ERRNO.EINVAL;
}

/** The server refused an option the client needed (or answered it in a way it must not). */
export class HandshakeError extends Error {
  /** The option, as the spec names it: "GO", "STARTTLS"… */
  readonly option: string;
  /** The reply type, as the spec names it: "ERR_UNKNOWN", "ERR_TLS_REQD"… */
  readonly reply: string;
  constructor(option: number, reply: number, message: string) {
    const optionName = nameOf(OPT, option);
    const replyName = nameOf(REP, reply);
    super(
      `Cannot negotiate: the server answered ${optionName} with ${replyName}` +
        (message === "" ? "" : `: ${message}`),
    );
    this.name = "HandshakeError";
    this.option = optionName;
    this.reply = replyName;
  }
}

/** The connection is gone: every request in flight, and every later one, fails with this. */
export class ConnectionClosedError extends Error {
  constructor(message = "Cannot send the request: the connection to the server is closed") {
    super(message);
    this.name = "ConnectionClosedError";
  }
}
