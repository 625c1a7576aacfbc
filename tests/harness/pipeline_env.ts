/**
 * The environment that points `ingest` at the harness's servers: one place
 * for the variables every producer, worker and doctor test (and the demo and
 * benchmarks) would otherwise spell out again.
 *
 * @module
 */

/** The default account of {@link startDovecot} (tests/harness/dovecot.ts). */
export const TEST_USER = "alice@example.test";
/** Its password. */
export const TEST_PASSWORD = "secret";

/** Where the test servers are; everything but `imapPort` is optional. */
export interface PipelineEnvOptions {
  /** Port of the harness Dovecot (plaintext IMAP on 127.0.0.1). */
  imapPort: number;
  /** `redis://` URL of the harness redis-server; omitted when not given. */
  redisUrl?: string;
  /** Stream name; omitted when not given (the default stream is used). */
  stream?: string;
  /** Account and password (password login). Default {@link TEST_USER} / {@link TEST_PASSWORD}. */
  user?: string;
  password?: string;
  /** `LOG_LEVEL`; omitted when not given. */
  logLevel?: string;
}

/** Variables for `ingest` against the harness's Dovecot (password login) and Redis. */
export function pipelineEnv(options: PipelineEnvOptions): Record<string, string> {
  const env: Record<string, string> = {
    IMAP_HOST: "127.0.0.1",
    IMAP_PORT: String(options.imapPort),
    IMAP_TLS: "false",
    IMAP_AUTH: "password",
    IMAP_USER: options.user ?? TEST_USER,
    IMAP_PASSWORD: options.password ?? TEST_PASSWORD,
  };
  if (options.redisUrl !== undefined) env.REDIS_URL = options.redisUrl;
  if (options.stream !== undefined) env.REDIS_STREAM_NAME = options.stream;
  if (options.logLevel !== undefined) env.LOG_LEVEL = options.logLevel;
  return env;
}
