import assert from "node:assert/strict";
import { loadConfig } from "../config/config.ts";
import { aclDenial, permissionError } from "./acl_denial.ts";
import { LuaScript } from "./lua_script.ts";

const script = new LuaScript(`
local acked = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3])
return acked
`);

Deno.test("aclDenial() names the command of a direct refusal and of a refused script line", () => {
  assert.deepEqual(
    aclDenial(new Error("NOPERM this user has no permissions to run the 'xack' command")),
    {
      command: "xack",
      key: false,
    },
  );
  const inScript = new Error(
    `ERR The user executing the script can't run this command or subcommand script: ${script.sha}, on @user_script:3.`,
  );
  assert.deepEqual(aclDenial(inScript), { command: "set", key: false });
  const keyRefused = new Error(
    "NOPERM this user has no permissions to access one of the keys used as arguments",
  );
  assert.deepEqual(aclDenial(keyRefused), { command: undefined, key: true });
  assert.equal(
    aclDenial(new Error("OOM command not allowed when used memory > 'maxmemory'")),
    undefined,
  );
});

Deno.test("permissionError() names the user, the command and the redis-cli line that grants it", () => {
  const config = loadConfig({ env: { REDIS_URL: "redis://ingest-worker:secret@127.0.0.1:7000" } });
  const error = permissionError(
    "acknowledgement",
    new Error("NOPERM this user has no permissions to run the 'xack' command"),
    config.redis,
  );
  assert.equal(error?.code, "REDIS_NOPERM");
  assert.equal(error?.retryable, false);
  assert.match(error!.message, /ACL user 'ingest-worker' may not run the 'xack' command/);
  assert.ok(error!.message.includes(`redis-cli -u "$REDIS_URL" ACL SETUSER ingest-worker '+xack'`));
  assert.doesNotMatch(error!.message, /secret/);
  assert.equal(permissionError("read", new Error("ECONNREFUSED"), config.redis), undefined);
});
