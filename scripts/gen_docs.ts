/**
 * Regenerates `.env.example` and README's configuration table from the one
 * settings table in src/config/variables.ts. Run: `deno task docs`.
 *
 * @module
 */

import { range } from "../src/config/settings_reader.ts";
import { VARIABLES, type VariableSpec } from "../src/config/variables.ts";
import { withErrorCodeTable } from "./error_docs.ts";

const root = new URL("../", import.meta.url);

function envExample(): string {
  let text =
    "# ingest configuration. Copy to .env and adjust; the environment and flags override it.\n" +
    "# Generated from src/config/variables.ts by `deno task docs`.\n";
  let group = "";
  for (const variable of VARIABLES as readonly VariableSpec[]) {
    if (variable.group !== group) {
      group = variable.group;
      text += `\n# --- ${group} ---\n`;
    }
    text += `# ${variable.description}\n`;
    const line = `${variable.name}=${variable.default}`;
    text += variable.default === "" ? `# ${line}\n` : `${line}\n`;
    if (variable.secret === true) {
      text +=
        `# or: the file holding it (mode 600; systemd credentials, Docker/Kubernetes secrets)\n`;
      text += `# ${variable.name}_FILE=\n`;
    }
  }
  return text;
}

function configTable(): string {
  const rows = VARIABLES.map((v: VariableSpec) =>
    `| \`${v.name}\` | ${flagCell(v)} | ${v.group} | ${
      v.default === "" ? "(unset)" : `\`${v.default}\``
    } | ${meaning(v).replaceAll("|", "\\|")} |`
  );
  return ["| Variable | Flag | Group | Default | Meaning |", "|---|---|---|---|---|", ...rows]
    .join("\n");
}

/** The flag and the commands that have it, e.g. `` `--lease-ttl` (produce) ``. */
function flagCell(v: VariableSpec): string {
  if (v.flag === undefined) return "";
  const commands = v.commands?.length ? ` (${v.commands.join(", ")})` : "";
  return `\`${v.flag.split(" ")[0]}\`${commands}`;
}

/** The help sentence plus the bounds of a numeric row, or the `_FILE` form of a secret. */
function meaning(v: VariableSpec): string {
  if (v.secret === true) {
    return `${v.description} Secret: or \`${v.name}_FILE\`, a file holding it (mode 600).`;
  }
  if (v.kind === undefined) return v.description;
  const unit = v.kind === "seconds" ? "seconds" : "whole number";
  return `${v.description} Accepted: ${unit} ${range(v)}.`;
}

await Deno.writeTextFile(new URL(".env.example", root), envExample());
const readmeUrl = new URL("README.md", root);
const readme = await Deno.readTextFile(readmeUrl);
const updated = readme.replace(
  /<!-- config:start -->[\s\S]*<!-- config:end -->/,
  `<!-- config:start -->\n${configTable()}\n<!-- config:end -->`,
);
await Deno.writeTextFile(readmeUrl, updated);
// Keep the README as `deno fmt` writes it (aligned table columns), so `deno task ok` stays clean.
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", readmeUrl.pathname] }).output();
console.log("wrote .env.example and README.md's configuration table");

// docs/ERRORS.md's table of error codes, from ERROR_CODES in src/errors.ts.
const errorsUrl = new URL("docs/ERRORS.md", root);
await Deno.writeTextFile(errorsUrl, withErrorCodeTable(await Deno.readTextFile(errorsUrl)));
await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", errorsUrl.pathname] }).output();
console.log("wrote docs/ERRORS.md's table of error codes");
