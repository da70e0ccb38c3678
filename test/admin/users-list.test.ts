import { afterEach, describe, expect, it } from "vitest";
import type { UserView } from "../../src/auth/index.ts";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";
import { ADMIN_EMAIL, errorCode, failLogins, get, insertUsers, post, USER_PASSWORD, withAdmin, type Session } from "./support.ts";

interface UserPage {
  users: UserView[];
  nextCursor: string | null;
}

const emails = (page: UserPage): string[] => page.users.map((u) => u.email);

describe.each(DIALECTS)("GET /api/admin/users (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  afterEach(async () => t?.close());

  const list = async (query: string): Promise<UserPage> => {
    const response = await get(t, admin, `/api/admin/users${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json<UserPage>();
  };

  /** Walks every page, checking that no page repeats a user. */
  const walk = async (query: string, limit: number): Promise<{ seen: string[]; pages: number }> => {
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: UserPage = await list(`?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ""}`);
      expect(page.users.length).toBeLessThanOrEqual(limit);
      seen.push(...emails(page));
      cursor = page.nextCursor;
      pages++;
      expect(pages).toBeLessThan(100);
    } while (cursor !== null);
    return { seen, pages };
  };

  it("filters by status: locked after failed logins, disabled by an admin, active otherwise", async () => {
    ({ t, admin } = await withAdmin(dialect, { DEADBOLT_LOCKOUT_THRESHOLD: "3", DEADBOLT_LOCKOUT_DURATION: "15m" }));
    await t.createUser("alice@example.com", USER_PASSWORD);
    const bob = await t.createUser("bob@example.com", USER_PASSWORD);
    await t.createUser("carol@example.com", USER_PASSWORD);
    await failLogins(t, "alice@example.com", 3, "198.51.100.9");
    expect((await post(t, admin, `/api/admin/users/${bob.id}/disable`)).statusCode).toBe(200);

    const locked = await list("?status=locked");
    expect(emails(locked)).toEqual(["alice@example.com"]);
    expect(locked.users[0]).toMatchObject({
      status: "locked", lockReason: "password", failedPasswordAttempts: 3, lockoutCount: 1,
      lockedUntil: new Date(t.clock.now() + 15 * 60_000).toISOString(), lastFailedIp: "198.51.100.9", disabledReason: null,
    });
    const disabled = await list("?status=disabled");
    expect(emails(disabled)).toEqual(["bob@example.com"]);
    expect(disabled.users[0]).toMatchObject({ status: "disabled", disabledReason: "admin" });
    expect(emails(await list("?status=active"))).toEqual(["carol@example.com", ADMIN_EMAIL]);
    expect(emails(await list(""))).toEqual(["alice@example.com", "bob@example.com", "carol@example.com", ADMIN_EMAIL]);
    expect((await list("")).nextCursor).toBeNull();

    // When the lock expires, alice is active again with fresh counters, without any write.
    t.clock.advance(15 * 60_000);
    expect((await list("?status=locked")).users).toEqual([]);
    const active = await list("?status=active");
    expect(emails(active)).toEqual(["alice@example.com", "carol@example.com", ADMIN_EMAIL]);
    expect(active.users[0]).toMatchObject({ status: "active", failedPasswordAttempts: 0, lockedUntil: null });
  });

  it("searches e-mails case-insensitively, with LIKE wildcards taken literally", async () => {
    ({ t, admin } = await withAdmin(dialect));
    await insertUsers(t, ["maria@example.com", "mario_x@example.com", "mariox@example.com", "zed@elsewhere.org"]);
    expect(emails(await list("?q=MARI"))).toEqual(["maria@example.com", "mario_x@example.com", "mariox@example.com"]);
    expect(emails(await list("?q=o_x"))).toEqual(["mario_x@example.com"]);
    expect(emails(await list("?q=%25"))).toEqual([]);
    expect(emails(await list("?q=elsewhere&status=active"))).toEqual(["zed@elsewhere.org"]);
    expect(emails(await list("?q=elsewhere&status=locked"))).toEqual([]);
  });

  it("paginates with an opaque cursor that visits every user exactly once", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const created = await insertUsers(t, Array.from({ length: 10 }, (_, i) => `user${String(i).padStart(2, "0")}@example.com`));
    const all = [...created.map((u) => u.email), ADMIN_EMAIL].sort();

    for (const limit of [1, 3, 11]) {
      const { seen, pages } = await walk("", limit);
      expect(seen).toEqual(all);
      expect(pages).toBe(Math.ceil(all.length / limit));
    }
    // A filter and the cursor together.
    await post(t, admin, `/api/admin/users/${created[4]!.id}/disable`);
    const active = await walk("&status=active", 4);
    expect(active.seen).toEqual(all.filter((e) => e !== created[4]!.email));
    expect((await walk("&status=disabled", 4)).seen).toEqual([created[4]!.email]);
    const page = await list("?limit=2");
    expect(page.nextCursor).not.toContain("@");
  });

  it("pages 50 users by default and at most 200", async () => {
    ({ t, admin } = await withAdmin(dialect));
    await insertUsers(t, Array.from({ length: 60 }, (_, i) => `bulk${String(i).padStart(3, "0")}@example.com`));
    const first = await list("");
    expect(first.users).toHaveLength(50);
    expect(first.nextCursor).not.toBeNull();
    const rest = await list(`?cursor=${first.nextCursor}`);
    expect(rest.users).toHaveLength(11);
    expect(rest.nextCursor).toBeNull();
    expect((await list("?limit=200")).users).toHaveLength(61);
  });

  it("answers 400 invalid_request to a bad status, limit or cursor", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const garbage = Buffer.from("x@y\u0000", "utf8").toString("base64url").slice(0, -1);
    for (const query of [
      "status=frozen", "status=", "limit=0", "limit=201", "limit=ten", "limit=1.5",
      "cursor=!!!", "cursor=", `cursor=${garbage}`, "cursor=A",
    ]) {
      const response = await get(t, admin, `/api/admin/users?${query}`);
      expect(response.statusCode, query).toBe(400);
      expect(errorCode(response)).toBe("invalid_request");
    }
  });
});
