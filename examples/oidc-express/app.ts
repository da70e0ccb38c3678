/**
 * A small Express app that signs its users in through deadbolt over OpenID Connect, with
 * openid-client: authorization code flow with PKCE, the ID token's e-mail shown, RP-initiated
 * logout. It keeps its own session in memory (a real app would use its session store).
 */
import { randomBytes } from "node:crypto";
import express, { type Request, type Response } from "express";
import * as oidc from "openid-client";

export interface RelyingPartyOptions {
  /** deadbolt's DEADBOLT_PUBLIC_URL (the issuer). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Where this app is reached, e.g. http://localhost:4000; its /callback is the redirect URI. */
  readonly baseUrl: string;
}

interface Session {
  pkceVerifier?: string;
  state?: string;
  nonce?: string;
  email?: string;
  idToken?: string;
}

const COOKIE = "rp_session";

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function page(body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Example app</title></head><body><h1>Example app</h1>${body}</body></html>`;
}

export function createRelyingParty(options: RelyingPartyOptions): express.Express {
  const sessions = new Map<string, Session>();
  const redirectUri = `${options.baseUrl}/callback`;
  let configuration: Promise<oidc.Configuration> | null = null;

  // Discovery on first use, so the app starts even while deadbolt is still starting.
  function config(): Promise<oidc.Configuration> {
    configuration ??= oidc.discovery(new URL(options.issuer), options.clientId, undefined,
      oidc.ClientSecretBasic(options.clientSecret),
      // Plain http is for trying it out on one machine only.
      options.issuer.startsWith("http:") ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => { configuration = null; throw error; });
    return configuration;
  }

  function session(req: Request, res: Response): Session {
    const id = /(?:^|;\s*)rp_session=([A-Za-z0-9_-]{43})/.exec(req.headers.cookie ?? "")?.[1];
    const existing = id === undefined ? undefined : sessions.get(id);
    if (existing) return existing;
    const fresh: Session = {};
    const newId = randomBytes(32).toString("base64url");
    sessions.set(newId, fresh);
    res.setHeader("set-cookie", `${COOKIE}=${newId}; HttpOnly; SameSite=Lax; Path=/`);
    return fresh;
  }

  const app = express();
  app.disable("x-powered-by");

  app.get("/", (req, res) => {
    const current = session(req, res);
    res.type("html").send(current.email
      ? page(`<p id="signed-in">Signed in as <strong>${escapeHtml(current.email)}</strong></p>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`)
      : page(`<p id="signed-out">You are not signed in.</p><p><a href="/login">Sign in with deadbolt</a></p>`));
  });

  app.get("/login", async (req, res, next) => {
    try {
      const current = session(req, res);
      current.pkceVerifier = oidc.randomPKCECodeVerifier();
      current.state = oidc.randomState();
      current.nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(await config(), {
        redirect_uri: redirectUri,
        scope: "openid email",
        state: current.state,
        nonce: current.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(current.pkceVerifier),
        code_challenge_method: "S256",
      });
      res.redirect(url.href);
    } catch (error) {
      next(error);
    }
  });

  app.get("/callback", async (req, res) => {
    const current = session(req, res);
    try {
      const tokens = await oidc.authorizationCodeGrant(await config(), new URL(req.originalUrl, options.baseUrl), {
        pkceCodeVerifier: current.pkceVerifier, expectedState: current.state, expectedNonce: current.nonce,
      });
      const claims = tokens.claims();
      current.email = typeof claims?.email === "string" ? claims.email : undefined;
      current.idToken = tokens.id_token;
      delete current.pkceVerifier;
      delete current.state;
      delete current.nonce;
      res.redirect("/");
    } catch (error) {
      res.status(400).type("html").send(page(`<p>Sign-in failed: ${escapeHtml(error instanceof Error ? error.message : String(error))}</p><p><a href="/">Back</a></p>`));
    }
  });

  app.post("/logout", async (req, res, next) => {
    try {
      const current = session(req, res);
      const idToken = current.idToken;
      delete current.email;
      delete current.idToken;
      // RP-initiated logout: deadbolt asks the user, ends its session, and sends them back here.
      const url = oidc.buildEndSessionUrl(await config(), {
        post_logout_redirect_uri: `${options.baseUrl}/`, ...(idToken ? { id_token_hint: idToken } : {}),
      });
      res.redirect(url.href);
    } catch (error) {
      next(error);
    }
  });

  return app;
}
