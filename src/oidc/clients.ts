import { createHash, timingSafeEqual } from "node:crypto";
import type { Kysely } from "kysely";
import type { Schema } from "../store/index.ts";
import { isSingleLine } from "../text.ts";
import { revokeClientArtifacts } from "./payloads.ts";

type Db = Kysely<Schema>;

/** A registered client as the API and the CLI show it (never the secret). */
export interface ClientView {
  readonly clientId: string;
  readonly name: string;
  readonly public: boolean;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris: readonly string[];
  readonly createdAt: string;
}

export interface NewClient {
  readonly name: string;
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly public: boolean;
}

export type CreateClientResult =
  | { readonly ok: true; readonly client: ClientView; readonly clientSecret: string | null }
  | { readonly ok: false; readonly message: string };

export const MAX_REDIRECT_URIS = 20;
const NAME_MAX = 100;
const URI_MAX = 2000;
const SECRET_BYTES = 32;
const CLIENT_ID_BYTES = 16;
/**
 * Client ids in hex: base64url starts one id in 64 with "-", which `deadbolt client delete <id>`
 * (and any other command line) then takes for an option.
 */
const CLIENT_ID_ENCODING = "hex";

export function hashClientSecret(secret: string): string {
  return createHash("sha256").update(secret).digest("hex");
}

/** Constant-time check of a presented secret against the stored SHA-256. */
export function clientSecretMatches(storedHash: string, presented: string): boolean {
  const expected = Buffer.from(storedHash, "hex");
  const actual = Buffer.from(hashClientSecret(presented), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Why a redirect URI is refused, or null. Matching is exact, so no wildcard or fragment. */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length === 0 || uri.length > URI_MAX) return `a redirect URI must be 1 to ${URI_MAX} characters`;
  // The URL parser would quietly drop or encode them; the URI must match exactly, so refuse.
  if (!isSingleLine(uri)) return `${JSON.stringify(uri)} must not contain control characters`;
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return `${JSON.stringify(uri)} is not an absolute URL`;
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return `${JSON.stringify(uri)} must use https (or http)`;
  if (parsed.hash !== "" || uri.includes("#")) return `${JSON.stringify(uri)} must not contain a fragment (#)`;
  if (uri.includes("*")) return `${JSON.stringify(uri)} must not contain a wildcard: redirect URIs match exactly`;
  if (parsed.username !== "" || parsed.password !== "") return `${JSON.stringify(uri)} must not contain credentials`;
  // Apps send the URI as they have it and the provider compares strings, so it is kept in the
  // one form URL libraries produce: no spaces, dot segments, upper-case host or default port.
  // A bare origin (an SPA's `location.origin`) is the one form without the trailing slash.
  const bareOrigin = parsed.href === `${uri}/` && parsed.pathname === "/" && parsed.search === "";
  if (parsed.href !== uri && !bareOrigin) return `${JSON.stringify(uri)} is not in normal form: register it as ${JSON.stringify(parsed.href)}`;
  return null;
}

function uriListProblem(uris: readonly string[], what: string, { required }: { required: boolean }): string | null {
  if (required && uris.length === 0) return `at least one ${what} is required`;
  if (uris.length > MAX_REDIRECT_URIS) return `at most ${MAX_REDIRECT_URIS} ${what}s`;
  for (const uri of uris) {
    const problem = redirectUriProblem(uri);
    if (problem !== null) return problem;
  }
  return null;
}

/** Where an app may send the user after logout by default: the origin of each redirect URI. */
function defaultPostLogoutUris(redirectUris: readonly string[]): string[] {
  return [...new Set(redirectUris.map((uri) => `${new URL(uri).origin}/`))];
}

type ClientRow = Schema["oidc_clients"];

function toView(row: Pick<ClientRow, "client_id" | "name" | "secret_hash" | "redirect_uris" | "post_logout_redirect_uris" | "created_at">): ClientView {
  return {
    clientId: row.client_id,
    name: row.name,
    public: row.secret_hash === null,
    redirectUris: JSON.parse(row.redirect_uris) as string[],
    postLogoutRedirectUris: JSON.parse(row.post_logout_redirect_uris) as string[],
    createdAt: new Date(row.created_at).toISOString(),
  };
}

/**
 * Registers a first-party client. A confidential client's secret is returned once; only its
 * SHA-256 is stored (it is 256 random bits, so a fast hash is enough).
 */
export async function createClient(
  db: Db, input: NewClient, deps: { readonly now: number; readonly randomBytes: (size: number) => Buffer },
): Promise<CreateClientResult> {
  const name = input.name.trim();
  if (name.length === 0 || name.length > NAME_MAX) return { ok: false, message: `the name must be 1 to ${NAME_MAX} characters` };
  if (!isSingleLine(name)) return { ok: false, message: "the name must not contain control characters" };
  const redirectUris = [...new Set(input.redirectUris)];
  const problem = uriListProblem(redirectUris, "redirect URI", { required: true })
    ?? uriListProblem(input.postLogoutRedirectUris ?? [], "post-logout redirect URI", { required: false });
  if (problem !== null) return { ok: false, message: problem };
  const postLogout = input.postLogoutRedirectUris && input.postLogoutRedirectUris.length > 0
    ? [...new Set(input.postLogoutRedirectUris)]
    : defaultPostLogoutUris(redirectUris);
  const clientSecret = input.public ? null : deps.randomBytes(SECRET_BYTES).toString("base64url");
  const row: ClientRow = {
    client_id: deps.randomBytes(CLIENT_ID_BYTES).toString(CLIENT_ID_ENCODING),
    name,
    secret_hash: clientSecret === null ? null : hashClientSecret(clientSecret),
    redirect_uris: JSON.stringify(redirectUris),
    post_logout_redirect_uris: JSON.stringify(postLogout),
    created_at: deps.now,
  };
  await db.insertInto("oidc_clients").values(row).execute();
  return { ok: true, client: toView(row), clientSecret };
}

export async function listClients(db: Db): Promise<ClientView[]> {
  const rows = await db.selectFrom("oidc_clients").selectAll().orderBy("created_at").orderBy("client_id").execute();
  return rows.map(toView);
}

export interface StoredClient {
  readonly view: ClientView;
  readonly secretHash: string | null;
}

export async function findClient(db: Db, clientId: string): Promise<StoredClient | null> {
  if (clientId.length === 0 || clientId.length > 200) return null;
  const row = await db.selectFrom("oidc_clients").selectAll().where("client_id", "=", clientId).executeTakeFirst();
  return row ? { view: toView(row), secretHash: row.secret_hash } : null;
}

/** Deletes a client and, in the same transaction, everything it was issued. False when unknown. */
export async function deleteClient(db: Db, clientId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const result = await trx.deleteFrom("oidc_clients").where("client_id", "=", clientId).executeTakeFirst();
    await revokeClientArtifacts(trx, clientId);
    return Number(result.numDeletedRows) > 0;
  });
}
