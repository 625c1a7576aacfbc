/**
 * Opens a URL in the system browser when there is one. Failure is silent:
 * the caller always prints the URL as well.
 *
 * @module
 */

/** The command that opens `url` on this OS, or `undefined` where no browser can be expected. */
export function browserCommand(
  url: string,
  os: typeof Deno.build.os = Deno.build.os,
  env: Record<string, string | undefined> = {},
): string[] | undefined {
  if (os === "darwin") return ["open", url];
  if (os === "windows") return ["rundll32", "url.dll,FileProtocolHandler", url];
  // A Linux server without a graphical session has no browser to open.
  if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return undefined;
  return ["xdg-open", url];
}

/** Tries to open `url`; returns whether an opener was started. Never throws. */
export function openBrowser(url: string, env: Record<string, string | undefined>): boolean {
  const command = browserCommand(url, Deno.build.os, env);
  if (command === undefined) return false;
  try {
    const child = new Deno.Command(command[0]!, {
      args: command.slice(1),
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.status.catch(() => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
