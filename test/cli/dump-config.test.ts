/** --dump-config prints nbdkit's keys, sorted, for the identity the program answers as. */

import { expect, test } from "vitest";
import { dumpConfigText } from "../../src/cli/dump-config.ts";
import { identify } from "../../src/cli/program-name.ts";

test("as nbdts: the keys are nbdkit's, sorted, with nbdts's version and runtime=", () => {
  expect(dumpConfigText(identify("/opt/nbdts/nbd.js", "/"), "node", false)).toBe(
    [
      "bindir=/opt/nbdts",
      "exit_with_parent=yes",
      "name=nbdts",
      "nbdkit_version=1.32.5",
      "nbdts_version=0.1.0",
      "root_tls_certificates_dir=/etc/pki/nbdkit",
      "runtime=node",
      "selinux=no",
      "tls=no",
      "version=0.1.0",
      "version_major=0",
      "version_minor=1",
      "zstd=no",
      "",
    ].join("\n"),
  );
});

test("as nbdkit: name, version and its parts are nbdkit 1.32.5's, bindir the command's", () => {
  const text = dumpConfigText(identify("/usr/local/bin/nbdkit", "/"), "bun", true);
  expect(text).toContain("\nname=nbdkit\n");
  expect(text).toContain("\nversion=1.32.5\nversion_major=1\nversion_minor=32\n");
  expect(text).toContain("\nnbdts_version=0.1.0\n");
  expect(text.startsWith("bindir=/usr/local/bin\n")).toBe(true);
});

test("tls=yes when the runtime can serve TLS, as nbdkit built with GnuTLS says", () => {
  expect(dumpConfigText(identify("nbd.ts", "/src"), "deno", true)).toContain("\ntls=yes\n");
});
