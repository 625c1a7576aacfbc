/**
 * Command-line flags built from rows of the settings table
 * (src/config/variables.ts): the flag, its help and its default are written
 * once, in the row; a flag's value is handed to the loader as the setting it
 * overrides, so flags, environment and `.env` are validated together.
 *
 * @module
 */

import { Option } from "@commander-js/extra-typings";
import type { Settings } from "../src/config/config.ts";
import { VARIABLES, variableSpec } from "../src/config/variables.ts";

type Row = (typeof VARIABLES)[number];

/** A setting that has a command-line flag. */
export type FlagSetting = Extract<Row, { flag: string }>["name"];

/** The commander usage of a setting's flag, e.g. `"--lease-ttl <seconds>"`. */
type FlagOf<N extends FlagSetting> = Extract<Row, { name: N }> extends
  { flag: infer F extends string } ? F : never;

/**
 * The flag of setting `name`, with the row's help and the default the loader
 * applies (commander itself gets no default: an absent flag leaves the value
 * to the environment, `.env` or the row).
 */
export function settingOption<N extends FlagSetting>(name: N, help?: string): Option<FlagOf<N>> {
  const spec = variableSpec(name);
  const fallback = spec.default === "" ? "unset" : spec.default;
  const text = `${help ?? lowerFirst(spec.description)} (default: ${name} or ${fallback})`;
  // The cast restores the literal usage string, so commander's typed options
  // know the option's attribute name (e.g. `leaseTtl`).
  return new Option(spec.flag!, text) as unknown as Option<FlagOf<N>>;
}

/** The attribute commander stores a flag under: `--lease-ttl <seconds>` → `leaseTtl`. */
export function flagAttribute(name: FlagSetting): string {
  const long = variableSpec(name).flag!.split(" ")[0]!.replace(/^--/, "");
  return long.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());
}

/** The settings layer of the flags `names` as parsed into `options`. */
export function flagSettings(options: object, names: readonly FlagSetting[]): Settings {
  const values = options as Record<string, unknown>;
  const settings: Settings = {};
  for (const name of names) {
    const value = values[flagAttribute(name)];
    if (typeof value === "string") settings[name] = value;
  }
  return settings;
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1).replace(/\.$/, "");
}

/** Every flag setting (for tests and docs). */
export const FLAG_SETTINGS: readonly FlagSetting[] = VARIABLES.flatMap((row) =>
  "flag" in row ? [row.name as FlagSetting] : []
);
