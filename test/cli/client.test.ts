import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, hashClientSecret } from "../../src/oidc/clients.ts";
import { createTestDatabase, DIALECTS, type TestDatabase } from "../support/databases.ts";
import { CLIENT_FIELDS } from "../oidc/support.ts";
import { cliEnv, json, openRuntime, runCli, type CliResult, type Env } from "./helpers.ts";

interface CreatedClient {
  clientId: string;
  name: string;
  public: boolean;
  redirectUris: string[];
  clientSecret: string | null;
}

describe.each(DIALECTS)("deadbolt client and keys (%s)", (dialect) => {
  let database: TestDatabase;
  let env: Env;
  const cli = (args: string[]): Promise<CliResult> => runCli(args, { env });
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    env = cliEnv(database);
  });
  afterAll(async () => database.drop());

  it("create prints the secret once, stores only its hash; list never shows it; delete removes", async () => {
    const created = await cli(["client", "create", "Mail portal", "--redirect-uri", "https://mail.example/cb",
      "--redirect-uri", "http://localhost:4000/cb", "--json"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const client = json<CreatedClient>(created);
    expect(client).toMatchObject({ name: "Mail portal", public: false, redirectUris: ["https://mail.example/cb", "http://localhost:4000/cb"] });
    expect(client.clientSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const runtime = await openRuntime(env);
    try {
      const row = await runtime.auth.database.db.selectFrom("oidc_clients").selectAll().where("client_id", "=", client.clientId).executeTakeFirstOrThrow();
      expect(row.secret_hash).toBe(hashClientSecret(client.clientSecret as string));
    } finally {
      await runtime.close();
    }

    const publicClient = await cli(["client", "create", "SPA", "--redirect-uri", "https://spa.example/cb", "--public"]);
    expect(publicClient.code).toBe(0);
    expect(publicClient.stdout).toContain("public (no secret; PKCE required)");
    expect(publicClient.stdout).not.toContain("client secret:");

    const listed = await cli(["client", "list", "--json"]);
    expect(listed.code).toBe(0);
    expect(json<CreatedClient[]>(listed).map((c) => c.name)).toEqual(["Mail portal", "SPA"]);
    // The HTTP API's field names, in its order; create adds the one-time clientSecret.
    for (const listedClient of json<object[]>(listed)) expect(Object.keys(listedClient)).toEqual(CLIENT_FIELDS);
    expect(Object.keys(client)).toEqual([...CLIENT_FIELDS, "clientSecret"]);
    expect(listed.stdout).not.toContain(client.clientSecret);

    const deleted = await cli(["client", "delete", client.clientId]);
    expect(deleted.code).toBe(0);
    const again = await cli(["client", "delete", client.clientId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`deadbolt: no client with id ${client.clientId}\n`);
  });

  it("a client id never looks like an option: random bytes that base64url would start with '-' still delete", async () => {
    const runtime = await openRuntime(env);
    let clientId: string;
    try {
      // 0xf8… is "-…" in base64url.
      const created = await createClient(runtime.auth.database.db, { name: "Dash", redirectUris: ["https://dash.example/cb"], public: true },
        { now: runtime.auth.now(), randomBytes: (size) => Buffer.alloc(size, 0xf8) });
      if (!created.ok) throw new Error(created.message);
      clientId = created.client.clientId;
    } finally {
      await runtime.close();
    }
    expect(clientId).toMatch(/^[0-9a-f]{32}$/);
    const deleted = await cli(["client", "delete", clientId]);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
  });

  it("without --json: the client, its secret shown this once, then the issuer; list shows each client", async () => {
    const wiki = await cli(["client", "create", "Wiki", "--redirect-uri", "https://wiki.example/cb"]);
    expect(wiki.code).toBe(0);
    expect(wiki.stdout).toMatch(/^created client Wiki\nclient id: {6}\S+\n[\s\S]*\nclient secret: {2}[\w-]{43}\n\(shown only now: deadbolt keeps only its hash\)\nissuer: {9}\S+\n$/);
    const listed = await cli(["client", "list"]);
    expect(listed.stdout).toMatch(/^client id: {6}\S+\nname: {11}/);
    expect(listed.stdout).toMatch(/\n\nclient id: {6}\S+\nname: {11}Wiki\n[\s\S]*\n$/);
  });

  it("bad input: a usage error without a redirect URI, one clear line for a bad one", async () => {
    const missing = await cli(["client", "create", "x"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing --redirect-uri <uri>");
    const wildcard = await cli(["client", "create", "x", "--redirect-uri", "https://a.example/*"]);
    expect(wildcard.code).toBe(1);
    expect(wildcard.stderr.trim().split("\n")).toHaveLength(1);
    expect(wildcard.stderr).toContain("wildcard");
    const notNormal = await cli(["client", "create", "x", "--redirect-uri", "HTTPS://A.example:443/cb"]);
    expect(notNormal.code).toBe(1);
    expect(notNormal.stderr).toBe('deadbolt: "HTTPS://A.example:443/cb" is not in normal form: register it as "https://a.example/cb"\n');
    const unnamed = await cli(["client", "create", " ", "--redirect-uri", "https://a.example/cb"]);
    expect(unnamed.code).toBe(1);
    expect(unnamed.stderr).toBe("deadbolt: the name must be 1 to 100 characters\n");
    expect(json<unknown[]>(await cli(["client", "list", "--json"])).filter((c) => (c as { name: string }).name === "x")).toEqual([]);
  });

  it("keys rotate publishes a new generation of RS256 and ES256 beside the old", async () => {
    const rotated = await cli(["keys", "rotate", "--json"]);
    expect(rotated.stderr).toBe("");
    expect(rotated.code).toBe(0);
    const keys = json<Array<{ alg: string; generation: number; signing: boolean; publishedUntil: string | null }>>(rotated);
    expect(keys.map((key) => `${key.alg}:${key.generation}:${key.signing}`).sort())
      .toEqual(["ES256:1:true", "ES256:2:false", "RS256:1:true", "RS256:2:false"]);
    expect(keys.filter((key) => key.generation === 1).every((key) => key.publishedUntil !== null)).toBe(true);
  });
});
