/** POST /api/auth/mfa/recovery-codes: new codes with the password; the old ones die; bad input changes nothing. */
import { afterEach, describe, expect, it } from "vitest";
import { renderMail } from "../../src/notify/index.ts";
import { countUnusedRecoveryCodes, listNotices } from "../../src/store/index.ts";
import { events } from "../http/helpers.ts";
import { createTestApp, type TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { bearer, enroll, passwordStep, PASSWORD, postMfa, signIn, viewOf, WRONG_PASSWORD } from "./helpers.ts";

const REGENERATE = "/api/auth/mfa/recovery-codes";

describe.each(DIALECTS)("regenerating recovery codes (%s)", (dialect) => {
  let t: TestApp;
  afterEach(async () => t?.close());

  function regenerate(session: string | null, payload: unknown) {
    return t.app.inject({ method: "POST", url: REGENERATE, headers: session === null ? {} : bearer(session), payload: payload as object });
  }

  it("gives 10 new codes for the password; the old codes stop working and the new ones work once", async () => {
    t = await createTestApp(dialect);
    const enrolled = await enroll(t, "codes@example.com");
    const response = await regenerate(enrolled.session, { password: PASSWORD });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers["cache-control"]).toBe("no-store");
    const codes = response.json<{ recoveryCodes: string[] }>().recoveryCodes;
    expect(codes).toHaveLength(10);
    for (const code of codes) expect(enrolled.recoveryCodes).not.toContain(code);
    expect(await countUnusedRecoveryCodes(t.auth.database.db, enrolled.user.id)).toBe(10);

    const old = await postMfa(t, await passwordStep(t, enrolled.email), enrolled.recoveryCodes[0] ?? "");
    expect(old.statusCode).toBe(401);
    const fresh = await postMfa(t, await passwordStep(t, enrolled.email), codes[0] ?? "");
    expect(fresh.statusCode, fresh.body).toBe(200);
    expect(await countUnusedRecoveryCodes(t.auth.database.db, enrolled.user.id)).toBe(9);

    // Audited and mailed, as turning the second factor on is.
    const replaced = await events(t, { type: "mfa.recovery_codes_replaced" });
    expect(replaced.map((e) => [e.email, e.message])).toEqual([
      [enrolled.email, "10 new recovery codes made by the user; the old ones no longer work"],
    ]);
    const [notice, ...others] = (await listNotices(t.auth.database.db, { kind: "mfa_changed" }))
      .filter((row) => JSON.parse(row.payload).action === "recovery_codes");
    expect(others).toEqual([]);
    const mail = renderMail({
      kind: "mfa_changed", to: enrolled.email, payload: JSON.parse(notice!.payload), publicUrl: "http://localhost",
      links: { unlockUrl: null, resetUrl: null },
    });
    expect(mail.subject).toBe("New recovery codes were made for your account");
    expect(mail.text).toContain("the old ones no longer work");
    expect(mail.text).toContain("holds codes that get past your second step");
  });

  it("refuses a wrong password (counted as a failed attempt), no 2FA, no session and no password; the codes stay", async () => {
    t = await createTestApp(dialect);
    const enrolled = await enroll(t, "keep@example.com");
    const wrong = await regenerate(enrolled.session, { password: WRONG_PASSWORD });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error).toBe("invalid_credentials");
    expect((await viewOf(t, enrolled.email)).failedPasswordAttempts).toBe(1);
    expect((await regenerate(enrolled.session, {})).statusCode).toBe(400);
    expect((await regenerate(enrolled.session, { password: "" })).statusCode).toBe(400);
    expect((await regenerate(null, { password: PASSWORD })).json().error).toBe("unauthenticated");
    expect(await countUnusedRecoveryCodes(t.auth.database.db, enrolled.user.id)).toBe(10);
    expect(await events(t, { type: "mfa.recovery_codes_replaced" })).toEqual([]);
    // The old codes still work after every refusal.
    const used = await postMfa(t, await passwordStep(t, enrolled.email), enrolled.recoveryCodes[1] ?? "");
    expect(used.statusCode, used.body).toBe(200);

    await t.createUser("plain@example.com", PASSWORD);
    const plain = await regenerate(await signIn(t, "plain@example.com"), { password: PASSWORD });
    expect(plain.statusCode).toBe(400);
    expect(plain.json().error).toBe("invalid_request");
  });
});
