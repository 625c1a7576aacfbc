/**
 * Fault scenarios around credentials: a wrong IMAP password and an OAuth2
 * grant that dies at the provider (`invalid_grant`). Each must end
 * `produce --once` within seconds with exit 1 and the fix, write nothing,
 * and, once the credentials are right again, sync every message exactly once.
 *
 * @module
 */

import { Redis } from "ioredis";
import { type CliResult, runIngest } from "../harness/cli.ts";
import { type Dovecot, startDovecot } from "../harness/dovecot.ts";
import { startFakeGoogle } from "../harness/fake_google.ts";
import { realisticMessage } from "../harness/mail.ts";
import { storeConsentedToken } from "../harness/oauth_consent.ts";
import { pipelineEnv, TEST_USER } from "../harness/pipeline_env.ts";
import { startRedis } from "../harness/redis_server.ts";
import { type FaultReport, type FaultScenario, NO_SINK, type ScenarioOptions } from "./scenario.ts";

const STREAM = "faults_credentials";
/** A refused run must end within this (it used to back off for up to 336 s, or for ever). */
const REFUSED_WITHIN_S = 10;

/** Distinct idempotency keys and duplicate entries in the stream. */
async function streamCounts(url: string): Promise<{ distinct: number; duplicates: number }> {
  const redis = new Redis(url);
  try {
    const entries = await redis.xrange(STREAM, "-", "+");
    const keys = entries.map(([, fields]) => fields[fields.indexOf("idempotency_key") + 1]);
    const distinct = new Set(keys).size;
    return { distinct, duplicates: keys.length - distinct };
  } finally {
    redis.disconnect();
  }
}

type TimedRun = CliResult & { seconds: number };

async function produceOnce(env: Record<string, string>): Promise<TimedRun> {
  const started = performance.now();
  const result = await runIngest(["produce", "--once"], { env: { ...env, LOG_LEVEL: "warn" } });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

async function seed(dovecot: Dovecot, messages: number): Promise<void> {
  for (let i = 1; i <= messages; i++) {
    await dovecot.append(TEST_USER, "INBOX", await realisticMessage(i));
  }
}

/** What both scenarios measured, judged into a report. */
interface Course {
  readonly name: string;
  readonly started: number;
  readonly messages: number;
  readonly refused: TimedRun;
  /** The fix the refused run must name. */
  readonly fix: RegExp;
  readonly afterRefused: { distinct: number; duplicates: number };
  readonly repaired: TimedRun;
  readonly final: { distinct: number; duplicates: number };
}

function judge(course: Course): FaultReport {
  const { refused, repaired, final } = course;
  const problems: string[] = [];
  if (refused.code !== 1) problems.push(`refused run exited ${refused.code}, expected 1`);
  if (refused.seconds > REFUSED_WITHIN_S) {
    problems.push(`refused run took ${refused.seconds.toFixed(1)} s (> ${REFUSED_WITHIN_S} s)`);
  }
  if (!course.fix.test(refused.stderr)) problems.push(`refused run did not name ${course.fix}`);
  if (/"kind":"throttled"/.test(refused.stderr)) {
    problems.push("refused login backed off as throttling");
  }
  if (course.afterRefused.distinct !== 0) problems.push("the refused run wrote entries");
  if (repaired.code !== 0) {
    problems.push(`repaired run exited ${repaired.code}: ${repaired.stderr}`);
  }
  if (final.distinct !== course.messages) {
    problems.push(`${final.distinct} distinct entries for ${course.messages} messages`);
  }
  if (final.duplicates !== 0) problems.push(`${final.duplicates} duplicate entries`);
  return {
    scenario: course.name,
    ok: problems.length === 0,
    mailbox_messages: course.messages,
    distinct_entries: final.distinct,
    duplicates: final.duplicates,
    sink: NO_SINK,
    dlq: { total: 0, reasons: {} },
    recovery_seconds: repaired.seconds,
    seconds: (performance.now() - course.started) / 1000,
    problems,
    details: {
      refused_exit_code: refused.code,
      refused_seconds: Number(refused.seconds.toFixed(2)),
      repaired_exit_code: repaired.code,
    },
  };
}

async function wrongPassword(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 5 : 50;
  await using redis = await startRedis();
  await using dovecot = await startDovecot();
  await seed(dovecot, messages);
  const env = pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, stream: STREAM });
  options.log("produce --once with IMAP_PASSWORD=wrong");
  const refused = await produceOnce({ ...env, IMAP_PASSWORD: "wrong" });
  const afterRefused = await streamCounts(redis.url);
  options.log("produce --once with the right password");
  const repaired = await produceOnce(env);
  return judge({
    name: "wrong_password",
    started,
    messages,
    refused,
    fix: /IMAP_PASSWORD/,
    afterRefused,
    repaired,
    final: await streamCounts(redis.url),
  });
}

async function invalidGrant(options: ScenarioOptions): Promise<FaultReport> {
  const started = performance.now();
  const messages = options.quick ? 5 : 50;
  await using google = await startFakeGoogle({ email: TEST_USER });
  await using redis = await startRedis();
  await using dovecot = await startDovecot({ oauth2: { introspectionUrl: google.tokeninfoUrl } });
  await seed(dovecot, messages);
  const dir = await Deno.makeTempDir({ prefix: "ingest-faults-grant-" });
  try {
    const env: Record<string, string> = {
      ...google.env,
      ...pipelineEnv({ imapPort: dovecot.port, redisUrl: redis.url, stream: STREAM }),
      IMAP_AUTH: "oauth2",
      GOOGLE_TOKEN_FILE: `${dir}/token.json`,
      INGEST_TOKEN_KEY: btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32)))),
    };
    delete env.IMAP_PASSWORD;
    await storeConsentedToken(env, TEST_USER);
    options.log("grant revoked at the provider: produce --once");
    google.invalidGrant = true;
    google.expireAccessTokens();
    const refused = await produceOnce(env);
    const afterRefused = await streamCounts(redis.url);
    options.log("new consent: produce --once");
    google.invalidGrant = false;
    await storeConsentedToken(env, TEST_USER);
    const repaired = await produceOnce(env);
    return judge({
      name: "invalid_grant",
      started,
      messages,
      refused,
      fix: /ingest auth setup --account/,
      afterRefused,
      repaired,
      final: await streamCounts(redis.url),
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** The credential scenarios. */
export const CREDENTIAL_SCENARIOS: readonly FaultScenario[] = [
  {
    name: "wrong_password",
    summary: "IMAP_PASSWORD=wrong: --once exits 1 within seconds naming the fix; then syncs once",
    run: wrongPassword,
  },
  {
    name: "invalid_grant",
    summary:
      "OAuth2 grant revoked: --once exits 1 naming `ingest auth setup`; after it, syncs once",
    run: invalidGrant,
  },
];
