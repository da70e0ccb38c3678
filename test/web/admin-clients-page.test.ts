/** The console's Apps page: register an OpenID Connect client (secret shown once), list, delete. */
import { afterEach, describe, expect, it } from "vitest";
import { listClients } from "../../src/oidc/index.ts";
import { signIn, USER_PASSWORD, withAdmin, type Session } from "../admin/support.ts";
import type { TestApp } from "../support/app.ts";
import { DIALECTS } from "../support/databases.ts";

describe.each(DIALECTS)("console pages: apps (%s)", (dialect) => {
  let t: TestApp;
  let admin: Session;
  afterEach(async () => t?.close());

  const form = (session: Session, url: string, fields: Record<string, string>) => t.app.inject({
    method: "POST", url, payload: new URLSearchParams(fields).toString(),
    headers: {
      cookie: session.cookie, "content-type": "application/x-www-form-urlencoded",
      origin: new URL(t.config.publicUrl).origin, "sec-fetch-site": "same-origin",
    },
  });

  it("registers a client, shows its secret once, lists it without the secret, and deletes it", async () => {
    ({ t, admin } = await withAdmin(dialect));
    const empty = await t.app.inject({ method: "GET", url: "/admin/clients", headers: { cookie: admin.cookie } });
    expect(empty.statusCode).toBe(200);
    expect(empty.body).toContain("0 registered apps");

    const created = await form(admin, "/admin/clients", { name: "Mail <portal>", redirectUris: "https://mail.example/cb\nhttp://localhost:4000/cb" });
    expect(created.statusCode).toBe(201);
    const secret = /id="created-client-secret">([^<]+)</.exec(created.body)?.[1] as string;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.body).toContain("Mail &lt;portal&gt;");
    const [client] = await listClients(t.auth.database.db);
    expect(client?.redirectUris).toEqual(["https://mail.example/cb", "http://localhost:4000/cb"]);
    expect(client?.public).toBe(false);

    const listed = await t.app.inject({ method: "GET", url: "/admin/clients", headers: { cookie: admin.cookie } });
    expect(listed.body).toContain(client?.clientId);
    expect(listed.body).not.toContain(secret);

    const publicOne = await form(admin, "/admin/clients", { name: "SPA", redirectUris: "https://spa.example/cb", public: "on" });
    expect(publicOne.statusCode).toBe(201);
    expect(publicOne.body).not.toContain("created-client-secret");

    const deleted = await form(admin, `/admin/clients/${client?.clientId}/delete`, {});
    expect(deleted.statusCode).toBe(303);
    expect(deleted.headers.location).toBe("/admin/clients?deleted=1");
    expect((await listClients(t.auth.database.db)).map((c) => c.name)).toEqual(["SPA"]);
    expect((await form(admin, `/admin/clients/${client?.clientId}/delete`, {})).statusCode).toBe(404);
  });

  it("refuses bad input with a 400 page saying why, and keeps nothing", async () => {
    ({ t, admin } = await withAdmin(dialect));
    for (const fields of [
      { name: "x", redirectUris: "" },
      { name: "", redirectUris: "https://a.example/cb" },
      { name: "x", redirectUris: "https://a.example/*" },
      { name: "x", redirectUris: "ftp://a.example/cb" },
    ]) {
      const response = await form(admin, "/admin/clients", fields);
      expect(response.statusCode, JSON.stringify(fields)).toBe(400);
      expect(response.body).toContain("Not created:");
    }
    expect(await listClients(t.auth.database.db)).toEqual([]);
  });

  it("is for admins only, and a cross-site form cannot register a client", async () => {
    ({ t, admin } = await withAdmin(dialect));
    await t.createUser("user@example.com", USER_PASSWORD);
    const user = await signIn(t, "user@example.com", USER_PASSWORD);
    expect((await t.app.inject({ method: "GET", url: "/admin/clients", headers: { cookie: user.cookie } })).statusCode).toBe(403);
    expect((await form(user, "/admin/clients", { name: "x", redirectUris: "https://a.example/cb" })).statusCode).toBe(403);
    const crossSite = await t.app.inject({
      method: "POST", url: "/admin/clients", payload: "name=x&redirectUris=https%3A%2F%2Fa.example%2Fcb",
      headers: { cookie: admin.cookie, "content-type": "application/x-www-form-urlencoded", origin: "https://evil.example", "sec-fetch-site": "cross-site" },
    });
    expect(crossSite.statusCode).toBe(403);
    expect(await listClients(t.auth.database.db)).toEqual([]);
  });
});
