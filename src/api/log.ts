/**
 * Error, verbose and debug messages, formatted like nbdkit's ("nbdts: memory[1]: error: …")
 * and written to a sink the runtime supplies (stderr). -v turns on debug messages.
 */

export const PROGRAM = "nbdts";

export class Log {
  verbose: boolean;
  private readonly sink: (line: string) => void;
  private readonly program: string;

  /** `program` starts each line: "nbdts", or "nbdkit" when the program answers as nbdkit. */
  constructor(sink: (line: string) => void, verbose = false, program = PROGRAM) {
    this.sink = sink;
    this.verbose = verbose;
    this.program = program;
  }

  /** Always printed: something failed. `where` is like "memory[3]" (plugin and connection). */
  error(where: string, message: string): void {
    this.sink(`${this.program}: ${where}: error: ${oneEnd(message)}\n`);
  }

  /** Printed only with -v. */
  debug(where: string, message: string): void {
    if (this.verbose) this.sink(`${this.program}: ${where}: debug: ${oneEnd(message)}\n`);
  }
}

/** A message without the line ends some carry (OpenSSL's), so each log line ends once. */
function oneEnd(message: string): string {
  return message.replace(/[\r\n]+$/, "");
}
