/** The program's name, the one place it is spelled: every message and help text takes it from here. */

/** What nbdkit calls `program_name`; printed before every error as `nbdts: …`. */
export const PROGRAM_NAME = "nbdts";

/** A user-facing error line, as nbdkit prints one to stderr: `nbdts: message`. */
export function errorLine(message: string): string {
  return `${PROGRAM_NAME}: ${message}`;
}
