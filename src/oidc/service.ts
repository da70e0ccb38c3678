import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "../auth/index.ts";
import type { Database } from "../store/index.ts";
import { findClient } from "./clients.ts";
import { ensureKeys, loadSigningJwks } from "./keys.ts";
import { endProviderSession, pruneExpiredPayloads } from "./payloads.ts";
import type { WebSession } from "./provider.ts";

type ProviderModule = typeof import("./provider.ts");
type Provider = ReturnType<ProviderModule["createProvider"]>;
type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

/** Keys rotated by the CLI reach a running server within this time. */
export const KEY_REFRESH_MS = 60_000;
/** How often expired sessions, codes and tokens are pruned. */
export const PRUNE_INTERVAL_MS = 10 * 60_000;
/** Between two pruning batches, so sign-ins queued on the database (SQLite's one connection) go first. */
const PRUNE_PAUSE_MS = 10;

export interface OidcServiceDeps {
  /** DEADBOLT_PUBLIC_URL, the issuer. */
  readonly issuer: string;
  readonly database: Database;
  readonly secretKey: Buffer;
  readonly now: () => number;
  readonly randomBytes: (size: number) => Buffer;
  readonly log: Logger;
  /** deadbolt's web session: RP-initiated logout ends it too. */
  readonly webSession: WebSession;
  /** Awaited between two pruning batches, so requests waiting for the database go first. */
  readonly prunePause?: () => Promise<void>;
}

/** An authorization request waiting for the user to sign in at deadbolt's /login. */
export interface PendingInteraction {
  readonly uid: string;
  readonly clientId: string;
  readonly clientName: string;
  readonly prompt: string;
  /** Origin of the (already validated) redirect URI the browser goes back to. */
  readonly redirectOrigin: string;
}

export interface OidcService {
  readonly prefix: string;
  /** The provider's request handler (mounted under `prefix`). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Answers the issuer-root discovery URL from the mounted provider. */
  handleRoot(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** The interaction behind the browser's interaction cookie, or null if there is none (or it expired). */
  interaction(req: IncomingMessage, res: ServerResponse, uid: string): Promise<PendingInteraction | null>;
  /** Tells the provider who signed in; returns where the browser goes next. */
  finishLogin(req: IncomingMessage, res: ServerResponse, userId: string): Promise<string>;
  /** Skips the consent prompt (clients are first-party); returns where the browser goes next. */
  finishConsent(req: IncomingMessage, res: ServerResponse): Promise<string>;
  /**
   * Signing out of deadbolt ends the browser's provider session too (the apps' single sign-on)
   * and revokes the grants made in it, as RP-initiated logout does.
   */
  endBrowserSession(sessionId: string | undefined): Promise<void>;
  /** Deletes every expired artifact, in batches; returns how many. */
  prune(): Promise<number>;
  close(): void;
}

export const OIDC_PREFIX = "/oidc";
/** oidc-provider's cookie naming the browser's provider session (its id). */
export const PROVIDER_SESSION_COOKIE = "_session";
export const INTERACTION_PARAM = "interaction";

/**
 * The OpenID Provider, built on first use: oidc-provider is imported and the keys loaded only
 * when an OIDC request arrives, so a server nobody uses for OIDC does not pay for it. The
 * provider is rebuilt when the published keys change (rotation from the CLI).
 */
export function createOidcService(deps: OidcServiceDeps): OidcService {
  const issuer = new URL(deps.issuer);
  /**
   * The provider builds its endpoint URLs from the request's host and scheme. Behind a TLS
   * proxy or a load balancer those are not the issuer's, so every request it sees is pinned to
   * DEADBOLT_PUBLIC_URL (the provider runs in proxy mode and reads these headers only).
   */
  function asIssuer(req: IncomingMessage): IncomingMessage {
    req.headers.host = issuer.host;
    req.headers["x-forwarded-host"] = issuer.host;
    req.headers["x-forwarded-proto"] = issuer.protocol.slice(0, -1);
    return req;
  }
  let loading: Promise<{ provider: Provider; handler: Handler; fingerprint: string }> | null = null;
  let checkedAt = 0;
  let pruner: NodeJS.Timeout | null = null;
  let pruning = false;
  let closed = false;
  const pause = deps.prunePause ?? (() => sleep(PRUNE_PAUSE_MS));

  async function build(previous: { provider: Provider; handler: Handler; fingerprint: string } | null) {
    const { createProvider } = await import("./provider.ts");
    const keyDeps = { secretKey: deps.secretKey, now: deps.now(), randomBytes: deps.randomBytes };
    await ensureKeys(deps.database.db, keyDeps);
    const jwks = await loadSigningJwks(deps.database.db, keyDeps);
    const fingerprint = jwks.map((key) => key.kid).join(",");
    checkedAt = deps.now();
    if (previous && previous.fingerprint === fingerprint) return previous;
    const provider = createProvider({
      issuer: deps.issuer, database: deps.database, secretKey: deps.secretKey, jwks, now: deps.now,
      interactionUrl: (uid) => `/login?${INTERACTION_PARAM}=${encodeURIComponent(uid)}`, webSession: deps.webSession,
    });
    provider.proxy = true;
    provider.on("server_error", (_ctx, error) => deps.log.error({ err: error }, "oidc provider error"));
    if (pruner === null && !closed) {
      pruner = setInterval(() => {
        if (pruning) return;
        pruning = true;
        void service.prune()
          .catch((error: unknown) => { if (!closed) deps.log.warn({ err: error }, "pruning expired OIDC artifacts failed"); })
          .finally(() => { pruning = false; });
      }, PRUNE_INTERVAL_MS);
      pruner.unref();
    }
    return { provider, handler: provider.callback(), fingerprint };
  }

  async function current() {
    const stale = loading !== null && deps.now() - checkedAt >= KEY_REFRESH_MS;
    if (loading === null || stale) {
      const previous = loading === null ? null : await loading.catch(() => null);
      loading = build(previous);
      loading.catch(() => { loading = null; });
    }
    return loading;
  }

  const service: OidcService = {
    prefix: OIDC_PREFIX,
    async handle(req, res) {
      const { handler } = await current();
      await handler(asIssuer(req), res);
    },
    async handleRoot(req, res) {
      const { handler } = await current();
      // The provider derives its endpoints' mount path from originalUrl minus url.
      const path = req.url ?? "/";
      (req as IncomingMessage & { originalUrl?: string }).originalUrl = `${OIDC_PREFIX}${path}`;
      await handler(asIssuer(req), res);
    },
    async interaction(req, res, uid) {
      const { provider } = await current();
      try {
        const details = await provider.interactionDetails(req, res);
        if (details.uid !== uid) return null;
        const clientId = String(details.params.client_id ?? "");
        const client = await findClient(deps.database.db, clientId);
        if (!client) return null;
        const redirectUri = String(details.params.redirect_uri ?? "");
        if (!client.view.redirectUris.includes(redirectUri)) return null;
        return {
          uid: details.uid, clientId, clientName: client.view.name, prompt: details.prompt.name,
          redirectOrigin: new URL(redirectUri).origin,
        };
      } catch (error) {
        if (error instanceof Error && error.name === "SessionNotFound") return null;
        throw error;
      }
    },
    async finishLogin(req, res, userId) {
      const { provider } = await current();
      return provider.interactionResult(req, res, { login: { accountId: userId, amr: ["pwd"] } }, { mergeWithLastSubmission: false });
    },
    async finishConsent(req, res) {
      const { provider } = await current();
      // An empty consent result resolves the prompt; loadExistingGrant then grants the scopes.
      return provider.interactionResult(req, res, { consent: {} }, { mergeWithLastSubmission: true });
    },
    async endBrowserSession(sessionId) {
      if (sessionId === undefined || sessionId === "" || sessionId.length > 200) return;
      await endProviderSession(deps.database.db, sessionId);
    },
    prune: () => pruneExpiredPayloads(deps.database.db, deps.now(), {
      // Closing ends a run between two batches.
      pause: async () => {
        await pause();
        if (closed) throw new Error("closed");
      },
    }),
    close() {
      closed = true;
      if (pruner !== null) clearInterval(pruner);
      pruner = null;
    },
  };
  return service;
}
