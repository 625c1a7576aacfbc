/**
 * `ingest doctor`: checks everything a production run depends on and says
 * how to fix what is wrong.
 *
 * @module
 */

import { Command } from "@commander-js/extra-typings";
import type { DoctorReport } from "../../src/doctor/doctor.ts";
import type { App } from "../app.ts";
import { flagSettings, settingOption } from "../setting_option.ts";
import { table } from "../output.ts";
import { examples, printResult } from "./common.ts";

/** The stable `--json` document. */
export function doctorJson(report: DoctorReport): Record<string, unknown> {
  return {
    ok: report.ok,
    summary: report.summary,
    checks: report.checks.map((check) => ({
      name: check.name,
      status: check.status,
      detail: check.detail,
      fix: check.fix ?? null,
    })),
  };
}

const LABEL = { pass: "ok", warn: "WARN", fail: "FAIL", skip: "skip" } as const;

/** The human report: a table, then the fixes of failures and warnings. */
export function doctorText(report: DoctorReport): string {
  const rows = report.checks.map((check) => [LABEL[check.status], check.name, check.detail]);
  let text = table(["STATUS", "CHECK", "DETAIL"], rows);
  const fixes = report.checks.filter((c) => c.fix !== undefined && c.status !== "pass");
  if (fixes.length > 0) {
    text += "\nHow to fix:\n" +
      fixes.map((c) => `  ${LABEL[c.status]} ${c.name}: ${c.fix}`).join("\n") + "\n";
  }
  const { pass, warn, fail, skip } = report.summary;
  text += `\n${pass} passed, ${warn} warning${
    warn === 1 ? "" : "s"
  }, ${fail} failed, ${skip} skipped: ${report.ok ? "ready" : "NOT ready"}\n`;
  return text;
}

/** Builds the `doctor` command. */
export function doctorCommand(app: App): Command {
  return new Command("doctor")
    .description("Check Redis, IMAP, the OAuth2 token and the clock; exit 1 when a check fails")
    .option("--json", "print JSON")
    .addOption(settingOption("DOCTOR_TIMEOUT_SECONDS"))
    .addOption(settingOption("GROUP_ORPHAN_SECONDS"))
    .addHelpText(
      "after",
      examples(
        "ingest doctor",
        "ingest doctor --json | jq '.checks[] | select(.status != \"pass\")'",
      ) +
        "\nChecks: Redis reachable, version (>= 6.2), AOF persistence, maxmemory-policy noeviction,\n" +
        "TLS, clock skew; consumer groups without active consumers; OAuth2 token file, permissions, decryption, refresh and expiry;\n" +
        "IMAP reachable, login, IDLE/CONDSTORE/X-GM-EXT-1 and the configured mailboxes.\n" +
        "Exit codes: 0 every required check passed (warnings allowed), 1 a check failed,\n" +
        "2 usage or configuration error.\n",
    )
    .action(async (options) => {
      // The checks (Redis, IMAP, OAuth2) load only when doctor runs, not for --help.
      const { runDoctor } = await import("../../src/doctor/doctor.ts");
      const { doctorTokenStore } = await import("./token_store_choice.ts");
      const config = await app.config(
        flagSettings(options, ["DOCTOR_TIMEOUT_SECONDS", "GROUP_ORPHAN_SECONDS"]),
      );
      const report = await runDoctor(config, {
        logger: app.logger(config),
        timeoutMs: Math.round(config.doctor.timeoutSeconds * 1000),
        tokenStore: await doctorTokenStore(app, config),
      });
      printResult(app, options.json, doctorJson(report), () => doctorText(report));
      if (!report.ok) app.exitCode = 1;
    });
}
