/**
 * `deadbolt user invite|role|delete|reset-mfa` and `disable --note`, run as child processes
 * against real databases and a real SMTP peer: exit 0 with one line, 1 with one line on
 * stderr (nothing changed), 2 for usage.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserView } from "../../src/auth/index.ts";
import { countMatchingEvents, findUserByEmail, listEvents } from "../../src/store/index.ts";
import { startTestSmtp, type TestSmtp } from "../notify/smtp.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { cliEnv, json, openRuntime, runCli, type CliResult, type Env } from "./helpers.ts";

describe.each(DIALECTS)("deadbolt user lifecycle (%s)", (dialect) => {
  let database: TestDatabase;
  let smtp: TestSmtp;
  let env: Env;
  const cli = (args: string[], input?: string, extra: Env = {}): Promise<CliResult> => runCli(args, { env: { ...env, ...extra }, input });

  async function inspect<T>(use: (runtime: Awaited<ReturnType<typeof openRuntime>>) => Promise<T>): Promise<T> {
    const runtime = await openRuntime(env);
    try {
      return await use(runtime);
    } finally {
      await runtime.close();
    }
  }

  const eventCount = () => inspect((r) => countMatchingEvents(r.auth.database.db, {}));

  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    smtp = await startTestSmtp();
    env = cliEnv(database, { DEADBOLT_SMTP_URL: smtp.url, DEADBOLT_PUBLIC_URL: "https://id.example", DEADBOLT_APP_NAME: "Acme ID" });
    const root = await cli(["user", "create", "root@example.com", "--admin", "--password-stdin"], "root keeps the spare keys\n");
    expect(root.code, root.stderr).toBe(0);
  });

  afterAll(async () => {
    await smtp.close();
    await database.drop();
  });

  it("invites by mail with the app's name and a set-password link", async () => {
    const result = await cli(["user", "invite", "Ann@Example.com", "--admin"]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("invited admin ann@example.com: the mail was sent\n");
    const [mail] = smtp.to("ann@example.com");
    expect(mail?.subject).toBe("You are invited to Acme ID: set your password");
    expect(mail?.text).toMatch(/https:\/\/id\.example\/set-password\?token=[A-Za-z0-9_-]{43}/);
    expect(mail?.text).toContain("An administrator (from the command line) created an account for you on Acme ID");

    const again = await cli(["user", "invite", "ann@example.com"]);
    expect(again).toMatchObject({ code: 1, stdout: "", stderr: "deadbolt: a user with e-mail ann@example.com already exists\n" });
    expect(await cli(["user", "invite"])).toMatchObject({ code: 2 });
  });

  it("without SMTP, prints the invitation on stderr so the operator can pass the link on", async () => {
    const result = await cli(["user", "invite", "bea@example.com"], undefined, { DEADBOLT_SMTP_URL: "" });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe("invited user bea@example.com: DEADBOLT_SMTP_URL is not set, so the mail is printed on stderr\n");
    expect(result.stderr).toMatch(/https:\/\/id\.example\/set-password\?token=[A-Za-z0-9_-]{43}/);
    const [event] = await inspect((r) => listEvents(r.auth.database.db, { type: "notification.sent", email: "bea@example.com", order: "newest" }));
    expect(event?.message).toBe("security e-mail (invitation) to bea@example.com written to the server log (DEADBOLT_SMTP_URL is not set)");
  });

  it("changes roles, never demoting the last active admin", async () => {
    expect(await cli(["user", "role", "ann@example.com", "owner"])).toMatchObject({ code: 2 });
    const demoted = await cli(["user", "role", "ann@example.com", "user", "--json"]);
    expect(demoted.code, demoted.stderr).toBe(0);
    expect(json<UserView>(demoted).role).toBe("user");
    const before = await eventCount();
    const last = await cli(["user", "role", "root@example.com", "user"]);
    expect(last).toMatchObject({ code: 1, stdout: "" });
    expect(last.stderr).toBe("deadbolt: root@example.com is the last active admin; make another user an admin first\n");
    expect(await eventCount()).toBe(before);
    expect(await cli(["user", "role", "nobody@example.com", "admin"])).toMatchObject({ code: 1, stderr: "deadbolt: no user with e-mail nobody@example.com\n" });
  });

  it("resets 2FA, disables with a note, and deletes while the events keep the e-mail", async () => {
    const none = await cli(["user", "reset-mfa", "ann@example.com"]);
    expect(none).toMatchObject({ code: 0, stdout: "ann@example.com: had no two-step verification; nothing changed\n" });

    // Issue 8: the API's note rule; an escape sequence would reach an admin's terminal through `events`.
    const escaped = await cli(["user", "disable", "ann@example.com", "--note", "left\u001b[2J"]);
    expect(escaped).toMatchObject({ code: 2, stdout: "" });
    expect(escaped.stderr).toMatch(/--note must not contain control characters/);
    const disabled = await cli(["user", "disable", "ann@example.com", "--note", "left the company"]);
    expect(disabled).toMatchObject({ code: 0, stdout: "ann@example.com: disabled; sessions ended\n" });
    const [event] = await inspect((r) => listEvents(r.auth.database.db, { type: "account.disabled", email: "ann@example.com", order: "newest" }));
    expect(event?.details).toMatchObject({ note: "left the company", by: "cli" });

    const id = (await inspect((r) => findUserByEmail(r.auth.database.db, "ann@example.com")))?.id;
    const deleted = await cli(["user", "delete", "ann@example.com"]);
    expect(deleted).toMatchObject({ code: 0, stderr: "" });
    expect(await inspect((r) => findUserByEmail(r.auth.database.db, "ann@example.com"))).toBeUndefined();
    const [gone] = await inspect((r) => listEvents(r.auth.database.db, { type: "user.deleted", order: "newest" }));
    expect(gone).toMatchObject({ userId: id, email: "ann@example.com" });
    expect(await cli(["user", "delete", "ann@example.com"])).toMatchObject({ code: 1, stderr: "deadbolt: no user with e-mail ann@example.com\n" });
    const lastAdmin = await cli(["user", "delete", "root@example.com"]);
    expect(lastAdmin).toMatchObject({ code: 1, stderr: "deadbolt: root@example.com is the last active admin; make another user an admin first\n" });
  });
});
