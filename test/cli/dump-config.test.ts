/** --dump-config prints nbdkit's keys, sorted, with the nbdkit release nbdts behaves as. */

import { expect, test } from "vitest";
import { dumpConfigText } from "../../src/cli/dump-config.ts";

test("the keys are nbdkit's, sorted, plus runtime=", () => {
  expect(dumpConfigText("0.1.0", "node", false)).toBe(
    [
      "exit_with_parent=yes",
      "name=nbdts",
      "root_tls_certificates_dir=/etc/pki/nbdkit",
      "runtime=node",
      "selinux=no",
      "tls=no",
      "version=0.1.0",
      "version_major=1",
      "version_minor=32",
      "zstd=no",
      "",
    ].join("\n"),
  );
});

test("tls=yes when the runtime can serve TLS, as nbdkit built with GnuTLS says", () => {
  expect(dumpConfigText("0.1.0", "deno", true)).toContain("\ntls=yes\n");
});
