/**
 * The nbd plugin's --help text, its parameters as nbdkit's nbd plugin lists them, and ours
 * (websocket-listen=, websocket-origin=).
 */

export const NBD_CONFIG_HELP = [
  "[uri=]<URI>            URI of an NBD server to connect to (nbd://, nbd+unix://, nbd+ws://).",
  "socket=<SOCKNAME>      The Unix socket to connect to.",
  "hostname=<HOST>        The hostname for the TCP socket to connect to.",
  "port=<PORT>            TCP port to use (default 10809).",
  "command=<COMMAND>      Command to run (given a socket by socket activation).",
  "arg=<ARG>              Parameters for command.",
  "websocket-listen=[HOST:]PORT  Wait for a server to dial in over a WebSocket (a web page).",
  "websocket-origin=<ORIGIN>     A web page's origin allowed to dial in (repeatable).",
  'export=<NAME>          Export name to connect to (default "").',
  "dynamic-export=<BOOL>  True to enable export name pass-through.",
  "retry=<N>              Retry connection up to N seconds (default 0).",
  "shared=<BOOL>          True to share one server connection among all clients,",
  "                       rather than a connection per client (default false).",
  "tls=<MODE>             How to use TLS; one of 'off', 'on', or 'require'.",
  "tls-certificates=<DIR> Directory containing files for X.509 certificates.",
  "tls-verify=<BOOL>      True (default for X.509) to validate server.",
  "tls-username=<NAME>    Override username presented in X.509 TLS.",
  "tls-psk=<FILE>         File containing Pre-Shared Key for TLS.",
].join("\n");
