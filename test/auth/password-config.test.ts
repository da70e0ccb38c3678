/** The password variables are validated once, at start-up, with one line naming the variable. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { passwordSettingsOf } from "../../src/runtime.ts";

describe("password configuration", () => {
  it("defaults: minimum 8, breach check off, the real range API, app name deadbolt", () => {
    const config = loadConfig({});
    expect({
      passwordMinLength: config.passwordMinLength, breachedPasswords: config.breachedPasswords,
      hibpUrl: config.hibpUrl, appName: config.appName,
    }).toEqual({
      passwordMinLength: 8, breachedPasswords: "off", hibpUrl: "https://api.pwnedpasswords.com", appName: "deadbolt",
    });
    const settings = passwordSettingsOf(config);
    expect(settings.breached).toBeNull();
    expect(settings.siteWords).toEqual(["deadbolt", "localhost"]);
  });

  it("reads the variables", () => {
    const config = loadConfig({
      DEADBOLT_PASSWORD_MIN_LENGTH: "15", DEADBOLT_BREACHED_PASSWORDS: "HIBP", DEADBOLT_HIBP_URL: "http://127.0.0.1:9/",
      DEADBOLT_APP_NAME: " Acme Login ", DEADBOLT_PUBLIC_URL: "https://id.acme.test/base",
    });
    expect(config).toMatchObject({ passwordMinLength: 15, breachedPasswords: "hibp", hibpUrl: "http://127.0.0.1:9", appName: "Acme Login" });
    const settings = passwordSettingsOf(config);
    expect(settings.breached).not.toBeNull();
    expect(settings.siteWords).toEqual(["Acme Login", "id.acme.test"]);
  });

  it.each([
    ["DEADBOLT_PASSWORD_MIN_LENGTH", "7"], ["DEADBOLT_PASSWORD_MIN_LENGTH", "eight"], ["DEADBOLT_PASSWORD_MIN_LENGTH", "2000"],
    ["DEADBOLT_BREACHED_PASSWORDS", "yes"], ["DEADBOLT_HIBP_URL", "ftp://example.com"], ["DEADBOLT_HIBP_URL", "not a url"],
    ["DEADBOLT_APP_NAME", "bad\u0007name"], ["DEADBOLT_APP_NAME", "x".repeat(61)],
  ])("%s=%j stops start-up with one line naming it", (name, value) => {
    let error: unknown;
    try {
      loadConfig({ [name]: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message.startsWith(`${name}=`)).toBe(true);
    expect(message).not.toContain("\n");
  });
});
