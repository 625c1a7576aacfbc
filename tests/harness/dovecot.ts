/**
 * A throwaway Dovecot 2.3 IMAP server for integration tests: generated
 * configuration in a temporary directory, plaintext IMAP on an ephemeral
 * 127.0.0.1 port, maildir storage owned by an unprivileged user, a
 * passwd-file passdb for password logins and, on request, an `oauth2` passdb
 * that validates XOAUTH2/OAUTHBEARER tokens against a local introspection URL.
 * It can be stopped and started again on the same port (IMAP restart tests)
 * and its directory is always removed on dispose.
 *
 * @module
 */

import { ImapFlow } from "imapflow";
import { freePort, waitForPort } from "./ports.ts";
import { makeCertificates } from "./tls_certificates.ts";

/** A mailbox account of the test server. */
export interface DovecotUser {
  user: string;
  password: string;
}

/** Options of {@link startDovecot}. */
export interface DovecotOptions {
  /** Accounts; default `[{ user: "alice@example.test", password: "secret" }]`. */
  users?: DovecotUser[];
  /**
   * Enables XOAUTH2 and OAUTHBEARER through an `oauth2` passdb. Dovecot sends
   * `GET <introspectionUrl>?access_token=<token>` (the token is appended to the
   * URL, so a query separator is added when the URL has none) and accepts the
   * token when the JSON answer has `"active": true` and an `email` equal to the
   * login name.
   */
  oauth2?: { introspectionUrl: string };
  /**
   * Replaces the CAPABILITY list the server announces (`imap_capability`),
   * e.g. to act as a server without CONDSTORE/QRESYNC. Default: Dovecot's own.
   */
  capability?: string;
  /**
   * Serves IMAP over TLS only (implicit TLS, as Gmail's port 993), with a
   * throwaway CA and a certificate for 127.0.0.1 (`tls_certificates.ts`):
   * {@link Dovecot.ca} is the CA to trust.
   */
  tls?: boolean;
}

/** Options of {@link Dovecot.append}. */
export interface AppendOptions {
  /** IMAP flags, e.g. `["\\Seen"]`. */
  flags?: string[];
  internalDate?: Date;
}

/** A running test Dovecot. */
export interface Dovecot extends AsyncDisposable {
  readonly host: "127.0.0.1";
  readonly port: number;
  /** Temporary directory holding configuration, logs, state and mail. */
  readonly dir: string;
  readonly users: DovecotUser[];
  /** With {@link DovecotOptions.tls}: the PEM of the CA that signed the server's certificate. */
  readonly ca?: string;
  /** Stops every process of this server (mail is kept). */
  stop(): Promise<void>;
  /** Starts it again on the same port (after {@link Dovecot.stop}). */
  start(): Promise<void>;
  /** Appends a message by IMAP APPEND and returns its UID and the mailbox UIDVALIDITY. */
  append(
    user: string,
    mailbox: string,
    raw: string | Uint8Array,
    options?: AppendOptions,
  ): Promise<{ uid: number; uidValidity: number }>;
  createMailbox(user: string, path: string): Promise<void>;
  deleteMailbox(user: string, path: string): Promise<void>;
  /**
   * Disconnects every IMAP session of `user` (`doveadm kick`) and waits until
   * their processes are gone. After a DELETE, this keeps a session that still
   * had the mailbox open from writing its old index (UIDVALIDITY, next UID)
   * into a mailbox of the same name created next.
   */
  kick(user: string): Promise<void>;
  /** How many IMAP sessions `user` has open now (`doveadm who`). */
  sessions(user: string): Promise<number>;
  /** A new logged-in imapflow client (password login, no logging); the caller logs out. */
  client(user: string): Promise<ImapFlow>;
  /**
   * Bulk-seeds a mailbox by writing message files straight into its maildir
   * (`new/`), then lets Dovecot index them. Much faster than APPEND; meant for
   * benchmarks. Returns the number of messages written.
   */
  seedMaildir(
    user: string,
    mailbox: string,
    messages: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<number>;
  /** The server log so far (for failure messages). */
  log(): Promise<string>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

const DEFAULT_USERS: DovecotUser[] = [{ user: "alice@example.test", password: "secret" }];

/**
 * `count` password users for fleet tests and benchmarks:
 * `user000@fleet.test` … with passwords `pw-000` …; pass them as
 * {@link DovecotOptions.users}.
 */
export function numberedUsers(count: number, domain = "fleet.test"): DovecotUser[] {
  const width = Math.max(3, String(count - 1).length);
  return Array.from({ length: count }, (_, i) => {
    const n = String(i).padStart(width, "0");
    return { user: `user${n}@${domain}`, password: `pw-${n}` };
  });
}

/** The unprivileged account that owns the mail: Dovecot refuses uid 0 for mail processes. */
const MAIL_OWNER = "nobody";

interface Account {
  uid: number;
  gid: number;
  group: string;
}

/** Looks an account up in /etc/passwd and its primary group in /etc/group. */
async function lookupAccount(name: string): Promise<Account> {
  const passwd = await Deno.readTextFile("/etc/passwd");
  const row = passwd.split("\n").map((line) => line.split(":")).find((f) => f[0] === name);
  if (!row) throw new Error(`Cannot start Dovecot: system user ${name} does not exist`);
  const uid = Number(row[2]);
  const gid = Number(row[3]);
  const groups = await Deno.readTextFile("/etc/group");
  const groupRow = groups.split("\n").map((line) => line.split(":")).find((f) =>
    Number(f[2]) === gid
  );
  return { uid, gid, group: groupRow?.[0] ?? String(gid) };
}

/** Renders dovecot.conf. */
function renderConfig(dir: string, port: number, owner: Account, options: DovecotOptions): string {
  const oauth2 = options.oauth2 !== undefined;
  return `# Generated by tests/harness/dovecot.ts
protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
instance_name = ingest-test-${port}
default_internal_user = dovecot
default_login_user = dovenull
${
    options.tls
      ? `ssl = required\nssl_cert = <${dir}/server.pem\nssl_key = <${dir}/server.key`
      : "ssl = no"
  }
disable_plaintext_auth = no
auth_mechanisms = plain login${oauth2 ? " xoauth2 oauthbearer" : ""}
auth_failure_delay = 0
auth_cache_size = 0
first_valid_uid = 1
mail_location = maildir:~/Maildir
mail_fsync = never
maildir_very_dirty_syncs = no
mailbox_idle_check_interval = 1 secs
imap_idle_notify_interval = 1 secs
imap_hibernate_timeout = 0
mail_max_userip_connections = 1000
login_trusted_networks = 127.0.0.0/8
${options.capability ? `imap_capability = ${options.capability}\n` : ""}
namespace inbox {
  inbox = yes
  separator = /
}

passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
  mechanisms = plain login
}
${
    oauth2
      ? `passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = ${dir}/dovecot-oauth2.conf.ext
}
`
      : ""
  }
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u
}

service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${options.tls ? 0 : port}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${options.tls ? port : 0}
    ssl = yes
  }
}
service imap {
  process_limit = 1024
}
# Without this socket the auth process disables its failure penalty (up to 15 s
# per login after failed ones from the same IP), which would slow negative tests.
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
`;
}

/** Renders the oauth2 passdb settings. */
function renderOauth2Config(introspectionUrl: string): string {
  // In "get" mode Dovecot 2.3 appends the (escaped) token to introspection_url.
  const separator = introspectionUrl.includes("?") ? "&" : "?";
  return `introspection_mode = get
introspection_url = ${introspectionUrl}${separator}access_token=
username_attribute = email
active_attribute = active
active_value = true
force_introspection = yes
timeout_msecs = 5000
`;
}

/** Maildir++ directory of a mailbox (separator `/` in IMAP, `.` on disk). */
function maildirOf(home: string, mailbox: string): string {
  if (mailbox.toUpperCase() === "INBOX") return `${home}/Maildir`;
  return `${home}/Maildir/.${mailbox.split("/").join(".")}`;
}

/** Every descendant of `pid` (read from /proc). */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for await (const entry of Deno.readDir("/proc")) {
    const child = Number(entry.name);
    if (!Number.isInteger(child)) continue;
    try {
      const stat = await Deno.readTextFile(`/proc/${child}/stat`);
      // The command name may hold spaces; fields after ") " are fixed.
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = parents.get(parent) ?? [];
      list.push(child);
      parents.set(parent, list);
    } catch { /* process gone */ }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    for (const child of parents.get(next) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

async function waitUntilGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
    alive = alive.filter(isAlive);
  }
  return alive;
}

/**
 * Waits for the IMAP greeting: the master accepts connections before its login
 * and auth processes are ready, and stopping it in that window takes seconds.
 */
async function waitForGreeting(port: number, timeoutMs: number, ca?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const conn = ca === undefined
      ? await Deno.connect({ hostname: "127.0.0.1", port })
      : await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
    try {
      const buffer = new Uint8Array(512);
      const read = await conn.read(buffer);
      const greeting = new TextDecoder().decode(buffer.subarray(0, read ?? 0));
      if (greeting.startsWith("* OK")) {
        await conn.write(new TextEncoder().encode("a LOGOUT\r\n"));
        return;
      }
      if (Date.now() > deadline) {
        throw new Error(`no IMAP greeting, got ${JSON.stringify(greeting)}`);
      }
    } finally {
      conn.close();
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Starts a private Dovecot. */
export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  const users = options.users ?? DEFAULT_USERS;
  const owner = await lookupAccount(MAIL_OWNER);
  const port = freePort();
  const dir = await Deno.makeTempDir({ prefix: "ingest-dovecot-" });
  // Login and auth processes run as dovenull/dovecot and must reach into the directory.
  await Deno.chmod(dir, 0o755);
  const confPath = `${dir}/dovecot.conf`;
  const logPath = `${dir}/dovecot.log`;
  await Deno.mkdir(`${dir}/mail`);
  await Deno.chown(`${dir}/mail`, owner.uid, owner.gid);
  await Deno.writeTextFile(
    `${dir}/passwd`,
    users.map((u) => `${u.user}:{PLAIN}${u.password}::::::\n`).join(""),
    { mode: 0o644 },
  );
  if (options.oauth2) {
    await Deno.writeTextFile(
      `${dir}/dovecot-oauth2.conf.ext`,
      renderOauth2Config(options.oauth2.introspectionUrl),
      { mode: 0o644 },
    );
  }
  if (options.tls) await makeCertificates(dir);
  const ca = options.tls ? await Deno.readTextFile(`${dir}/ca.pem`) : undefined;
  await Deno.writeTextFile(confPath, renderConfig(dir, port, owner, options));

  let master: Deno.ChildProcess | undefined;
  const clients = new Map<string, ImapFlow>();

  async function log(): Promise<string> {
    return await Deno.readTextFile(logPath).catch(() => "");
  }

  async function start(): Promise<void> {
    if (master) return;
    const child = new Deno.Command("/usr/sbin/dovecot", {
      args: ["-F", "-c", confPath],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const output = child.output();
    master = child;
    const exited = output.then((out) => {
      const decoder = new TextDecoder();
      return `exit code ${out.code}\n${decoder.decode(out.stdout)}${decoder.decode(out.stderr)}`;
    });
    const ready = waitForPort(port, 15_000).then(() => waitForGreeting(port, 15_000, ca)).then(() =>
      null
    );
    const outcome = await Promise.race([ready, exited]).catch((error: Error) => error.message);
    if (outcome !== null) {
      await stop();
      throw new Error(
        `Dovecot did not start on 127.0.0.1:${port}: ${outcome}\n--- ${logPath} ---\n${await log()}`,
      );
    }
  }

  async function closeClients(): Promise<void> {
    const open = [...clients.values()];
    clients.clear();
    await Promise.all(open.map((c) => c.logout().catch(() => c.close())));
  }

  async function stop(): Promise<void> {
    await closeClients();
    if (!master) return;
    const running = master;
    master = undefined;
    const children = await descendants(running.pid);
    try {
      running.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        running.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 5_000);
    await running.status;
    clearTimeout(timer);
    // The master asks its children to stop but may exit before they have.
    const left = await waitUntilGone(children, 5_000);
    for (const pid of left) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
    await waitUntilGone(left, 2_000);
  }

  function passwordOf(user: string): string {
    const account = users.find((u) => u.user === user);
    if (!account) throw new Error(`Cannot log in: ${user} is not a user of this Dovecot`);
    return account.password;
  }

  async function client(user: string): Promise<ImapFlow> {
    const imap = new ImapFlow({
      host: "127.0.0.1",
      port,
      secure: ca !== undefined,
      ...(ca === undefined ? {} : { tls: { ca } }),
      auth: { user, pass: passwordOf(user) },
      logger: false,
    });
    await imap.connect();
    return imap;
  }

  /** A cached connection for the harness's own operations. */
  async function adminClient(user: string): Promise<ImapFlow> {
    const cached = clients.get(user);
    if (cached?.usable) return cached;
    clients.delete(user);
    const imap = await client(user);
    imap.on("error", () => clients.delete(user));
    clients.set(user, imap);
    return imap;
  }

  async function append(
    user: string,
    mailbox: string,
    raw: string | Uint8Array,
    appendOptions: AppendOptions = {},
  ): Promise<{ uid: number; uidValidity: number }> {
    const imap = await adminClient(user);
    const result = await imap.append(mailbox, raw, appendOptions.flags, appendOptions.internalDate);
    if (!result || result.uid === undefined || result.uidValidity === undefined) {
      throw new Error(`APPEND to ${mailbox} returned no APPENDUID`);
    }
    return { uid: result.uid, uidValidity: Number(result.uidValidity) };
  }

  async function createMailbox(user: string, path: string): Promise<void> {
    await (await adminClient(user)).mailboxCreate(path);
  }

  async function deleteMailbox(user: string, path: string): Promise<void> {
    await (await adminClient(user)).mailboxDelete(path);
  }

  async function doveadm(args: string[]): Promise<string> {
    const out = await new Deno.Command("doveadm", {
      args: ["-c", confPath, ...args],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(`doveadm ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
    return text;
  }

  /** The session pids `doveadm who` lists for `user`. */
  async function sessionPids(user: string): Promise<string[]> {
    const rows = (await doveadm(["who", user])).split("\n").slice(1);
    return rows.flatMap((row) => row.match(/\(([\d ]+)\)/)?.[1]?.trim().split(/\s+/) ?? []);
  }

  async function kick(user: string): Promise<void> {
    const pids = await sessionPids(user);
    clients.get(user)?.close();
    clients.delete(user);
    // doveadm kick fails when it finds nobody (the harness's own session may be all there was).
    await doveadm(["kick", user]).catch(async (error) => {
      if ((await sessionPids(user)).length > 0) throw error;
    });
    const deadline = Date.now() + 10_000;
    while ((await sessionPids(user)).some((pid) => pids.includes(pid))) {
      if (Date.now() > deadline) throw new Error(`doveadm kick ${user}: sessions still open`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async function seedMaildir(
    user: string,
    mailbox: string,
    messages: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  ): Promise<number> {
    passwordOf(user);
    const imap = await adminClient(user);
    // Let Dovecot create the home, maildir and mailbox with the right owner and layout.
    if (mailbox.toUpperCase() !== "INBOX") {
      const exists = (await imap.list()).some((m) => m.path === mailbox);
      if (!exists) await imap.mailboxCreate(mailbox);
    } else {
      await imap.status("INBOX", { messages: true });
    }
    const folder = maildirOf(`${dir}/mail/${user}`, mailbox);
    const stamp = Math.floor(Date.now() / 1000);
    let count = 0;
    for await (const message of messages) {
      const name = `${stamp}.S${count}R${
        crypto.randomUUID().slice(0, 8)
      }.ingest-test,S=${message.byteLength}`;
      // Written under tmp/ then renamed into new/, as maildir delivery requires.
      const tmp = `${folder}/tmp/${name}`;
      await Deno.writeFile(tmp, message);
      await Deno.chown(tmp, owner.uid, owner.gid);
      await Deno.rename(tmp, `${folder}/new/${name}`);
      count++;
    }
    // Index now, so the first reader of the mailbox does not pay for it.
    await imap.status(mailbox, { messages: true });
    return count;
  }

  async function close(): Promise<void> {
    await stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }

  try {
    await start();
  } catch (error) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw error;
  }

  return {
    host: "127.0.0.1",
    port,
    dir,
    users,
    ca,
    stop,
    start,
    append,
    createMailbox,
    deleteMailbox,
    kick,
    sessions: async (user: string) => (await sessionPids(user)).length,
    client,
    seedMaildir,
    log,
    close,
    [Symbol.asyncDispose]: close,
  };
}
