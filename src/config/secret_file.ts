/**
 * Secrets from files: every secret row of the settings table (`secret: true`)
 * also accepts `<NAME>_FILE`, the path of a file holding the value, as
 * systemd credentials (`LoadCredential=`, `$CREDENTIALS_DIRECTORY`), Docker
 * and Kubernetes secrets provide them. The file's content, one trailing
 * newline trimmed, is the value. A file that group or others may read is
 * refused: a secret is only as private as its file.
 *
 * @module
 */

/** The variable that names the file of secret `name`: `REDIS_PASSWORD` → `REDIS_PASSWORD_FILE`. */
export function secretFileVariable(name: string): string {
  return `${name}_FILE`;
}

/** What reading a secret file gave: the value, or the problem to report. */
export type SecretFileRead = { readonly value: string } | { readonly problem: string };

/**
 * Reads the secret of `name` from `path` (given by `<name>_FILE`); refuses a
 * file with any group or other permission bit, a missing file and a
 * directory, each with the fix.
 */
export function readSecretFile(name: string, path: string): SecretFileRead {
  const variable = secretFileVariable(name);
  let info: Deno.FileInfo;
  try {
    info = Deno.statSync(path);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
    return { problem: `${variable}=${path}: cannot read the file (${why})` };
  }
  if (!info.isFile) return { problem: `${variable}=${path}: not a regular file` };
  // Deno.FileInfo.mode is null on Windows, where POSIX bits do not apply.
  if (info.mode !== null && (info.mode & 0o077) !== 0) {
    const mode = (info.mode & 0o777).toString(8).padStart(3, "0");
    return {
      problem: `${variable}=${path} is readable by group or others (mode ${mode}): ` +
        `restrict it to its owner: chmod 600 ${path} (Kubernetes: defaultMode: 0400; ` +
        `Docker: mode: 0400)`,
    };
  }
  try {
    return { value: Deno.readTextFileSync(path).replace(/\r?\n$/, "") };
  } catch (error) {
    return { problem: `${variable}=${path}: cannot read the file (${String(error)})` };
  }
}
