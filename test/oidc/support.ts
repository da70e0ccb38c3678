import { createServer } from "node:net";
import * as client from "openid-client";
import { createClient } from "../../src/oidc/index.ts";
import { createTestApp, type TestApp, type TestAppOptions } from "../support/app.ts";

/** A free loopback port: the issuer must be known before the app is built, so it cannot be 0. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

export interface OidcServer extends TestApp {
  readonly url: string;
}

/** A real deadbolt listening on loopback, its DEADBOLT_PUBLIC_URL (the issuer) its own address. */
export async function startOidcServer(dialect: "sqlite" | "postgres", options: TestAppOptions = {}): Promise<OidcServer> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const test = await createTestApp(dialect, { ...options, env: { DEADBOLT_PUBLIC_URL: url, ...options.env } });
    try {
      await test.app.listen({ host: "127.0.0.1", port });
      return { ...test, url };
    } catch (error) {
      await test.close();
      if (attempt >= 3) throw error;
    }
  }
}

export const REDIRECT_URI = "http://127.0.0.1:9/callback";

/** A client's fields, as GET /api/admin/clients and `deadbolt client list --json` name them. */
export const CLIENT_FIELDS = ["clientId", "name", "public", "redirectUris", "postLogoutRedirectUris", "createdAt"] as const;

export async function registerClient(server: TestApp, options: { public?: boolean; redirectUris?: string[] } = {}) {
  const result = await createClient(server.auth.database.db, {
    name: "Mail portal", redirectUris: options.redirectUris ?? [REDIRECT_URI], public: options.public ?? false,
  }, { now: server.auth.now(), randomBytes: server.auth.randomBytes });
  if (!result.ok) throw new Error(result.message);
  return { clientId: result.client.clientId, clientSecret: result.clientSecret };
}

/** openid-client configured as a real RP (over plain http on loopback). */
export async function relyingParty(issuer: string, registered: { clientId: string; clientSecret: string | null }) {
  const config = await client.discovery(new URL(issuer), registered.clientId, undefined,
    registered.clientSecret === null ? client.None() : client.ClientSecretBasic(registered.clientSecret),
    { execute: [client.allowInsecureRequests] });
  return config;
}

/** A browser stand-in: a cookie jar, manual redirects, forms posted with the page's Origin. */
export class Browser {
  readonly cookies = new Map<string, string>();

  private store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";");
      const index = pair.indexOf("=");
      const name = pair.slice(0, index).trim();
      const value = pair.slice(index + 1).trim();
      const expired = attributes.some((attribute) => /^\s*max-age=0\s*$/i.test(attribute) ||
        (/^\s*expires=/i.test(attribute) && Date.parse(attribute.split("=")[1] ?? "") < Date.now()));
      if (expired || value === "") this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; origin?: string } = {}): Promise<Response> {
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ") };
    if (init.form) {
      headers["content-type"] = "application/x-www-form-urlencoded";
      headers.origin = init.origin ?? new URL(url).origin;
    }
    const response = await fetch(url, {
      method: init.method ?? (init.form ? "POST" : "GET"), headers, redirect: "manual",
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
    });
    this.store(response);
    return response;
  }

  /** Follows redirects until one leaves for `stopAt` (the RP's callback), or a page answers. */
  async follow(url: string, stopAt: string, init: { form?: Record<string, string> } = {}): Promise<{ url: string; response: Response }> {
    let current = url;
    let response = await this.request(current, init);
    for (let hops = 0; hops < 10; hops++) {
      const location = response.headers.get("location");
      if (response.status < 300 || response.status >= 400 || location === null) return { url: current, response };
      current = new URL(location, current).toString();
      if (current.startsWith(stopAt)) return { url: current, response };
      response = await this.request(current);
    }
    throw new Error("too many redirects");
  }
}

export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html);
  if (!match?.[1]) throw new Error(`no hidden field ${name} in page: ${html.slice(0, 500)}`);
  return match[1];
}

export interface PkceRequest {
  readonly url: URL;
  readonly verifier: string;
  readonly state: string;
}

export async function authorizationRequest(config: client.Configuration, extra: Record<string, string> = {}): Promise<PkceRequest> {
  const verifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI, scope: "openid email", state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier), code_challenge_method: "S256", ...extra,
  });
  return { url, verifier, state };
}

/**
 * The browser part of the code flow: the authorization request lands on deadbolt's /login, the
 * form is posted as a browser would, and the redirect back to the RP carries the code.
 */
export async function signInThroughBrowser(
  browser: Browser, authUrl: URL, email: string, password: string,
): Promise<{ callback: string | null; page: Response; html: string }> {
  const toLogin = await browser.follow(authUrl.toString(), REDIRECT_URI);
  const html = await toLogin.response.text();
  if (!toLogin.url.includes("/login")) return { callback: toLogin.url.startsWith(REDIRECT_URI) ? toLogin.url : null, page: toLogin.response, html };
  const interaction = hiddenField(html, "interaction");
  const posted = await browser.follow(new URL("/login", toLogin.url).toString(), REDIRECT_URI, { form: { email, password, interaction } });
  const callback = posted.url.startsWith(REDIRECT_URI) ? posted.url : null;
  return { callback, page: posted.response, html: callback === null ? await posted.response.text() : "" };
}

/** The whole code flow for `email`: tokens as the RP holds them. */
export async function signInApp(
  server: { url: string }, config: client.Configuration, email: string, password: string, browser = new Browser(),
) {
  const request = await authorizationRequest(config);
  const { callback, html } = await signInThroughBrowser(browser, request.url, email, password);
  if (callback === null) throw new Error(`sign-in did not reach the app: ${html.slice(0, 300)}`);
  return client.authorizationCodeGrant(config, new URL(callback), { pkceCodeVerifier: request.verifier, expectedState: request.state });
}

/** GET userinfo with a raw access token: the status is what an RP sees. */
export async function userinfoStatus(config: client.Configuration, accessToken: string): Promise<number> {
  const endpoint = config.serverMetadata().userinfo_endpoint as string;
  const response = await fetch(endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  return response.status;
}
