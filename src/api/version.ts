/** The version of nbdts, reported by --version and by the built-in plugins. */
export const VERSION = "0.1.0";
