// Loaded on first use (see service.ts): oidc-provider and Koa cost memory an idle server need not pay.
import { hkdfSync } from "node:crypto";
import Provider, { interactionPolicy, type Grant, type KoaContextLike } from "oidc-provider";
import { findUserById, type Database } from "../store/index.ts";
import { createAdapterClass } from "./adapter.ts";
import { clientSecretMatches } from "./clients.ts";
import type { SigningJwk } from "./keys.ts";
import { errorPage, logoutPage, loggedOutPage } from "./pages.ts";

export const SCOPES = ["openid", "email", "offline_access"] as const;

export interface ProviderDeps {
  readonly issuer: string;
  readonly database: Database;
  readonly secretKey: Buffer;
  readonly jwks: readonly SigningJwk[];
  readonly now: () => number;
  /** Where the browser goes for the interaction: deadbolt's own sign-in page. */
  readonly interactionUrl: (uid: string) => string;
  /** deadbolt's own web session, which signing out through an app ends too. */
  readonly webSession: WebSession;
}

/** The cookie of deadbolt's web session and how to end one. */
export interface WebSession {
  readonly cookie: string;
  end(token: string): Promise<void>;
}

/** Cookie signing keys derived from DEADBOLT_SECRET_KEY: the same on every instance. */
function cookieKeys(secretKey: Buffer): string[] {
  return [Buffer.from(hkdfSync("sha256", secretKey, Buffer.alloc(0), "deadbolt oidc cookies", 32)).toString("base64url")];
}

function requestedScopes(ctx: KoaContextLike): string {
  const asked = typeof ctx.oidc.params.scope === "string" ? ctx.oidc.params.scope.split(" ") : [];
  return asked.filter((scope) => (SCOPES as readonly string[]).includes(scope)).join(" ");
}

/**
 * Every client is registered by an admin, so it is first-party: the grant it asks for (within
 * the scopes deadbolt offers) is given without a consent screen, as Keycloak does for
 * clients with consent off.
 */
async function loadFirstPartyGrant(ctx: KoaContextLike): Promise<Grant | undefined> {
  const client = ctx.oidc.client;
  const accountId = ctx.oidc.session.accountId;
  if (!client || !accountId) return undefined;
  const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session.grantIdFor(client.clientId);
  let grant = grantId ? await ctx.oidc.provider.Grant.find(grantId) : undefined;
  // A grant revoked (user disabled, client deleted) or of another account is replaced.
  if (!grant || grant.accountId !== accountId || grant.clientId !== client.clientId) {
    grant = new ctx.oidc.provider.Grant({ accountId, clientId: client.clientId });
  }
  grant.addOIDCScope(requestedScopes(ctx) || "openid");
  await grant.save();
  return grant;
}

/** Lifetimes in seconds: short access tokens, refresh tokens that rotate on every use. */
const TTL_SECONDS = {
  AccessToken: 10 * 60,
  AuthorizationCode: 60,
  IdToken: 60 * 60,
  Interaction: 15 * 60,
  RefreshToken: 14 * 24 * 3600,
  Grant: 30 * 24 * 3600,
  Session: 7 * 24 * 3600,
} as const;

/** A client may revoke or introspect only what it was issued itself. */
async function ownTokenOnly(_ctx: unknown, client: { clientId: string }, token: { clientId?: string }): Promise<boolean> {
  return token.clientId === client.clientId;
}

/**
 * deadbolt's CSP lets forms go to 'self' only, and browsers apply it to the redirects after a
 * submission too. The provider's own forms (logout confirmation, form_post) end at the client,
 * so its registered origins are added on those responses.
 */
async function allowFormsToClient(ctx: KoaContextLike, next: () => Promise<void>): Promise<void> {
  await next();
  const client = ctx.oidc?.client;
  const policy = ctx.response.get("content-security-policy");
  if (!client || !policy) return;
  const origins = new Set<string>();
  for (const uri of [...(client.redirectUris ?? []), ...(client.postLogoutRedirectUris ?? [])]) {
    const origin = URL.parse(uri)?.origin;
    if (origin && origin !== "null") origins.add(origin);
  }
  if (origins.size > 0) ctx.set("content-security-policy", policy.replace(/form-action 'self'/, `form-action 'self' ${[...origins].join(" ")}`));
}

/**
 * The logout page asks "sign out of deadbolt?": a yes ends deadbolt's own web session in this
 * browser too (the provider ends only its own), so /account is signed out as well.
 */
function endWebSessionOnLogout(webSession: WebSession, secure: boolean) {
  return async function endWebSession(ctx: KoaContextLike, next: () => Promise<void>): Promise<void> {
    await next();
    if (ctx.oidc?.route !== "end_session_confirm" || ctx.status !== 303 || !ctx.oidc.params.logout) return;
    const token = ctx.cookies.get(webSession.cookie, { signed: false });
    if (!token) return;
    await webSession.end(token);
    ctx.cookies.set(webSession.cookie, null, { path: "/", httpOnly: true, sameSite: "lax", secure, signed: false });
  };
}

/**
 * The oidc-provider configuration: code flow only, PKCE for public clients, refresh tokens
 * always rotated, revocation, introspection, RP-initiated logout, no dev interactions.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { db } = deps.database;
  const policy = interactionPolicy.base();
  // A session whose account is now locked or disabled must sign in again (through the guard).
  policy.get("login")?.checks.push(new interactionPolicy.Check("account_unavailable",
    "the account cannot sign in right now", (ctx) =>
      ctx.oidc.session.accountId !== undefined && ctx.oidc.account === undefined
        ? interactionPolicy.Check.REQUEST_PROMPT : interactionPolicy.Check.NO_NEED_TO_PROMPT));

  const provider = new Provider(deps.issuer, {
    adapter: createAdapterClass(db, deps.now),
    clients: [],
    jwks: { keys: deps.jwks },
    cookies: {
      keys: cookieKeys(deps.secretKey),
      long: { httpOnly: true, sameSite: "lax", signed: true },
      short: { httpOnly: true, sameSite: "lax", signed: true },
    },
    claims: { openid: ["sub"], email: ["email", "email_verified"] },
    scopes: [...SCOPES],
    responseTypes: ["code"],
    // What a client registered here can use: a secret (basic or post; only its hash is stored,
    // so never client_secret_jwt, whose HMAC would need the secret itself) or PKCE alone.
    clientAuthMethods: ["client_secret_basic", "client_secret_post", "none"],
    // Claims the scopes grant go into the ID token too, not only userinfo (SPEC).
    conformIdTokenClaims: false,
    ttl: TTL_SECONDS,
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true, allowedPolicy: ownTokenOnly },
      introspection: { enabled: true, allowedPolicy: ownTokenOnly },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true, logoutSource: logoutPage, postLogoutSuccessSource: loggedOutPage },
    },
    pkce: { required: (_ctx: unknown, client: { clientAuthMethod: string }) => client.clientAuthMethod === "none" },
    interactions: {
      policy,
      url: (_ctx: unknown, interaction: { uid: string }) => deps.interactionUrl(interaction.uid),
    },
    loadExistingGrant: loadFirstPartyGrant,
    // Every code exchange gets a refresh token (no offline_access consent dance for first-party
    // apps); each use rotates it, and a replayed one revokes the whole grant.
    issueRefreshToken: async (_ctx: unknown, client: { grantTypeAllowed(type: string): boolean }) =>
      client.grantTypeAllowed("refresh_token"),
    rotateRefreshToken: true,
    async findAccount(ctx: KoaContextLike, sub: string, token?: unknown) {
      const user = await findUserById(db, sub);
      if (!user || user.disabled_reason !== null) return undefined;
      // At the authorization endpoint a locked account gets no code from an old session; a
      // sign-in that just went through the guard (a trusted device during a lock) does.
      const locked = user.locked_until !== null && user.locked_until > deps.now();
      if (token === undefined && locked && ctx.oidc?.result?.login === undefined) return undefined;
      return {
        accountId: user.id,
        // Addresses are provisioned by an admin (there is no self sign-up), who vouches for them.
        claims: async () => ({ sub: user.id, email: user.email, email_verified: true }),
      };
    },
    renderError: errorPage,
  });
  provider.use(allowFormsToClient);
  provider.use(endWebSessionOnLogout(deps.webSession, deps.issuer.startsWith("https:")));
  // Only the SHA-256 of a client secret is stored; the provider compares against it.
  provider.Client.prototype.compareClientSecret = function compare(this: { clientSecret: string }, actual: string) {
    return clientSecretMatches(this.clientSecret, actual);
  };
  return provider;
}
