import { describe, expect, test } from "vitest";
import {
  dumpPluginLines,
  dumpPluginText,
  longOptionsLines,
  pluginCallbacks,
  pluginHelpText,
  shortOptionsLines,
  usageText,
  versionText,
} from "../../src/cli/help.ts";
import { OPTIONS } from "../../src/cli/options.ts";
import { type Plugin, THREAD_MODEL } from "../../src/api/plugin.ts";

describe("usageText", () => {
  const usage = usageText();

  test("names nbdts, not nbdkit, in every synopsis line", () => {
    expect(usage.startsWith("nbdts [")).toBe(true);
    expect(usage).toContain("\nnbdts --help\n");
    expect(usage).toContain("\nnbdts [-V|--version]\n");
    expect(usage).toContain("PLUGIN [[KEY=]VALUE [KEY=VALUE [...]]]");
    expect(usage.endsWith("\n")).toBe(true);
  });

  test("started as nbdkit, every synopsis line names nbdkit", () => {
    const asNbdkit = usageText("nbdkit");
    expect(asNbdkit.startsWith("nbdkit [")).toBe(true);
    expect(asNbdkit).toContain("\nnbdkit --dump-config\n");
    expect(asNbdkit).toContain("\n       [--exit-with-parent]");
  });

  test("lists the options nbdts reads, short and long", () => {
    for (
      const form of [
        "-U|--unix SOCKET|-",
        "-p|--port PORT",
        "-i|--ipaddr IPADDR",
        "-r|--readonly",
        "-e|--exportname EXPORTNAME",
        "-P|--pidfile PIDFILE",
        "-f|--foreground",
        "--run 'COMMAND ARGS ...'",
        "-s|--single",
        "-v|--verbose",
        "-D|--debug",
        "--no-sr",
        "--dump-plugin",
        "--exit-with-parent",
        "--print-uri",
        "-t|--threads THREADS",
        "-n|--newstyle",
        "--log=stderr|syslog|null",
        "--mask-handshake=MASK",
        "--filter=FILTER",
        "--tls=off|on|require",
        "--tls-certificates",
        "--tls-psk",
        "--tls-verify-peer",
      ]
    ) {
      expect(usage, form).toContain(form);
    }
  });

  test("offers oldstyle as nbdkit does", () => {
    expect(usage).toContain("[-o|--oldstyle]");
  });
});

describe("versionText", () => {
  test("our name and version, then the plugin's as nbdkit prints them", () => {
    expect(versionText("nbdts 0.1.0")).toBe("nbdts 0.1.0\n");
    expect(versionText("nbdts 0.1.0", { name: "memory", version: "0.1.0" })).toBe(
      "nbdts 0.1.0\nmemory 0.1.0\n",
    );
    expect(versionText("nbdts 0.1.0", { name: "mine" })).toBe("nbdts 0.1.0\nmine\n");
  });

  test("with filters, each filter's line comes first, outermost first, then the plugin's", () => {
    const layers = [{ name: "ip", version: "0.1.0" }, { name: "limit" }, { name: "memory" }];
    expect(versionText("nbdts 0.1.0", ...layers)).toBe("nbdts 0.1.0\nip 0.1.0\nlimit\nmemory\n");
  });
});

describe("pluginHelpText", () => {
  test("title, path, then description and config help, each ending its line", () => {
    const memory = {
      name: "memory",
      configHelp: "size=<SIZE>  (required) Size of the backing disk",
    };
    expect(pluginHelpText(memory, "built-in")).toBe(
      "plugin: memory\n(built-in)\nsize=<SIZE>  (required) Size of the backing disk\n",
    );
    expect(pluginHelpText({ name: "x", longname: "X disk", description: "Says x.\n" }, "./x.ts"))
      .toBe("plugin: x (X disk)\n(./x.ts)\nSays x.\n");
    expect(pluginHelpText({ name: "x" })).toBe("plugin: x\n");
  });

  test("a filter's help has the same shape, titled filter: (nbdkit's filter_usage)", () => {
    expect(
      pluginHelpText({ name: "ip", longname: "ip filter", configHelp: "allow=…" }, "ip", "filter"),
    )
      .toBe("filter: ip (ip filter)\n(ip)\nallow=…\n");
  });
});

describe("dumpPluginLines", () => {
  test("mirrors `nbdkit memory --dump-plugin` for the fields nbdts has", () => {
    const lines = dumpPluginLines({
      path: "/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-memory-plugin.so",
      name: "memory",
      version: "1.32.5",
      apiVersion: 2,
      maxThreadModel: THREAD_MODEL.PARALLEL,
      threadModel: THREAD_MODEL.PARALLEL,
      errnoIsPreserved: true,
      magicConfigKey: "size",
      // deliberately out of order: output follows nbdkit's order
      callbacks: ["extents", "pread", "open", "config", "unload", "get_size", "zero", "flush"],
      extra: ["mlock=yes"],
    });
    expect(lines).toEqual([
      "path=/usr/lib/x86_64-linux-gnu/nbdkit/plugins/nbdkit-memory-plugin.so",
      "name=memory",
      "version=1.32.5",
      "api_version=2",
      "max_thread_model=parallel",
      "thread_model=parallel",
      "errno_is_preserved=1",
      "magic_config_key=size",
      "has_unload=1",
      "has_config=1",
      "has_open=1",
      "has_get_size=1",
      "has_pread=1",
      "has_flush=1",
      "has_zero=1",
      "has_extents=1",
      "mlock=yes",
    ]);
  });

  test("leaves out what it is not given and names every thread model", () => {
    expect(dumpPluginLines({ path: "p", name: "n" })).toEqual(["path=p", "name=n"]);
    expect(dumpPluginLines({ path: "p", name: "n", threadModel: 0 })).toContain(
      "thread_model=serialize_connections",
    );
    expect(dumpPluginLines({ path: "p", name: "n", threadModel: 1 })).toContain(
      "thread_model=serialize_all_requests",
    );
    expect(dumpPluginLines({ path: "p", name: "n", threadModel: 2 })).toContain(
      "thread_model=serialize_requests",
    );
  });
});

describe("--long-options and --short-options", () => {
  test("long options are nbdkit 1.32.5's list plus --print-uri, --no-extended-headers and the --websocket ones", () => {
    const nbdkit = (
      "--ipv4-only --ipv6-only --debug --dump-config --dump-plugin --exit-with-parent --export " +
      "--export-name --exportname --filter --foreground --no-fork --group --help --ip-addr " +
      "--ipaddr --log --mask-handshake --new-style --newstyle --no-sr --old-style --oldstyle " +
      "--pid-file --pidfile --port --read-only --readonly --run --selinux-label --single " +
      "--stdin --swap --threads --tls --tls-certificates --tls-psk --tls-verify-peer --unix " +
      "--user --verbose --version --vsock"
    ).split(" ");
    const ours = [
      "--no-extended-headers",
      "--print-uri",
      "--websocket",
      "--websocket-origin",
      "--websocket-host",
    ];
    expect(longOptionsLines().filter((name) => !ours.includes(name))).toEqual(nbdkit);
    expect(longOptionsLines()).toEqual(expect.arrayContaining(ours));
  });

  test("short options are nbdkit's, in its order, and match the option table", () => {
    const lines = shortOptionsLines();
    expect(lines.join(" ")).toBe("-4 -6 -D -e -f -g -i -n -o -p -P -r -s -t -u -U -v -V");
    const fromTable = OPTIONS.flatMap((option) => "short" in option ? [`-${option.short}`] : []);
    expect([...lines].sort()).toEqual([...fromTable].sort());
  });
});

describe("dumpPluginText", () => {
  const plugin: Plugin = {
    name: "memory",
    version: "0.1.0",
    magicConfigKey: "size",
    configHelp: "size=<SIZE>",
    config() {},
    configComplete() {},
    dumpPlugin: () => "mlock=no\nzstd=no\n",
    open: () => ({ getSize: () => 0, readAt() {} }),
  };

  test("pluginCallbacks names what the plugin has, and the required handle callbacks", () => {
    expect(pluginCallbacks(plugin)).toEqual([
      "dump_plugin",
      "config",
      "config_complete",
      "config_help",
      "open",
      "get_size",
      "pread",
    ]);
  });

  test("with one of its handles, the handle's callbacks too, by nbdkit's names", () => {
    const handle = { getSize: () => 0, readAt() {}, writeAt() {}, canFua: () => true, close() {} };
    expect(pluginCallbacks(plugin, handle)).toEqual([
      "dump_plugin",
      "config",
      "config_complete",
      "config_help",
      "open",
      "close",
      "get_size",
      "can_fua",
      "pread",
      "pwrite",
    ]);
  });

  test("prints nbdkit's fields, then the plugin's own lines", async () => {
    expect(await dumpPluginText(plugin, "built-in")).toBe(
      [
        "path=built-in",
        "name=memory",
        "version=0.1.0",
        "api_version=2",
        "max_thread_model=parallel",
        "thread_model=parallel",
        "magic_config_key=size",
        "has_dump_plugin=1",
        "has_config=1",
        "has_config_complete=1",
        "has_config_help=1",
        "has_open=1",
        "has_get_size=1",
        "has_pread=1",
        "mlock=no",
        "zstd=no",
        "",
      ].join("\n"),
    );
  });

  test("a plugin's thread model shows as thread_model; array lines pass through", async () => {
    const text = await dumpPluginText(
      { ...plugin, threadModel: () => THREAD_MODEL.SERIALIZE_REQUESTS, dumpPlugin: () => ["a=1"] },
      "p",
    );
    expect(text).toContain("\nthread_model=serialize_requests\n");
    expect(text).toContain("\nhas_thread_model=1\n");
    expect(text.endsWith("\na=1\n")).toBe(true);
  });

  test("with filters the fields are still the plugin's, but thread_model is the stack's", async () => {
    const stack = { ...plugin, threadModel: () => THREAD_MODEL.SERIALIZE_CONNECTIONS };
    const text = await dumpPluginText(plugin, "built-in", stack);
    expect(text).toContain("\nmax_thread_model=parallel\nthread_model=serialize_connections\n");
    expect(text).not.toContain("has_thread_model");
  });
});
