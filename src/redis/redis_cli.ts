/**
 * The `redis-cli` invocation that reaches the configured Redis, for fix lines
 * in errors and `ingest doctor`: copy-paste correct for the URL or host/port
 * in use, and never with a password in it (a variable reference instead).
 *
 * @module
 */

import type { RedisConfig } from "../config/config.ts";

/**
 * `redis-cli -u "$REDIS_URL"` when REDIS_URL is set (read from its file
 * when it came from `REDIS_URL_FILE`), else `redis-cli -h H -p P`, with
 * `REDISCLI_AUTH="$REDIS_PASSWORD"` in front when a password is configured
 * and `--cacert "$REDIS_TLS_CA"` when a CA file is. On Redis Cluster the
 * same, then `-c -h SEED -p PORT` of the first `REDIS_CLUSTER_NODES` node.
 */
export function redisCliCommand(config: RedisConfig): string {
  const seed = config.clusterNodes[0];
  if (seed !== undefined) {
    // Cluster mode: REDIS_URL's user, password and TLS, then a seed node (later -h/-p win), -c
    // to follow redirections.
    const base = config.url === undefined
      ? `${auth(config)}redis-cli${
        config.tlsCaFile === undefined ? "" : ' --cacert "$REDIS_TLS_CA"'
      }`
      : redisCliCommand({ ...config, clusterNodes: [] });
    return `${base} -c -h ${quote(seed.host)} -p ${seed.port}`;
  }
  const ca = config.tlsCaFile === undefined ? "" : ` --cacert "$REDIS_TLS_CA"`;
  if (config.url !== undefined) {
    // redis-cli 6+ reads rediss:// as TLS by itself; an explicit --tls makes it plain to see.
    const tls = config.url.toLowerCase().startsWith("rediss:") ? " --tls" : "";
    const url = config.urlFile === undefined ? '"$REDIS_URL"' : `"$(cat ${quote(config.urlFile)})"`;
    const password = new URL(config.url).password === "" ? auth(config) : "";
    return `${password}redis-cli${tls}${ca} -u ${url}`;
  }
  return `${auth(config)}redis-cli -h ${quote(config.host)} -p ${config.port}`;
}

/** REDISCLI_AUTH keeps the password out of the command line (and out of `ps`). */
function auth(config: RedisConfig): string {
  if (config.password === undefined) return "";
  const source = config.passwordFile === undefined
    ? '"$REDIS_PASSWORD"'
    : `"$(cat ${quote(config.passwordFile)})"`;
  return `REDISCLI_AUTH=${source} `;
}

function quote(text: string): string {
  return /^[A-Za-z0-9_./:@%+=,-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
