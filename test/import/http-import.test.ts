import bcrypt from "bcryptjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findUserByEmail, listEvents } from "../../src/store/index.ts";
import { bearer, errorCode, signIn, withAdmin, type AdminFixture, type Session } from "../admin/support.ts";
import { postLogin } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

const URL = "/api/admin/users/import";

describe.each(DIALECTS)("POST /api/admin/users/import (%s)", (dialect) => {
  let f: AdminFixture;
  let user: Session;
  const send = (session: Session | null, payload: string, options: { type?: string; query?: string } = {}) =>
    f.t.app.inject({
      method: "POST", url: `${URL}${options.query ?? ""}`, payload,
      headers: { "content-type": options.type ?? "application/x-ndjson", ...(session ? bearer(session) : {}) },
    });
  const hashOf = (password: string): string => bcrypt.hashSync(password, 4);

  beforeAll(async () => {
    f = await withAdmin(dialect);
    await f.t.createUser("plain@example.com", "plain-user-password");
    user = await signIn(f.t, "plain@example.com", "plain-user-password");
  });

  afterAll(async () => {
    await f.t.close();
  });

  it("is for admins only: 401 without a session, 403 for a user, before the body is read", async () => {
    const body = JSON.stringify({ email: "sneaky@example.com" });
    expect((await send(null, body)).statusCode).toBe(401);
    const forbidden = await send(user, body);
    expect(forbidden.statusCode).toBe(403);
    expect(errorCode(forbidden)).toBe("forbidden");
    expect(await findUserByEmail(f.t.auth.database.db, "sneaky@example.com")).toBeUndefined();
  });

  it("refuses a file with a bad line with 400 invalid_import, its line numbers, and imports nothing", async () => {
    const body = [JSON.stringify({ email: "one@example.com", passwordHash: hashOf("first password") }), "[]", "{\"email\":\"bad\"}"].join("\n");
    const response = await send(f.admin, body);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({
      error: "invalid_import", imported: 0, skipped: 0, invalid: 2,
      problems: [{ line: 2, message: "not a JSON object" }, { line: 3 }],
    });
    expect(await findUserByEmail(f.t.auth.database.db, "one@example.com")).toBeUndefined();
  });

  it("dry-runs, imports, and skips existing users on a second import; the imported user signs in", async () => {
    const body = [
      JSON.stringify({ email: "one@example.com", passwordHash: hashOf("first password") }),
      JSON.stringify({ email: "PLAIN@example.com", passwordHash: hashOf("would overwrite") }),
      JSON.stringify({ email: "two@example.com", role: "admin" }),
    ].join("\r\n");
    const dry = await send(f.admin, body, { query: "?dryRun=true" });
    expect(dry.json()).toEqual({ imported: 2, skipped: 1, invalid: 0, dryRun: true });
    expect(await findUserByEmail(f.t.auth.database.db, "one@example.com")).toBeUndefined();

    const first = await send(f.admin, body);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ imported: 2, skipped: 1, invalid: 0, dryRun: false });
    const second = await send(f.admin, body, { type: "text/plain" });
    expect(second.json()).toEqual({ imported: 0, skipped: 3, invalid: 0, dryRun: false });

    expect((await postLogin(f.t.app, "one@example.com", "first password")).statusCode).toBe(200);
    expect((await postLogin(f.t.app, "plain@example.com", "plain-user-password")).statusCode, "existing user untouched").toBe(200);
    const events = await listEvents(f.t.auth.database.db, { type: "user.created", email: "two@example.com", order: "oldest" });
    expect(events).toMatchObject([{ details: { role: "admin", via: "import", by: "admin", actor: "root@example.com" } }]);
  });

  it("accepts only the JSON-lines body: a JSON array is 415, not a 500", async () => {
    const response = await f.t.app.inject({
      method: "POST", url: URL, payload: [{ email: "arr@example.com" }], headers: bearer(f.admin),
    });
    expect(response.statusCode).toBe(415);
    expect(errorCode(response)).toBe("unsupported_media_type");
    expect(await findUserByEmail(f.t.auth.database.db, "arr@example.com")).toBeUndefined();
  });
});
