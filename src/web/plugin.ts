import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import view from "@fastify/view";
import { Eta } from "eta";
import type { FastifyInstance } from "fastify";
import type { AuthContext } from "../auth/index.ts";
import type { Config } from "../config.ts";
import type { OidcService } from "../oidc/index.ts";
import { accountPages } from "./pages-account.ts";
import { adminPages } from "./pages-admin.ts";
import { signInPages } from "./pages-sign-in.ts";

export const VIEWS_DIR = fileURLToPath(new URL("./views/", import.meta.url));
const ASSETS_DIR = fileURLToPath(new URL("./assets/", import.meta.url));

export interface WebDeps {
  readonly config: Config;
  readonly auth: AuthContext;
  /** The OpenID Provider whose sign-in these pages are. */
  readonly oidc: OidcService;
}

/** Server-rendered pages that work without JavaScript; admin console pages register beside them. */
export async function webPages(app: FastifyInstance, deps: WebDeps): Promise<void> {
  const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true });
  // siteName: DEADBOLT_APP_NAME in every page's title and header.
  await app.register(view, { engine: { eta }, root: VIEWS_DIR, viewExt: "eta", defaultContext: { siteName: deps.config.appName } });
  await app.register(fastifyStatic, { root: ASSETS_DIR, prefix: "/assets/", decorateReply: false, index: false });
  // Browsers ask for /favicon.ico on every page; a 404 there is a console error on every visit.
  const favicon = readFileSync(join(ASSETS_DIR, "favicon.ico"));
  app.get("/favicon.ico", { schema: { hide: true } }, async (_request, reply) =>
    reply.type("image/x-icon").header("cache-control", "public, max-age=86400").send(favicon));
  await app.register(signInPages, deps);
  await app.register(accountPages, deps);
  await app.register(adminPages, deps);
}
