/**
 * Every member of a Plugin and of a Handle by name, the callbacks each with nbdkit's name for it
 * (the C field that `nbdkit --dump-plugin` reports as `has_NAME=1`), in the order nbdkit reports
 * them (server/plugins.c, plugin_dump_fields): the plugin's callbacks, then the handle's. The
 * server reads these lists to print --dump-plugin and to tell a typo from an author's own member.
 */

import type { Handle, Plugin } from "./plugin.ts";

/** The plugin's callbacks (and text fields nbdkit counts among them), nbdkit's name for each. */
export const PLUGIN_CALLBACKS = {
  longname: "longname",
  description: "description",
  load: "load",
  unload: "unload",
  dumpPlugin: "dump_plugin",
  config: "config",
  configComplete: "config_complete",
  configHelp: "config_help",
  threadModel: "thread_model",
  getReady: "get_ready",
  afterFork: "after_fork",
  cleanup: "cleanup",
  preconnect: "preconnect",
  listExports: "list_exports",
  defaultExport: "default_export",
  open: "open",
} as const satisfies Partial<Record<keyof Plugin, string>>;

/** The handle's callbacks, nbdkit's name for each (nbdkit keeps them on its plugin struct). */
export const HANDLE_CALLBACKS = {
  close: "close",
  exportDescription: "export_description",
  getSize: "get_size",
  blockSize: "block_size",
  canWrite: "can_write",
  canFlush: "can_flush",
  isRotational: "is_rotational",
  canTrim: "can_trim",
  canZero: "can_zero",
  canFastZero: "can_fast_zero",
  canExtents: "can_extents",
  canFua: "can_fua",
  canMultiConn: "can_multi_conn",
  canCache: "can_cache",
  readAt: "pread",
  writeAt: "pwrite",
  flush: "flush",
  trim: "trim",
  zero: "zero",
  extents: "extents",
  cache: "cache",
} as const satisfies Partial<Record<keyof Handle, string>>;

/** Plugin members that are values, not callbacks (longname, description: see above). */
export const PLUGIN_VALUES = ["name", "version", "magicConfigKey", "debugFlags"] as const;

/** Handle members nbdkit has no counterpart for. */
export const HANDLE_EXTRAS = ["payloadBuffer", "readViews", "largeCounts"] as const;

/** The text members among PLUGIN_CALLBACKS: strings in our API, callbacks in nbdkit's. */
export const PLUGIN_TEXTS = ["longname", "description", "configHelp"] as const;

/** Plugin members these lists leave out: `never`, or a member was added to Plugin alone. */
export type UnlistedPluginMember = Exclude<
  keyof Plugin,
  keyof typeof PLUGIN_CALLBACKS | (typeof PLUGIN_VALUES)[number]
>;

/** Handle members these lists leave out: `never`, or a method was added to Handle alone. */
export type UnlistedHandleMember = Exclude<
  keyof Handle,
  keyof typeof HANDLE_CALLBACKS | (typeof HANDLE_EXTRAS)[number]
>;

/** nbdkit's name of a callback, as has_NAME says it. */
export type NbdkitCallbackName =
  | (typeof PLUGIN_CALLBACKS)[keyof typeof PLUGIN_CALLBACKS]
  | (typeof HANDLE_CALLBACKS)[keyof typeof HANDLE_CALLBACKS];
