/**
 * Runs `deno task <name> …` from the repository root the way a person does in
 * a terminal: the task runner and the program it starts share one process
 * group (started with `setsid`, so the group id is the task runner's pid), and
 * a terminal's Ctrl-C is a SIGINT to that whole group.
 *
 * @module
 */

const ROOT = new URL("../../", import.meta.url).pathname;

/** Options of {@link spawnDenoTask}. */
export interface SpawnDenoTaskOptions {
  /** Environment added to the inherited one. */
  env?: Record<string, string>;
}

/** A running `deno task`, leader of its own process group. */
export interface DenoTask {
  readonly child: Deno.ChildProcess;
  /** Pid of the `deno task` process (also the process group id). */
  readonly pid: number;
  /** Ctrl-C on a terminal: `signal` to every process of the group. */
  signalGroup(signal: Deno.Signal): void;
  /** `kill -<signal> <pid>`: only the task runner receives it. */
  signalTask(signal: Deno.Signal): void;
  /** Exit status and decoded output, once the task ended. */
  output(): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** Starts `deno task <args>` in the repository root, in a new session and process group. */
export function spawnDenoTask(args: string[], options: SpawnDenoTaskOptions = {}): DenoTask {
  const child = new Deno.Command("setsid", {
    args: [Deno.execPath(), "task", ...args],
    cwd: ROOT,
    env: options.env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  const output = child.output().then((result) => ({
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  }));
  return {
    child,
    // `setsid` execs in place (a child of Deno is never a group leader), so
    // the task runner keeps setsid's pid, which is also the new group's id.
    pid: child.pid,
    signalGroup: (signal) => Deno.kill(-child.pid, signal),
    signalTask: (signal) => Deno.kill(child.pid, signal),
    output: () => output,
  };
}
