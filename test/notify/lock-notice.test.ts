import { afterEach, describe, expect, it } from "vitest";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { events, viewOf } from "../http/helpers.ts";
import { createHarness, failLogins, MINUTE, outbox, PASSWORD, postForm, postJson, PUBLIC_URL, THRESHOLD, type Harness } from "./harness.ts";
import { tokenIn } from "./smtp.ts";

const USER = "alice@example.com";

describe.each(DIALECTS)("lock notice and unlock link (%s)", (dialect) => {
  let h: Harness;
  afterEach(async () => h?.close());

  async function lockedWithNotice(): Promise<string> {
    h = await createHarness(dialect);
    await h.t.createUser(USER, PASSWORD);
    await failLogins(h.t, USER, THRESHOLD);
    expect((await viewOf(h.t, USER)).status).toBe("locked");
    expect(await h.drain()).toBe(1);
    expect(h.smtp.to(USER)).toHaveLength(1);
    return tokenIn(h.smtp.to(USER)[0], "unlock");
  }

  it("a lock sends exactly one notice; failures while locked send nothing more", async () => {
    await lockedWithNotice();
    await failLogins(h.t, USER, 4);
    await postLogin(h.t.app, USER, PASSWORD);
    h.t.clock.advance(MINUTE);
    expect(await h.drain()).toBe(0);
    expect(h.smtp.mails).toHaveLength(1);
    const rows = await outbox(h.t, USER);
    expect(rows.map((r) => [r.kind, r.status])).toEqual([["lock_notice", "sent"]]);
    expect((await events(h.t, { type: "notification.sent" })).map((e) => e.email)).toEqual([USER]);
  });

  it("the notice says until when (UTC), from where, and has unlock and reset links and advice", async () => {
    await lockedWithNotice();
    const mail = h.smtp.to(USER)[0]!;
    const lockedUntil = new Date((await viewOf(h.t, USER)).lockedUntil!);
    const utc = `${lockedUntil.toISOString().slice(0, 19).replace("T", " ")} UTC`;
    expect(mail.subject).toBe(`Your account is locked until ${utc}`);
    expect(mail.headers.from).toContain("security@deadbolt.test");
    expect(mail.text).toContain(`locked until ${utc} after ${THRESHOLD} failed password attempts`);
    expect(mail.text).toContain("IP address:      127.0.0.1");
    // The agent in words: no known browser, so its product token.
    expect(mail.text).toContain("Browser and OS:  EvilBot/1.0");
    expect(mail.text).toContain(`${PUBLIC_URL}/unlock?token=`);
    expect(mail.text).toContain(`${PUBLIC_URL}/reset?token=`);
    expect(mail.text).toContain("If this was not you");
    // The HTML part never carries markup the attacker sent.
    expect(mail.html).toContain("Browser and OS: EvilBot/1.0");
    expect(mail.html).not.toContain("<script>");
    expect(mail.html).toContain(`href="${PUBLIC_URL}/unlock?token=`);
    expect(mail.messageId).toMatch(/^<[0-9a-f]{32}@deadbolt\.test>$/);
    // No token is stored in the outbox, only facts.
    const [row] = await outbox(h.t, USER);
    expect(row!.payload).not.toContain(tokenIn(mail, "unlock"));
    expect(row!.payload).not.toContain(tokenIn(mail, "reset"));
  });

  it("the unlock link works once; a second use is invalid_token", async () => {
    const token = await lockedWithNotice();
    const first = await postJson(h.t, "/api/auth/unlock", { token });
    expect(first.statusCode, first.body).toBe(204);
    expect((await viewOf(h.t, USER)).status).toBe("active");
    // Redeeming the link trusted this client, so its sign-in is no new device (no notice).
    const device = first.cookies.find((c) => c.name === "deadbolt_device")?.value;
    expect(device).toBeDefined();
    expect((await postLogin(h.t.app, USER, PASSWORD, { cookie: `deadbolt_device=${device}` })).statusCode).toBe(200);
    const unlocked = await events(h.t, { type: "account.unlocked" });
    expect(unlocked.map((e) => e.details.by)).toEqual(["token"]);
    const second = await postJson(h.t, "/api/auth/unlock", { token });
    expect(second.statusCode).toBe(400);
    expect(second.json().error).toBe("invalid_token");
    // The user unlocked it themselves: no "unlocked by an administrator" mail.
    expect(await h.drain()).toBe(0);
  });

  it("unknown, malformed and reset tokens do not unlock", async () => {
    const token = await lockedWithNotice();
    const reset = tokenIn(h.smtp.to(USER)[0], "reset");
    const oneCharOff = `${token.slice(0, 42)}${token.endsWith("A") ? "E" : "A"}`;
    for (const wrong of [reset, "x".repeat(43), "short", oneCharOff]) {
      const response = await postJson(h.t, "/api/auth/unlock", { token: wrong });
      expect(response.statusCode).toBe(400);
      expect(response.json().error).toBe("invalid_token");
    }
    expect((await viewOf(h.t, USER)).status).toBe("locked");
  });

  it("GET /unlock only shows a confirm button; the form POST spends the token", async () => {
    const token = await lockedWithNotice();
    for (let i = 0; i < 3; i++) {
      const page = await h.t.app.inject({ method: "GET", url: `/unlock?token=${token}` });
      expect(page.statusCode).toBe(200);
      expect(page.headers["content-type"]).toContain("text/html");
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.body).toContain('<form method="post" action="/unlock">');
      expect(page.body).toContain(`<input type="hidden" name="token" value="${token}">`);
      expect(page.body).toContain('<button type="submit">Unlock my account</button>');
      expect(page.body).not.toMatch(/<script|style=/);
    }
    expect((await viewOf(h.t, USER)).status).toBe("locked");
    const done = await postForm(h.t, "/unlock", { token });
    expect(done.statusCode).toBe(200);
    expect(done.body).toContain("Your account is unlocked");
    expect((await viewOf(h.t, USER)).status).toBe("active");
    const again = await postForm(h.t, "/unlock", { token });
    expect(again.statusCode).toBe(400);
    expect(again.body).toContain("invalid, was already used or has expired");
    const spent = await h.t.app.inject({ method: "GET", url: `/unlock?token=${token}` });
    expect(spent.statusCode).toBe(400);
    expect(spent.body).not.toContain("<form");
  });

  it("the unlock link expires when the lock ends", async () => {
    const token = await lockedWithNotice();
    const lockedUntil = Date.parse((await viewOf(h.t, USER)).lockedUntil!);
    h.t.clock.set(lockedUntil);
    const response = await postJson(h.t, "/api/auth/unlock", { token });
    expect(response.statusCode).toBe(400);
    expect(response.json().error).toBe("invalid_token");
  });

  it("the next lock episode sends a new notice", async () => {
    await lockedWithNotice();
    h.t.clock.advance(16 * MINUTE);
    await failLogins(h.t, USER, THRESHOLD);
    expect((await viewOf(h.t, USER)).status).toBe("locked");
    expect(await h.drain()).toBe(1);
    expect(h.smtp.to(USER).map((m) => m.subject)).toHaveLength(2);
    expect(new Set(h.smtp.to(USER).map((m) => m.messageId)).size).toBe(2);
  });
});
