import { afterEach, describe, expect, it } from "vitest";
import { DIALECTS } from "../support/databases.ts";
import { events } from "../http/helpers.ts";
import { createHarness, failLogins, MINUTE, outbox, PASSWORD, postJson, THRESHOLD, type Harness } from "./harness.ts";

const USER = "erin@example.com";

describe.each(DIALECTS)("hourly cap and warning before the lock (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  async function forgot(email: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) {
      expect((await postJson(h.t, "/api/auth/password/forgot", { email })).statusCode).toBe(202);
    }
  }

  it("sends at most DEADBOLT_RESET_MAX_PER_HOUR reset mails per user per hour; the rest are kept as suppressed", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_RESET_MAX_PER_HOUR: "3", DEADBOLT_NOTIFY_MAX_PER_HOUR: "1" } });
    await h.t.createUser(USER, PASSWORD);
    await h.t.createUser("frank@example.com", PASSWORD);
    await forgot(USER, 5);
    await forgot("frank@example.com", 1);
    expect(await h.drain()).toBe(4);
    expect(h.smtp.to(USER)).toHaveLength(3);
    expect(h.smtp.to("frank@example.com")).toHaveLength(1);
    expect((await outbox(h.t, USER)).map((r) => r.status)).toEqual(["sent", "sent", "sent", "suppressed", "suppressed"]);
    const requested = await events(h.t, { type: "password.reset_requested", email: USER });
    expect(requested.map((e) => e.details.mailed)).toEqual([true, true, true, false, false]);
    // Every held-back mail is in the event log, saying which budget held it.
    const suppressed = await events(h.t, { type: "notification.suppressed", email: USER });
    expect(suppressed.map((e) => [e.details.kind, e.details.budget, e.details.limit])).toEqual([
      ["password_reset", "reset", 3], ["password_reset", "reset", 3],
    ]);
    expect(suppressed[0]!.message).toBe(`password_reset mail to ${USER} not sent: DEADBOLT_RESET_MAX_PER_HOUR (3 an hour) reached`);

    h.t.clock.advance(60 * MINUTE - 1);
    await forgot(USER, 1);
    expect(await h.drain()).toBe(0);
    h.t.clock.advance(1);
    await forgot(USER, 1);
    expect(await h.drain()).toBe(1);
    expect(h.smtp.to(USER)).toHaveLength(4);
  });

  it("concurrent requests cannot overrun the cap", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_RESET_MAX_PER_HOUR: "3" } });
    await h.t.createUser(USER, PASSWORD);
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJson(h.t, "/api/auth/password/forgot", { email: USER })));
    expect(answers.every((a) => a.statusCode === 202)).toBe(true);
    const statuses = (await outbox(h.t, USER)).map((r) => r.status);
    expect(statuses.filter((s) => s === "pending")).toHaveLength(3);
    expect(statuses.filter((s) => s === "suppressed")).toHaveLength(9);
  });

  it("security notices count toward DEADBOLT_NOTIFY_MAX_PER_HOUR, reset mails toward their own budget", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_NOTIFY_MAX_PER_HOUR: "1", DEADBOLT_RESET_MAX_PER_HOUR: "1" } });
    await h.t.createUser(USER, PASSWORD);
    await forgot(USER, 2);
    await failLogins(h.t, USER, THRESHOLD);
    // A second lock episode within the hour: its notice is over the security budget.
    h.t.clock.advance(16 * MINUTE);
    await failLogins(h.t, USER, THRESHOLD);
    await h.drain();
    expect((await outbox(h.t, USER)).map((r) => `${r.kind}:${r.status}`))
      .toEqual(["password_reset:sent", "password_reset:suppressed", "lock_notice:sent", "lock_notice:suppressed"]);
    const suppressed = await events(h.t, { type: "notification.suppressed", email: USER });
    expect(suppressed.map((e) => `${String(e.details.kind)}:${String(e.details.variable)}`))
      .toEqual(["password_reset:DEADBOLT_RESET_MAX_PER_HOUR", "lock_notice:DEADBOLT_NOTIFY_MAX_PER_HOUR"]);
  });

  it("DEADBOLT_NOTIFY_MAX_PER_HOUR=0 and DEADBOLT_RESET_MAX_PER_HOUR=0 mean no limit", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_NOTIFY_MAX_PER_HOUR: "0", DEADBOLT_RESET_MAX_PER_HOUR: "0" } });
    await h.t.createUser(USER, PASSWORD);
    await forgot(USER, 5);
    expect(await h.drain()).toBe(5);
  });

  it("DEADBOLT_WARN_BEFORE_LOCK mails a warning at threshold − 1, then the lock notice", async () => {
    h = await createHarness(dialect, { env: { DEADBOLT_WARN_BEFORE_LOCK: "true" } });
    await h.t.createUser(USER, PASSWORD);
    await failLogins(h.t, USER, THRESHOLD - 2);
    expect(await h.drain()).toBe(0);
    await failLogins(h.t, USER, 1);
    expect(await h.drain()).toBe(1);
    const [warning] = h.smtp.to(USER);
    expect(warning!.subject).toBe("One more failed sign-in attempt will lock your account");
    expect(warning!.text).toContain("IP address:      127.0.0.1");
    expect(warning!.text).not.toContain("token=");
    await failLogins(h.t, USER, 1);
    expect(await h.drain()).toBe(1);
    expect((await outbox(h.t, USER)).map((r) => r.kind)).toEqual(["lock_warning", "lock_notice"]);
  });

  it("without DEADBOLT_WARN_BEFORE_LOCK there is no warning", async () => {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await failLogins(h.t, USER, THRESHOLD - 1);
    expect(await h.drain()).toBe(0);
    expect(await outbox(h.t, USER)).toEqual([]);
  });
});
