/**
 * A throwaway Redis Cluster on loopback: 3 masters + 3 replicas, each a
 * `redis-server --cluster-enabled yes` on an ephemeral port (its cluster bus
 * on a second ephemeral port via `cluster-port`), joined by
 * `redis-cli --cluster create … --cluster-replicas 1`, with a short
 * `cluster-node-timeout` so a failover takes seconds. Never the shared Redis
 * on 6379. Helpers kill a master with SIGKILL and wait for its replica's
 * promotion; everything is stopped and deleted on close.
 *
 * @module
 */

import { freePort, waitForPort } from "./ports.ts";
import { makeCertificates } from "./tls_certificates.ts";

/** One node of a {@link TestRedisCluster}. */
export interface ClusterNode {
  readonly port: number;
  /** The node's cluster bus port. */
  readonly busPort: number;
  readonly dir: string;
  /** Whether its process is running. */
  readonly running: boolean;
}

/** A running test Redis Cluster. */
export interface TestRedisCluster extends AsyncDisposable {
  /** All six nodes, in start order. */
  readonly nodes: readonly ClusterNode[];
  /** `127.0.0.1:<port>,…` of every node: a `REDIS_CLUSTER_NODES` value. */
  readonly seeds: string;
  /** With `tls`: the PEM file of the CA that signed the nodes' certificate. */
  readonly caFile?: string;
  /** Runs `redis-cli -c -p <port>` (default: the first running node) and returns stdout. */
  cli(args: string[], port?: number): Promise<string>;
  /** Ports of the nodes that are masters right now (as seen by a running node). */
  masters(): Promise<number[]>;
  /** The port of the master serving a key's slot. */
  masterOf(key: string): Promise<number>;
  /**
   * Kills a master with SIGKILL and waits until one of its replicas has
   * taken over its slots and the cluster reports `cluster_state:ok` again.
   * Returns the promoted replica's port.
   */
  killMaster(port: number, timeoutMs?: number): Promise<number>;
  /** Starts a killed node again (it rejoins as a replica). */
  restart(port: number): Promise<void>;
  /** Waits until every running node reports `cluster_state:ok`. */
  waitOk(timeoutMs?: number): Promise<void>;
  /**
   * Waits until every master's replicas hold all of its writes so far (their
   * acknowledged offset reaches the master's replication offset as read
   * now). Unlike `WAIT` from another connection, this covers every client's
   * writes.
   */
  waitReplicated(timeoutMs?: number): Promise<void>;
  /** Stops every node and deletes their directories. */
  close(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface StartRedisClusterOptions {
  /** `cluster-node-timeout` in ms. Default 2000: with less, a node of a loaded 2-core machine can miss pings and trigger a failover no test asked for. */
  nodeTimeoutMs?: number;
  /** Extra `redis-server` arguments for every node. */
  args?: string[];
  /**
   * The default user's password on every node (`requirepass`, `masterauth`
   * for the replicas); the harness's own `redis-cli` calls use it too.
   */
  password?: string;
  /**
   * TLS only (`tls-port`, `tls-cluster`, `tls-replication`) with a throwaway
   * CA and a certificate for 127.0.0.1 and localhost (tls_certificates.ts);
   * the CA file is {@link TestRedisCluster.caFile}.
   */
  tls?: boolean;
}

/** How the harness's own `redis-cli` reaches the nodes. */
interface CliAccess {
  readonly password?: string;
  /** The CA file when the nodes speak TLS only. */
  readonly caFile?: string;
}

interface NodeProcess extends ClusterNode {
  /** Chosen anew when the first start finds them taken (see `spawnOnFreePorts`). */
  port: number;
  busPort: number;
  child?: Deno.ChildProcess;
  running: boolean;
}

/** Starts a 3-master + 3-replica Redis Cluster on loopback. */
export async function startRedisCluster(
  options: StartRedisClusterOptions = {},
): Promise<TestRedisCluster> {
  const nodes: NodeProcess[] = [];
  for (let i = 0; i < 6; i++) {
    const dir = await Deno.makeTempDir({ prefix: `ingest-cluster-${i}-` });
    nodes.push({ port: freePort(), busPort: freePort(), dir, running: false });
  }
  const certs = options.tls ? nodes[0]!.dir : undefined;
  if (certs) await makeCertificates(certs);
  const access: CliAccess = { password: options.password, caFile: certs && `${certs}/ca.pem` };
  const spawn = (node: NodeProcess) => spawnNode(node, options, certs);
  try {
    await Promise.all(nodes.map((node) => spawnOnFreePorts(node, spawn)));
    await createCluster(nodes.map((n) => n.port), access);
    const cluster = clusterHandle(nodes, spawn, access);
    await cluster.waitOk(30_000);
    await waitReplicasOnline(cluster, 30_000);
    await waitViewsAgree(nodes, access, 30_000);
    return cluster;
  } catch (error) {
    await closeNodes(nodes);
    throw error;
  }
}

/** `redis-server` arguments for TLS only, with the certificates in `dir`. */
function tlsArgs(port: number, dir: string): string[] {
  return [
    ...["--port", "0", "--tls-port", String(port), "--tls-cluster", "yes"],
    ...["--tls-replication", "yes", "--tls-auth-clients", "no"],
    ...["--tls-cert-file", `${dir}/server.pem`, "--tls-key-file", `${dir}/server.key`],
    ...["--tls-ca-cert-file", `${dir}/ca.pem`],
  ];
}

/**
 * Starts a node for the first time; when its ports were taken meanwhile (a
 * free port is only free until someone else binds it) it tries fresh ones.
 */
async function spawnOnFreePorts(
  node: NodeProcess,
  spawn: (node: NodeProcess) => Promise<void>,
): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await spawn(node);
    } catch (error) {
      node.child?.kill("SIGKILL");
      await node.child?.status;
      node.running = false;
      if (attempt >= 3) throw error;
      node.port = freePort();
      node.busPort = freePort();
    }
  }
}

async function spawnNode(
  node: NodeProcess,
  options: StartRedisClusterOptions,
  certs: string | undefined,
): Promise<void> {
  node.child = new Deno.Command("redis-server", {
    args: [
      ...(certs ? tlsArgs(node.port, certs) : ["--port", String(node.port)]),
      "--cluster-port",
      String(node.busPort),
      "--bind",
      "127.0.0.1",
      "--dir",
      node.dir,
      "--cluster-enabled",
      "yes",
      "--cluster-config-file",
      `${node.dir}/nodes.conf`,
      "--cluster-node-timeout",
      String(options.nodeTimeoutMs ?? 2_000),
      // A replica whose link to a dead master is "too old" would refuse to
      // take over; with a one-second node timeout that is any idle replica.
      "--cluster-replica-validity-factor",
      "0",
      // A replica's first sync starts at once, not after Redis' default 5 s (a cluster is up in
      // 2-4 s instead of 6-7); startRedisCluster then waits until every node agrees who
      // replicates whom, which a failover's vote needs (waitViewsAgree).
      "--repl-diskless-sync-delay",
      "0",
      "--save",
      "",
      "--appendonly",
      "no",
      "--logfile",
      `${node.dir}/redis.log`,
      ...(options.password === undefined
        ? []
        : ["--requirepass", options.password, "--masterauth", options.password]),
      ...(options.args ?? []),
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  node.running = true;
  // A node that cannot bind its port exits at once: say so instead of waiting out the timeout.
  const exited = node.child.status.then((status) => {
    throw new Error(`redis-server on ${node.port} exited (${status.code}): ${logTail(node.dir)}`);
  });
  await Promise.race([waitForPort(node.port), exited]);
  exited.catch(() => {});
}

function logTail(dir: string): string {
  try {
    return Deno.readTextFileSync(`${dir}/redis.log`).trim().split("\n").slice(-3).join(" | ");
  } catch {
    return "no log";
  }
}

async function createCluster(ports: number[], access: CliAccess): Promise<void> {
  const out = await new Deno.Command("redis-cli", {
    env: cliAuth(access),
    args: [
      ...cliTls(access),
      "--cluster",
      "create",
      ...ports.map((p) => `127.0.0.1:${p}`),
      "--cluster-replicas",
      "1",
      "--cluster-yes",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success || !text.includes("All 16384 slots covered")) {
    throw new Error(`redis-cli --cluster create failed: ${text.slice(-2_000)}`);
  }
}

/**
 * A replica that has not finished its first sync has nothing to take over
 * with: wait until every master reports its replica `online`.
 */
async function waitReplicasOnline(cluster: TestRedisCluster, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const infos = await Promise.all(
      (await cluster.masters()).map((port) => cluster.cli(["INFO", "replication"], port)),
    );
    if (infos.length === 3 && infos.every((info) => /slave0:.*state=online/.test(info))) return;
    if (Date.now() > deadline) throw new Error(`replicas not online: ${infos.join(" | ")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * A master votes for a replica's failover only when it knows that node as a
 * replica of the failed master. Right after `--cluster create` the roles
 * still travel by gossip: wait until every node's `CLUSTER NODES` names all
 * six nodes, none in handshake or failed, with the same role and master for
 * each. (Killing a master before that left its replica unpromoted.)
 */
async function waitViewsAgree(
  nodes: readonly NodeProcess[],
  access: CliAccess,
  timeoutMs: number,
): Promise<void> {
  const view = (text: string) => {
    const lines = parseNodes(text);
    const settled = lines.length === nodes.length && lines.every((l) => !l.failed && !l.joining);
    return settled
      ? lines.map((l) => `${l.id} ${l.master} ${l.masterId}`).sort().join()
      : undefined;
  };
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const views = await Promise.all(
      nodes.map(async (n) => view(await runCli(n.port, ["CLUSTER", "NODES"], access))),
    );
    if (views[0] !== undefined && views.every((v) => v === views[0])) return;
    if (Date.now() > deadline) throw new Error(`cluster views differ after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** REDISCLI_AUTH keeps the password off the command line (and redis-cli quiet about it). */
function cliAuth(access: CliAccess): Record<string, string> {
  return access.password === undefined ? {} : { REDISCLI_AUTH: access.password };
}

function cliTls(access: CliAccess): string[] {
  return access.caFile === undefined ? [] : ["--tls", "--cacert", access.caFile];
}

async function runCli(port: number, args: string[], access: CliAccess): Promise<string> {
  const out = await new Deno.Command("redis-cli", {
    env: cliAuth(access),
    args: [...cliTls(access), "-c", "-p", String(port), ...args],
    stdout: "piped",
    stderr: "null",
  }).output();
  return new TextDecoder().decode(out.stdout);
}

/** `CLUSTER NODES` lines: port, flags, master id, slots. */
interface NodeLine {
  id: string;
  port: number;
  master: boolean;
  failed: boolean;
  /** Still being introduced (`handshake`) or without an address yet (`noaddr`). */
  joining: boolean;
  masterId: string;
  slots: string[];
}

function parseNodes(text: string): NodeLine[] {
  return text.trim().split("\n").filter((l) => l.trim() !== "").map((line) => {
    const parts = line.trim().split(" ");
    const flags = parts[2]!.split(",");
    return {
      id: parts[0]!,
      port: Number(parts[1]!.split("@")[0]!.split(":").at(-1)),
      master: flags.includes("master"),
      failed: flags.includes("fail") || flags.includes("fail?"),
      joining: flags.includes("handshake") || flags.includes("noaddr"),
      masterId: parts[3]!,
      slots: parts.slice(8),
    };
  });
}

function clusterHandle(
  nodes: NodeProcess[],
  spawn: (node: NodeProcess) => Promise<void>,
  access: CliAccess,
): TestRedisCluster {
  const redisCli = (port: number, args: string[]) => runCli(port, args, access);
  const anyRunning = () => {
    const node = nodes.find((n) => n.running);
    if (!node) throw new Error("no cluster node is running");
    return node.port;
  };
  const nodeLines = async () => parseNodes(await redisCli(anyRunning(), ["CLUSTER", "NODES"]));

  async function waitOk(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const states = await Promise.all(
        nodes.filter((n) => n.running).map((n) => redisCli(n.port, ["CLUSTER", "INFO"])),
      );
      if (states.every((s) => s.includes("cluster_state:ok"))) return;
      if (Date.now() > deadline) {
        throw new Error(`cluster not ok after ${timeoutMs} ms: ${states.join(" | ")}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function waitReplicated(timeoutMs = 10_000): Promise<void> {
    const offsetOf = (info: string, field: RegExp) => Number(info.match(field)?.[1] ?? NaN);
    const targets = await Promise.all((await masters()).map(async (port) => {
      const info = await redisCli(port, ["INFO", "replication"]);
      return { port, offset: offsetOf(info, /master_repl_offset:(\d+)/) };
    }));
    const deadline = Date.now() + timeoutMs;
    for (const { port, offset } of targets) {
      while (true) {
        const info = await redisCli(port, ["INFO", "replication"]);
        const replicas = [...info.matchAll(/slave\d+:.*offset=(\d+)/g)].map((m) => Number(m[1]));
        if (replicas.length > 0 && replicas.every((acked) => acked >= offset)) break;
        if (Date.now() > deadline) {
          throw new Error(
            `replicas of ${port} not at offset ${offset} in ${timeoutMs} ms: ${info}`,
          );
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  }

  async function masters(): Promise<number[]> {
    return (await nodeLines()).filter((l) => l.master && !l.failed && l.slots.length > 0)
      .map((l) => l.port);
  }

  async function killMaster(port: number, timeoutMs = 20_000): Promise<number> {
    const node = nodes.find((n) => n.port === port);
    const before = (await nodeLines()).find((l) => l.port === port);
    if (!node?.running || !before?.master) {
      throw new Error(`127.0.0.1:${port} is no running master`);
    }
    const replicas = (await nodeLines()).filter((l) => l.masterId === before.id).map((l) => l.port);
    node.running = false;
    node.child?.kill("SIGKILL");
    await node.child?.status;
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const lines = await nodeLines().catch(() => [] as NodeLine[]);
      const promoted = lines.find((l) => replicas.includes(l.port) && l.master && !l.failed);
      if (promoted && promoted.slots.length > 0) {
        await waitOk(Math.max(1_000, deadline - Date.now()));
        return promoted.port;
      }
      if (Date.now() > deadline) {
        throw new Error(`no replica of ${port} promoted in ${timeoutMs} ms`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  const close = () => closeNodes(nodes);
  return {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(","),
    caFile: access.caFile,
    cli: (args, port) => redisCli(port ?? anyRunning(), args),
    masters,
    async masterOf(key) {
      const slot = Number((await redisCli(anyRunning(), ["CLUSTER", "KEYSLOT", key])).trim());
      const owner = (await nodeLines()).find((l) =>
        l.master && !l.failed && l.slots.some((range) => inRange(range, slot))
      );
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.port;
    },
    killMaster,
    async restart(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node || node.running) throw new Error(`127.0.0.1:${port} is not a stopped node`);
      await spawn(node);
    },
    waitOk,
    waitReplicated,
    close,
    [Symbol.asyncDispose]: close,
  };
}

function inRange(range: string, slot: number): boolean {
  if (range.startsWith("[")) return false; // a slot being migrated
  const [from, to] = range.split("-").map(Number);
  return slot >= from! && slot <= (to ?? from!);
}

async function closeNodes(nodes: NodeProcess[]): Promise<void> {
  await Promise.all(nodes.map(async (node) => {
    if (node.child && node.running) {
      node.running = false;
      try {
        node.child.kill("SIGKILL");
      } catch { /* already gone */ }
      await node.child.status;
    }
    await Deno.remove(node.dir, { recursive: true }).catch(() => {});
  }));
}
