/**
 * Small pieces every command uses: result printing, confirmation, help examples.
 *
 * @module
 */

import type { App } from "../app.ts";
import { toJson } from "../output.ts";

/** Prints `json` as JSON when asked to, otherwise the human rendering. */
export function printResult(
  app: App,
  asJson: boolean | undefined,
  json: unknown,
  human: () => string,
): void {
  app.print(asJson ? toJson(json) : human());
}

/** Asks a yes/no question on the terminal; anything but y/yes is no. */
export async function confirm(app: App, question: string): Promise<boolean> {
  app.runtime.stderr(`${question} [y/N] `);
  const answer = await app.runtime.readLine();
  return /^(y|yes)$/i.test((answer ?? "").trim());
}

/** An "Examples:" help section. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join("\n")}\n`;
}

/**
 * The account flag, spelt the same on every command: `--account`, with the
 * seed's `--username` accepted as its alias (commander stores it as `account`).
 */
export const ACCOUNT_FLAGS = "--username, --account <email>" as const;
