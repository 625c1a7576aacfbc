/**
 * Reads one layer-merged setting at a time (flags > environment > `.env` >
 * the row's default) and checks it by its row in the settings table,
 * recording problems instead of throwing so that one {@link ConfigError}
 * names them all.
 *
 * @module
 */

import { ConfigError } from "../errors.ts";
import { readSecretFile, secretFileVariable } from "./secret_file.ts";
import { type VariableName, type VariableSpec, variableSpec } from "./variables.ts";

/** Values by variable name; `undefined` means "not given here". */
export type Settings = Partial<Record<VariableName | string, string | undefined>>;

/** The layers the loader merges, highest priority first. */
export interface ConfigSources {
  /** From command-line flags, keyed by the variable they set. */
  flags?: Settings;
  /** The process environment. */
  env?: Settings;
  /** The `.env` file's contents. */
  dotenv?: Settings;
  /**
   * Settings this run cannot do without, each with the problem to report when
   * no layer gives it (e.g. `--username (or IMAP_USER) is required`), so it is
   * named together with every other problem.
   */
  required?: readonly { readonly name: VariableName; readonly problem: string }[];
}

/**
 * Highest database number accepted in `REDIS_URL`. Redis has 16 databases
 * (0..15) unless its `databases` setting says more; Redis Cluster has only 0.
 */
export const MAX_REDIS_DB = 15;

/** Reads settings and collects every problem; {@link throwIfProblems} ends the reading. */
export class SettingsReader {
  readonly #sources: ConfigSources;
  readonly #problems: string[] = [];
  /** Secrets already read (from their layer or their `_FILE`), so a file is read once. */
  readonly #secrets = new Map<string, string>();
  readonly #secretFiles = new Map<string, string>();

  constructor(sources: ConfigSources) {
    this.#sources = sources;
  }

  /** The merged raw value, or the variable's default. */
  raw(name: VariableName): string {
    if (variableSpec(name).secret === true) return this.#secret(name);
    for (const layer of [this.#sources.flags, this.#sources.env, this.#sources.dotenv]) {
      const value = layer?.[name];
      if (value !== undefined) return value;
    }
    return variableSpec(name).default;
  }

  /**
   * A secret row: the first layer that sets `NAME` or `NAME_FILE` (non-empty)
   * gives it; both in one layer is a problem, as the two may disagree.
   */
  #secret(name: VariableName): string {
    const known = this.#secrets.get(name);
    if (known !== undefined) return known;
    const fileVariable = secretFileVariable(name);
    let value = variableSpec(name).default;
    for (const layer of [this.#sources.flags, this.#sources.env, this.#sources.dotenv]) {
      const direct = layer?.[name];
      const file = layer?.[fileVariable]?.trim();
      if (file === undefined || file === "") {
        if (direct === undefined) continue;
        value = direct;
      } else if (direct !== undefined && direct.trim() !== "") {
        this.problem(`${name} and ${fileVariable} are both set: keep only one`);
      } else {
        const read = readSecretFile(name, file);
        if ("problem" in read) this.problem(read.problem);
        else value = read.value;
        this.#secretFiles.set(name, file);
      }
      break;
    }
    this.#secrets.set(name, value);
    return value;
  }

  /**
   * What a problem message names: the flag when the value came from it (with
   * the variable it sets, so either fix is findable), else the variable.
   */
  #subject(name: VariableName): { subject: string; note: string } {
    const flag = variableSpec(name).flag?.split(" ")[0];
    if (flag !== undefined && this.#sources.flags?.[name] !== undefined) {
      return { subject: flag, note: ` (${flag} sets ${name})` };
    }
    return { subject: name, note: "" };
  }

  /** The file a secret row was read from (its `_FILE` variable), when it was. */
  secretFile(name: VariableName): string | undefined {
    this.raw(name);
    return this.#secretFiles.get(name);
  }

  problem(message: string): void {
    this.#problems.push(message);
  }

  throwIfProblems(): void {
    for (const { name, problem } of this.#sources.required ?? []) {
      if (this.optional(name) === undefined) this.problem(problem);
    }
    if (this.#problems.length > 0) throw new ConfigError(this.#problems);
  }

  optional(name: VariableName): string | undefined {
    const value = this.raw(name).trim();
    return value === "" ? undefined : value;
  }

  text(name: VariableName): string {
    const value = this.optional(name);
    if (value === undefined) {
      const { subject } = this.#subject(name);
      this.problem(`${subject} must not be empty (default: ${variableSpec(name).default})`);
      return variableSpec(name).default;
    }
    return value;
  }

  /** A whole number within the row's bounds. */
  integer(name: VariableName): number {
    return this.#number(name, /^-?\d+$/, "a whole number");
  }

  /** A number of seconds (fractions allowed) within the row's bounds. */
  seconds(name: VariableName): number {
    return this.#number(name, /^-?\d+(\.\d+)?$/, "a number of seconds");
  }

  #number(name: VariableName, shape: RegExp, what: string): number {
    const spec = variableSpec(name);
    const min = spec.min ?? 0;
    const max = spec.max ?? Number.MAX_SAFE_INTEGER;
    const raw = this.raw(name).trim();
    const value = Number(raw);
    if (!shape.test(raw) || value < min || value > max) {
      const { subject, note } = this.#subject(name);
      this.problem(`${subject} must be ${what} ${range(spec)}: current value is "${raw}"${note}`);
      return Number(spec.default) || min;
    }
    return value;
  }

  boolean(name: VariableName): boolean {
    const raw = this.raw(name).trim().toLowerCase();
    if (["true", "1", "yes", "on"].includes(raw)) return true;
    if (["false", "0", "no", "off"].includes(raw)) return false;
    this.problem(`${name} must be true or false: current value is "${raw}"`);
    return true;
  }

  choice<T extends string>(name: VariableName, allowed: readonly T[]): T {
    const raw = this.raw(name).trim().toLowerCase();
    if ((allowed as readonly string[]).includes(raw)) return raw as T;
    const { subject, note } = this.#subject(name);
    this.problem(
      `${subject} must be one of ${allowed.join(", ")}: current value is "${raw}"${note}`,
    );
    return allowed[0] as T;
  }

  /** A comma-separated, non-empty subset of `allowed` (any order, repeats ignored). */
  subset<T extends string>(name: VariableName, allowed: readonly T[]): T[] {
    const items = this.raw(name).split(",").map((item) => item.trim().toLowerCase()).filter((
      item,
    ) => item);
    const bad = items.filter((item) => !(allowed as readonly string[]).includes(item));
    if (bad.length > 0 || items.length === 0) {
      const { subject, note } = this.#subject(name);
      this.problem(
        `${subject} must list some of ${
          allowed.join(", ")
        } separated by commas: current value is "${this.raw(name)}"${note}`,
      );
    }
    return [...new Set(items.filter((item) => !bad.includes(item)))] as T[];
  }

  /** A comma-separated list of environment variable names (may be empty). */
  names(name: VariableName): string[] {
    const items = this.raw(name).split(",").map((item) => item.trim()).filter((item) => item);
    const bad = items.filter((item) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(item));
    if (bad.length > 0) {
      this.problem(
        `${name} must list variable names separated by commas: not a name: ${bad.join(", ")}`,
      );
    }
    return items.filter((item) => !bad.includes(item));
  }

  list(name: VariableName): string[] {
    const items = this.raw(name).split(",").map((item) => item.trim()).filter((item) => item);
    if (items.length === 0) this.problem(`${name} must name at least one item`);
    return items;
  }

  httpUrl(name: VariableName): string {
    const raw = this.text(name);
    if (!isUrlWithProtocol(raw, ["http:", "https:"])) {
      this.problem(`${name} must be an http(s) URL: current value is "${raw}"`);
    }
    return raw;
  }

  redisUrl(name: VariableName): string | undefined {
    const raw = this.optional(name);
    if (raw !== undefined && !isUrlWithProtocol(raw, ["redis:", "rediss:"])) {
      this.problem(
        `${name} must be a redis:// or rediss:// URL (current value not shown: it may hold a password)`,
      );
    } else if (raw !== undefined) {
      // The path is the database number; anything else would fail later as an uncaught
      // "ERR invalid DB index" reply, or silently select database 0.
      const db = new URL(raw).pathname.slice(1);
      if (db !== "" && !(/^\d{1,5}$/.test(db) && Number(db) <= MAX_REDIS_DB)) {
        this.problem(
          `${name}: the path must be a database number 0..${MAX_REDIS_DB} (e.g. redis://host:6379/0): ` +
            `current path is "/${db.length > 40 ? `${db.slice(0, 40)}…` : db}"`,
        );
      }
    }
    return raw;
  }

  tokenKey(name: VariableName): string | undefined {
    const raw = this.optional(name);
    if (raw === undefined) return undefined;
    try {
      if (atob(raw).length === 32) return raw;
    } catch { /* reported below */ }
    this.problem(
      `${name} must be 32 random bytes in base64 (generate one: openssl rand -base64 32)`,
    );
    return undefined;
  }
}

/** The accepted range of a numeric row, as a message says it: `>= 1` or `1..1000`. */
export function range(spec: VariableSpec): string {
  const min = spec.min ?? 0;
  return spec.max === undefined ? `>= ${min}` : `${min}..${spec.max}`;
}

function isUrlWithProtocol(raw: string, protocols: string[]): boolean {
  try {
    return protocols.includes(new URL(raw).protocol);
  } catch {
    return false;
  }
}
