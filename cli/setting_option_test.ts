import assert from "node:assert/strict";
import { Command } from "@commander-js/extra-typings";
import { loadConfig } from "../src/config/config.ts";
import { ConfigError } from "../src/errors.ts";
import { FLAG_SETTINGS, flagSettings, settingOption } from "./setting_option.ts";

Deno.test("settingOption() builds the row's flag with its default in the help, not in commander", () => {
  const command = new Command("x").exitOverride().addOption(
    settingOption("PRODUCER_LEASE_TTL_SECONDS"),
  );
  const option = command.options[0]!;
  assert.equal(option.long, "--lease-ttl");
  assert.equal(option.defaultValue, undefined);
  assert.match(option.description, /\(default: PRODUCER_LEASE_TTL_SECONDS or 30\)$/);
  command.parse(["--lease-ttl", "7"], { from: "user" });
  assert.equal(command.opts().leaseTtl, "7");
});

Deno.test("flagSettings() hands given flags to the loader under the setting they override", () => {
  const settings = flagSettings({ leaseTtl: "7", shutdownTimeout: undefined }, [
    "PRODUCER_LEASE_TTL_SECONDS",
    "WORKER_SHUTDOWN_TIMEOUT_SECONDS",
  ]);
  assert.deepEqual(settings, { PRODUCER_LEASE_TTL_SECONDS: "7" });
  assert.equal(loadConfig({ flags: settings }).producer.leaseTtlSeconds, 7);
});

Deno.test("a bad flag value is named by its flag and the variable it sets, with env problems", () => {
  try {
    loadConfig({
      flags: flagSettings({ visibilityTimeout: "soon" }, ["WORKER_VISIBILITY_TIMEOUT_SECONDS"]),
      env: { BATCH_SIZE: "abc", WORKER_SHUTDOWN_TIMEOUT_SECONDS: "-1" },
    });
    assert.fail("expected a ConfigError");
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    assert.equal(error.problems.length, 3, error.problems.join("\n"));
    assert.match(
      error.problems.join("\n"),
      /^--visibility-timeout must be a number of seconds >= 0\.1: current value is "soon" \(--visibility-timeout sets WORKER_VISIBILITY_TIMEOUT_SECONDS\)$/m,
    );
    assert.match(error.problems.join("\n"), /^BATCH_SIZE must be a whole number 1\.\.10000/m);
    assert.match(error.problems.join("\n"), /^WORKER_SHUTDOWN_TIMEOUT_SECONDS must be/m);
  }
});

Deno.test("every flag setting parses into the attribute flagSettings() reads", () => {
  for (const name of FLAG_SETTINGS) {
    const command = new Command("x").exitOverride().addOption(settingOption(name));
    command.parse([command.options[0]!.long!, "42"], { from: "user" });
    assert.deepEqual(flagSettings(command.opts(), [name]), { [name]: "42" }, name);
  }
  assert.ok(FLAG_SETTINGS.includes("DOCTOR_TIMEOUT_SECONDS"));
});
